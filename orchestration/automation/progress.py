"""What a person sees of a night on the console: one line per step, in plain words, with its time.

``barometer refresh`` sends Dagster's and dbt's full logs to the night's log file; this Dagster
logger writes the short account beside it. Each step's line is started when the step starts and
finished when it ends, so a pipe or a cron mail shows the same lines as a terminal, without
escape codes.
"""

from __future__ import annotations

import logging
import time
from typing import TextIO

import dagster as dg

# The night's steps as a person names them; a step not listed is shown by its key.
STEP_WORDS = {
    "barometer_extract": "Read the barometer exports",
    "case_extracts": "Read the case-system extracts",
    "raw_to_server": "Copy the raw tables to the server",
    "raw_quality": "Check the raw data (Great Expectations)",
    "dbt_warehouse": "Build the models and run their tests (dbt)",
    "marts_quality": "Check the marts (Great Expectations)",
    "case_disclosure": "Check that no small case cell is published",
    "serving": "Write tonight's marts for publishing",
    "report": "Write the report page",
    "docs__dbt": "Write the dbt docs",
    "published": "Switch readers to tonight's marts and pages, all at once",
    "backup": "Back up the raw layer and verify the backup",
}
ENDINGS = {
    dg.DagsterEventType.STEP_SUCCESS: "done",
    dg.DagsterEventType.STEP_FAILURE: "FAILED",
    dg.DagsterEventType.STEP_SKIPPED: "skipped (an earlier step failed)",
}


def step_words(step_key: str) -> str:
    return STEP_WORDS.get(step_key) or step_key.replace("__", " ").replace("_", " ").capitalize()


class StepLines(logging.Handler):
    """Turns Dagster's step events into one console line per step."""

    def __init__(self, out: TextIO):
        super().__init__(logging.DEBUG)
        self.out = out
        self.started: dict[str, float] = {}

    def emit(self, record: logging.LogRecord) -> None:
        event = getattr(record, "dagster_meta", {}).get("dagster_event")
        if event is None or event.step_key is None:
            return
        step = event.step_key
        if event.event_type == dg.DagsterEventType.STEP_START:
            self.started[step] = time.monotonic()
            self.out.write(f"  {step_words(step)} ... ")
        elif event.event_type in ENDINGS:
            if step not in self.started:  # skipped: it never started
                self.out.write(f"  {step_words(step)} ... ")
            seconds = time.monotonic() - self.started.pop(step, time.monotonic())
            timing = (
                f" in {seconds:.1f} s"
                if event.event_type != dg.DagsterEventType.STEP_SKIPPED
                else ""
            )
            self.out.write(f"{ENDINGS[event.event_type]}{timing}\n")
        else:
            return
        self.out.flush()


def step_lines_logger(out: TextIO) -> dg.LoggerDefinition:
    """A Dagster logger that writes the step lines to ``out``."""

    @dg.logger(description="One line per step of the night, for the console.")
    def step_lines(_init_context: dg.InitLoggerContext) -> logging.Logger:
        logger = logging.Logger("barometer.steps", level=logging.DEBUG)
        logger.addHandler(StepLines(out))
        return logger

    return step_lines
