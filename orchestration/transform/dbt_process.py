"""dbt's work of a night in one process of its own, through dbt's Python API (``dbtRunner``).

One process runs ``dbt build`` and, when the build succeeds, ``dbt docs generate``: dbt is
imported, its adapter set up and the project parsed once a night, and no
``dbt --version`` or second adapter handle is needed to drive it. It is a child process, not
the night's own, because dbt-duckdb keeps the DuckDB file open for the life of its process
(DuckDB has one writer per file): when the child exits, the steps after it read the warehouse.

Given a state folder, the build covers only what changed since the last successful build
recorded there, in dbt's own terms: ``source_status:fresher+`` (the models and tests
downstream of a source with newer rows, by ``dbt source freshness``) and ``state:modified+``
(code, seeds, configs). Anything else that dbt reads (the variables in ``STATE_VARIABLES``) is
recorded with the state; a change there, a failed freshness query or no state means a whole
build.

The night's own process decides first whether the child must run at all (``nothing_new``):
when the project's files, the variables, every source's newest row and row count are as the
recorded build found them, and no erasure asked for a rebuild, dbt would select nothing, and
its import, parse and freshness queries (about 3 s) are skipped with the child.

The child is forked from the night's server process, which has imported dbt (children.py),
and runs in the warehouse's folder, with ``DBT_PROJECT_DIR`` and ``DBT_PROFILES_DIR`` naming the
project (``run_dbt_night``).
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import shutil
import signal
import sys
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import yaml

from orchestration.children import children, freeze_imports
from orchestration.privacy import make_umask_private

# The build's own results: `dbt docs generate` writes a run_results.json of its own after it.
BUILD_RESULTS = "build_results.json"
DOCS_PAGE = "static_index.html"
FAILED = {"error", "fail", "runtime error"}
# The child's exit codes: the build failed (a test or a model), dbt itself failed, or the build
# succeeded and only the docs failed (the marts are good; the docs asset reports it).
BUILD_FAILED, DBT_ERROR, DOCS_FAILED = 1, 2, 3
STOP_SECONDS = 30  # how long a stopped dbt may take to cancel its queries before it is killed
CHANGED = "source_status:fresher+ state:modified+"
PARTIAL_PARSE = "partial_parse.msgpack"
NIGHT_FILE = "night.json"  # how the child chose the build: what changed, or why all of it
# What the models read besides their files and sources: env_var() in the models and macros
# (the small-cell threshold of the case marts; the schema the server builds the marts in).
# profiles.yml's variables say where the warehouse is, not what is in it: the state is kept
# beside the warehouse file, and a copy of the folder is the same warehouse. The warehouse's
# identity (engines/duckdb/warehouse.py) is recorded too: a record made against another file
# (lost, restored) would skip models that file does not hold, so it means a whole build.
STATE_VARIABLES = ("BAROMETER_MIN_CELL", "BAROMETER_PG_MARTS_SCHEMA", "BAROMETER_WAREHOUSE_ID")
STATE_FILES = ("manifest.json", "sources.json", "variables.json")
# Models whose rows were deleted outside dbt since the recorded build (an erasure of citizens,
# raw/erasure.py), one a line: the next build of what changed also builds what is downstream of
# them, which no source's freshness would select. A successful build replaces the state, and so
# clears the list.
REBUILD_FILE = "rebuild_downstream.txt"
# What the night's own process found before the build (``night_inputs``): the project's files
# and the sources' newest rows. Handed to the child in the target folder, recorded with the
# state by a successful build, compared by the next night before it starts the child.
INPUTS_FILE = "night_inputs.json"


@dataclass(frozen=True)
class NodeResult:
    unique_id: str
    status: str
    seconds: float
    message: str | None


@dataclass(frozen=True)
class DbtNight:
    """What the dbt process did: each node's result, in the order dbt ran them."""

    results: list[NodeResult]
    returncode: int
    output_tail: str
    # Built only what changed since the last successful build: every node without a result is
    # as that build left it. Else why the whole project was built (None: no state was kept).
    changed_only: bool = False
    whole_build_reason: str | None = None
    # Nothing was new since the recorded build: the child did not run (``nothing_new``).
    skipped: bool = False

    @property
    def built(self) -> bool:
        return self.returncode in (0, DOCS_FAILED)

    def failures(self) -> list[NodeResult]:
        return [result for result in self.results if result.status in FAILED]


