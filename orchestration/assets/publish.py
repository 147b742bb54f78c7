"""Publish: the validated marts become what BI tools read, on the engine of the night."""

import dagster as dg

from orchestration.engines import Engine
from orchestration.settings import Settings

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


@dg.asset(
    key="serving",
    deps=[dg.AssetKey(["marts", table]) for table in MART_TABLES],
    group_name="publish",
    kinds={"duckdb", "parquet"},
    description=(
        "The published marts (schema marts), replaced as one night once every blocking check has "
        "passed, with dbt's descriptions and keys and a row in marts.publication. DuckDB: "
        "warehouse/serving.duckdb and Parquet copies, which BI tools open read-only; PostgreSQL: "
        "schema marts on the server, which the barometer_reader group reads."
    ),
    required_resource_keys={"settings", "engine"},
)
def serving(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    settings: Settings = context.resources.settings
    engine: Engine = context.resources.engine
    published = engine.publish(settings, MART_TABLES, context.log)
    for change in published.changes:
        context.log.warning(f"Copenhagen changed: {change}")
    return dg.MaterializeResult(
        metadata={
            **published.metadata,
            **{f"rows/{table}": count for table, count in published.counts.items()},
            "code_commit": published.publication["code_commit"] or "(not a git checkout)",
            "case_extract_night": str(published.publication["case_extract_night"]),
            # Read by the data alerts (automation/alerting.py) after the run.
            "copenhagen_changes": dg.MetadataValue.json(published.changes),
        }
    )
