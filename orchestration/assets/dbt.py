"""Transform: the whole dbt project as one ``@dbt_assets`` step, one dbt process a night.

The gates need no split by layer: the blocking raw-data checks stand between the extracts and
this step, the mart checks between it and publishing, and inside the step ``dbt build`` skips
every node downstream of a failed dbt test. The step runs dbt through its Python API in one
child process (``orchestration/dbt_process.py``) that also writes the night's dbt docs: one
import, parse and adapter a night (bench/RESULTS.md).
"""

import json
import os
from collections.abc import Callable, Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtProject, dbt_assets
from dagster_duckdb import DuckDBResource

from orchestration.assets.previews import table_metadata
from orchestration.dbt_process import DbtNight, run_dbt_night
from orchestration.settings import DBT_PROJECT_DIR, Settings

# The manifest is prepared once at set-up (`make` runs `dbt parse`), never per run.
dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)

# Unit tests check the SQL logic, not the night's data: they run in `make test` (as dbt
# recommends, in development and CI), so the nightly build spends its time on data tests.
NIGHTLY_BUILD = ["build", "--exclude-resource-type", "unit_test"]
BUILT = {"model", "seed", "snapshot"}


class WarehouseTranslator(DagsterDbtTranslator):
    """Asset keys mirror the warehouse schemas (``marts/fct_target_gap``).

    dbt's data tests are not loaded as one Dagster asset check each: a night wrote two events per
    test (planned and evaluated), over 400 in all. ``dbt build`` still runs every test, a failed
    one still fails the step and the run (and so alerts), and each materialization carries its
    model's tests and their outcome as metadata (``dbt_tests``): fewer, richer events.
    """

    def __init__(
        self,
        kind: str = "duckdb",
        schemas: Mapping[str, str] | None = None,
        source_prefix: str | None = None,
    ):
        super().__init__(settings=DagsterDbtTranslatorSettings(enable_asset_checks=False))
        self.kind = kind
        # A schema dbt builds in under another name (the staged marts on PostgreSQL) -> its key.
        self.schemas = dict(schemas or {})
        # Sources read from a copy of the raw tables (on PostgreSQL: postgres/raw/...).
        self.source_prefix = source_prefix

    def get_asset_spec(self, manifest: Mapping[str, Any], unique_id: str, project) -> dg.AssetSpec:
        spec = super().get_asset_spec(manifest, unique_id, project)
        node = manifest["nodes"].get(unique_id) or manifest["sources"].get(unique_id)
        if node is None or node["resource_type"] == "source":
            if self.source_prefix and node is not None:
                return spec.replace_attributes(key=spec.key.with_prefix(self.source_prefix))
            return spec
        return spec.replace_attributes(
            key=dg.AssetKey([self.schemas.get(node["schema"], node["schema"]), node["name"]]),
            group_name="transform",
            kinds={"dbt", self.kind},
        )


TRANSLATOR = WarehouseTranslator()


@dbt_assets(
    manifest=dbt_project.manifest_path,
    name="dbt_warehouse",
    dagster_dbt_translator=TRANSLATOR,
    project=dbt_project,
    required_resource_keys={"settings", "duckdb"},
)
def dbt_warehouse(context: dg.AssetExecutionContext):
    """Reference seeds, staging views, intermediate models and marts with enforced contracts,
    with their dbt data tests, in one ``dbt build``; then the catalogue of dbt's docs."""
    night, manifest = run_nightly_dbt(context)
    duckdb: DuckDBResource = context.resources.duckdb
    with duckdb.get_connection() as con:  # only once dbt's process has let go of the file
        yield from night_outputs(
            context, night, manifest, TRANSLATOR, lambda key: table_metadata(con, key)
        )


