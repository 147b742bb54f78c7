"""The nightly refresh: one job over every asset and check, and its 02:00 schedule."""

from __future__ import annotations

import dagster as dg

from orchestration.automation.freshness import freshness_checks, observe_nothing_new
from orchestration.automation.nothing_new import nothing_new, nothing_new_reason
from orchestration.settings import Settings

# DuckDB allows a single writer: run every step in one process, one after the other.
nightly_refresh = dg.define_asset_job(
    "nightly_refresh",
    # Freshness is judged between runs by its own sensor, not in the middle of a refresh.
    selection=dg.AssetSelection.all() - dg.AssetSelection.checks(*freshness_checks),
    description=(
        "Extract the barometer exports, gate them, build the dbt marts, gate them and publish "
        "warehouse/serving.duckdb."
    ),
    executor_def=dg.in_process_executor,
    # Run monitoring (.dagster/dagster.yaml) stops a night that hangs.
    tags={"dagster/max_runtime": 3 * 60 * 60},
)


@dg.schedule(
    name="nightly_refresh_at_0200",
    job=nightly_refresh,
    cron_schedule="0 2 * * *",
    execution_timezone="Europe/Copenhagen",
    default_status=dg.DefaultScheduleStatus.STOPPED,
    description=(
        "Runs the nightly refresh at 02:00 Copenhagen time (stopped until switched on); a "
        "night with nothing new since the last good one is a skipped tick, saying why."
    ),
)
def nightly_refresh_schedule(
    context: dg.ScheduleEvaluationContext, settings: dg.ResourceParam[Settings]
):
    night = nothing_new(settings)
    if night is None:
        return dg.RunRequest()
    observe_nothing_new(context.instance, night)
    return dg.SkipReason(nothing_new_reason(night))
