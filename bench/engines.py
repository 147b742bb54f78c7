"""Benchmark of the two engines (not a test): a full night on DuckDB and on PostgreSQL.

For the sample data (``seeds/``) and for 1 M case events (``barometer generate-cases``, every
extract of the initial night and its deltas), each engine runs ``barometer refresh`` in a child
process on an empty warehouse folder (and, on PostgreSQL, an empty database): the whole
nightly job, extracts, gates, dbt build with its tests, publish and docs. The server is a
throw-away cluster started like the tests' (tests/postgres.py: Unix socket, C collation,
durability off), unless ``--pg-dsn`` names one.

    python bench/engines.py --results bench/RESULTS.md
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from psycopg2.extensions import make_dsn, parse_dsn
from results_file import write_section

from orchestration.engines.postgres.server import session

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
import postgres  # noqa: E402  (the tests' throw-away server)

EVENTS_PER_CITIZEN = 6.3  # what the generator writes on average (seed 2016), as bench/cases.py
BAROMETER = str(Path(sys.executable).with_name("barometer"))


def night(engine: str, folder: Path, cases: Path, dsn: str) -> tuple[float, bool]:
    """One full night in a child process on an empty folder (and database); wall seconds."""
    shutil.rmtree(folder, ignore_errors=True)
    shutil.copytree(ROOT / "seeds" / "barometer", folder / "source")
    env = {
        **os.environ,
        "BAROMETER_WAREHOUSE_DIR": str(folder / "warehouse"),
        "BAROMETER_SOURCE_DIR": str(folder / "source"),
        "CASES_SOURCE_DIR": str(cases),
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


def empty_database(admin_dsn: str, name: str) -> str:
    """A new, empty database on the server; its DSN."""
    with session(admin_dsn, autocommit=True) as con:
        con.execute(f'drop database if exists "{name}" with (force)')
        con.execute(f'create database "{name}"')
    return make_dsn(admin_dsn, dbname=name)


def generate_cases(events: int, out: Path) -> Path:
    """The extracts of ~``events`` case events: an initial night and its deltas."""
    shutil.rmtree(out, ignore_errors=True)
    citizens = round(events / EVENTS_PER_CITIZEN)
    subprocess.run(
        [BAROMETER, "generate-cases", "--citizens", str(citizens), "--out", str(out)],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return out


def events_in(cases: Path) -> int:
    return sum(sum(1 for _ in p.open(encoding="utf-8")) - 1 for p in cases.glob("events_*.csv"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--work", type=Path, default=Path("/tmp/barometer-bench-engines"))
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--pg-dsn", help="a server to use (its superuser); default: start one")
    parser.add_argument("--results", type=Path, help="write the figures into this Markdown file")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    server_root = None
    if args.pg_dsn:
        admin_dsn = args.pg_dsn
    else:
        server_root = Path(tempfile.mkdtemp(prefix="barometer-bench-pg-"))
        admin_dsn = postgres.start(server_root).dsn
    try:
        generated = generate_cases(args.events, args.work / "cases")
        datasets = [("sample (`seeds/cases/`)", ROOT / "seeds" / "cases"), ("generated", generated)]
        rows = []
        for label, cases in datasets:
            for engine in ("duckdb", "postgres"):
                dsn = empty_database(admin_dsn, "bench") if engine == "postgres" else ""
                seconds, ok = night(engine, args.work / engine, cases, dsn)
                print(f"{label} on {engine}: {seconds:.1f} s{'' if ok else ' FAILED'}")
                rows.append((label, events_in(cases), engine, seconds, ok))
    finally:
        if server_root is not None:
            postgres.stop(server_root)
            shutil.rmtree(server_root, ignore_errors=True)
    write(rows, args.results, parse_dsn(admin_dsn).get("host", ""))


def write(rows: list, results: Path | None, host: str) -> None:
    lines = [
        "## A full night on each engine (issue 9)",
        "",
        f"Run {date.today().isoformat()} with `bench/engines.py` on {os.cpu_count()} cores, "
        f"{platform.platform()}, Python {platform.python_version()}: `barometer refresh` in a "
        "child process on an empty warehouse folder (and an empty database), once per row. "
        "The whole nightly job: extracts into DuckDB's raw store, the gates, `dbt build` with "
        "every data test, publishing and dbt's docs; on PostgreSQL also the raw copy by COPY "
        "and the swap into `marts`, but no serving file, Parquet or report. The server is "
        f"PostgreSQL {postgres.postgres_bin_dir().parent.name} on the same machine "
        f"({'a Unix socket' if host.startswith('/') else host}), a test cluster with "
        "durability off (fsync, synchronous_commit and full_page_writes off). Other sessions "
        "shared the 2 cores.",
        "",
        "| case data | case events | engine | full night s | result |",
        "|---|---:|---|---:|---|",
        *[
            f"| {label} | {events:,} | {engine} | {seconds:.1f} | {'ok' if ok else 'FAILED'} |"
            for label, events, engine, seconds, ok in rows
        ],
    ]
    text = "\n".join(lines)
    print(text)
    if results:
        write_section(results, "engines.py", text)


if __name__ == "__main__":
    main()