def run_dbt_night(
    args: list[str],
    project_dir: Path,
    target_path: Path,
    env: dict[str, str],
    docs: bool,
    echo: TextIO | None = None,
    state_dir: Path | None = None,
    on_line: Callable[[str], None] | None = None,
    inputs: dict | None = None,
) -> DbtNight:
    """Run the child in ``project_dir``; dbt's console lines are echoed as they come, to
    ``echo`` or else to this moment's ``sys.stdout`` (pytest and Dagster swap it).
    ``state_dir``: build only what changed since the build recorded there, and record
    this one (a build of nodes picked by hand passes none: it records nothing); with
    ``inputs`` (``night_inputs``), recorded with it, and no child at all when nothing is new.
    ``on_line`` sees each line too (the tests' kill point inside the build)."""
    echo = echo or sys.stdout
    recording = state_dir is not None and inputs is not None
    if recording and nothing_new(state_dir, target_path, inputs, env, docs):
        return DbtNight([], 0, "", changed_only=True, skipped=True)
    target_path.mkdir(parents=True, exist_ok=True)
    for stale in (BUILD_RESULTS, DOCS_PAGE, NIGHT_FILE, "sources.json", INPUTS_FILE):  # never
        (target_path / stale).unlink(missing_ok=True)  # mistake a former night's for this one's
    if recording:
        (target_path / INPUTS_FILE).write_text(json.dumps(inputs))
    state = str(state_dir) if state_dir else "-"
    argv = [str(target_path), "yes" if docs else "no", state, *args]
    workdir, env = in_warehouse_folder(project_dir, env)
    tail: deque[str] = deque(maxlen=15)
    forked = children()
    reader, writer = forked.Pipe(duplex=False)
    child = forked.Process(target=_child, args=(argv, str(workdir), env, writer))
    child.start()
    writer.close()  # the child's copy is the only writer left: its exit ends the lines
    try:
        with open(reader.fileno(), encoding="utf-8", errors="replace", closefd=False) as lines:
            for line in lines:
                echo.write(line)
                tail.append(line)
                if on_line is not None:
                    on_line(line)
        child.join()
    except BaseException:
        # The run was stopped (from the UI, by its time limit): stop dbt as Ctrl-C does, so
        # it cancels its queries and frees the warehouse file, rather than build on alone.
        if child.is_alive():
            os.kill(child.pid, signal.SIGINT)
            child.join(timeout=STOP_SECONDS)
            if child.is_alive():
                child.kill()
                child.join()
        raise
    finally:
        reader.close()
    build_results = _read_json(target_path / BUILD_RESULTS)
    results = _node_results(build_results) if build_results else []
    chosen = _read_json(target_path / NIGHT_FILE) or {}
    return DbtNight(
        results,
        child.exitcode,
        "".join(tail).rstrip(),
        changed_only=chosen.get("changed_only", False),
        whole_build_reason=chosen.get("whole_build_reason"),
    )


def _child(argv: list[str], workdir: str, env: dict[str, str], output) -> None:
    """The dbt child, forked from the server: in the warehouse's folder with the night's
    variables, everything it prints into the night's pipe, line by line. Its files are
    private whatever umask the server started with (a fork keeps the server's, not the
    night's)."""
    freeze_imports()
    make_umask_private()
    os.environ.clear()
    os.environ.update(env)
    os.chdir(workdir)
    os.dup2(output.fileno(), 1)
    os.dup2(output.fileno(), 2)
    output.close()
    sys.stdout = sys.stderr = open(1, "w", encoding="utf-8", buffering=1, closefd=False)  # noqa: SIM115
    sys.exit(main(argv))


def in_warehouse_folder(project_dir: Path, env: dict[str, str]) -> tuple[Path, dict[str, str]]:
    """Where the child runs, and its variables: in the DuckDB file's folder, the profile naming
    the file relative to it (``profile_duckdb_path``), the project named by dbt's variables.
    No dbt.log: every line dbt prints is in the night's own log (``run_dbt_night`` echoes them);
    dbt's file log would add each statement at debug level (about 7 % of a build's time), in
    the project's folder, shared by every warehouse built from it."""
    warehouse = Path(env["BAROMETER_DUCKDB_PATH"])
    return warehouse.parent, {
        **env,
        "BAROMETER_DUCKDB_PATH": profile_duckdb_path(warehouse),
        "DBT_PROJECT_DIR": str(project_dir),
        "DBT_PROFILES_DIR": str(project_dir),
        "DBT_LOG_LEVEL_FILE": "none",
    }


