"""Benchmark of the two engines (not a test): both engines' night times side by side (issue 20).

For the sample data (``seeds/``) and for 1 M case events (``barometer generate-cases``, seed
2016, as ``bench/cases.py``), each engine runs three nights of ``barometer refresh``, each in a
child process, on an empty warehouse folder (and, on PostgreSQL, an empty database):

1. a full night: every case extract but the last night's delta pair;
2. a case night: that delta pair (34 new events in the sample, about 900 at 1 M);
3. a night with nothing new: the same files again.

Each is the whole nightly job: extracts, gates, dbt build with its tests, publish, report,
docs and the backup. The engines are interleaved (DuckDB, PostgreSQL, DuckDB, ...), ``--runs``
times each (3 by default), and the table gives medians with min and max. The server is a
throw-away cluster started like the tests' (tests/postgres.py: Unix socket, C collation,
durability off), unless ``--pg-dsn`` names one; it is stopped and removed at the end.

    python bench/engines.py --results bench/RESULTS.md
    python bench/engines.py --events 0               # the sample data only
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import cases as case_bench
from psycopg2.extensions import make_dsn, parse_dsn
from results_file import write_section

from orchestration.engines.postgres.server import session

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
import postgres  # noqa: E402  (the tests' throw-away server)

BAROMETER = str(Path(sys.executable).with_name("barometer"))
ENGINES = ("duckdb", "postgres")
NIGHTS = ("full", "case", "nothing")
NIGHT_LABELS = {"full": "full night", "case": "case night", "nothing": "nothing new"}


def refresh(engine: str, folder: Path, dsn: str) -> tuple[float, bool]:
    """One ``barometer refresh`` in a child process on ``folder``; wall seconds and success."""
    env = {
        **os.environ,
        "BAROMETER_WAREHOUSE_DIR": str(folder / "warehouse"),
        "BAROMETER_SOURCE_DIR": str(folder / "source"),
        "CASES_SOURCE_DIR": str(folder / "cases"),
        "BAROMETER_ENGINE": engine,
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "GX_ANALYTICS_ENABLED": "false",
        "DAGSTER_DISABLE_TELEMETRY": "true",
    }
    env.pop("DAGSTER_HOME", None)
    if engine == "postgres":
        env["BAROMETER_PG_DSN"] = dsn
    started = time.monotonic()
    result = subprocess.run(
        [BAROMETER, "refresh"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    seconds = time.monotonic() - started
    if result.returncode != 0:
        print(result.stdout[-3000:], result.stderr[-3000:], file=sys.stderr)
    return seconds, result.returncode == 0


def three_nights(engine: str, folder: Path, cases: Path, dsn: str) -> dict:
    """A full night without the last delta pair, a case night with it, a night with nothing
    new, on an empty folder; seconds, success and the load average at each start."""
    shutil.rmtree(folder, ignore_errors=True)
    shutil.copytree(ROOT / "seeds" / "barometer", folder / "source")
    (folder / "cases").mkdir()
    held_back = last_delta(cases)
    for path in sorted(cases.glob("*.csv")):
        if path not in held_back:
            _link(path, folder / "cases" / path.name)
    nights = {}
    for name in NIGHTS:
        if name == "case":
            for path in held_back:
                _link(path, folder / "cases" / path.name)
        load = os.getloadavg()[0]
        seconds, ok = refresh(engine, folder, dsn)
        nights[name] = {"seconds": seconds, "ok": ok, "load": load}
        print(
            f"  {engine} {NIGHT_LABELS[name]}: {seconds:.1f} s{'' if ok else ' FAILED'}, "
            f"load {load:.2f}",
            flush=True,
        )
    shutil.rmtree(folder, ignore_errors=True)
    return nights


def last_delta(cases: Path) -> list[Path]:
    """The last night's extracts (``citizens_<night>.csv`` and ``events_<night>.csv``)."""
    files = sorted(cases.glob("*.csv"))
    last = max(p.stem.split("_")[1] for p in files)
    return [p for p in files if p.stem.endswith(last)]


def _link(source: Path, target: Path) -> None:
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def empty_database(admin_dsn: str, name: str) -> str:
    """A new, empty database on the server; its DSN."""
    with session(admin_dsn, autocommit=True) as con:
        con.execute(f'drop database if exists "{name}" with (force)')
        con.execute(f'create database "{name}"')
    return make_dsn(admin_dsn, dbname=name)


def events_in(paths: list[Path]) -> int:
    return sum(case_bench._lines(p) - 1 for p in paths if p.name.startswith("events_"))


