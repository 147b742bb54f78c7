"""Freshness: the raw data and the published file report stale 26 hours after their last update.

A nightly refresh that did not happen is as much a failure as one that failed: 26 hours leaves
the 02:00 run two hours' slack before the check fails (and the check sensor alerts).
"""

import warnings
from datetime import timedelta

import dagster as dg

STALE_AFTER = timedelta(hours=26)

with warnings.catch_warnings():
    # Superseded by FreshnessPolicy, which the open-source daemon does not evaluate as a check.
    warnings.simplefilter("ignore")
    freshness_checks = dg.build_last_update_freshness_checks(
        assets=[dg.AssetKey(["raw", "barometer_indicator_values"]), dg.AssetKey("serving")],
        lower_bound_delta=STALE_AFTER,
    )
    freshness_sensor = dg.build_sensor_for_freshness_checks(
        freshness_checks=freshness_checks,
        name="freshness_checks_sensor",
        default_status=dg.DefaultSensorStatus.RUNNING,
    )
