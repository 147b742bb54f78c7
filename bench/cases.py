"""Benchmark of the case pipeline at 1 M and 10 M events (not a test): ``make bench``.

For each size: generate the extracts (``barometer generate-cases``), then time
1. a full refresh: an empty warehouse, the initial extract and every delta but the last;
2. an incremental night: the same warehouse, one more night's delta;
3. the physical floor: one process running the same transformations as plain DuckDB SQL (the
   same parsing SQL, then the SQL that dbt compiles for the case models, then the copy of the
   marts into a serving file) with no orchestration, no checks and no tests.
Each refresh runs the whole nightly job in a child process (barometer marts included, as in
production); wall time per stage comes from Dagster's step events, peak RSS from sampling the
child's whole process tree (Dagster and the dbt subprocesses) every 0.1 s.

    python bench/cases.py --events 1000000 10000000 --results bench/RESULTS.md
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

from child_process import measured

ROOT = Path(__file__).resolve().parent.parent
EVENTS_PER_CITIZEN = 6.3  # what the generator writes on average (seed 2016)
STAGES = {
    "extract": ("barometer_extract", "case_extracts"),
    "dbt": ("dbt_warehouse",),
    "checks": ("raw_quality", "marts_quality"),
    "publish": ("serving",),
}
NOTES_MARKER = "<!-- Everything below is kept when bench/cases.py rewrites the tables above. -->"
CASE_MODELS = [
    "stg_cases__citizens",
    "stg_cases__events",
    "int_citizens_current",
    "int_case_events_resolved",
    "int_citizens_changed",
    "int_citizen_milestones",
    "int_citizen_outcomes",
    "int_case_outcomes_aggregated",
    "int_case_outcomes_suppressed",
    "fct_case_outcomes",
]


# --- the child processes ------------------------------------------------------------------------


def run_refresh(warehouse: Path, cases: Path) -> None:
    """Child: one nightly refresh; prints the seconds of each Dagster step as JSON."""
    os.environ["BAROMETER_WAREHOUSE_DIR"] = str(warehouse)
    os.environ["CASES_SOURCE_DIR"] = str(cases)
    os.environ.pop("DAGSTER_HOME", None)
    import dagster as dg

    from orchestration.definitions import build_definitions
    from orchestration.settings import Settings

    instance = dg.DagsterInstance.ephemeral()
    job = build_definitions(Settings.from_env()).resolve_job_def("nightly_refresh")
    started = time.monotonic()
    result = job.execute_in_process(instance=instance, raise_on_error=False)
    wall = time.monotonic() - started
    starts, steps = {}, {}
    for entry in instance.all_logs(result.run_id):
        event = entry.dagster_event
        if event is None or not event.step_key:
            continue
        if event.event_type == dg.DagsterEventType.STEP_START:
            starts[event.step_key] = entry.timestamp
        elif event.event_type in (
            dg.DagsterEventType.STEP_SUCCESS,
            dg.DagsterEventType.STEP_FAILURE,
        ):
            steps[event.step_key] = entry.timestamp - starts.get(event.step_key, entry.timestamp)
    print(json.dumps({"success": result.success, "wall": wall, "steps": steps}))
    gc.freeze()  # and end as the `barometer` command does (orchestration/cli.py console_main)


def run_floor(warehouse: Path, cases: Path, compiled: Path) -> None:
    """Child: the same transformations as plain DuckDB SQL in one process; prints seconds."""
    import duckdb

    from orchestration.engines.duckdb.publish import SERVING_STORAGE_VERSION
    from orchestration.raw import cases as raw_cases
    from orchestration.settings import REFERENCE_DIR, Settings
    from orchestration.sources.cases import find_extracts, load_case_programmes, read_extract
    from orchestration.sources.pseudonyms import key_fingerprint

    key = Settings.from_env().pseudonym_key
    models = json.loads(compiled.read_text())
    started = time.monotonic()
    con = duckdb.connect(str(warehouse / "warehouse.duckdb"))
    raw_cases.ensure_case_tables(con)
    loaded_at = __import__("datetime").datetime(2025, 1, 10)
    for extract in find_extracts(cases):
        with read_extract(extract, key, load_case_programmes(REFERENCE_DIR)) as parsed:
            raw_cases.load_extract(con, parsed, loaded_at, key_fingerprint(key))
    extracted = time.monotonic()
    for schema in ("staging", "intermediate", "marts"):
        con.execute(f"create schema if not exists {schema}")
    for model in CASE_MODELS:
        node = models[model]
        kind = "view" if node["materialized"] == "view" else "table"
        con.execute(f"create {kind} {node['relation']} as {node['sql']}")
    transformed = time.monotonic()
    serving = warehouse / "serving_floor.duckdb"
    serving.unlink(missing_ok=True)
    con.execute(f"attach '{serving}' as serving (storage_version '{SERVING_STORAGE_VERSION}')")
    con.execute("create schema serving.marts")
    con.execute(
        "create table serving.marts.fct_case_outcomes as "
        "select * from marts.fct_case_outcomes order by all"
    )
    con.execute("checkpoint serving")
    con.execute("detach serving")
    con.close()
    done = time.monotonic()
    print(
        json.dumps(
            {
                "wall": done - started,
                "extract": extracted - started,
                "transform": transformed - extracted,
                "publish": done - transformed,
            }
        )
    )


# --- the parent ---------------------------------------------------------------------------------


def compile_case_models(work: Path, env: dict) -> Path:
    """The SQL dbt runs for the case models (full build), from a ``dbt compile``."""
    target = work / "dbt_target"
    subprocess.run(
        [
            str(Path(sys.executable).with_name("dbt")),
            "compile",
            "--quiet",
            "--target-path",
            str(target),
            "--select",
            *CASE_MODELS,
        ],
        cwd=ROOT / "dbt_project",
        env=env,
        check=True,
    )
    manifest = json.loads((target / "manifest.json").read_text())
    models = {}
    for node in manifest["nodes"].values():
        if node["resource_type"] == "model" and node["name"] in CASE_MODELS:
            models[node["name"]] = {
                "relation": f"{node['schema']}.{node['name']}",
                "materialized": node["config"]["materialized"],
                "sql": node["compiled_code"],
            }
    path = work / "compiled.json"
    path.write_text(json.dumps(models))
    return path


def generate(events: int, generated: Path, env: dict) -> tuple[int, float]:
    """The extracts of about ``events`` case events (``barometer generate-cases``, seed 2016):
    an initial night and its deltas, in ``generated``. Citizens and seconds taken."""
    citizens = round(events / EVENTS_PER_CITIZEN)
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
    return citizens, time.monotonic() - started


def bench_size(events: int, work: Path, env: dict) -> dict:
    folder = work / f"{events}"
    shutil.rmtree(folder, ignore_errors=True)
    generated = folder / "generated"
    citizens, generate_seconds = generate(events, generated, env)
    files = sorted(generated.glob("*.csv"))
    nights = sorted({p.stem.split("_")[1] for p in files})
    event_lines = sum(_lines(p) - 1 for p in files if p.name.startswith("events_"))
    last_delta = [p for p in files if p.stem.endswith(nights[-1])]
    source = folder / "source"
    source.mkdir()
    for path in files:
        if path not in last_delta:
            os.link(path, source / path.name)
    warehouse = folder / "warehouse"
    me = [sys.executable, __file__]
    prepare(env, warehouse)  # dbt's partial parse is reused only for the same warehouse path
    full, full_wall, full_rss, full_max = measured(
        [*me, "--refresh", str(warehouse), str(source)], env
    )
    for path in last_delta:
        os.link(path, source / path.name)
    night, night_wall, night_rss, night_max = measured(
        [*me, "--refresh", str(warehouse), str(source)], env
    )
    floor_dir = folder / "floor"
    floor_dir.mkdir()
    compiled = compile_case_models(
        folder, {**env, "BAROMETER_DUCKDB_PATH": str(floor_dir / "warehouse.duckdb")}
    )
    floor, floor_wall, floor_rss, floor_max = measured(
        [*me, "--floor", str(floor_dir), str(source), str(compiled)], env
    )
    delta_events = sum(_lines(p) - 1 for p in last_delta if p.name.startswith("events_"))
    return {
        "events": event_lines,
        "citizens": citizens,
        "generate": generate_seconds,
        "delta_events": delta_events,
        "full": {
            **_stages(full),
            "wall": full_wall,
            "rss": full_rss,
            "max_rss": full_max,
            "success": full["success"],
        },
        "night": {
            **_stages(night),
            "wall": night_wall,
            "rss": night_rss,
            "max_rss": night_max,
            "success": night["success"],
        },
        "floor": {**floor, "rss": floor_rss, "max_rss": floor_max},
    }


def prepare(env: dict, warehouse: Path | None) -> None:
    """``barometer prepare`` for this warehouse path (None: the project's own)."""
    env = dict(env)
    if warehouse is not None:
        env["BAROMETER_WAREHOUSE_DIR"] = str(warehouse)
    else:
        env.pop("BAROMETER_WAREHOUSE_DIR", None)
    barometer = str(Path(sys.executable).with_name("barometer"))
    subprocess.run([barometer, "prepare"], env=env, check=True, cwd=ROOT)


def _stages(answer: dict) -> dict:
    steps = answer["steps"]
    stages = {name: sum(steps.get(s, 0.0) for s in keys) for name, keys in STAGES.items()}
    stages["other"] = sum(
        v for k, v in steps.items() if not any(k in keys for keys in STAGES.values())
    )
    stages["job"] = answer["wall"]
    return stages


def _lines(path: Path) -> int:
    with path.open("rb") as handle:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 24), b""))


