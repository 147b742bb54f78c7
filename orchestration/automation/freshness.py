"""Freshness: the raw data and the published file report stale 26 hours after their last update.

A nightly refresh that did not happen is as much a failure as one that failed: 26 hours leaves
the 02:00 run two hours' slack before the check fails (and the check sensor alerts). A night
that found nothing new starts no run (automation/nothing_new.py): it records an observation of
both assets instead, saying they are current as of that night, so only a night that did not
happen goes stale.
"""

import time
import warnings
from datetime import timedelta

import dagster as dg

from orchestration.automation.nothing_new import GoodNight

STALE_AFTER = timedelta(hours=26)
WATCHED = [dg.AssetKey(["raw", "barometer_indicator_values"]), dg.AssetKey("serving")]

with warnings.catch_warnings():
    # Superseded by FreshnessPolicy, which the open-source daemon does not evaluate as a check.
    warnings.simplefilter("ignore")
    freshness_checks = dg.build_last_update_freshness_checks(
        assets=WATCHED,
        lower_bound_delta=STALE_AFTER,
    )
    freshness_sensor = dg.build_sensor_for_freshness_checks(
        freshness_checks=freshness_checks,
        name="freshness_checks_sensor",
        default_status=dg.DefaultSensorStatus.RUNNING,
    )


def observe_nothing_new(instance: dg.DagsterInstance, night: GoodNight) -> None:
    """Tonight looked and found nothing new since ``night``: what it published is current."""
    for key in WATCHED:
        instance.report_runless_asset_event(
            dg.AssetObservation(
                key,
                description="A night with nothing new: no run started.",
                metadata={
                    "dagster/last_updated_timestamp": dg.MetadataValue.timestamp(time.time()),
                    "nothing_new_since_run": night.run_id,
                    "last_good_night_ended": night.finished_at,
                },
            )
        )
