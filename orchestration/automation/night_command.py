"""``barometer refresh``: the nightly job in this process, headlessly (cron, another scheduler),
or one line saying that nothing is new (automation/nothing_new.py). Dagster, the engine and the
alerts are imported only once a run is to start."""

from __future__ import annotations

import shutil
import sys
import time
from contextlib import redirect_stderr, redirect_stdout

import duckdb

from orchestration.automation.night_log import Tee, night_log_path, open_log
from orchestration.automation.nothing_new import GoodNight, nothing_new, nothing_new_reason
from orchestration.children import start_children
from orchestration.engines import EngineError, engine_for
from orchestration.engines.duckdb.warehouse import (
    WarehouseError,
    check_not_lost,
    check_opens,
    refresh_lock,
)
from orchestration.settings import Settings, apply_process_env


def refresh(
    settings: Settings, verbose: bool = False, rebuild: bool = False, force: bool = False
) -> int:
    """Run ``nightly_refresh`` in this process, print a short account and send the run's alerts;
    or, when nothing is new since the last good night (automation/nothing_new.py) and not
    ``force``, say so and start no run.

    The console gets one line per step and the summary; Dagster's and dbt's full log goes to a
    file under ``logs/`` in the warehouse folder (and to the console too with ``verbose``).
    Without a daemon nobody else would send the alerts: they go through the same code and
    channels as the sensors', which leave this run alone.
    """
    apply_process_env(settings)
    started = time.monotonic()
    out = sys.stdout
    try:
        # Taken before the run starts, so a second refresh or a damaged file is one sentence,
        # not a failed run; the job's resource re-enters this same lock.
        with refresh_lock(settings.warehouse_dir):
            if rebuild and not settings.warehouse_path.exists():
                # The operator's choice: an empty warehouse, and no record of a former build.
                shutil.rmtree(settings.dbt_state_dir, ignore_errors=True)
                duckdb.connect(str(settings.warehouse_path)).close()
                print(f"Starting afresh: a new, empty {settings.warehouse_path}")
            check_not_lost(settings.warehouse_path, settings.backup_dir)
            check_opens(settings.warehouse_path)
            night = None if force else nothing_new(settings)
            if night is not None:
                _nothing_new(settings, night, out)
                return 0
            start_children()  # dbt's and GE's imports, beside Dagster's and the first steps
            # Only now Dagster, the engine and the alerts are imported (about a second).
            from orchestration.automation.alerting import send

            with engine_for(settings).night_lock():
                log_path = night_log_path(settings.logs_dir)
                with open_log(log_path) as log_file:
                    print(f"Nightly refresh of {settings.warehouse_dir} (full log: {log_path})")
                    full_log = Tee(log_file, out) if verbose else log_file
                    with redirect_stdout(full_log), redirect_stderr(full_log):
                        result, summary, alerts = _run(settings, started, out)
                    log_file.write(summary.full + "\n")
                # Sent with this process's own streams: when alerts.jsonl cannot be written (a
                # full disk), the alert goes to standard error, not into the log on that disk.
                send(alerts, settings.alerts, _ConsoleLog(out))
    except (WarehouseError, EngineError) as error:
        print(f"barometer: {error}", file=sys.stderr)
        return 1
    if log_file.lost is not None:
        print(f"barometer: the night's log {log_path} is incomplete ({log_file.lost})")
    print(summary.short)
    return 0 if result.success else 1


def _nothing_new(settings: Settings, night: GoodNight, out) -> None:
    """The account of a night with nothing new, where a night's summary would be; with a
    Dagster instance, the freshness checks learn that the night looked (freshness.py)."""
    from orchestration.raw.backup import same_disk_warning

    if settings.dagster_home:
        import dagster as dg

        from orchestration.automation.freshness import observe_nothing_new

        with dg.DagsterInstance.get() as instance:
            observe_nothing_new(instance, night)
    print(f"Nightly refresh of {settings.warehouse_dir}: {nothing_new_reason(night)}.", file=out)
    print("`barometer refresh --force` runs the whole night anyway.", file=out)
    warning = same_disk_warning(settings)
    if warning:
        print(f"Warning: {warning}.", file=out)


def _run(settings: Settings, started: float, out):
    """The job in this process: its result, the summary and the alerts it calls for."""
    import dagster as dg

    from orchestration.automation.alerting import ALERTED_BY_CLI, alerts_for_run
    from orchestration.automation.report import run_summary
    from orchestration.automation.run import run_nightly_refresh

    # With DAGSTER_HOME set (the Makefile does), the run is recorded where `make dev` shows it.
    instance = dg.DagsterInstance.get() if settings.dagster_home else dg.DagsterInstance.ephemeral()
    with instance:
        result = run_nightly_refresh(settings, instance, ALERTED_BY_CLI, step_lines=out)
        summary = run_summary(result, settings, time.monotonic() - started)
        published = engine_for(settings).published_place()
        alerts = alerts_for_run(instance, result.dagster_run, settings.alerts.ui_url, published)
    return result, summary, alerts


class _ConsoleLog:
    """The alert outcome on the console, where a cron job's mail or log picks it up."""

    def __init__(self, out):
        self.out = out

    def info(self, message: str) -> None:
        print(message, file=self.out)

    warning = info