def profile_duckdb_path(warehouse: Path) -> str:
    """The DuckDB file as the profile names it to the night's dbt: relative to the folder dbt
    runs in. dbt keeps its partial parse (about 3 s a night) only while the profile's values
    are as they were, and the file's path is one: named so, the parse holds for a warehouse
    wherever its folder is (a copy, a restore) and ``barometer prepare``'s seeds a new one."""
    return warehouse.name


def _read_json(path: Path) -> dict | None:
    """A file the child wrote, or None when it wrote none or only part of one (a full disk
    leaves it empty): the child's exit code and output then say what went wrong."""
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def _node_results(run_results: dict) -> list[NodeResult]:
    return [
        NodeResult(r["unique_id"], r["status"], r["execution_time"], r.get("message"))
        for r in run_results["results"]
    ]


def night_inputs(project_dir: Path, manifest: dict, con) -> dict:
    """What a build reads besides the variables: a digest of the project's files (with dbt's
    version), and each source's newest ``loaded_at_field`` and row count in the raw store
    (``con``, DuckDB), by the sources of ``manifest``. Taken before the build, so a change
    while it runs shows the next night."""
    digest = hashlib.sha256(importlib.metadata.version("dbt-core").encode())
    config = yaml.safe_load((project_dir / "dbt_project.yml").read_text())
    folders = [project_dir, *(project_dir / folder for folder in config.get("seed-paths", []))]
    for folder in folders:
        for path in sorted(folder.rglob("*")):
            relative = path.relative_to(folder).parts
            if path.is_file() and relative[0] not in ("target", "logs", "dbt_packages"):
                digest.update(f"{path.relative_to(project_dir.parent)}\0".encode())
                digest.update(path.read_bytes())
    sources = {}
    for unique_id, source in sorted(manifest["sources"].items()):
        newest = source.get("loaded_at_field") or "null"
        table = f'"{source["schema"]}"."{source["identifier"]}"'
        row = con.execute(f"select max({newest})::varchar, count(*) from {table}").fetchall()
        sources[unique_id] = list(row[0])
    return {"project": digest.hexdigest(), "sources": sources}


def nothing_new(
    state_dir: Path, target_path: Path, inputs: dict, env: dict[str, str], docs: bool
) -> bool:
    """Whether a build of what changed since the build recorded in ``state_dir`` would select
    nothing: the same project files, variables and source rows, no model to rebuild after an
    erasure, and that build's manifest (and docs) still in ``target_path`` for the steps after."""
    needed = [state_dir / name for name in (*STATE_FILES, INPUTS_FILE)]
    needed += [target_path / name for name in ("manifest.json", *([DOCS_PAGE] if docs else []))]
    if not all(path.exists() for path in needed) or (state_dir / REBUILD_FILE).exists():
        return False
    recorded = json.loads((state_dir / "variables.json").read_text())
    if recorded != _state_variables(env):
        return False
    return json.loads((state_dir / INPUTS_FILE).read_text()) == inputs


