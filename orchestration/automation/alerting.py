"""Alerts about runs: what failed, which checks failed, and what changed for Copenhagen.

Built from a run's event log, so the sensors (under the Dagster daemon) and ``barometer refresh``
(without one) produce the same alerts and deliver them through the same channels (``alerts.py``).
"""

import json
import time

import dagster as dg
from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecordStatus

from orchestration.automation.alerts import Alert, AlertConfig, deliver, run_url
from orchestration.automation.schedules import nightly_refresh
from orchestration.engines import published_place
from orchestration.quality.checks import DATA_DOCS
from orchestration.settings import Settings

# A run whose alerts `barometer refresh` has sent itself; the sensors leave it alone.
ALERTED_BY_CLI = {"barometer/alerts": "sent-by-cli"}

FAILED = AssetCheckExecutionRecordStatus.FAILED
FIRST_LOOK_SECONDS = 24 * 60 * 60

_CHECK = dg.DagsterEventType.ASSET_CHECK_EVALUATION
_FAILURE = dg.DagsterEventType.STEP_FAILURE
_MATERIALIZATION = dg.DagsterEventType.ASSET_MATERIALIZATION


def failure_reason(error) -> str:
    """The innermost message that explains a step failure, without Dagster's wrapping."""
    if error is None:
        return "unknown error"
    while error.cause is not None and "Failure" not in error.cls_name:
        error = error.cause
    return error.message.strip().removeprefix("dagster._core.definitions.events.Failure: ")


def run_failure_alert(
    instance: dg.DagsterInstance, run: dg.DagsterRun, ui_url: str, published: str = "serving.duckdb"
) -> Alert:
    """``published``: what readers are shown on the engine (engines.published_place)."""
    checks = [e for e in _check_evaluations(instance, run.run_id) if not e.passed]
    steps = [
        (event.step_key, failure_reason(event.dagster_event.step_failure_data.error))
        for event in instance.all_logs(run.run_id, of_type=_FAILURE)
    ]
    subject = (
        f"check {checks[0].check_name} on {checks[0].asset_key.to_user_string()}"
        if checks
        else (steps[0][0] if steps else "the run")
    )
    summary = [f"{c.asset_key.to_user_string()}: {c.description}" for c in checks if c.description]
    summary += [f"Step {step} failed: {reason}" for step, reason in steps if not checks]
    summary.append(f"Nothing downstream ran: the published {published} is as it was.")
    facts = {"job": run.job_name, "run": run.run_id}
    if steps:
        facts["failed steps"] = ", ".join(step for step, _ in steps)
    if checks:
        facts["failed checks"] = ", ".join(
            f"{c.check_name} on {c.asset_key.to_user_string()}" for c in checks
        )
        facts["failed expectations"] = "; ".join(
            name for c in checks for name in _metadata(c, "failed_expectation_names", [])
        )
        # The Great Expectations Data Docs of the failed suites, on the warehouse machine.
        facts["data docs"] = ", ".join(
            str(_metadata(c, DATA_DOCS, "")) for c in checks if _metadata(c, DATA_DOCS, "")
        )
    return Alert(
        kind="run_failure",
        severity="error",
        title=f"Nightly refresh failed: {subject}",
        summary="\n".join(summary),
        facts={k: v for k, v in facts.items() if v},
        sample=_metadata(checks[0], "failing_rows", []) if checks else [],
        run_url=run_url(ui_url, run.run_id),
    )


def check_failure_alert(evaluation, run_id: str | None, ui_url: str) -> Alert:
    asset = evaluation.asset_key.to_user_string()
    blocking = "blocking" if evaluation.blocking else "not blocking"
    return Alert(
        kind="check_failure",
        severity="error" if evaluation.severity == dg.AssetCheckSeverity.ERROR else "warning",
        title=f"Check failed: {evaluation.check_name} on {asset}",
        summary=evaluation.description or f"The check {evaluation.check_name} on {asset} failed.",
        facts={
            "asset": asset,
            "check": f"{evaluation.check_name} ({evaluation.severity.value.lower()}, {blocking})",
            "failed expectations": "; ".join(_metadata(evaluation, "failed_expectation_names", [])),
            **({"data docs": str(docs)} if (docs := _metadata(evaluation, DATA_DOCS, "")) else {}),
            **({"run": run_id} if run_id else {}),
        },
        sample=_metadata(evaluation, "failing_rows", []),
        run_url=run_url(ui_url, run_id) if run_id else None,
    )


def data_change_alert(
    instance: dg.DagsterInstance, run: dg.DagsterRun, ui_url: str
) -> Alert | None:
    changes = []
    for event in instance.all_logs(run.run_id, of_type=_MATERIALIZATION):
        materialization = event.dagster_event.event_specific_data.materialization
        if materialization.asset_key == dg.AssetKey("serving"):
            changes = materialization.metadata.get(
                "copenhagen_changes", dg.JsonMetadataValue([])
            ).value
    if not changes:
        return None
    lines = [_describe_change(change) for change in changes]
    return Alert(
        kind="data_change",
        severity="warning",
        title=f"Copenhagen: {len(changes)} indicator change(s) in tonight's published data",
        summary="\n".join(lines),
        facts={"job": run.job_name, "run": run.run_id, "municipality": "101 København"},
        sample=changes,
        run_url=run_url(ui_url, run.run_id),
    )


