"""The code location as the Dagster UI shows it: graph, layers, gates, job and schedule."""

import dagster as dg
import pytest

from orchestration.assets.publish import MART_TABLES

RAW = dg.AssetKey(["raw", "barometer_indicator_values"])
CURRENT_LOADS = dg.AssetKey(["raw", "barometer_current_loads"])
# The marts a Great Expectations suite gates (the label dimensions are gated by dbt tests).
MARTS = [
    dg.AssetKey(["marts", t])
    for t in [
        "dim_indicator",
        "dim_municipality",
        "fct_indicator_values",
        "fct_national_indicator_values",
        "fct_target_gap",
        "fct_goal_development",
        "fct_peer_group_values",
        "fct_scorecard",
        "fct_case_outcomes",
        "fct_local_vs_national",
    ]
]
CASES_RAW = [dg.AssetKey(["raw", "case_citizens"]), dg.AssetKey(["raw", "case_events"])]


@pytest.fixture(scope="module")
def defs(dbt_manifest):
    from orchestration.definitions import defs

    return defs


def test_asset_graph_runs_raw_to_staging_to_marts_to_serving(defs):
    graph = defs.resolve_asset_graph()
    keys = {key.to_user_string() for key in graph.get_all_asset_keys()}
    assert {
        "raw/barometer_indicator_values",
        "reference/indicators",
        "reference/municipalities",
        "reference/targets",
        "staging/stg_barometer__indicator_values",
        "marts/fct_target_gap",
        "serving",
    } <= keys
    # One staging model per source; the current-load filter is intermediate.
    staging = dg.AssetKey(["staging", "stg_barometer__indicator_values"])
    assert graph.get(staging).parent_keys == {RAW}
    loads = dg.AssetKey(["staging", "stg_barometer__current_loads"])
    assert graph.get(loads).parent_keys == {CURRENT_LOADS}
    current = dg.AssetKey(["intermediate", "int_indicator_values_current"])
    assert graph.get(current).parent_keys == {staging, loads}
    assert current in graph.get(dg.AssetKey(["marts", "fct_indicator_values"])).parent_keys
    assert graph.get(dg.AssetKey("serving")).parent_keys == {
        dg.AssetKey(["marts", table]) for table in MART_TABLES
    }
    groups = {key.to_user_string(): graph.get(key).group_name for key in graph.get_all_asset_keys()}
    assert groups["raw/barometer_indicator_values"] == "extract"
    assert groups["raw/barometer_rejects"] == "quality"
    assert groups["marts/fct_target_gap"] == "transform"
    assert groups["serving"] == "publish"


def test_dbt_is_one_step_between_the_raw_gates_and_the_mart_gates(defs):
    """One dbt build a night: the raw checks gate it, the mart checks gate publishing."""
    graph = defs.resolve_asset_graph()
    node_of = {key: graph.get(key).assets_def.node_def.name for key in graph.get_all_asset_keys()}
    dbt_keys = {key for key, node in node_of.items() if node == "dbt_warehouse"}
    assert dg.AssetKey(["staging", "stg_barometer__indicator_values"]) in dbt_keys
    assert set(MARTS) <= dbt_keys
    assert {key.to_user_string().split("/")[0] for key in dbt_keys} == {
        "reference",
        "staging",
        "intermediate",
        "marts",
    }


def test_great_expectations_gates_the_raw_table_and_every_mart_and_block(defs):
    specs = [
        spec
        for checks in defs.asset_checks
        for spec in checks.check_specs
        if spec.name == "great_expectations"
    ]
    assert {spec.asset_key for spec in specs} == {RAW, *CASES_RAW, *MARTS}
    assert all(spec.blocking for spec in specs)


def test_every_asset_has_an_owner_and_a_description(defs):
    graph = defs.resolve_asset_graph()
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        assert node.owners == ["team:integrationsdata"], key
        assert node.description, key


def test_raw_data_and_the_published_file_report_stale_after_26_hours(defs):
    freshness = {
        spec.asset_key
        for checks in defs.asset_checks
        for spec in checks.check_specs
        if spec.name == "freshness_check"
    }
    assert freshness == {RAW, dg.AssetKey("serving")}
    defs.resolve_sensor_def("freshness_checks_sensor")


def test_nightly_job_runs_in_one_process_at_two_in_copenhagen(defs):
    job = defs.resolve_job_def("nightly_refresh")
    assert job.executor_def.name == "in_process"
    assert job.tags["dagster/max_runtime"] == str(3 * 60 * 60)
    schedule = defs.resolve_schedule_def("nightly_refresh_at_0200")
    assert schedule.cron_schedule == "0 2 * * *"
    assert schedule.execution_timezone == "Europe/Copenhagen"
    assert schedule.default_status == dg.DefaultScheduleStatus.STOPPED
    assert schedule.job_name == "nightly_refresh"
