"""The night on a PostgreSQL server (``BAROMETER_ENGINE=postgres``): its own assets and checks.

The extracts are the DuckDB night's: they parse and land into the local DuckDB raw store, which
stays the append-only record and keeps the rejects. Then ``raw_to_server`` copies the raw
tables to the server (keys ``postgres/raw/...``, which dbt's sources read); the raw gates check
them there, dbt builds the marts into ``marts_staging``, the mart gates read them there, and
``serving`` swaps them into ``marts`` (engines/postgres/publish.py). The DuckDB serving file, its
Parquet copies and the report page that reads that file are not made: BI tools read the server.
"""

import dagster as dg
from dagster_dbt import dbt_assets
from psycopg.conninfo import make_conninfo

from orchestration.assets.backup import backup
from orchestration.assets.cases import case_extracts
from orchestration.assets.dbt import (
    WarehouseTranslator,
    dbt_project,
    night_outputs,
    run_nightly_dbt,
)
from orchestration.assets.extract import barometer_extract
from orchestration.assets.publish import MART_TABLES
from orchestration.assets.report import dbt_docs
from orchestration.engines.postgres.publish import (
    MARTS,
    STAGING,
    previous_published_at,
    publish_marts,
    reset_staging,
)
from orchestration.engines.postgres.raw import copy_raw_tables
from orchestration.engines.postgres.server import PostgresResource
from orchestration.publish.publication import tonights_publication
from orchestration.quality.checks import disclosure_checks, suite_checks
from orchestration.quality.suites import load_suites
from orchestration.settings import EXPECTATIONS_DIR, PROJECT_ROOT, Settings

SERVER = "postgres"  # the key prefix of the server's copy of the raw tables
# Read by dbt_project/macros/generate_schema_name.sql: where the postgres target builds marts.
MARTS_SCHEMA_VARIABLE = "BAROMETER_PG_MARTS_SCHEMA"
TRANSLATOR = WarehouseTranslator("postgres", {STAGING: MARTS}, source_prefix=SERVER)


def server_key(key: dg.AssetKey) -> dg.AssetKey:
    """``raw/case_events`` (DuckDB's raw store) -> ``postgres/raw/case_events`` (the server's)."""
    return dg.AssetKey([SERVER, *key.path])


def staged(key: dg.AssetKey) -> str:
    """The relation behind an asset key on the server: marts are read from the staging schema."""
    schema, table = key.path
    return f"{STAGING if schema == MARTS else schema}.{table}"


@dg.multi_asset(
    specs=[
        dg.AssetSpec(server_key(key), deps=[key], kinds={"duckdb", "postgres"})
        for key in sorted(barometer_extract.keys | case_extracts.keys)
    ],
    name="raw_to_server",
    group_name="extract",
    description=(
        "Every table of the DuckDB warehouse's raw schema copied to the server's raw schema by "
        "COPY, in one transaction: the rows the raw gates and dbt read there."
    ),
    required_resource_keys={"settings", "postgres"},
)
def raw_to_server(context: dg.AssetExecutionContext):
    settings: Settings = context.resources.settings
    copied = {copy.table: copy.rows for copy in copy_raw_tables(
        settings.warehouse_path, context.resources.postgres.dsn
    )}  # fmt: skip
    for key in context.selected_asset_keys:
        yield dg.MaterializeResult(
            asset_key=key, metadata={"dagster/row_count": copied[".".join(key.path[1:])]}
        )


@dbt_assets(
    manifest=dbt_project.manifest_path,
    name="dbt_warehouse",
    dagster_dbt_translator=TRANSLATOR,
    project=dbt_project,
    required_resource_keys={"settings", "postgres"},
)
def dbt_on_server(context: dg.AssetExecutionContext):
    """The dbt project built with the postgres target, its marts into the staging schema."""
    settings: Settings = context.resources.settings
    postgres: PostgresResource = context.resources.postgres
    reset_staging(postgres.dsn)
    # The target as a variable, so that the docs after the build are the server's too.
    night, manifest = run_nightly_dbt(
        context, {"DBT_TARGET": settings.dbt_target, MARTS_SCHEMA_VARIABLE: STAGING}
    )
    yield from night_outputs(
        context,
        night,
        manifest,
        TRANSLATOR,
        lambda key: {"dagster/row_count": postgres.row_count(staged(key))},
    )


@dg.asset(
    key="serving",
    deps=[dg.AssetKey([MARTS, table]) for table in MART_TABLES],
    group_name="publish",
    kinds={"postgres"},
    description=(
        "The server's marts schema: tonight's checked marts swapped in from marts_staging in one "
        "transaction, with a row in marts.publication; readers of the barometer_reader group "
        "see the previous night's or tonight's, never a mix."
    ),
    required_resource_keys={"settings", "postgres", "duckdb"},
)
def serving_on_server(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    dsn = context.resources.postgres.dsn
    with context.resources.duckdb.get_connection() as con:
        # The night's files and years come from the raw store, as on DuckDB.
        publication = tonights_publication(con, PROJECT_ROOT, previous_published_at(dsn))
    counts = publish_marts(dsn, MART_TABLES, publication)
    context.log.info(f"Published {len(MART_TABLES)} marts to schema {MARTS} on the server")
    return dg.MaterializeResult(
        metadata={
            "schema": MARTS,
            **{f"rows/{table}": count for table, count in counts.items()},
            "code_commit": publication["code_commit"] or "(not a git checkout)",
            "case_extract_night": str(publication["case_extract_night"]),
        }
    )


def postgres_night(settings: Settings) -> tuple[list, list, dict]:
    """The assets, checks and resources of the night on the server."""
    assets = [barometer_extract, case_extracts, raw_to_server, dbt_on_server, serving_on_server]
    checks = [
        suite_checks("raw_quality", load_suites(EXPECTATIONS_DIR, "raw_"), "postgres", (SERVER,)),
        suite_checks("marts_quality", load_suites(EXPECTATIONS_DIR, "marts_", STAGING), "postgres"),
        disclosure_checks("postgres", STAGING),
    ]
    resources = {"postgres": PostgresResource(dsn=make_conninfo(**settings.pg_options))}
    # The raw store stays the local DuckDB file on this engine too: it is backed up the same way.
    return [*assets, dbt_docs, backup], checks, resources
