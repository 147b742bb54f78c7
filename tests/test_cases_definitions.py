"""Where the case data sits in the asset graph: extract, gates, dbt layers, publish."""

import dagster as dg
import pytest

RAW = {"case_citizens", "case_events"}


@pytest.fixture(scope="module")
def graph(dbt_manifest):
    from orchestration.definitions import defs

    return defs.resolve_asset_graph(), defs


def key(*parts: str) -> dg.AssetKey:
    return dg.AssetKey(list(parts))


def test_case_extracts_feed_staging_and_the_marts_feed_serving(graph):
    graph, _ = graph
    assert {graph.get(key("raw", name)).group_name for name in RAW} == {"extract"}
    assert graph.get(key("staging", "stg_cases__events")).parent_keys == {key("raw", "case_events")}
    assert graph.get(key("staging", "stg_cases__citizens")).parent_keys == {
        key("raw", "case_citizens")
    }
    assert graph.get(key("marts", "fct_case_outcomes")).parent_keys == {
        key("intermediate", "int_case_outcomes_suppressed")
    }
    serving = graph.get(dg.AssetKey("serving")).parent_keys
    assert {key("marts", "fct_case_outcomes"), key("marts", "fct_local_vs_national")} <= serving


def test_the_case_models_run_in_the_one_dbt_step(graph):
    graph, _ = graph
    node = {k: graph.get(k).assets_def.node_def.name for k in graph.get_all_asset_keys()}
    assert node[key("staging", "stg_cases__events")] == "dbt_warehouse"
    for name in [
        "int_citizens_current",
        "int_case_events_resolved",
        "int_citizen_milestones",
        "int_case_outcomes_suppressed",
    ]:
        assert node[key("intermediate", name)] == "dbt_warehouse"
    assert node[key("marts", "fct_local_vs_national")] == "dbt_warehouse"
    assert node[key("raw", "case_events")] == node[key("raw", "case_citizens")] == "case_extracts"


def test_the_raw_case_tables_and_case_marts_are_gated_and_block(graph):
    _, defs = graph
    specs = {
        spec.asset_key: spec
        for checks in defs.asset_checks
        for spec in checks.check_specs
        if spec.name == "great_expectations"
    }
    gated = [key("raw", name) for name in RAW] + [
        key("marts", "fct_case_outcomes"),
        key("marts", "fct_local_vs_national"),
    ]
    assert all(specs[k].blocking for k in gated)
