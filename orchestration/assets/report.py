"""What the analysts open after a night: the report page and dbt's documentation of the marts.

Both come after ``serving``, so a failed night (nothing published) rebuilds neither and the
pages of the last good night stay as they were.
"""

import dagster as dg

from orchestration.privacy import open_to_readers
from orchestration.reporting import build_report
from orchestration.reporting.build import build_site
from orchestration.reporting.dbt_docs import DbtDocsError, publish_dbt_docs
from orchestration.settings import Settings


@dg.asset(
    key="report",
    deps=["serving"],
    group_name="publish",
    kinds={"html", "svg"},
    description=(
        "warehouse/report/index.html: one self-contained page (opens offline) built from the "
        "published marts only (on PostgreSQL, their copy in server_marts.duckdb): the "
        "scorecard, each indicator against the country, the peer group and the target, the goal "
        "verdicts and the case outcomes. Danish, with English. With BAROMETER_REPORT_ALL=true "
        "also warehouse/report/all/: every municipality's page."
    ),
    required_resource_keys={"settings", "engine"},
)
def report(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    settings: Settings = context.resources.settings
    published = context.resources.engine.report_database(settings)
    result = build_report(published, settings.report_municipality, settings.report_dir)
    open_to_readers(settings.warehouse_dir, settings.reader_group, [settings.report_dir])
    context.log.info(f"Report for {result.municipality_name}: {result.path}")
    site = build_site(published, settings.report_all_dir) if settings.report_all else None
    if site is not None:
        context.log.info(f"Every municipality's page: {site.index}")
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(result.path)),
            # The page as `make dev` serves it: the UI can follow no file:// link.
            "open": dg.MetadataValue.url(settings.page_url(result.path)),
            "municipality": f"{result.municipality_code} {result.municipality_name}",
            "charts": result.charts,
            "size_bytes": result.size_bytes,
            "build_seconds": round(result.seconds, 2),
            **(
                {
                    "all_municipalities": dg.MetadataValue.path(str(site.index)),
                    "all_pages": site.pages,
                    "all_seconds": round(site.seconds, 1),
                }
                if site is not None
                else {}
            ),
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
    # The whole docs/ folder: dbt's page and the quality gates' Data Docs.
    open_to_readers(settings.warehouse_dir, settings.reader_group, [settings.dbt_docs_dir.parent])
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(page)),
            "open": dg.MetadataValue.url(settings.page_url(page)),
            "size_bytes": page.stat().st_size,
        }
    )
