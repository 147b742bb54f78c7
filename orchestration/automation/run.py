"""Run the nightly refresh headlessly, in this process (for ``barometer refresh`` and cron)."""

import dagster as dg

from orchestration.settings import Settings


def run_nightly_refresh(
    settings: Settings, instance: dg.DagsterInstance | None = None, tags: dict | None = None
) -> dg.ExecuteInProcessResult:
    from orchestration.definitions import build_definitions

    job = build_definitions(settings).resolve_job_def("nightly_refresh")
    return job.execute_in_process(
        instance=instance,
        raise_on_error=False,
        tags=tags,
        run_config={"loggers": {"console": {"config": {"log_level": "INFO"}}}},
    )
