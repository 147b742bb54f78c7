"""What the analysts open after a night: the report page and dbt's documentation of the marts.

Both come after ``serving``, so a failed night (nothing published) rebuilds neither and the
pages of the last good night stay as they were.
"""

import dagster as dg

from orchestration.reporting import build_report
from orchestration.reporting.dbt_docs import DbtDocsError, publish_dbt_docs
from orchestration.settings import Settings


@dg.asset(
    key="report",
    deps=["serving"],
    group_name="publish",
    kinds={"html", "plotly"},
    description=(
        "warehouse/report/index.html: one self-contained page (opens offline) built from the "
        "published marts only (on PostgreSQL, their copy in server_marts.duckdb): the "
        "scorecard, each indicator against the country, the "
        "peer group and the target, the goal verdicts and the case outcomes. Danish, with English."
    ),
    required_resource_keys={"settings", "engine"},
)
def report(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    settings: Settings = context.resources.settings
    published = context.resources.engine.report_database(settings)
    result = build_report(published, settings.report_municipality, settings.report_dir)
    context.log.info(f"Report for {result.municipality_name}: {result.path}")
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(result.path)),
            "open": dg.MetadataValue.url(result.path.as_uri()),
            "municipality": f"{result.municipality_code} {result.municipality_name}",
            "charts": result.charts,
            "size_bytes": result.size_bytes,
            "build_seconds": round(result.seconds, 2),
        }
    )


@dg.asset(
    key=["docs", "dbt"],
    deps=["serving"],
    group_name="publish",
    kinds={"dbt", "html"},
    description=(
        "warehouse/docs/dbt/index.html: `dbt docs generate --static` (run by the night's dbt "
        "process), every model and column with its description and lineage, in one page that "
        "opens offline."
    ),
    required_resource_keys={"settings"},
)
def dbt_docs(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    settings: Settings = context.resources.settings
    try:
        page = publish_dbt_docs(settings.dbt_target_dir, settings.dbt_docs_dir)
    except DbtDocsError as error:
        raise dg.Failure(str(error)) from error
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(page)),
            "open": dg.MetadataValue.url(page.as_uri()),
            "size_bytes": page.stat().st_size,
        }
    )
