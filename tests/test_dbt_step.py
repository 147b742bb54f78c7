"""The dbt step as the night runs it: one dbt process for the build and the docs, a failed dbt
test that fails the step by name, a subset picked in the UI that builds only itself, and a
stopped run that stops dbt."""

import hashlib
import json
import os
import shutil
import signal
import time

import dagster as dg
import duckdb
import pytest

from orchestration.assets.dbt import NIGHTLY_BUILD
from orchestration.definitions import build_definitions
from orchestration.engines import engine_for
from orchestration.reporting.dbt_docs import DbtDocsError, publish_dbt_docs
from orchestration.settings import DBT_PROJECT_DIR
from orchestration.transform.dbt_process import (
    DOCS_PAGE,
    REBUILD_FILE,
    STOP_SECONDS,
    night_inputs,
    nothing_new,
    run_dbt_night,
)

STAGED = dg.AssetKey(["staging", "stg_barometer__indicator_values"])
MUNICIPALITIES = dg.AssetKey(["staging", "stg_reference__municipalities"])
TARGET_GAP = dg.AssetKey(["marts", "fct_target_gap"])


def sha256(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def dbt_keys(defs: dg.Definitions) -> list[dg.AssetKey]:
    return list(defs.get_assets_def(STAGED).keys)


def run_assets(settings, keys: list[dg.AssetKey]) -> dg.ExecuteInProcessResult:
    defs = build_definitions(settings)
    job = defs.resolve_job_def("nightly_refresh")
    return job.execute_in_process(asset_selection=keys, raise_on_error=False)


def test_a_failed_dbt_test_fails_the_step_by_name_and_keeps_what_built(published_copy):
    # A value the raw gate would stop, loaded past it: only dbt's own test stands in the way.
    with duckdb.connect(str(published_copy.warehouse_path)) as con:
        con.execute(
            "update raw.barometer_indicator_values set population_group = 'martian', "
            "loaded_at = (select max(loaded_at) from raw.barometer_indicator_values) "
            "+ interval 1 second "
            "where rowid = (select min(rowid) from raw.barometer_indicator_values)"
        )
    serving_before = sha256(published_copy.serving_path)

    result = run_assets(published_copy, dbt_keys(build_definitions(published_copy)))

    assert not result.success
    (failure,) = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    assert failure.step_key == "dbt_warehouse"
    description = failure.step_failure_data.user_failure_data.description
    assert "accepted_values_stg_barometer__indicator_values_population_group" in description
    assert "Got 1 result" in description
    assert "downstream of a failure were skipped" in description
    built = {m.asset_key for m in result.asset_materializations_for_node("dbt_warehouse")}
    assert STAGED in built  # the test runs after its model
    assert TARGET_GAP not in built  # dbt build skipped what depends on the failed test
    assert sha256(published_copy.serving_path) == serving_before


def files_parsed(settings) -> int:
    """How many of the project's files dbt parsed again in the last night of ``settings``."""
    perf = json.loads((settings.dbt_target_dir / "perf_info.json").read_text())
    return perf["parsed_path_count"]


def test_a_model_picked_alone_builds_alone_from_the_kept_parse(published, published_copy):
    # A new warehouse's first night started from `barometer prepare`'s parse.
    assert files_parsed(published) == 0

    result = run_assets(published_copy, [MUNICIPALITIES])

    assert result.success
    assert files_parsed(published_copy) == 0  # a copy elsewhere keeps its parse
    (materialization,) = result.asset_materializations_for_node("dbt_warehouse")
    assert materialization.asset_key == MUNICIPALITIES
    assert materialization.metadata["dagster/row_count"].value > 90
    assert materialization.metadata["dbt_tests_passed"].value >= 1


def test_the_night_writes_the_docs_page_that_publish_copies(published, tmp_path):
    page = publish_dbt_docs(published.dbt_target_dir, tmp_path / "docs")

    assert page.read_bytes() == (published.dbt_target_dir / "static_index.html").read_bytes()
    assert "fct_target_gap" in page.read_text(encoding="utf-8")


def test_no_docs_page_is_named_not_copied(tmp_path):
    with pytest.raises(DbtDocsError, match="no dbt docs page in .*dbt docs generate` failed"):
        publish_dbt_docs(tmp_path / "dbt_target", tmp_path / "docs")
    assert not (tmp_path / "docs" / "index.html").exists()


class _StoppedAfterFirstLine:
    """dbt's console, as the run is stopped while dbt is still building."""

    def write(self, line: str) -> None:
        raise KeyboardInterrupt


@pytest.fixture(params=["interactive", "in the background"])
def launched(request):
    """A night started from a terminal, or in the background of a shell (cron, a script's
    ``&``), which starts it with SIGINT ignored: dbt inherits that unless it undoes it."""
    if request.param == "interactive":
        yield
        return
    before = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, before)


