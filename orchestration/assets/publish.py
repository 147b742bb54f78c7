"""Publish: the validated marts become what BI tools read, on the engine of the night."""

import dagster as dg

from orchestration.automation.faults import disk_faults
from orchestration.engines.base import Engine
from orchestration.privacy import open_to_readers
from orchestration.publish import generation
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
    with disk_faults(settings.warehouse_dir, engine.published_place()):
        published = engine.publish(settings, MART_TABLES, context.log)
    settings.kill_point("serving")  # tests: tonight's marts written, the night not yet switched
    for change in published.changes:
        context.log.warning(f"Copenhagen changed: {change}")
    return dg.MaterializeResult(
        metadata={
            **published.metadata,
            **{f"rows/{table}": count for table, count in published.counts.items()},
            "code_commit": published.publication["code_commit"] or "(not a git checkout)",
            "case_extract_night": str(published.publication["case_extract_night"]),
            "published_at": str(published.publication["published_at"]),
            # Read by the data alerts (automation/alerting.py) after the run.
            "copenhagen_changes": dg.MetadataValue.json(published.changes),
        }
    )


@dg.asset(
    key="published",
    deps=["serving", "report", dg.AssetKey(["docs", "dbt"])],
    group_name="publish",
    kinds={"html"},
    description=(
        "warehouse/published/current: one atomic switch to tonight's generation, so that what "
        "readers open (serving.duckdb, parquet/ on DuckDB; report/ and docs/dbt/ on both engines: "
        "fixed links into it) changes together, all from this night. The previous generation is "
        "kept for readers holding it open."
    ),
    required_resource_keys={"settings", "engine"},
)
def published(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    settings: Settings = context.resources.settings
    engine: Engine = context.resources.engine
    try:
        settings.kill_point("publish:before_swap")
        with disk_faults(settings.warehouse_dir, engine.published_place()):
            pending = generation.pending(settings.warehouse_dir)
            if pending is not None:  # readable by the reader group before anyone can see it
                open_to_readers(settings.warehouse_dir, settings.reader_group, [pending])
            folder, removed = generation.publish(
                settings.warehouse_dir,
                engine.generation_paths,
                lambda: settings.kill_point("publish:after_swap"),
            )
            open_to_readers(settings.warehouse_dir, settings.reader_group)
    except generation.GenerationError as error:
        raise dg.Failure(str(error), allow_retries=False) from None
    context.log.info(f"Published the night {folder.name}: {engine.published_place()} and pages")
    for path in removed:
        context.log.info(f"Removed the generation {path}")
    return dg.MaterializeResult(
        metadata={
            "generation": dg.MetadataValue.path(str(folder)),
            "report": dg.MetadataValue.path(str(settings.report_dir / "index.html")),
        }
    )
