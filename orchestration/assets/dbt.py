"""Transform: the whole dbt project as one ``@dbt_assets`` step, one dbt process a night.

The gates need no split by layer: the blocking raw-data checks stand between the extracts and
this step, the mart checks between it and publishing, and inside the step ``dbt build`` skips
every node downstream of a failed dbt test. The step runs dbt through its Python API in one
child process (``orchestration/transform/dbt_process.py``) that also writes the night's dbt
docs: one import, parse and adapter a night (bench/RESULTS.md).
"""

import json
import os
import sys
from collections.abc import Callable, Mapping
from graphlib import TopologicalSorter
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb

# dagster-dbt declares the assets from the manifest alone and works without dbt-core (as for
# dbt Fusion): hidden while it loads, dbt stays out of this process (about 1 s of imports), as
# the night runs dbt in a child process of its own.
_hidden = sys.modules.setdefault("dbt", None) is None
from dagster_dbt import (  # noqa: E402
    DagsterDbtTranslator,
    DagsterDbtTranslatorSettings,
    DbtProject,
    dbt_assets,
)

if _hidden:
    del sys.modules["dbt"]

from orchestration.automation.faults import disk_full_failure, is_disk_full  # noqa: E402
from orchestration.engines import MARTS, engine_for  # noqa: E402
from orchestration.engines.base import Engine  # noqa: E402
from orchestration.engines.duckdb.resource import guarded_connection  # noqa: E402
from orchestration.settings import DBT_PROJECT_DIR, Settings  # noqa: E402
from orchestration.transform.dbt_process import DbtNight, night_inputs, run_dbt_night  # noqa: E402

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
    ):
        super().__init__(settings=DagsterDbtTranslatorSettings(enable_asset_checks=False))
        self.kind = kind
        # A schema dbt builds in under another name (the built marts on PostgreSQL) -> its key.
        self.schemas = dict(schemas or {})

    def get_asset_spec(self, manifest: Mapping[str, Any], unique_id: str, project) -> dg.AssetSpec:
        spec = super().get_asset_spec(manifest, unique_id, project)
        node = manifest["nodes"].get(unique_id) or manifest["sources"].get(unique_id)
        if node is None or node["resource_type"] == "source":
            return spec
        return spec.replace_attributes(
            key=dg.AssetKey([self.schemas.get(node["schema"], node["schema"]), node["name"]]),
            group_name="transform",
            kinds={"dbt", self.kind},
        )


TRANSLATOR = WarehouseTranslator()


def dbt_night(engine_name: str, built_marts_schema: str) -> dg.AssetsDefinition:
    """The dbt step of the engine named: the same assets on every engine, of its kind."""
    translator = WarehouseTranslator(engine_name, {built_marts_schema: MARTS})

    @dbt_assets(
        manifest=dbt_project.manifest_path,
        name="dbt_warehouse",
        dagster_dbt_translator=translator,
        project=dbt_project,
        required_resource_keys={"settings", "engine"},
    )
    def dbt_warehouse(context: dg.AssetExecutionContext):
        """Reference seeds, staging views, intermediate models and marts with enforced
        contracts, with their dbt data tests, in one ``dbt build`` of what changed since the last
        night; then the catalogue of dbt's docs."""
        settings: Settings = context.resources.settings
        engine: Engine = context.resources.engine
        engine.before_dbt(settings, context.log)
        night, manifest = run_nightly_dbt(context, engine.dbt_environment(), changed_only=True)
        engine.after_dbt(settings)
        with engine.describer() as describe:
            yield from night_outputs(context, night, manifest, translator, describe)

    return dbt_warehouse


def run_nightly_dbt(
    context: dg.AssetExecutionContext,
    env: Mapping[str, str] | None = None,
    changed_only: bool = False,
) -> tuple[DbtNight, dict]:
    """The night's dbt process (the nodes picked in the UI, or all), with ``env`` on top of the
    settings' variables; its results and the manifest it built. ``changed_only``: a whole night
    builds only what changed since the last one, and starts no dbt process when nothing did
    (transform/dbt_process.py)."""
    settings: Settings = context.resources.settings
    whole_night = changed_only and not context.is_subset
    night = run_dbt_night(
        [*NIGHTLY_BUILD, *subset_selection(context)],
        DBT_PROJECT_DIR,
        settings.dbt_target_dir,
        {**os.environ, **settings.subprocess_env(), **(env or {})},
        docs=True,
        state_dir=settings.dbt_state_dir if whole_night else None,
        on_line=lambda line: settings.kill_point("dbt") if " OK created " in line else None,
        inputs=_night_inputs(settings) if whole_night else None,
    )
    if night.skipped:
        context.log.info(f"dbt did not run: {NOTHING_NEW}")
    elif night.changed_only:
        context.log.info(
            f"dbt built what changed since the last night: {len(night.results)} nodes; "
            "the others are as that night left them"
        )
    elif night.whole_build_reason:
        context.log.info(f"dbt built the whole project: {night.whole_build_reason}")
    full = [line for line in night.output_tail.splitlines() if is_disk_full(line)]
    if not night.built and full:
        # dbt's own words are in its log above; the night's are the fault table's.
        place = engine_for(settings).published_place()
        raise disk_full_failure(settings.warehouse_dir, full[-1], place)
    return night, json.loads((settings.dbt_target_dir / "manifest.json").read_text())


