"""The Dagster code location: every asset, check, job, schedule and resource of the warehouse."""

from __future__ import annotations

import dagster as dg

from orchestration.assets.backup import backup
from orchestration.assets.cases import case_extracts
from orchestration.assets.dbt import dbt_night
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
from orchestration.engines import engine_for
from orchestration.engines.base import Engine
from orchestration.engines.duckdb.resource import WarehouseResource
from orchestration.privacy import make_umask_private
from orchestration.quality.checks import disclosure_checks, suite_checks
from orchestration.quality.suites import load_suites
from orchestration.settings import (
    EXPECTATIONS_DIR,
    Settings,
    apply_process_env,
)

# Every asset belongs to the integration data team: set once, not asset by asset.
OWNERS = ["team:integrationsdata"]


def build_definitions(settings: Settings) -> dg.Definitions:
    make_umask_private()  # case data: whatever this process writes is its owner's only
    apply_process_env(settings)
    settings.warehouse_dir.mkdir(parents=True, exist_ok=True)
    # The one place the engine is chosen: the graph is the same on every engine, and the
    # assets and mart gates ask the ``engine`` resource for what differs (engines/).
    engine = engine_for(settings)
    assets = [
        barometer_extract,
        case_extracts,
        dbt_night(engine.name, engine.built_marts_schema),
        serving,
        report,
        dbt_docs,
        published,
        # The raw store is the local DuckDB file on every engine: backed up the same way.
        backup,
    ]
    marts = engine.built_marts_schema
    checks = [
        suite_checks("raw_quality", load_suites(EXPECTATIONS_DIR, "raw_")),
        suite_checks("marts_quality", load_suites(EXPECTATIONS_DIR, "marts_", marts), "engine"),
        disclosure_checks(marts),
    ]
    return dg.Definitions(
        assets=dg.map_asset_specs(lambda spec: _specified(spec, engine), assets),
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
            # The raw store, on every engine: holds the warehouse's refresh lock for the whole
            # run and names any fault of the file.
            "duckdb": WarehouseResource(
                database=str(settings.warehouse_path),
                connection_config={"memory_limit": settings.duckdb_memory_limit},
                backup_dir=str(settings.backup_dir),
                reader_group=settings.reader_group,
                published=engine.published_place(),
            ),
            "engine": engine,
        },
    )


def _specified(spec: dg.AssetSpec, engine: Engine) -> dg.AssetSpec:
    kinds = engine.published_kinds if spec.key == dg.AssetKey("serving") else spec.kinds
    return spec.replace_attributes(owners=OWNERS, kinds=kinds)


defs = build_definitions(Settings.from_env())