def run_nightly_dbt(
    context: dg.AssetExecutionContext, env: Mapping[str, str] | None = None
) -> tuple[DbtNight, dict]:
    """The night's dbt process (the nodes picked in the UI, or all), with ``env`` on top of the
    settings' variables; its results and the manifest it built."""
    settings: Settings = context.resources.settings
    night = run_dbt_night(
        [*NIGHTLY_BUILD, *subset_selection(context)],
        DBT_PROJECT_DIR,
        settings.dbt_target_dir,
        {**os.environ, **settings.subprocess_env(), **(env or {})},
        docs=True,
    )
    return night, json.loads((settings.dbt_target_dir / "manifest.json").read_text())


def subset_selection(context: dg.AssetExecutionContext) -> list[str]:
    """``--select`` for the models picked in the UI; nothing when the whole project runs."""
    if not context.is_subset:
        return []
    manifest = json.loads(dbt_project.manifest_path.read_text())
    keys = context.selected_asset_keys
    names = [
        ".".join(node["fqn"])
        for unique_id, node in manifest["nodes"].items()
        if node["resource_type"] in BUILT
        and TRANSLATOR.get_asset_spec(manifest, unique_id, dbt_project).key in keys
    ]
    return ["--select", " ".join(sorted(names))]


def night_outputs(
    context: dg.AssetExecutionContext,
    night: DbtNight,
    manifest: Mapping[str, Any],
    translator: WarehouseTranslator,
    describe: Callable[[dg.AssetKey], dict],
):
    """One output per node dbt built, with ``describe``'s metadata (row count, preview) and its
    dbt tests; then the step's failure if the build failed (what did build is still recorded)."""
    tests = tests_by_model(night, manifest)
    for result in night.results:
        node = manifest["nodes"].get(result.unique_id)
        if node is None or node["resource_type"] not in BUILT or result.status != "success":
            continue
        key = translator.get_asset_spec(manifest, result.unique_id, dbt_project).key
        metadata = {
            "unique_id": result.unique_id,
            "execution_duration": round(result.seconds, 3),
            **describe(key),
        }
        model_tests = tests.get(result.unique_id, [])
        if model_tests:
            metadata["dbt_tests_passed"] = sum(s == "pass" for _, s in model_tests)
            metadata["dbt_tests"] = dg.MetadataValue.md(
                "| dbt test | result |\n|---|---|\n"
                + "\n".join(f"| {name} | {status} |" for name, status in model_tests)
            )
        yield dg.Output(
            None,
            output_name=context.assets_def.get_output_name_for_asset_key(key),
            metadata=metadata,
        )
    if not night.built:
        raise dg.Failure(description=failure_text(night, manifest))


def tests_by_model(night: DbtNight, manifest: Mapping[str, Any]) -> dict:
    """The dbt tests of the night per model unique_id: (test name, status), by name."""
    tests: dict[str, list[tuple[str, str]]] = {}
    for result in night.results:
        node = manifest["nodes"].get(result.unique_id, {})
        if node.get("resource_type") != "test":
            continue
        model = node.get("attached_node") or node["depends_on"]["nodes"][-1]
        tests.setdefault(model, []).append((node["name"], result.status))
    return {model: sorted(found) for model, found in tests.items()}


def failure_text(night: DbtNight, manifest: Mapping[str, Any]) -> str:
    """Which nodes failed and why, in dbt's words; dbt's last lines when it stopped early."""
    failures = night.failures()
    if not failures:
        return f"dbt stopped (exit {night.returncode}):\n{night.output_tail}"
    lines = [f"dbt build failed: {len(failures)} node(s) failed"]
    for result in failures:
        node = manifest["nodes"].get(result.unique_id, {})
        lines.append(f"- {node.get('resource_type', '')} {node.get('name', result.unique_id)}"
                     f" ({result.status}): {(result.message or '').strip()}")  # fmt: skip
    skipped = sum(result.status == "skipped" for result in night.results)
    if skipped:
        lines.append(f"{skipped} node(s) downstream of a failure were skipped.")
    return "\n".join(lines)