def report(results: list[dict]) -> str:
    machine = (
        f"{os.cpu_count()} cores, {_memory_gib():.0f} GiB RAM, {platform.platform()}, "
        f"Python {platform.python_version()}"
    )
    lines = [
        "# Case pipeline benchmark",
        "",
        f"Run {date.today():%Y-%m-%d} with `make bench` (`bench/cases.py`) on {machine}.",
        "Each refresh is the whole nightly job (the barometer exports included) in a child",
        "process; stage times are Dagster step durations. Memory: `tree` is the peak of the",
        "child's whole process tree (Dagster and the dbt subprocesses) sampled every 0.1 s as the",
        "sum of each process's Pss (shared library pages count once); `max RSS` is the largest",
        "peak RSS (VmHWM) of any single process of the tree. The floor runs the same parsing SQL",
        "and the SQL dbt compiles for the case models in one DuckDB process, with no",
        "orchestration, checks or tests.",
        "",
        "| events | run | wall s | extract | dbt | checks | publish | other | tree GiB "
        "| max RSS GiB |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        runs = [
            ("full refresh", r["full"]),
            (f"incremental night ({r['delta_events']} delta events)", r["night"]),
        ]
        for label, run in runs:
            stages = " | ".join(
                f"{run[k]:.1f}" for k in ("wall", "extract", "dbt", "checks", "publish", "other")
            )
            memory = f"{run['rss']:.2f} | {run['max_rss']:.2f}"
            lines.append(f"| {r['events']:,} | {label} | {stages} | {memory} |")
        f = r["floor"]
        lines.append(
            f"| {r['events']:,} | plain DuckDB SQL (floor) | {f['wall']:.1f} | {f['extract']:.1f} "
            f"| {f['transform']:.1f} | – | {f['publish']:.1f} | – | {f['rss']:.2f} "
            f"| {f['max_rss']:.2f} |"
        )
    lines += [
        "",
        "| events | citizens | generate s | full / floor (≤ 2.0) | night / full (≤ 0.25) "
        "| peak memory, tree (≤ 3 GiB) |",
        "|---:|---:|---:|---:|---:|---|",
    ]
    for r in results:
        ratio = r["full"]["wall"] / r["floor"]["wall"]
        night = r["night"]["wall"] / r["full"]["wall"]
        rss = max(r["full"]["rss"], r["night"]["rss"])
        verdicts = [
            f"{ratio:.2f} {_verdict(ratio <= 2)}",
            f"{night:.2f} {_verdict(night <= 0.25)}",
            f"{rss:.2f} {_verdict(rss <= 3)}",
        ]
        lines.append(
            f"| {r['events']:,} | {r['citizens']:,} | {r['generate']:.1f} | "
            + " | ".join(verdicts)
            + " |"
        )
    return "\n".join(lines) + "\n"


def _verdict(met: bool) -> str:
    return "met" if met else "MISSED"


def _memory_gib() -> float:
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--work", type=Path, default=Path("/tmp/barometer-bench"))
    parser.add_argument("--results", type=Path, help="write the Markdown table here")
    parser.add_argument("--refresh", nargs=2, type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--floor", nargs=3, type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.refresh:
        return run_refresh(*args.refresh)
    if args.floor:
        return run_floor(*args.floor)
    env = {
        **os.environ,
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "GX_ANALYTICS_ENABLED": "false",
        "DAGSTER_DISABLE_TELEMETRY": "true",
    }
    env.pop("DAGSTER_HOME", None)
    results = []
    try:
        for events in args.events:
            results.append(bench_size(events, args.work, env))
            (args.work / "results.json").write_text(json.dumps(results, indent=2))
            print(report(results), flush=True)
    finally:
        prepare(env, None)
    if args.results:
        notes = ""
        if args.results.exists():
            previous = args.results.read_text(encoding="utf-8")
            if NOTES_MARKER in previous:
                notes = "\n" + previous[previous.index(NOTES_MARKER) :]
        args.results.write_text(report(results) + notes, encoding="utf-8")


if __name__ == "__main__":
    main()
