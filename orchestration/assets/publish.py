"""Publish: the validated marts become the serving file that BI tools read."""

import dagster as dg
from dagster_duckdb import DuckDBResource

from orchestration.automation.faults import disk_faults
from orchestration.engines import published_place
from orchestration.engines.duckdb.data_changes import copenhagen_changes
from orchestration.engines.duckdb.publish import publish_schema
from orchestration.publish import generation
from orchestration.publish.publication import previous_published_at, tonights_publication
from orchestration.publish.serving_metadata import read_table_docs, undocumented
from orchestration.settings import DBT_PROJECT_DIR, PROJECT_ROOT, Settings

MART_TABLES = [
    "dim_indicator",
    "dim_municipality",
    "dim_status",
    "dim_development",
    "dim_population_group",
    "dim_target_kind",
    "dim_unit",
    "dim_direction",
    "dim_sex",
    "dim_age_band",
    "dim_programme",
    "dim_outcome",
    "dim_suppression_reason",
    "fct_indicator_values",
    "fct_national_indicator_values",
    "fct_target_gap",
    "fct_goal_development",
    "fct_peer_group_values",
    "fct_scorecard",
    "fct_case_outcomes",
    "fct_local_vs_national",
]
# Prepared at set-up (`barometer prepare`), as dagster-dbt reads it when the definitions load.
DBT_MANIFEST = DBT_PROJECT_DIR / "target" / "manifest.json"


@dg.asset(
    key="serving",
    deps=[dg.AssetKey(["marts", table]) for table in MART_TABLES],
    group_name="publish",
    kinds={"duckdb", "parquet"},
    description=(
        "serving.duckdb (schema marts) and its Parquet copies in tonight's generation folder "
        "(warehouse/published/<published_at>/), written once every blocking check has passed, "
        "with dbt's descriptions and keys and a row in marts.publication. Readers see it when "
        "`published` switches to that generation; BI tools open it read-only."
    ),
    required_resource_keys={"settings", "duckdb"},
)
def serving(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    settings: Settings = context.resources.settings
    duckdb: DuckDBResource = context.resources.duckdb
    # What BI tools show beside each table and column: the dbt YAML, through the manifest.
    docs = read_table_docs(DBT_MANIFEST, "marts")
    for gap in undocumented(docs, MART_TABLES):
        context.log.warning(f"Published without a description or key: {gap}")
    with duckdb.get_connection() as con:
        # Compared before the swap: afterwards the previous publication is gone.
        changes = copenhagen_changes(
            con, settings.serving_path, settings.alerts.value_change_points
        )
        publication = tonights_publication(
            con, PROJECT_ROOT, previous_published_at(con, settings.serving_path)
        )
        folder = generation.begin(settings.warehouse_dir, publication["published_at"])
        try:
            counts = publish_schema(
                con,
                "marts",
                MART_TABLES,
                folder / settings.serving_path.name,
                folder / settings.parquet_dir.name,
                docs,
                publication,
                previous_serving=settings.serving_path,
            )
        except BaseException:
            generation.prune(settings.warehouse_dir)  # a failed night leaves no folder behind
            raise
    context.log.info(f"Wrote {folder / settings.serving_path.name}, to be published")
    settings.kill_point("serving")  # tests: a whole generation written, not published
    for change in changes:
        context.log.warning(f"Copenhagen changed: {change}")
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(folder / settings.serving_path.name)),
            "parquet_dir": dg.MetadataValue.path(str(folder / settings.parquet_dir.name)),
            "published_at": str(publication["published_at"]),
            **{f"rows/{table}": count for table, count in counts.items()},
            "code_commit": publication["code_commit"] or "(not a git checkout)",
            "case_extract_night": str(publication["case_extract_night"]),
            # Read by the data alerts (automation/alerting.py) after the run.
            "copenhagen_changes": dg.MetadataValue.json(changes),
        }
    )


@dg.asset(
    key="published",
    deps=["serving", "report", dg.AssetKey(["docs", "dbt"])],
    group_name="publish",
    kinds={"duckdb", "parquet", "html"},
    description=(
        "warehouse/published/current: one atomic switch to tonight's generation, so that "
        "serving.duckdb, parquet/, report/ and docs/dbt/ (fixed links into it) change together, "
        "all from this night. The previous generation is kept for readers holding it open."
    ),
    required_resource_keys={"settings"},
)
def published(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    settings: Settings = context.resources.settings
    try:
        settings.kill_point("publish:before_swap")
        with disk_faults(settings.warehouse_dir, published_place(settings.engine)):
            folder, removed = generation.publish(
                settings.warehouse_dir, lambda: settings.kill_point("publish:after_swap")
            )
    except generation.GenerationError as error:
        raise dg.Failure(str(error), allow_retries=False) from None
    context.log.info(f"Published {folder.name}: {settings.serving_path} and the rest of the night")
    for path in removed:
        context.log.info(f"Removed the generation {path}")
    return dg.MaterializeResult(
        metadata={
            "generation": dg.MetadataValue.path(str(folder)),
            "path": dg.MetadataValue.path(str(settings.serving_path)),
        }
    )
