"""What the analysts open after a night: the report page and dbt's documentation of the marts.

Both are built into tonight's generation after ``serving`` and before ``published`` switches to
it (publish/generation.py), so the pages a reader finds are always of the night whose
serving.duckdb they see, and a failed night leaves the last good night's pages as they were.
"""

import dagster as dg

from orchestration.automation.faults import disk_faults
from orchestration.engines import published_place
from orchestration.publish import generation
from orchestration.publish.publication import published_at
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
        "published serving.duckdb only: the scorecard, each indicator against the country, the "
        "peer group and the target, the goal verdicts and the case outcomes. Danish, with English."
    ),
    required_resource_keys={"settings"},
)
def report(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    settings: Settings = context.resources.settings
    # From tonight's serving file, into tonight's generation (published/generation.py).
    into = generation.building(settings.warehouse_dir)
    serving = into / settings.serving_path.name
    out_dir = into / settings.report_dir.relative_to(settings.warehouse_dir)
    with disk_faults(settings.warehouse_dir, published_place(settings.engine)):
        result = build_report(serving, settings.report_municipality, out_dir)
        generation.stamp_page(result.path, published_at(serving))
    settings.kill_point("report")  # tests: the page built, the dbt docs not yet
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
    into = generation.building(settings.warehouse_dir)
    out_dir = into / settings.dbt_docs_dir.relative_to(settings.warehouse_dir)
    with disk_faults(settings.warehouse_dir, published_place(settings.engine)):
        try:
            page = publish_dbt_docs(settings.dbt_target_dir, out_dir)
        except DbtDocsError as error:
            raise dg.Failure(str(error)) from error
        if settings.engine == "duckdb":  # on PostgreSQL the page goes straight to docs/dbt
            generation.stamp_page(page, published_at(into / settings.serving_path.name))
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(page)),
            "open": dg.MetadataValue.url(page.as_uri()),
            "size_bytes": page.stat().st_size,
        }
    )
