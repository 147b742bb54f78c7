"""Benchmark of the case pipeline at 1 M, 10 M and 30 M events (not a test): ``make bench``.

For each size: generate the extracts (``barometer generate-cases``, seed 2016; kept in the work
folder and reused while they match), prepare an empty warehouse, run one full refresh as a
warm-up and keep the warehouse it leaves. Then, interleaved in this one process tree, round after
round (full, night, floor, full, night, floor, ...), so that a machine whose load drifts weighs on
all three alike:
1. a full refresh: ``barometer refresh`` on a copy of the empty prepared warehouse, with the
   initial extract and every delta but the last;
2. a night: ``barometer refresh`` on a copy of the warehouse the warm-up left, with one more
   night's delta (about a thousandth of the events);
3. the physical floor: one process running the same transformations as plain DuckDB SQL (the
   same parsing SQL, then the SQL that dbt compiles for the case models, then the copy of the
   mart into a serving file) with no orchestration, no checks and no tests.
Each refresh is the whole nightly job as the operator runs it (barometer marts, gates, publish,
report, docs and backup included) in a child process; every copy is restored to the same path,
so each run starts from the same files and reuses the same partial parse. Printed per size:
medians with (min-max), each ratio with the spread of its pairs, the load averages before and
after, the peak memory of each child's whole process tree (sampled every 0.1 s as the sum of
Pss) and the stages of the runs (extract, dbt, checks, publish, other) by Dagster step.

    python bench/cases.py --events 1000000 10000000 30000000 [--repeats 3]
        [--root CHECKOUT] [--results bench/RESULTS.md]

``--root``: time another checkout of the project (an earlier commit, for a before/after) with
this venv; its files come first on the PYTHONPATH. Prepare it first (``barometer prepare`` run
in it with that PYTHONPATH), as ``make`` does this one.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

from cases_floor import compile_case_models, run_floor
from cases_report import report
from child_process import measured, measured_output
from dagster_steps import step_spans
from results_file import write_section

ROOT = Path(__file__).resolve().parent.parent
EVENTS_PER_CITIZEN = 6.3  # what the generator writes on average (seed 2016)
STAGES = {
    "extract": ("barometer_extract", "case_extracts"),
    "dbt": ("dbt_warehouse",),
    "checks": ("raw_quality", "marts_quality", "case_disclosure"),
    "publish": ("serving", "report", "docs__dbt", "published"),
}


def generate(events: int, generated: Path, env: dict) -> tuple[int, float]:
    """The extracts of about ``events`` case events (``barometer generate-cases``, seed 2016):
    an initial night and its deltas, in ``generated``. Citizens and seconds taken; extracts
    generated before with the same arguments are reused (seconds: None)."""
    citizens = round(events / EVENTS_PER_CITIZEN)
    stamp = generated / "generated.json"
    if stamp.exists() and json.loads(stamp.read_text()) == {"citizens": citizens, "seed": 2016}:
        return citizens, None
    shutil.rmtree(generated, ignore_errors=True)
    started = time.monotonic()
    subprocess.run(
        [
            str(Path(sys.executable).with_name("barometer")),
            "generate-cases",
            "--citizens",
            str(citizens),
            "--seed",
            "2016",
            "--out",
            str(generated),
        ],
        check=True,
        stdout=subprocess.DEVNULL,
        env=env,
    )
    stamp.write_text(json.dumps({"citizens": citizens, "seed": 2016}))
    return citizens, time.monotonic() - started


class Warehouse:
    """One warehouse folder (and its backups beside it) at a fixed path, saved and restored
    whole, so every run starts from the same files and dbt reuses the same partial parse."""

    def __init__(self, folder: Path):
        self.path = folder / "warehouse"
        self.backups = folder / "warehouse-backups"  # Settings.backup_dir's default
        self.snapshots = folder / "snapshots"

    def save(self, name: str) -> None:
        target = self.snapshots / name
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir(parents=True)
        for part in (self.path, self.backups):
            if part.exists():
                shutil.copytree(part, target / part.name, symlinks=True)

    def restore(self, name: str) -> None:
        for part in (self.path, self.backups):
            shutil.rmtree(part, ignore_errors=True)
            saved = self.snapshots / name / part.name
            if saved.exists():
                shutil.copytree(saved, part, symlinks=True)


def bench_size(events: int, args: argparse.Namespace, env: dict) -> dict:
    folder = args.work / f"{events}"
    generated = folder / "generated"
    citizens, generate_seconds = generate(events, generated, env)
    files = sorted(p for p in generated.glob("*.csv"))
    nights = sorted({p.stem.split("_")[1] for p in files})
    event_lines = sum(_lines(p) - 1 for p in files if p.name.startswith("events_"))
    last_delta = [p for p in files if p.stem.endswith(nights[-1])]
    delta_events = sum(_lines(p) - 1 for p in last_delta if p.name.startswith("events_"))
    sources = {"full": folder / "source-full", "night": folder / "source-night"}
    for kind, source in sources.items():
        shutil.rmtree(source, ignore_errors=True)
        source.mkdir()
        for path in files:
            if kind == "night" or path not in last_delta:
                os.link(path, source / path.name)
    warehouse = Warehouse(folder)
    dagster_home = folder / "dagster"
    shutil.rmtree(dagster_home, ignore_errors=True)
    dagster_home.mkdir()
    env = {**env, "DAGSTER_HOME": str(dagster_home), "BAROMETER_WAREHOUSE_DIR": str(warehouse.path)}
    for part in (warehouse.path, warehouse.backups):
        shutil.rmtree(part, ignore_errors=True)
    warehouse.save("empty")
    refresh = [str(Path(sys.executable).with_name("barometer")), "refresh"]

    def night_of(source: Path, kind: str) -> dict:
        out, wall, tree, largest, peak_at = measured_output(
            refresh, {**env, "CASES_SOURCE_DIR": str(source)}, cwd=args.root
        )
        # dbt's own timings of the last run of each kind, kept for a closer look.
        built = warehouse.path / "dbt_target" / "build_results.json"
        if built.exists():
            shutil.copy(built, folder / f"build_results-{kind}.json")
        run_id = re.search(r"\(run ([0-9a-f-]{36})\)", out).group(1)
        return {
            "wall": wall, "tree": tree, "max_rss": largest, "peak_at": peak_at, "run_id": run_id,
        }  # fmt: skip

    if args.warm_up:
        warm_up = night_of(sources["full"], "full")
        warehouse.save("after-full")
    else:
        warm_up = None
    floor_dir = folder / "floor"
    shutil.rmtree(floor_dir, ignore_errors=True)
    floor_dir.mkdir()
    compiled = compile_case_models(
        folder, {**env, "BAROMETER_DUCKDB_PATH": str(floor_dir / "warehouse.duckdb")}, args.root
    )
    me = [sys.executable, __file__]
    load_before = _load()
    runs = {"full": [], "night": [], "floor": []}
    for _ in range(args.repeats):
        warehouse.restore("empty")
        runs["full"].append(night_of(sources["full"], "full"))
        if warm_up is None and len(runs["full"]) == 1:
            warehouse.save("after-full")  # the first full refresh leaves the night's start
        warehouse.restore("after-full")
        runs["night"].append(night_of(sources["night"], "night"))
        shutil.rmtree(floor_dir)
        floor_dir.mkdir()
        answer, wall, tree, largest = measured(
            [*me, "--floor", str(floor_dir), str(sources["full"]), str(compiled)],
            {**env, "PYTHONPATH": str(args.root)},
        )
        runs["floor"].append({**answer, "wall": wall, "tree": tree, "max_rss": largest})
    load_after = _load()
    for kind in ("full", "night"):
        for run in runs[kind]:
            spans = _steps(dagster_home, run["run_id"], env, args.root)
            run["steps"] = {step: end - start for step, (start, end) in spans.items()}
            # Where the tree's memory peaked: the step running then, if any.
            run["peak_in"] = next(
                (s for s, (a, b) in spans.items() if a <= run["peak_at"] <= b), "outside the steps"
            )
            run.update(_stages(run))
    # The last night's warehouse stays for a closer look; the copies go.
    for part in (floor_dir, warehouse.snapshots):
        shutil.rmtree(part, ignore_errors=True)
    return {
        "events": event_lines,
        "size": events,
        "citizens": citizens,
        "generate": generate_seconds,
        "delta_events": delta_events,
        "when": time.strftime("%Y-%m-%d %H:%M"),
        "commit": _commit(args.root),
        "repeats": args.repeats,
        "load_before": load_before,
        "load_after": load_after,
        "warm_up": warm_up,
        **runs,
    }


def _steps(dagster_home: Path, run_id: str, env: dict, root: Path) -> dict[str, list[float]]:
    """Start and end (Unix time) of each Dagster step of a run, from its event log, in a child."""
    done = subprocess.run(
        [sys.executable, __file__, "--spans", str(dagster_home), run_id],
        env=env,
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout.splitlines()[-1])


def read_steps(dagster_home: Path, run_id: str, spans_only: bool = True) -> None:
    """Child: the start and end of each step of a run, as JSON (or only their seconds)."""
    spans, _ = step_spans(dagster_home, run_id)
    if not spans_only:
        spans = {step: end - start for step, (start, end) in spans.items()}
    print(json.dumps(spans))
    gc.freeze()


def _stages(run: dict) -> dict:
    steps = run["steps"]
    stages = {name: sum(steps.get(s, 0.0) for s in keys) for name, keys in STAGES.items()}
    known = {s for keys in STAGES.values() for s in keys}
    # Everything else: the backup, any other step, and what lies outside the steps (process
    # start, imports, run set-up and tear-down, the summary).
    stages["other"] = run["wall"] - sum(stages.values())
    stages["backup"] = steps.get("backup", 0.0)
    stages["unlisted"] = sorted(k for k in steps if k not in known)
    return {"stages": stages}


def _lines(path: Path) -> int:
    with path.open("rb") as handle:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 24), b""))


def _load() -> str:
    return ", ".join(f"{average:.2f}" for average in os.getloadavg())


def _commit(root: Path) -> str:
    done = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True
    )
    return done.stdout.strip() or "unknown"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--events", type=int, nargs="+", default=[1_000_000, 10_000_000, 30_000_000]
    )
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--work", type=Path, default=Path("/tmp/bench-cases"))
    parser.add_argument("--root", type=Path, default=ROOT, help="the checkout to time")
    parser.add_argument(
        "--no-warm-up",
        dest="warm_up",
        action="store_false",
        help="no warm-up refresh: the first round's full refresh leaves the night's warehouse",
    )
    parser.add_argument("--results", type=Path, help="write the figures into this Markdown file")
    parser.add_argument(
        "--from-json",
        type=Path,
        nargs="+",
        help="no runs: report the results-EVENTS.json files of earlier runs (sizes run apart)",
    )
    parser.add_argument("--floor", nargs=3, type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--spans", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--steps", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.floor:
        return run_floor(*args.floor)
    if args.spans or args.steps:
        home, run_id = args.spans or args.steps
        return read_steps(Path(home), run_id, spans_only=bool(args.spans))
    if args.from_json:
        results = sorted(
            (json.loads(p.read_text()) for p in args.from_json), key=lambda r: r["size"]
        )
        print(report(results))
        if args.results:
            write_section(args.results, "cases.py", report(results).rstrip("\n"))
        return None
    if args.repeats < 3:
        raise SystemExit("--repeats: at least 3, for a median with a spread")
    args.root = args.root.resolve()
    args.work.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "PYTHONPATH": str(args.root),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "GX_ANALYTICS_ENABLED": "false",
        "DAGSTER_DISABLE_TELEMETRY": "true",
    }
    results = []
    for events in args.events:
        results.append(bench_size(events, args, env))
        (args.work / f"results-{events}.json").write_text(json.dumps(results[-1], indent=2))
        print(report(results), flush=True)
    if args.results:
        write_section(args.results, "cases.py", report(results).rstrip("\n"))


if __name__ == "__main__":
    main()