def main(argv: list[str]) -> int:
    """The child: ``dbt build`` (exit 1 if it fails), then the docs (exit 3 if they fail)."""
    # The night stops dbt with SIGINT. A night started in the background of a shell (cron, a
    # script's `&`) ignores SIGINT, and a child inherits that: dbt would build on, unstoppable,
    # until killed 30 s later with the warehouse file held.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    from dbt.cli.main import dbtRunner

    target, docs, state, *args = argv
    # A warehouse's first night starts from the project's own parse (`barometer prepare`, in
    # the project's target folder) instead of parsing every file again (about 3 s): dbt checks
    # it as it checks its own, and parses again what differs (the profile's target, a file).
    prepared = Path(os.environ["DBT_PROJECT_DIR"], "target", PARTIAL_PARSE)
    if not Path(target, PARTIAL_PARSE).exists() and prepared.exists():
        shutil.copyfile(prepared, Path(target, PARTIAL_PARSE))
    # Parsed once (from the last night's partial parse), then shared by the commands below,
    # which would otherwise each read the parse and write it back (about a second each).
    parsed = dbtRunner().invoke(["parse", "--target-path", target])
    if not parsed.success:
        return DBT_ERROR
    runner = dbtRunner(manifest=parsed.result)
    state_dir = None if state == "-" else Path(state)
    fresh = False
    if state_dir is not None:
        fresh, selection, reason = _changed_since(runner, target, state_dir)
        args += selection
        Path(target, NIGHT_FILE).write_text(
            json.dumps({"changed_only": bool(selection), "whole_build_reason": reason})
        )
    built = runner.invoke([*args, "--target-path", target])
    if (Path(target) / "run_results.json").exists():
        shutil.copyfile(Path(target) / "run_results.json", Path(target) / BUILD_RESULTS)
    if not built.success:
        return BUILD_FAILED if built.exception is None else DBT_ERROR
    if state_dir is not None:
        if fresh:
            _record_state(Path(target), state_dir)
        else:  # without tonight's freshness the next night has nothing to compare with
            shutil.rmtree(state_dir, ignore_errors=True)
    if docs == "yes":
        # --no-compile: the build has just compiled every node; the docs need the parse and
        # the catalogue of the warehouse, which this process can read while it holds the file.
        generated = runner.invoke(
            ["docs", "generate", "--static", "--no-compile", "--target-path", target]
        )
        if not generated.success:
            return DOCS_FAILED
    return 0


def _changed_since(runner, target: str, state_dir: Path) -> tuple[bool, list[str], str | None]:
    """Whether tonight's ``dbt source freshness`` read every source; dbt's selection of what
    changed since the build recorded in ``state_dir``, or none (the whole project) and why."""
    freshness = runner.invoke(["source", "freshness", "--target-path", target])
    if not freshness.success or freshness.result is None:
        return False, [], "dbt source freshness failed"
    failed = [r.unique_id for r in freshness.result.results if r.status not in ("pass", "warn")]
    if failed:
        # dbt leaves a source whose freshness it could not read out of source_status:fresher.
        return False, [], f"no freshness for {', '.join(failed)}"
    if not all((state_dir / name).exists() for name in STATE_FILES):
        return True, [], "no earlier build recorded"
    recorded = json.loads((state_dir / "variables.json").read_text())
    changed = [name for name, value in _state_variables().items() if recorded.get(name) != value]
    if changed:
        return True, [], f"{', '.join(changed)} changed since the last build"
    rebuild = state_dir / REBUILD_FILE
    models = rebuild.read_text().split() if rebuild.exists() else []
    selection = " ".join([CHANGED, *(f"{model}+" for model in models)])
    return True, ["--select", selection, "--state", str(state_dir)], None


def rebuild_downstream(state_dir: Path, models: list[str]) -> None:
    """Have the next build of what changed build ``models`` and everything downstream of them
    too. Without a recorded build there is nothing to add: the next night builds everything."""
    if not models or not state_dir.is_dir():
        return
    rebuild = state_dir / REBUILD_FILE
    listed = set(rebuild.read_text().split()) if rebuild.exists() else set()
    rebuild.write_text("".join(f"{model}\n" for model in sorted(listed | set(models))))


def _record_state(target: Path, state_dir: Path) -> None:
    """Replace the recorded build with this one: its manifest, its sources' freshness and the
    variables it read, written aside first so that a crash leaves a whole record or none (and
    with none the next night builds everything)."""
    new = state_dir.with_name(state_dir.name + ".new")
    shutil.rmtree(new, ignore_errors=True)
    new.mkdir(parents=True)
    for name in ("manifest.json", "sources.json"):
        shutil.copyfile(target / name, new / name)
    if (target / INPUTS_FILE).exists():
        shutil.copyfile(target / INPUTS_FILE, new / INPUTS_FILE)
    (new / "variables.json").write_text(json.dumps(_state_variables()))
    shutil.rmtree(state_dir, ignore_errors=True)
    new.rename(state_dir)


def _state_variables(env: Mapping[str, str] = os.environ) -> dict[str, str | None]:
    return {name: env.get(name) for name in STATE_VARIABLES}