NOTHING_NEW = (
    "no source has new or fewer rows, and the project's files and variables are as at the last "
    "night's build, whose models and dbt tests stand"
)


def _night_inputs(settings: Settings) -> dict | None:
    """What tonight's build would read (transform/dbt_process.py), from the raw store; None
    when it cannot say (a source table not yet created): then dbt decides, as without."""
    manifest = json.loads(dbt_project.manifest_path.read_text())
    config = {"memory_limit": settings.duckdb_memory_limit}
    try:
        with guarded_connection(Path(settings.warehouse_path), config) as con:
            return night_inputs(DBT_PROJECT_DIR, manifest, con)
    except duckdb.CatalogException:
        return None


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
    dbt tests; after a build of what changed, one per node left as it was that a later step of
    the run reads (the marts: their gates, publishing), marked so and not described again, as
    its last materialization still describes it; then the step's failure if the build failed
    (what did build is still recorded). In the graph's order, as Dagster wants a step's outputs."""
    tests = tests_by_model(night, manifest)
    results = {result.unique_id: result for result in night.results}
    read_later = _read_after_this_step(context)
    for unique_id in graph_order(manifest):
        result = results.get(unique_id)
        key = translator.get_asset_spec(manifest, unique_id, dbt_project).key
        if result is not None and result.status == "success":
            metadata = {
                "unique_id": unique_id,
                "execution_duration": round(result.seconds, 3),
                **describe(key),
                "dbt_rebuilt": True,
            }
            model_tests = tests.get(unique_id, [])
            if model_tests:
                metadata["dbt_tests_passed"] = sum(s == "pass" for _, s in model_tests)
                metadata["dbt_tests"] = dg.MetadataValue.md(
                    "| dbt test | result |\n|---|---|\n"
                    + "\n".join(f"| {name} | {status} |" for name, status in model_tests)
                )
        elif result is None and night.built and night.changed_only and key in read_later:
            # Its sources have no newer rows and its code is as at the last build, so it is
            # current as it is: Dagster's memoization, what would be rebuilt the same is not.
            # Its output still lets the gates and publishing downstream of it run.
            metadata = {
                "unique_id": unique_id,
                "dbt_rebuilt": False,
                "dbt_note": (f"dbt did not run tonight: {NOTHING_NEW}." if night.skipped else
                             "Not rebuilt tonight: no newer rows in its sources and no change to "
                             "its code since the last night, whose dbt tests it passed."),
            }  # fmt: skip
        else:
            continue
        yield dg.Output(
            None,
            output_name=context.assets_def.get_output_name_for_asset_key(key),
            metadata=metadata,
        )
    if not night.built:
        raise dg.Failure(description=failure_text(night, manifest))


def _read_after_this_step(context: dg.AssetExecutionContext) -> set[dg.AssetKey]:
    """This step's assets that a later step of the run reads: an asset or check of its own.
    Dagster skips such a step when an output it reads is not yielded."""
    graph = context.job_def.asset_layer.asset_graph
    own = set(context.assets_def.keys)
    return {
        key
        for key in context.selected_asset_keys
        if graph.get(key).child_keys - own or graph.get(key).check_keys
    }


def graph_order(manifest: Mapping[str, Any]) -> list[str]:
    """The seeds, snapshots and models of the manifest, each after the ones it depends on."""
    nodes = manifest["nodes"]
    built = {unique_id for unique_id, node in nodes.items() if node["resource_type"] in BUILT}
    graph = {
        unique_id: [p for p in nodes[unique_id]["depends_on"].get("nodes", []) if p in built]
        for unique_id in built  # a seed depends on nothing: no "nodes" at all
    }
    return list(TopologicalSorter(graph).static_order())


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