def alerts_for_run(
    instance: dg.DagsterInstance, run: dg.DagsterRun, ui_url: str, published: str = "serving.duckdb"
) -> list[Alert]:
    """Every alert a finished run calls for: its failure and failed checks, or its data changes."""
    if run.status == dg.DagsterRunStatus.FAILURE:
        alerts = [run_failure_alert(instance, run, ui_url, published)]
    else:
        alerts = [
            check_failure_alert(e, run.run_id, ui_url)
            for e in _check_evaluations(instance, run.run_id)
            if not e.passed
        ]
        change = data_change_alert(instance, run, ui_url)
        alerts += [change] if change else []
    return alerts


def send(alerts: list[Alert], config: AlertConfig, log) -> None:
    """Deliver through every channel and say how each did in the Dagster (or console) log."""
    for alert in alerts:
        deliveries = deliver(alert, config)
        outcome = ", ".join(
            f"{d.channel} {'delivered' if d.ok else 'FAILED (' + (d.error or '') + ')'}"
            for d in deliveries
        )
        (log.info if all(d.ok for d in deliveries) else log.warning)(
            f"Alert '{alert.title}': {outcome}"
        )


@dg.run_failure_sensor(
    name="alert_on_run_failure",
    monitored_jobs=[nightly_refresh],
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Alerts every channel when the nightly refresh fails: what, why, which rows.",
)
def alert_on_run_failure(context: dg.RunFailureSensorContext, settings: dg.ResourceParam[Settings]):
    if _alerted_by_cli(context.dagster_run):
        return
    alert = run_failure_alert(
        context.instance,
        context.dagster_run,
        settings.alerts.ui_url,
        published_place(settings.engine),
    )
    send([alert], settings.alerts, context.log)


@dg.run_status_sensor(
    name="alert_on_data_changes",
    run_status=dg.DagsterRunStatus.SUCCESS,
    monitored_jobs=[nightly_refresh],
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "After a successful publish, alerts when a Copenhagen indicator changed status or moved "
        "more than ALERT_VALUE_CHANGE_POINTS year on year."
    ),
)
def alert_on_data_changes(context: dg.RunStatusSensorContext, settings: dg.ResourceParam[Settings]):
    if _alerted_by_cli(context.dagster_run):
        return
    alert = data_change_alert(context.instance, context.dagster_run, settings.alerts.ui_url)
    if alert:
        send([alert], settings.alerts, context.log)


@dg.sensor(
    name="alert_on_failed_checks",
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Alerts on every failed asset check, blocking or warning, in a run or not.",
)
def alert_on_failed_checks(
    context: dg.SensorEvaluationContext, settings: dg.ResourceParam[Settings]
):
    # The cursor holds, per check, the id of the last execution already looked at. A check seen
    # for the first time only alerts on failures of the last day, not on all of its history.
    seen = json.loads(context.cursor) if context.cursor else {}
    since = time.time() - FIRST_LOOK_SECONDS
    storage = context.instance.event_log_storage
    alerts = []
    for key in sorted(context.repository_def.asset_graph.asset_check_keys, key=str):
        history = storage.get_asset_check_execution_history(key, limit=50)
        last = seen.get(key.to_user_string())
        for record in reversed(history):  # oldest first
            is_new = record.id > last if last is not None else record.create_timestamp > since
            if not is_new or record.status != FAILED or record.event is None:
                continue
            run = context.instance.get_run_by_id(record.run_id) if record.run_id else None
            if run is None or not _alerted_by_cli(run):
                evaluation = record.event.dagster_event.event_specific_data
                alerts.append(
                    check_failure_alert(evaluation, run and run.run_id, settings.alerts.ui_url)
                )
        if history:
            seen[key.to_user_string()] = max(record.id for record in history)
    context.update_cursor(json.dumps(seen, sort_keys=True))
    send(alerts, settings.alerts, context.log)
    return dg.SkipReason(f"{len(alerts)} failed check(s) alerted.")


def _check_evaluations(instance: dg.DagsterInstance, run_id: str) -> list:
    return [e.dagster_event.event_specific_data for e in instance.all_logs(run_id, of_type=_CHECK)]


def _metadata(evaluation, key: str, default):
    value = evaluation.metadata.get(key)
    return value.value if value is not None else default


def _alerted_by_cli(run: dg.DagsterRun) -> bool:
    return run.tags.get("barometer/alerts") == ALERTED_BY_CLI["barometer/alerts"]


def _describe_change(change: dict) -> str:
    where = f"{change['indicator_code']} {change['indicator_name']} {change['year']}"
    if change["change"] == "status":
        return f"{where}: status {change['before']} → {change['after']}"
    moved = change["after"] - change["before"]
    return f"{where}: {change['before']} → {change['after']} ({moved:+.1f} on the year before)"
