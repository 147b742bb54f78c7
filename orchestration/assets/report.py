"""What the analysts open after a night: the report page and dbt's documentation of the marts.

Both are built into tonight's generation after ``serving`` and before ``published`` switches to
it (publish/generation.py), so the pages a reader finds are always of the night whose marts
they see, and a failed night leaves the last good night's pages as they were.
"""

import dagster as dg

from orchestration.automation.faults import disk_faults
from orchestration.engines.base import Engine
from orchestration.publish import generation
from orchestration.publish.publication import published_at
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
        "warehouse/report/index.html: one page that opens offline, built from tonight's marts "
        "only (on PostgreSQL, their copy in server_marts.duckdb) into tonight's generation: the "
        "scorecard, each indicator against the country, the peer group and the target, the goal "
        "verdicts and the case outcomes. Danish, with English. With BAROMETER_REPORT_ALL=true "
        "also warehouse/report/all/: every municipality's page."
    ),
    required_resource_keys={"settings", "engine"},
)
def report(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    settings: Settings = context.resources.settings
    engine: Engine = context.resources.engine
    marts = engine.report_database(settings)
    out_dir = generation.building(settings.warehouse_dir) / "report"
    with disk_faults(settings.warehouse_dir, engine.published_place()):
        result = build_report(marts, settings.report_municipality, out_dir)
        generation.stamp_page(result.path, published_at(marts))
        site = build_site(marts, out_dir / "all") if settings.report_all else None
    settings.kill_point("report")  # tests: the page built, the dbt docs not yet
    context.log.info(f"Report for {result.municipality_name}: {result.path}")
    if site is not None:
        context.log.info(f"Every municipality's page: {site.index}")
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(settings.report_dir / "index.html")),
            # The page as `make dev` serves it: the UI can follow no file:// link.
            "open": dg.MetadataValue.url(settings.page_url(settings.report_dir / "index.html")),
            "municipality": f"{result.municipality_code} {result.municipality_name}",
            "charts": result.charts,
            "size_bytes": result.size_bytes,
            "build_seconds": round(result.seconds, 2),
            **(
                {
                    "all_municipalities": dg.MetadataValue.path(str(settings.report_all_dir)),
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
        "opens offline, built into tonight's generation."
    ),
    required_resource_keys={"settings", "engine"},
)
def dbt_docs(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    settings: Settings = context.resources.settings
    engine: Engine = context.resources.engine
    out_dir = generation.building(settings.warehouse_dir) / "docs" / "dbt"
    with disk_faults(settings.warehouse_dir, engine.published_place()):
        try:
            page = publish_dbt_docs(settings.dbt_target_dir, out_dir)
        except DbtDocsError as error:
            raise dg.Failure(str(error)) from error
        generation.stamp_page(page, published_at(engine.report_database(settings)))
    published_page = settings.dbt_docs_dir / "index.html"
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(published_page)),
            "open": dg.MetadataValue.url(settings.page_url(published_page)),
            "size_bytes": page.stat().st_size,
        }
    )
