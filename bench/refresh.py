"""Benchmark of a night with nothing new on the embedded data (not a test): ``make bench``.

A = a repeat ``barometer refresh`` (nothing new to load: it starts no run), B = its floor:
``bench/nothing_new_floor.py``, exactly the checks that decide that nothing is new, in a process
of its own as the refresh is. After a warm-up night that builds the warehouse they run
interleaved, A, B, A, B…, in this one process tree, so that a machine whose load drifts weighs
on both alike. Printed: the medians with min and max, the ratio A ÷ B with its spread (of the
pairs), the machine's load averages before and after, and one more such night part by part:
by Dagster step (from the run's event log, with the number of events it wrote) when it started
a run (an earlier checkout, ``--root``), else by function under cProfile.

    python bench/refresh.py [--repeats 5] [--root CHECKOUT] [--results bench/RESULTS.md]

``--root``: time another checkout of the project (say an earlier commit, for a before/after)
with this venv; its files come first on the PYTHONPATH.
"""

from __future__ import annotations

import argparse
import os
import pstats
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from dagster_steps import step_spans
from results_file import write_section

ROOT = Path(__file__).resolve().parent.parent
TARGET = 10  # a night with nothing new ÷ its floor (issue 22)


def timed(command: list[str], env: dict, cwd: Path) -> tuple[float, str]:
    started = time.monotonic()
    done = subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    return time.monotonic() - started, done.stdout


# The parts of a night that starts no run, by the function doing each (cumulative seconds).
PARTS = [
    ("the lock and the warehouse file's checks",
     "engines/duckdb/warehouse.py", ("check_not_lost", "check_opens")),
    ("decision: settings, code and publication digests",
     "automation/nothing_new.py", ("_surroundings",)),
    ("decision: exports hashed, case extracts' stamps",
     "automation/nothing_new.py", ("_all_loaded",)),
    ("decision: each dbt source's newest row and count",
     "transform/dbt_process.py", ("night_inputs",)),
    ("decision: dbt's record compared", "transform/dbt_process.py", ("nothing_new",)),
    ("telling Dagster (its import, the instance, two observations) and the console",
     "automation/night_command.py", ("_nothing_new",)),
]  # fmt: skip


def function_profile(command: list[str], env: dict, cwd: Path) -> list[tuple[str, float]]:
    """One more run of ``command`` under cProfile: seconds by part (PARTS), with what the
    command's own code does not account for (process start, its imports) and the rest."""
    script = shutil.which(command[0]) or command[0]
    with tempfile.TemporaryDirectory() as folder:
        stats_file = str(Path(folder) / "refresh.prof")
        timed([sys.executable, "-m", "cProfile", "-o", stats_file, script, *command[1:]], env, cwd)
        stats = pstats.Stats(stats_file).stats  # {(file, line, name): (cc, nc, tt, ct, callers)}

    def seconds(path_end: str, names: tuple[str, ...]) -> float:
        return sum(v[3] for (f, _, n), v in stats.items() if f.endswith(path_end) and n in names)

    total = max(v[3] for v in stats.values())
    command_main = seconds("orchestration/cli.py", ("main",))
    parts = [(label, seconds(path, names)) for label, path, names in PARTS]
    return [
        ("process start and the command's imports", total - command_main),
        *parts,
        ("the rest of the command", command_main - sum(s for _, s in parts)),
        ("**whole night, under cProfile**", total),
    ]


def spread(values: list[float], digits: int = 2) -> str:
    return (
        f"{statistics.median(values):.{digits}f} "
        f"({min(values):.{digits}f}-{max(values):.{digits}f})"
    )


def load() -> str:
    return ", ".join(f"{average:.2f}" for average in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--work", type=Path, default=Path("/tmp/barometer-bench-refresh"))
    parser.add_argument("--root", type=Path, default=ROOT, help="the checkout to time")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--results", type=Path, help="write the figures into this Markdown file")
    args = parser.parse_args()
    if args.repeats < 3:
        raise SystemExit("--repeats: at least 3, for a median with a spread")
    root = args.root.resolve()
    shutil.rmtree(args.work, ignore_errors=True)
    dagster_home = args.work / "dagster"
    dagster_home.mkdir(parents=True)
    env = {
        **os.environ,
        "PYTHONPATH": str(root),
        "DAGSTER_HOME": str(dagster_home),
        "BAROMETER_WAREHOUSE_DIR": str(args.work / "warehouse"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "GX_ANALYTICS_ENABLED": "false",
        "DAGSTER_DISABLE_TELEMETRY": "true",
    }
    refresh = [str(Path(sys.executable).with_name("barometer")), "refresh"]
    floor = [sys.executable, str(ROOT / "bench" / "nothing_new_floor.py")]
    timed(refresh, env, root)  # warm-up: the first night builds the warehouse
    timed(floor, env, root)  # and proves that nothing is new after it
    load_before = load()
    refreshes, floors, outputs = [], [], []
    for _ in range(args.repeats):
        seconds, out = timed(refresh, env, root)
        refreshes.append(seconds)
        outputs.append(out)
        floors.append(timed(floor, env, root)[0])
    load_after = load()
    if "no run was started" in outputs[-1]:
        profile = [
            "One more such night, part by part under cProfile (which slows Python's own work "
            "more than imports and I/O):",
            "",
            "| part | s |",
            "|---|---:|",
            *[f"| {part} | {s:.2f} |" for part, s in function_profile(refresh, env, root)],
        ]
    else:
        run_id = re.search(r"\(run ([0-9a-f-]{36})\)", outputs[-1]).group(1)
        spans, events = step_spans(dagster_home, run_id)
        steps = {step: end - start for step, (start, end) in spans.items()}
        profile = [
            f"The last refresh by Dagster step ({events} events written):",
            "",
            "| step | s |",
            "|---|---:|",
            *[f"| {step} | {s:.2f} |" for step, s in sorted(steps.items(), key=lambda i: -i[1])],
            f"| outside the steps (process start, imports, run set-up and tear-down, summary) "
            f"| {refreshes[-1] - sum(steps.values()):.2f} |",
        ]

    ratios = [a / b for a, b in zip(refreshes, floors, strict=True)]
    ratio = statistics.median(refreshes) / statistics.median(floors)
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True
    ).stdout.strip()
    lines = [
        "## A night with nothing new against its floor (embedded data)",
        "",
        f"Run {time.strftime('%Y-%m-%d %H:%M')} with `make bench` (`bench/refresh.py`, commit "
        f"{commit or 'unknown'}): {args.repeats} pairs after a warm-up night, interleaved "
        f"A, B, A, B… in one process tree, on {os.cpu_count()} cores; load averages "
        f"(1, 5, 15 min) {load_before} before and {load_after} after.",
        "",
        "| run | median s (min-max) | runs s |",
        "|---|---:|---|",
        f"| A: repeat `barometer refresh`, nothing new | {spread(refreshes)} "
        f"| {', '.join(f'{s:.2f}' for s in refreshes)} |",
        f"| B: the floor, `bench/nothing_new_floor.py` | {spread(floors)} "
        f"| {', '.join(f'{s:.2f}' for s in floors)} |",
        f"| **A ÷ B** (≤ {TARGET}) | **{ratio:.1f}** {'met' if ratio <= TARGET else 'MISSED'}; "
        f"pairs {spread(ratios, 1)} | {', '.join(f'{r:.1f}' for r in ratios)} |",
        "",
        *profile,
    ]
    text = "\n".join(lines)
    print(text)
    if args.results:
        write_section(args.results, "refresh.py", text)


if __name__ == "__main__":
    main()