def bench_dataset(label: str, cases: Path, runs: int, work: Path, admin_dsn: str) -> dict:
    print(f"{label}:", flush=True)
    timings = {engine: {name: [] for name in NIGHTS} for engine in ENGINES}
    loads = []
    for run in range(1, runs + 1):
        for engine in ENGINES:
            dsn = empty_database(admin_dsn, "bench") if engine == "postgres" else ""
            print(f" run {run}, {engine}:", flush=True)
            for name, night in three_nights(engine, work / engine, cases, dsn).items():
                timings[engine][name].append(night)
                loads.append(night["load"])
    files = sorted(cases.glob("*.csv"))
    return {
        "label": label,
        "events": events_in(files),
        "delta_events": events_in(last_delta(cases)),
        "timings": timings,
        "loads": loads,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--work", type=Path, default=Path("/tmp/barometer-bench-engines"))
    parser.add_argument(
        "--events", type=int, default=1_000_000, help="generated case events (0: sample only)"
    )
    parser.add_argument("--runs", type=int, default=3, help="runs of each engine (≥ 3)")
    parser.add_argument("--pg-dsn", help="a server to use (its superuser); default: start one")
    parser.add_argument("--results", type=Path, help="write the figures into this Markdown file")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    start_load = os.getloadavg()
    server_root = None
    if args.pg_dsn:
        admin_dsn = args.pg_dsn
    else:
        server_root = Path(tempfile.mkdtemp(prefix="barometer-bench-pg-"))
        admin_dsn = postgres.start(server_root).dsn
    results = []
    try:
        datasets = [("sample (`seeds/cases/`)", ROOT / "seeds" / "cases")]
        if args.events:
            generated = args.work / "cases"
            shutil.rmtree(generated, ignore_errors=True)
            case_bench.generate(args.events, generated, dict(os.environ))
            datasets.append((f"generated ({args.events:,})", generated))
        for label, cases in datasets:
            results.append(bench_dataset(label, cases, args.runs, args.work, admin_dsn))
    finally:
        if server_root is not None:
            postgres.stop(server_root)
            shutil.rmtree(server_root, ignore_errors=True)
        shutil.rmtree(args.work, ignore_errors=True)
    host = parse_dsn(admin_dsn).get("host", "")
    write(results, args.results, host, start_load, os.getloadavg())


def _cell(nights: list[dict]) -> str:
    seconds = [n["seconds"] for n in nights]
    failed = sum(not n["ok"] for n in nights)
    cell = f"{statistics.median(seconds):.1f} ({min(seconds):.1f}–{max(seconds):.1f})"
    return cell + (f" {failed} FAILED" if failed else "")


def write(results: list[dict], path: Path | None, host: str, start: tuple, end: tuple) -> None:
    runs = len(results[0]["timings"]["duckdb"]["full"]) if results else 0
    lines = [
        "## Both engines' nights side by side (issues 9 and 20)",
        "",
        f"Run {date.today().isoformat()} with `bench/engines.py` on {os.cpu_count()} cores, "
        f"{platform.platform()}, Python {platform.python_version()}, shared with other "
        "sessions. Each night is `barometer refresh` in a child process, the whole nightly job "
        "(extracts, gates, `dbt build` with every data test, publish, report, docs, backup); on "
        "PostgreSQL also the copy of the raw tables to the server, the incremental build in "
        "`marts_build`, the swap into `marts` with its comments, the copy of the marts for the "
        "report (`server_marts.duckdb`) and the night lock. On an empty warehouse folder (and "
        "an empty database): a full night with every case extract but the last delta pair, a "
        "case night with that pair, a night with nothing new. The engines interleaved (DuckDB, "
        f"PostgreSQL, DuckDB, ...), {runs} runs each: median seconds (min–max). The server is "
        f"PostgreSQL {postgres.postgres_bin_dir().parent.name} on the same machine "
        f"({'a Unix socket' if host.startswith('/') else host}), a test cluster with "
        "durability off (fsync, synchronous_commit and full_page_writes off).",
        "",
        "| case data | case events | case night's new events | engine | full night s "
        "| case night s | nothing new s |",
        "|---|---:|---:|---|---:|---:|---:|",
    ]
    for r in results:
        for engine in ENGINES:
            t = r["timings"][engine]
            lines.append(
                f"| {r['label']} | {r['events']:,} | {r['delta_events']:,} | {engine} | "
                + " | ".join(_cell(t[name]) for name in NIGHTS)
                + " |"
            )
        duck, server = r["timings"]["duckdb"], r["timings"]["postgres"]
        ratios = [
            statistics.median(n["seconds"] for n in server[name])
            / statistics.median(n["seconds"] for n in duck[name])
            for name in NIGHTS
        ]
        lines.append(
            f"| {r['label']} | | | postgres ÷ duckdb | "
            + " | ".join(f"{x:.2f}" for x in ratios)
            + " |"
        )
    loads = [x for r in results for x in r["loads"]]
    lines += [
        "",
        "Load average (1, 5, 15 min) at the start: "
        + ", ".join(f"{x:.2f}" for x in start)
        + "; at the end: "
        + ", ".join(f"{x:.2f}" for x in end)
        + (
            f"; 1-minute load at the start of each night: {min(loads):.2f}–{max(loads):.2f} "
            f"(median {statistics.median(loads):.2f})."
            if loads
            else "."
        ),
    ]
    text = "\n".join(lines)
    print(text)
    if path:
        write_section(path, "engines.py", text)


if __name__ == "__main__":
    main()
