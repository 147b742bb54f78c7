"""dbt's work of a night in one process of its own, through dbt's Python API (``dbtRunner``).

One process runs ``dbt build`` and, when the build succeeds, ``dbt docs generate``: dbt is
imported, its adapter set up and the project's partial parse read once a night, and no
``dbt --version`` or second adapter handle is needed to drive it. It is a child process, not
the night's own, because dbt-duckdb keeps the DuckDB file open for the life of its process
(DuckDB has one writer per file): when the child exits, the steps after it read the warehouse.

    python -m orchestration.dbt_process TARGET_PATH DOCS(yes|no) DBT_ARG...
"""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

# The build's own results: `dbt docs generate` writes a run_results.json of its own after it.
BUILD_RESULTS = "build_results.json"
DOCS_PAGE = "static_index.html"
FAILED = {"error", "fail", "runtime error"}
# The child's exit codes: the build failed (a test or a model), dbt itself failed, or the build
# succeeded and only the docs failed (the marts are good; the docs asset reports it).
BUILD_FAILED, DBT_ERROR, DOCS_FAILED = 1, 2, 3
STOP_SECONDS = 30  # how long a stopped dbt may take to cancel its queries before it is killed


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
) -> DbtNight:
    """Run the child in ``project_dir``; dbt's console lines are echoed as they come, to
    ``echo`` or else to this moment's ``sys.stdout`` (pytest and Dagster swap it)."""
    echo = echo or sys.stdout
    target_path.mkdir(parents=True, exist_ok=True)
    for stale in (BUILD_RESULTS, DOCS_PAGE):  # never mistake a former night's for this one's
        (target_path / stale).unlink(missing_ok=True)
    command = [sys.executable, "-m", __name__, str(target_path), "yes" if docs else "no", *args]
    tail: deque[str] = deque(maxlen=15)
    with subprocess.Popen(
        command, cwd=project_dir, env=env, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    ) as child:  # fmt: skip
        try:
            for line in child.stdout:
                echo.write(line)
                tail.append(line)
        except BaseException:
            # The run was stopped (from the UI, by its time limit): stop dbt as Ctrl-C does, so
            # it cancels its queries and frees the warehouse file, rather than build on alone.
            child.send_signal(signal.SIGINT)
            try:
                child.wait(timeout=STOP_SECONDS)
            except subprocess.TimeoutExpired:
                child.kill()
            raise
    results_file = target_path / BUILD_RESULTS
    results = _node_results(json.loads(results_file.read_text())) if results_file.exists() else []
    return DbtNight(results, child.returncode, "".join(tail).rstrip())


def _node_results(run_results: dict) -> list[NodeResult]:
    return [
        NodeResult(r["unique_id"], r["status"], r["execution_time"], r.get("message"))
        for r in run_results["results"]
    ]


def main(argv: list[str]) -> int:
    """The child: ``dbt build`` (exit 1 if it fails), then the docs (exit 3 if they fail)."""
    from dbt.cli.main import dbtRunner

    target, docs, *args = argv
    runner = dbtRunner()
    built = runner.invoke([*args, "--target-path", target])
    if (Path(target) / "run_results.json").exists():
        shutil.copyfile(Path(target) / "run_results.json", Path(target) / BUILD_RESULTS)
    if not built.success:
        return BUILD_FAILED if built.exception is None else DBT_ERROR
    if docs == "yes":
        # --no-compile: the build has just compiled every node; the docs need the parse and
        # the catalogue of the warehouse, which this process can read while it holds the file.
        generated = runner.invoke(
            ["docs", "generate", "--static", "--no-compile", "--target-path", target]
        )
        if not generated.success:
            return DOCS_FAILED
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
