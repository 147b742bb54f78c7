"""A benchmark's child process, timed and weighed: its answer, wall time and peak memory."""

from __future__ import annotations

import json
import subprocess
import threading
import time
from pathlib import Path


def measured(command: list[str], env: dict) -> tuple[dict, float, float, float]:
    """Run a child: its JSON answer, wall seconds, the peak memory (GiB) of its process tree
    and the largest peak RSS (GiB) of one of its processes."""
    out, wall, peak, largest, _ = measured_output(command, env)
    lines = [line for line in out.splitlines() if line.startswith("{")]
    if not lines:
        raise SystemExit(f"{' '.join(command)} printed no answer")
    return json.loads(lines[-1]), wall, peak, largest


def measured_output(
    command: list[str], env: dict, cwd: Path | None = None
) -> tuple[str, float, float, float, float]:
    """Run a child: its standard output, wall seconds, the peak memory (GiB) of its process
    tree, the largest peak RSS (GiB) of one of its processes and when the tree's peak was
    sampled (Unix time). A failed child stops the benchmark with the tail of its output."""
    started = time.monotonic()
    process = subprocess.Popen(
        command, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    peak, largest, peak_at = [0], [0], [0.0]

    def sample():
        while process.poll() is None:
            total, hwm = tree_rss(process.pid)
            if total > peak[0]:
                peak[0], peak_at[0] = total, time.time()
            largest[0] = max(largest[0], hwm)
            time.sleep(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, _ = process.communicate()
    sampler.join()
    wall = time.monotonic() - started
    if process.returncode != 0:
        raise SystemExit(
            f"{' '.join(command)} failed with exit code {process.returncode}:\n{out[-3000:]}"
        )
    return out, wall, peak[0] / 2**30, largest[0] / 2**30, peak_at[0]


def tree_rss(pid: int) -> tuple[int, int]:
    """Bytes of memory of a process and all its descendants, from /proc.

    Each process counts its proportional set size (Pss): pages it shares with the others (the
    Python and DuckDB libraries of Dagster and of dbt) count once in the total, not per process.
    """
    children = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                children.setdefault(int(fields[1]), []).append(int(entry.name))
            except (OSError, IndexError):
                continue
    total, hwm, todo = 0, 0, [pid]
    while todo:
        current = todo.pop()
        try:
            status = (Path("/proc") / str(current) / "status").read_text()
            # A process that is exiting (a zombie) has no VmHWM line any more.
            peaks = [
                int(x.split()[1]) * 1024 for x in status.splitlines() if x.startswith("VmHWM:")
            ]
            hwm = max([hwm, *peaks])
            rollup = (Path("/proc") / str(current) / "smaps_rollup").read_text()
            total += next(
                int(line.split()[1]) * 1024
                for line in rollup.splitlines()
                if line.startswith("Pss:")
            )
        except (OSError, StopIteration, IndexError):
            pass
        todo += children.get(current, [])
    return total, hwm
