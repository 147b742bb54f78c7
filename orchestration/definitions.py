"""The Dagster code location: every asset, check, job, schedule and resource of the warehouse."""

from __future__ import annotations

import dagster as dg
from dagster_dbt import DbtCliResource
from dagster_duckdb import DuckDBResource

from orchestration.assets.dbt import dbt_marts, dbt_project, dbt_staging
from orchestration.assets.extract import barometer_indicator_values
from orchestration.assets.publish import serving
from orchestration.automation.schedules import nightly_refresh, nightly_refresh_schedule
from orchestration.quality.checks import suite_checks
from orchestration.quality.suites import load_suites
from orchestration.settings import (
    DBT_EXECUTABLE,
    EXPECTATIONS_DIR,
    Settings,
    apply_process_env,
)


def build_definitions(settings: Settings) -> dg.Definitions:
    apply_process_env(settings)
    settings.warehouse_dir.mkdir(parents=True, exist_ok=True)
    return dg.Definitions(
        assets=[barometer_indicator_values, dbt_staging, dbt_marts, serving],
        asset_checks=[
            suite_checks("raw_quality", load_suites(EXPECTATIONS_DIR, "raw_")),
            suite_checks("marts_quality", load_suites(EXPECTATIONS_DIR, "marts_")),
        ],
        jobs=[nightly_refresh],
        schedules=[nightly_refresh_schedule],
        resources={
            "settings": settings,
            "duckdb": DuckDBResource(database=str(settings.warehouse_path)),
            "dbt": DbtCliResource(project_dir=dbt_project, dbt_executable=str(DBT_EXECUTABLE)),
        },
    )


defs = build_definitions(Settings.from_env())
