"""Run the nightly refresh headlessly, in this process (for ``barometer refresh`` and cron)."""

from __future__ import annotations

import os

import dagster as dg

from orchestration.settings import Settings


def run_nightly_refresh(settings: Settings) -> dg.ExecuteInProcessResult:
    from orchestration.definitions import build_definitions

    job = build_definitions(settings).resolve_job_def("nightly_refresh")
    # With DAGSTER_HOME set (the Makefile does), the run is recorded where `make dev` shows it.
    instance = dg.DagsterInstance.get() if "DAGSTER_HOME" in os.environ else None
    return job.execute_in_process(
        instance=instance,
        raise_on_error=False,
        run_config={"loggers": {"console": {"config": {"log_level": "INFO"}}}},
    )
