"""Transform: the whole dbt project as one ``@dbt_assets`` step, one ``dbt build`` a night.

The gates need no split by layer: the blocking raw-data checks stand between the extracts and
this step, the mart checks between it and publishing, and inside the step ``dbt build`` skips
every node downstream of a failed dbt test. One build instead of one per layer saves a dbt
process, its parse and its adapter each night (bench/RESULTS.md).
"""

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import (
    DagsterDbtTranslator,
    DagsterDbtTranslatorSettings,
    DbtCliResource,
    DbtProject,
    dbt_assets,
)
from dagster_duckdb import DuckDBResource

from orchestration.assets.previews import table_metadata
from orchestration.settings import DBT_PROJECT_DIR, Settings

# The manifest is prepared once at set-up (`make` runs `dbt parse`), never per run.
dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)

# Unit tests check the SQL logic, not the night's data: they run in `make test` (as dbt
# recommends, in development and CI), so the nightly build spends its time on data tests.
NIGHTLY_BUILD = ["build", "--exclude-resource-type", "unit_test"]


class WarehouseTranslator(DagsterDbtTranslator):
    """Asset keys mirror the warehouse schemas (``marts/fct_target_gap``).

    dbt's data tests are not loaded as one Dagster asset check each: a night wrote two events per
    test (planned and evaluated), over 400 in all. ``dbt build`` still runs every test, a failed
    one still fails the step and the run (and so alerts), and each materialization carries its
    model's tests and their outcome as metadata (``dbt_tests``): fewer, richer events.
    """

    def __init__(self):
        super().__init__(settings=DagsterDbtTranslatorSettings(enable_asset_checks=False))

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
    required_resource_keys={"settings", "dbt", "duckdb"},
)
def dbt_warehouse(context: dg.AssetExecutionContext):
    """Reference seeds, staging views, intermediate models and marts with enforced contracts,
    with their dbt data tests, in one ``dbt build``."""
    settings: Settings = context.resources.settings
    yield from build_with_previews(
        context, context.resources.dbt, context.resources.duckdb, settings.dbt_target_dir
    )


def build_with_previews(
    context: dg.AssetExecutionContext,
    dbt: DbtCliResource,
    duckdb: DuckDBResource,
    target_path: Path,
):
    """``dbt build``, then row counts, previews and the model's dbt tests on each
    materialization.

    The dbt process holds the DuckDB file until it exits, so its events are collected first
    and the tables are read afterwards.
    """
    events = []
    invocation = dbt.cli(NIGHTLY_BUILD, context=context, target_path=target_path)
    try:
        for event in invocation.stream():
            events.append(event)
    except Exception:
        yield from events  # what did build is still recorded
        raise
    tests = tests_by_model(invocation.get_artifact("run_results.json"), invocation.manifest)
    with duckdb.get_connection() as con:
        for event in events:
            if isinstance(event, dg.AssetObservation):
                continue  # a dbt test's result: summarised on its model's materialization
            if isinstance(event, dg.Output):
                key = context.asset_key_for_output(event.output_name)
                metadata = {**event.metadata, **table_metadata(con, key)}
                model_tests = tests.get(event.metadata["unique_id"].value, [])
                if model_tests:
                    metadata["dbt_tests_passed"] = sum(s == "pass" for _, s in model_tests)
                    metadata["dbt_tests"] = dg.MetadataValue.md(
                        "| dbt test | result |\n|---|---|\n"
                        + "\n".join(f"| {name} | {status} |" for name, status in model_tests)
                    )
                event = event.with_metadata(metadata)
            yield event


def tests_by_model(run_results: Mapping[str, Any], manifest: Mapping[str, Any]) -> dict:
    """The dbt tests of the night per model unique_id: (test name, status), by name."""
    tests: dict[str, list[tuple[str, str]]] = {}
    for result in run_results["results"]:
        node = manifest["nodes"].get(result["unique_id"], {})
        if node.get("resource_type") != "test":
            continue
        model = node.get("attached_node") or node["depends_on"]["nodes"][-1]
        tests.setdefault(model, []).append((node["name"], result["status"]))
    return {model: sorted(found) for model, found in tests.items()}
