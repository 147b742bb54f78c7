"""Run the nightly refresh headlessly, in this process (for ``barometer refresh`` and cron)."""

from typing import TextIO

import dagster as dg

from orchestration.automation.progress import step_lines_logger
from orchestration.settings import Settings


def run_nightly_refresh(
    settings: Settings,
    instance: dg.DagsterInstance | None = None,
    tags: dict | None = None,
    step_lines: TextIO | None = None,
) -> dg.ExecuteInProcessResult:
    """The job in this process. Dagster's log goes to this moment's ``sys.stderr``; with
    ``step_lines``, one line per step goes there too (automation/progress.py)."""
    from orchestration.definitions import build_definitions

    job = build_definitions(settings).resolve_job_def("nightly_refresh")
    loggers = {"console": {"config": {"log_level": "DEBUG" if step_lines else "INFO"}}}
    if step_lines is not None:
        job = job.with_logger_defs(
            {"console": dg.colored_console_logger, "steps": step_lines_logger(step_lines)}
        )
        loggers["steps"] = {}
    return job.execute_in_process(
        instance=instance, raise_on_error=False, tags=tags, run_config={"loggers": loggers}
    )