def test_a_stopped_run_stops_dbt_and_frees_the_warehouse(published_copy, launched):
    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        run_dbt_night(
            [*NIGHTLY_BUILD],
            DBT_PROJECT_DIR,
            published_copy.dbt_target_dir,
            {**os.environ, **published_copy.subprocess_env()},
            docs=True,
            echo=_StoppedAfterFirstLine(),
        )
    assert time.monotonic() - started < STOP_SECONDS
    assert not (published_copy.dbt_target_dir / DOCS_PAGE).exists()  # dbt did not go on

    with duckdb.connect(str(published_copy.warehouse_path)) as con:  # no dbt holds it
        assert con.execute("select count(*) from marts.fct_target_gap").fetchone()[0] > 0


def test_a_night_with_nothing_new_starts_no_dbt_and_anything_new_does(published, tmp_path):
    """The night's own process decides that dbt would select nothing only when the project,
    the variables and every source's rows are as the recorded build found them, no erasure
    asked for a rebuild, and that build's manifest and docs are still there."""
    engine = engine_for(published)
    env = {**os.environ, **published.subprocess_env(), **engine.dbt_environment()}
    manifest = json.loads((DBT_PROJECT_DIR / "target" / "manifest.json").read_text())
    with duckdb.connect(str(published.warehouse_path), read_only=True) as con:
        inputs = night_inputs(DBT_PROJECT_DIR, manifest, con)
    state, target = tmp_path / "state", tmp_path / "target"
    shutil.copytree(published.dbt_state_dir, state)
    shutil.copytree(published.dbt_target_dir, target)
    assert nothing_new(state, target, inputs, env, docs=True)
    # The warehouse's identity is recorded: another file is never taken for this one.
    assert not nothing_new(state, target, inputs, {**env, "BAROMETER_WAREHOUSE_ID": "x"}, True)
    assert not nothing_new(state, target, inputs, {**env, "BAROMETER_MIN_CELL": "99"}, True)
    source = next(iter(inputs["sources"]))
    newer = {**inputs, "sources": {**inputs["sources"], source: ["2999-01-01 00:00:00", 1]}}
    assert not nothing_new(state, target, newer, env, docs=True)
    assert not nothing_new(state, target, {**inputs, "project": "changed"}, env, docs=True)
    (state / REBUILD_FILE).write_text("int_citizen_milestones\n")  # an erasure's request
    assert not nothing_new(state, target, inputs, env, docs=True)
    (state / REBUILD_FILE).unlink()
    (target / DOCS_PAGE).unlink()  # the steps after would find no docs page
    assert not nothing_new(state, target, inputs, env, docs=True)
    assert nothing_new(state, target, inputs, env, docs=False)


def test_the_night_inputs_change_with_the_project_files_and_the_source_rows(tmp_path):
    project = tmp_path / "dbt_project"
    shutil.copytree(DBT_PROJECT_DIR, project, ignore=shutil.ignore_patterns("target", "logs"))
    shutil.copytree(
        DBT_PROJECT_DIR.parent / "seeds" / "reference", tmp_path / "seeds" / "reference"
    )
    source = {"schema": "raw", "identifier": "case_events", "loaded_at_field": "loaded_at"}
    manifest = {"sources": {"source.barometer_warehouse.cases.events": source}}
    with duckdb.connect() as con:
        con.execute("create schema raw")
        con.execute("create table raw.case_events (loaded_at timestamp)")
        con.execute("insert into raw.case_events values ('2025-01-06 02:00')")
        first = night_inputs(project, manifest, con)
        assert night_inputs(project, manifest, con) == first
        con.execute("insert into raw.case_events values ('2025-01-06 02:00')")  # same time
        more_rows = night_inputs(project, manifest, con)
        assert more_rows["sources"] != first["sources"]
        con.execute("insert into raw.case_events values ('2025-01-07 02:00')")
        newer = night_inputs(project, manifest, con)
        assert newer["sources"] != more_rows["sources"]
        assert newer["project"] == first["project"]
        seed = next((tmp_path / "seeds" / "reference").glob("*.csv"))
        seed.write_text(seed.read_text() + "\n")
        edited_seed = night_inputs(project, manifest, con)["project"]
        assert edited_seed != first["project"]
        model = next((project / "models").rglob("*.sql"))
        model.write_text(model.read_text() + "\n-- edited\n")
        assert night_inputs(project, manifest, con)["project"] != edited_seed
