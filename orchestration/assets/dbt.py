"""Transform: the whole dbt project as one ``@dbt_assets`` step, one ``dbt build`` a night.

The gates need no split by layer: the blocking raw-data checks stand between the extracts and
this step, the mart checks between it and publishing, and inside the step ``dbt build`` skips
every node downstream of a failed dbt test. One build instead of one per layer saves a dbt
process, its parse and its adapter each night (bench/RESULTS.md).
"""

from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, DbtProject, dbt_assets
from dagster_duckdb import DuckDBResource

from orchestration.assets.previews import table_metadata
from orchestration.settings import DBT_PROJECT_DIR

# The manifest is prepared once at set-up (`make` runs `dbt parse`), never per run.
dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)

# Unit tests check the SQL logic, not the night's data: they run in `make test` (as dbt
# recommends, in development and CI), so the nightly build spends its time on data tests.
NIGHTLY_BUILD = ["build", "--exclude-resource-type", "unit_test"]


class WarehouseTranslator(DagsterDbtTranslator):
    """Asset keys mirror the warehouse schemas (``marts/fct_target_gap``)."""

    def get_asset_spec(self, manifest: Mapping[str, Any], unique_id: str, project) -> dg.AssetSpec:
        spec = super().get_asset_spec(manifest, unique_id, project)
        node = manifest["nodes"].get(unique_id) or manifest["sources"].get(unique_id)
        if node is None or node["resource_type"] == "source":
            return spec
        return spec.replace_attributes(
            key=dg.AssetKey([node["schema"], node["name"]]),
            group_name="transform",
            kinds={"dbt", "duckdb"},
        )


@dbt_assets(
    manifest=dbt_project.manifest_path,
    name="dbt_warehouse",
    dagster_dbt_translator=WarehouseTranslator(),
    project=dbt_project,
)
def dbt_warehouse(context: dg.AssetExecutionContext, dbt: DbtCliResource, duckdb: DuckDBResource):
    """Reference seeds, staging views, intermediate models and marts with enforced contracts,
    with their dbt data tests, in one ``dbt build``."""
    yield from build_with_previews(context, dbt, duckdb)


def build_with_previews(context: dg.AssetExecutionContext, dbt: DbtCliResource, duckdb):
    """``dbt build``, then row counts and previews on each materialization.

    The dbt process holds the DuckDB file until it exits, so its events are collected first
    and the tables are read afterwards.
    """
    events = []
    try:
        for event in dbt.cli(NIGHTLY_BUILD, context=context).stream():
            events.append(event)
    except Exception:
        yield from events  # what did build is still recorded
        raise
    with duckdb.get_connection() as con:
        for event in events:
            if isinstance(event, dg.Output):
                key = context.asset_key_for_output(event.output_name)
                event = event.with_metadata({**event.metadata, **table_metadata(con, key)})
            yield event
