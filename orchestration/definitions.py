"""The Dagster code location: every asset, check, job, schedule and resource of the warehouse."""

from __future__ import annotations

import dagster as dg

from orchestration.assets.cases import case_extracts
from orchestration.assets.dbt import dbt_warehouse
from orchestration.assets.extract import barometer_extract
from orchestration.assets.publish import published, serving
from orchestration.assets.report import dbt_docs, report
from orchestration.automation.alerting import (
    alert_on_data_changes,
    alert_on_failed_checks,
    alert_on_run_failure,
)
from orchestration.automation.freshness import freshness_checks, freshness_sensor
from orchestration.automation.schedules import nightly_refresh, nightly_refresh_schedule
from orchestration.automation.sensors import barometer_drop_folder
from orchestration.engines import published_place
from orchestration.engines.duckdb.warehouse import WarehouseResource
from orchestration.engines.postgres.assets import postgres_night
from orchestration.quality.checks import case_disclosure_checks, suite_checks
from orchestration.quality.suites import load_suites
from orchestration.settings import (
    EXPECTATIONS_DIR,
    Settings,
    apply_process_env,
)

# Every asset belongs to the integration data team: set once, not asset by asset.
OWNERS = ["team:integrationsdata"]


def build_definitions(settings: Settings) -> dg.Definitions:
    apply_process_env(settings)
    settings.warehouse_dir.mkdir(parents=True, exist_ok=True)
    if settings.engine == "postgres":
        # The same extracts, gates and dbt project; the marts are built, checked and published
        # on the server (assets/postgres.py).
        assets, checks, engine_resources = postgres_night(settings)
    else:
        assets = [
            barometer_extract, case_extracts, dbt_warehouse, serving, report, dbt_docs, published
        ]  # fmt: skip
        checks = [
            suite_checks("raw_quality", load_suites(EXPECTATIONS_DIR, "raw_")),
            suite_checks("marts_quality", load_suites(EXPECTATIONS_DIR, "marts_")),
            case_disclosure_checks,
        ]
        engine_resources = {}
    return dg.Definitions(
        assets=dg.map_asset_specs(lambda spec: spec.replace_attributes(owners=OWNERS), assets),
        asset_checks=[*checks, *freshness_checks],
        jobs=[nightly_refresh],
        schedules=[nightly_refresh_schedule],
        sensors=[
            barometer_drop_folder,
            freshness_sensor,
            alert_on_run_failure,
            alert_on_failed_checks,
            alert_on_data_changes,
        ],
        resources={
            "settings": settings,
            # Holds the refresh lock for the whole run and names any fault of the file.
            "duckdb": WarehouseResource(
                database=str(settings.warehouse_path),
                connection_config={"memory_limit": settings.duckdb_memory_limit},
                published=published_place(settings.engine),
            ),
            **engine_resources,
        },
    )


defs = build_definitions(Settings.from_env())
