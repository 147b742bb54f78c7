"""A Dagster run's steps as its event log records them (for the benchmarks, not a test)."""

from __future__ import annotations

import os
from pathlib import Path


def step_spans(dagster_home: Path, run_id: str) -> tuple[dict[str, tuple[float, float]], int]:
    """The start and end of each step of the run, and how many events the run wrote."""
    os.environ["DAGSTER_HOME"] = str(dagster_home)
    import dagster as dg

    with dg.DagsterInstance.get() as instance:
        records = instance.all_logs(run_id)
    started, spans = {}, {}
    for record in records:
        event = record.dagster_event
        if event is None or not record.step_key:
            continue
        if event.event_type_value == "STEP_START":
            started[record.step_key] = record.timestamp
        elif event.event_type_value in ("STEP_SUCCESS", "STEP_FAILURE"):
            spans[record.step_key] = (started[record.step_key], record.timestamp)
    return spans, len(records)
