"""Benchmark of a repeat nightly refresh on the embedded data (not a test): ``make bench``.

Side by side on one warehouse: a repeat ``make refresh`` (the whole nightly job on the
project's Dagster instance, nothing new to load) against a bare ``dbt build`` of the same
project, which is the SQL and tests a night cannot do without. Each is run REPEATS times after a
warm-up; the medians and their ratio are printed, with a profile of the refresh by Dagster step
(from the run's event log) and the number of events it wrote. A repeat night finds nothing
changed: dbt rebuilds nothing and the gates keep their verdicts. So the refresh is also timed
with that memory removed (``warehouse/dbt_state`` and the gates' Data Docs): every model
rebuilt and every suite validated, as a night with everything new.

    python bench/refresh.py [--results bench/RESULTS.md]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from results_file import write_section

ROOT = Path(__file__).resolve().parent.parent
REPEATS = 3


def timed(command: list[str], env: dict, cwd: Path) -> tuple[float, str]:
    started = time.monotonic()
    done = subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    return time.monotonic() - started, done.stdout


def step_profile(run_id: str, dagster_home: Path) -> tuple[dict[str, float], int]:
    """Seconds per Dagster step of a run, and how many events the run wrote."""
    os.environ["DAGSTER_HOME"] = str(dagster_home)
    import dagster as dg

    with dg.DagsterInstance.get() as instance:
        records = instance.all_logs(run_id)
        started, seconds = {}, {}
        for record in records:
            event = record.dagster_event
            if event is None or not record.step_key:
                continue
            if event.event_type_value == "STEP_START":
                started[record.step_key] = record.timestamp
            elif event.event_type_value in ("STEP_SUCCESS", "STEP_FAILURE"):
                seconds[record.step_key] = record.timestamp - started[record.step_key]
        return seconds, len(records)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--work", type=Path, default=Path("/tmp/barometer-bench-refresh"))
    parser.add_argument("--results", type=Path, help="write the figures into this Markdown file")
    args = parser.parse_args()
    env = {
        **os.environ,
        "BAROMETER_WAREHOUSE_DIR": str(args.work / "warehouse"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "GX_ANALYTICS_ENABLED": "false",
        "DAGSTER_DISABLE_TELEMETRY": "true",
    }
    make = ["make", "-s", "refresh"]
    timed(make, env, ROOT)  # warm-up: the first night builds the warehouse
    refreshes, run_id = [], None
    for _ in range(REPEATS):
        seconds, out = timed(make, env, ROOT)
        refreshes.append(seconds)
        run_id = re.search(r"\(run ([0-9a-f-]{36})\)", out).group(1)
    wholes = []
    for _ in range(REPEATS):
        shutil.rmtree(args.work / "warehouse" / "dbt_state", ignore_errors=True)
        shutil.rmtree(args.work / "warehouse" / "docs" / "quality", ignore_errors=True)
        wholes.append(timed(make, env, ROOT)[0])
    dbt = [str(Path(sys.executable).with_name("dbt")), "build", "--exclude-resource-type",
           "unit_test", "--target-path", str(args.work / "dbt_target")]  # fmt: skip
    dbt_env = {**env, "BAROMETER_DUCKDB_PATH": str(args.work / "warehouse" / "warehouse.duckdb")}
    timed(dbt, dbt_env, ROOT / "dbt_project")  # warm-up: dbt's partial parse for this target
    builds = [timed(dbt, dbt_env, ROOT / "dbt_project")[0] for _ in range(REPEATS)]
    steps, events = step_profile(run_id, ROOT / ".dagster")

    refresh, build = statistics.median(refreshes), statistics.median(builds)
    whole = statistics.median(wholes)
    ratio = refresh / build
    lines = [
        "## Repeat refresh against a bare dbt build (embedded data)",
        "",
        f"Run {time.strftime('%Y-%m-%d')} with `make bench` (`bench/refresh.py`): medians of "
        f"{REPEATS} runs after a warm-up, on {os.cpu_count()} cores.",
        "",
        "| run | median s | runs s |",
        "|---|---:|---|",
        f"| repeat `make refresh` | {refresh:.1f} | {', '.join(f'{s:.1f}' for s in refreshes)} |",
        f"| bare `dbt build` | {build:.1f} | {', '.join(f'{s:.1f}' for s in builds)} |",
        f"| **ratio** (≤ 2.5) | **{ratio:.2f}** {'met' if ratio <= 2.5 else 'MISSED'} | |",
        f"| `make refresh` rebuilding and validating everything | {whole:.1f} "
        f"| {', '.join(f'{s:.1f}' for s in wholes)} |",
        f"| its ratio to the bare `dbt build` | {whole / build:.2f} | |",
        "",
        f"Profile of the last repeat refresh by Dagster step ({events} events written):",
        "",
        "| step | s |",
        "|---|---:|",
        *[f"| {step} | {s:.1f} |" for step, s in sorted(steps.items(), key=lambda i: -i[1])],
        f"| outside the steps (process start, code location, run set-up, summary) "
        f"| {refreshes[-1] - sum(steps.values()):.1f} |",
    ]
    text = "\n".join(lines)
    print(text)
    if args.results:
        write_section(args.results, "refresh.py", text)


if __name__ == "__main__":
    main()
