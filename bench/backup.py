"""Benchmark of a backup and a restore (issue 19; not a test): size and time at 10 M case events.

Generates the case extracts as ``bench/cases.py`` does (``barometer generate-cases``, seed 2016)
and loads them with one full night (the whole nightly job in a child process, its own backup
step included), then times, interleaved (backup, restore, backup, restore, ...), in child
processes:

- a backup: ``write_backup`` of ``orchestration/raw/backup.py`` (what the ``backup`` asset runs
  after ``serving``) on the loaded warehouse, into an empty backup folder each time (so every
  landing file is copied, none linked to an earlier generation), read back and verified;
- a restore: ``restore`` (what ``barometer restore --backup PATH`` runs) of the backup just
  made into a fresh warehouse folder: the raw tables loaded from Parquet and checked against the
  manifest, the landing archive copied back.

Prints medians with min and max, the backup's size on disk (raw Parquet and landing apart), the
warehouse file's size and the machine's load average (``os.getloadavg()``) around every run.

    python bench/backup.py --results bench/RESULTS.md            # 10 M events
    python bench/backup.py --events 1000000                      # a quick check
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import sys
from datetime import date
from pathlib import Path

import cases
from cases_report import memory_gib
from child_process import measured
from results_file import write_section

ME = [sys.executable, str(Path(__file__).resolve())]
MIB = 2**20


# --- the child processes ------------------------------------------------------------------------


def run_backup(warehouse: Path, backup_dir: Path) -> None:
    """Child: one verified backup of ``warehouse`` into ``backup_dir``; prints JSON."""
    os.environ["BAROMETER_WAREHOUSE_DIR"] = str(warehouse)
    os.environ["BAROMETER_BACKUP_DIR"] = str(backup_dir)
    import duckdb

    from orchestration.raw.backup import write_backup
    from orchestration.settings import Settings

    settings = Settings.from_env()
    # The connection as the night's DuckDB resource opens it (its memory limit).
    config = {"memory_limit": settings.duckdb_memory_limit}
    with duckdb.connect(str(settings.warehouse_path), config=config) as con:
        made = write_backup(con, settings, None)
    print(json.dumps({"seconds": made.seconds, "path": str(made.path), "tables": made.tables}))


def run_restore(warehouse: Path, backup: Path) -> None:
    """Child: ``warehouse.duckdb`` rebuilt in the empty folder ``warehouse``; prints JSON."""
    os.environ["BAROMETER_WAREHOUSE_DIR"] = str(warehouse)
    from orchestration.raw.backup import restore
    from orchestration.settings import Settings

    settings = Settings.from_env()
    settings.warehouse_dir.mkdir(parents=True, exist_ok=True)
    restored = restore(settings, backup)
    print(json.dumps({"seconds": restored.seconds, "tables": restored.tables}))


# --- the parent ---------------------------------------------------------------------------------


def load_warehouse(events: int, folder: Path, env: dict) -> dict:
    """Generate ~``events`` case events and load them all with one full night."""
    shutil.rmtree(folder, ignore_errors=True)
    generated = folder / "generated"
    citizens, generate_seconds = cases.generate(events, generated, env)
    event_lines = sum(cases._lines(p) - 1 for p in generated.glob("events_*.csv"))
    warehouse = folder / "warehouse"
    night_env = {**env, "BAROMETER_BACKUP_DIR": str(folder / "night-backups")}
    answer, wall, _, _ = measured(
        [sys.executable, cases.__file__, "--refresh", str(warehouse), str(generated)], night_env
    )
    if not answer["success"]:
        raise SystemExit("the full night that loads the warehouse failed")
    shutil.rmtree(folder / "night-backups", ignore_errors=True)
    shutil.rmtree(generated)  # a few GB at 10 M; the warehouse holds what the benchmark needs
    return {
        "events": event_lines,
        "citizens": citizens,
        "generate": generate_seconds,
        "night": wall,
        "night_backup_step": answer["steps"].get("backup"),
        "warehouse": warehouse,
    }


def bench(events: int, runs: int, work: Path, env: dict) -> dict:
    folder = work / f"{events}"
    loads = {"start": os.getloadavg()}
    loaded = load_warehouse(events, folder, env)
    warehouse = loaded["warehouse"]
    timings = {"backup": [], "restore": []}
    sizes = None
    for run in range(1, runs + 1):
        backup_dir = folder / "backups" / str(run)
        before = os.getloadavg()[0]
        answer, wall, tree, _ = measured(
            [*ME, "--backup-child", str(warehouse), str(backup_dir)], env
        )
        timings["backup"].append(
            {"seconds": answer["seconds"], "wall": wall, "tree": tree, "load": before}
        )
        print(f"backup {run}: {answer['seconds']:.1f} s (child {wall:.1f} s), load {before:.2f}")
        backup = Path(answer["path"])
        if sizes is None:
            sizes = backup_sizes(backup, warehouse)
        restored = folder / "restored" / str(run)
        before = os.getloadavg()[0]
        answer, wall, tree, _ = measured([*ME, "--restore-child", str(restored), str(backup)], env)
        timings["restore"].append(
            {"seconds": answer["seconds"], "wall": wall, "tree": tree, "load": before}
        )
        print(f"restore {run}: {answer['seconds']:.1f} s (child {wall:.1f} s), load {before:.2f}")
        sizes["restored"] = _file_size(restored / "warehouse.duckdb")
        shutil.rmtree(restored)
        shutil.rmtree(backup_dir)
    loads["end"] = os.getloadavg()
    return {**loaded, "warehouse": str(warehouse), "timings": timings, "sizes": sizes, **loads}


def backup_sizes(backup: Path, warehouse: Path) -> dict:
    manifest = json.loads((backup / "manifest.json").read_text())
    return {
        "warehouse": _file_size(warehouse / "warehouse.duckdb"),
        "raw": _tree_size(backup / "raw"),
        "raw_tables": len(manifest["tables"]),
        "raw_rows": sum(t["rows"] for t in manifest["tables"].values()),
        "landing": _tree_size(backup / "landing"),
        "landing_files": len(manifest["landing"]),
        "total": _tree_size(backup),
    }


def _tree_size(folder: Path) -> int:
    """Bytes on disk (allocated blocks) of every file under ``folder``."""
    if not folder.exists():
        return 0
    return sum(p.stat().st_blocks * 512 for p in folder.rglob("*") if p.is_file())


def _file_size(path: Path) -> int:
    wal = path.with_name(path.name + ".wal")
    return sum(p.stat().st_blocks * 512 for p in (path, wal) if p.exists())


def report(r: dict) -> str:
    s = r["sizes"]
    runs = len(r["timings"]["backup"])
    lines = [
        f"## Backup and restore at {r['events']:,} case events (issue 19)",
        "",
        f"Run {date.today().isoformat()} with `bench/backup.py` on {os.cpu_count()} cores, "
        f"{memory_gib():.0f} GiB RAM, {platform.platform()}, Python "
        f"{platform.python_version()}, shared with other sessions. The warehouse: "
        f"{r['citizens']:,} citizens generated (seed 2016) in {r['generate']:.1f} s, loaded by "
        f"one full night of the whole nightly job in {r['night']:.1f} s (its own backup step: "
        f"{_seconds(r['night_backup_step'])}). Then {runs} backups and {runs} restores, "
        "interleaved, each in a child process: `write_backup` into an empty backup folder "
        "(every raw table to Parquet and read back, the landing archive copied and hashed), "
        "and `restore` of that backup into an empty warehouse folder (what `barometer restore "
        "--backup PATH` runs). Seconds are the product's own (`Backup.seconds`, "
        "`Restored.seconds`); `child` adds the process start and imports.",
        "",
        "| step | median s | min s | max s | runs s | child median s | peak memory GiB "
        "| load (1 min) at each start |",
        "|---|---:|---:|---:|---|---:|---:|---|",
    ]
    for step, label in (("backup", "backup"), ("restore", "restore (into a fresh folder)")):
        t = r["timings"][step]
        seconds = [x["seconds"] for x in t]
        each = ", ".join(f"{x:.1f}" for x in seconds)
        loads = ", ".join(f"{x['load']:.2f}" for x in t)
        lines.append(
            f"| {label} | {statistics.median(seconds):.1f} | {min(seconds):.1f} "
            f"| {max(seconds):.1f} | {each} | {statistics.median(x['wall'] for x in t):.1f} "
            f"| {max(x['tree'] for x in t):.2f} | {loads} |"
        )
    lines += [
        "",
        "| on disk | MiB |",
        "|---|---:|",
        f"| `warehouse.duckdb` after the full night (raw, models, marts) "
        f"| {s['warehouse'] / MIB:.1f} |",
        f"| backup: raw tables as Parquet, zstd ({s['raw_tables']} tables, {s['raw_rows']:,} rows) "
        f"| {s['raw'] / MIB:.1f} |",
        f"| backup: landing archive ({s['landing_files']} files) | {s['landing'] / MIB:.1f} |",
        f"| backup in all (with `manifest.json`) | {s['total'] / MIB:.1f} |",
        f"| `warehouse.duckdb` after a restore (raw tables only) | {s['restored'] / MIB:.1f} |",
        "",
        f"Load average (1, 5, 15 min) before generating: {_load(r['start'])}; at the end: "
        f"{_load(r['end'])}.",
    ]
    return "\n".join(lines)


def _seconds(value: float | None) -> str:
    return "not run" if value is None else f"{value:.1f} s"


def _load(loads: tuple[float, float, float]) -> str:
    return ", ".join(f"{x:.2f}" for x in loads)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--runs", type=int, default=3, help="backups and restores, each (≥ 3)")
    parser.add_argument("--work", type=Path, default=Path("/tmp/barometer-bench-backup"))
    parser.add_argument("--results", type=Path, help="write the figures into this Markdown file")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (GBs at 10 M)")
    parser.add_argument("--backup-child", nargs=2, type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--restore-child", nargs=2, type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.backup_child:
        return run_backup(*args.backup_child)
    if args.restore_child:
        return run_restore(*args.restore_child)
    env = {
        **os.environ,
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "GX_ANALYTICS_ENABLED": "false",
        "DAGSTER_DISABLE_TELEMETRY": "true",
    }
    env.pop("DAGSTER_HOME", None)
    try:
        result = bench(args.events, args.runs, args.work, env)
    finally:
        if not args.keep:
            shutil.rmtree(args.work, ignore_errors=True)
    text = report(result)
    print(text, flush=True)
    if args.results:
        write_section(args.results, "backup.py", text)


if __name__ == "__main__":
    main()
