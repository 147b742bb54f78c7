"""Every output of the DuckDB night, asserted for the night on a PostgreSQL server too: the
comments a BI tool reads, the report page, the data-change alerts, dbt's docs, the publication's
JSON, and a night with nothing new that rebuilds nothing.

The DuckDB night is ``published``; the server night is ``postgres_night``, run in a copy of that
folder without its outputs, so whatever is found there the server night made.
"""

import dataclasses
import shutil

import dagster as dg
import duckdb
import pytest
from conftest import refresh
from test_case_nights import NEWCOMER, NIGHT, write
from test_cases_end_to_end import SAMPLE_CASES

from orchestration.assets.publish import MART_TABLES
from orchestration.automation.alerting import alerts_for_run
from orchestration.automation.run import run_nightly_refresh
from orchestration.engines import engine_for
from orchestration.engines.postgres.publish import BUILD
from orchestration.engines.postgres.server import session
from orchestration.reporting import build_report
from orchestration.settings import Settings

PUBLISHED = [*MART_TABLES, "publication"]
NEWCOMER_RECORD = [NEWCOMER, "Ny", "Borger", "1985-05-15", "K", "Syrien", "2011-05-02",
                   "integrationsprogram", ""]  # fmt: skip


def duckdb_comments(path) -> dict:
    """Every published table's comment and its columns' comments, by (table, column)."""
    with duckdb.connect(str(path), read_only=True) as con:
        tables = con.execute(
            "select table_name, null, comment from duckdb_tables() where schema_name = 'marts'"
        ).fetchall()
        columns = con.execute(
            "select table_name, column_name, comment from duckdb_columns() "
            "where schema_name = 'marts'"
        ).fetchall()
    return {(table, column): comment or None for table, column, comment in tables + columns}


def server_comments(dsn: str) -> dict:
    with session(dsn) as con:
        rows = con.execute(
            "select c.relname, null, obj_description(c.oid, 'pg_class') from pg_class as c "
            "join pg_namespace as n on n.oid = c.relnamespace "
            "where n.nspname = 'marts' and c.relkind = 'r' "
            "union all "
            "select c.relname, a.attname, col_description(c.oid, a.attnum) from pg_class as c "
            "join pg_namespace as n on n.oid = c.relnamespace "
            "join pg_attribute as a on a.attrelid = c.oid and a.attnum > 0 "
            "and not a.attisdropped where n.nspname = 'marts' and c.relkind = 'r'"
        ).fetchall()
    return {(table, column): comment for table, column, comment in rows}


def test_every_table_and_column_is_described_on_both(
    published: Settings, postgres_night, postgres_server
):
    on_duckdb, on_server = (
        duckdb_comments(published.serving_path),
        server_comments(postgres_server.dsn),
    )
    assert {table for table, _ in on_server} == set(PUBLISHED)
    assert on_server == on_duckdb
    described = [key for key, comment in on_server.items() if comment]
    assert len(described) == len(on_server) > 200  # every table and column


def test_the_report_page_is_built_from_the_servers_marts(
    published: Settings, postgres_night, tmp_path
):
    page = postgres_night.report_dir / "index.html"
    assert page.exists(), "the server night builds the report page"
    copy = engine_for(postgres_night).report_database(postgres_night)
    pages = [
        build_report(path, "101", tmp_path / name)
        for name, path in [("duckdb", published.serving_path), ("server", copy)]
    ]
    assert pages[0].charts == pages[1].charts > 10
    assert pages[0].municipality_name == pages[1].municipality_name


def test_the_docs_name_the_published_schema(published: Settings, postgres_night):
    page = (postgres_night.dbt_docs_dir / "index.html").read_text(encoding="utf-8")
    assert "marts_staging" not in page and BUILD not in page
    assert "fct_scorecard" in page
    assert (published.dbt_docs_dir / "index.html").exists()


def test_the_publication_json_is_jsonb(postgres_night, postgres_server):
    with session(postgres_server.dsn) as con:
        kinds, newest = con.execute(
            "select array[jsonb_typeof(barometer_data_years), jsonb_typeof(source_files)], "
            "jsonb_array_length(source_files) from marts.publication "
            "order by published_at desc limit 1"
        ).fetchone()
    assert kinds == ["object", "array"] and newest > 0


def server_night(settings: Settings) -> tuple[dg.ExecuteInProcessResult, list]:
    """A night on the server with the alerts it calls for, as `barometer refresh` sends them."""
    with dg.DagsterInstance.ephemeral() as instance:
        result = run_nightly_refresh(settings, instance)
        published = engine_for(settings).published_place()
        return result, alerts_for_run(instance, result.dagster_run, "http://ui", published)


def rebuilt(result) -> list[str]:
    return [
        m.asset_key.to_user_string()
        for m in result.asset_materializations_for_node("dbt_warehouse")
        if m.metadata["dbt_rebuilt"].value
    ]


@pytest.fixture(scope="module")
def nothing_new(postgres_night: Settings):
    """A night with nothing new on the server: the postgres night's folder refreshed again (twice
    if another folder's night built the server's models in between, which means a whole build)."""
    refresh(postgres_night)
    return server_night(postgres_night)


def test_a_night_with_nothing_new_rebuilds_nothing_on_the_server(nothing_new):
    result, alerts = nothing_new
    assert result.success
    assert rebuilt(result) == []
    # dbt did not run; each mart is reported as the last night left it, for the gates and
    # publishing to read.
    models = result.asset_materializations_for_node("dbt_warehouse")
    assert sorted(m.asset_key.path[1] for m in models) == sorted(MART_TABLES)
    assert all("dbt did not run tonight" in m.metadata["dbt_note"].value for m in models)
    [serving] = [
        m for m in result.get_asset_materialization_events() if m.asset_key.path == ["serving"]
    ]
    assert serving.materialization.metadata["copenhagen_changes"].value == []
    assert alerts == []


def test_data_changes_are_found_against_the_previous_publication(
    postgres_night: Settings, postgres_server, nothing_new
):
    """A value of Copenhagen's moved by 50 points in the built marts: the next publication's
    alert names it, compared with the publication before it."""
    moved = (
        "update {schema}.fct_target_gap set value = value {sign} 50 "
        "where municipality_code = '101' and indicator_code = '1.2' "
        "and year = (select max(year) from {schema}.fct_target_gap where indicator_code = '1.2')"
    )
    with session(postgres_server.dsn) as con:
        con.execute(moved.format(schema=BUILD, sign="+"))
    try:
        result, alerts = server_night(postgres_night)
    finally:
        with session(postgres_server.dsn) as con:
            con.execute(moved.format(schema=BUILD, sign="-"))
        refresh(postgres_night)  # publish the night as it was, for the other tests
    assert result.success and rebuilt(result) == []
    [alert] = [a for a in alerts if a.kind == "data_change"]
    assert any(change["indicator_code"] == "1.2" for change in alert.sample)


def test_a_case_night_rebuilds_the_case_models_only_on_the_server(
    postgres_night_copy: Settings, postgres_server, monkeypatch, tmp_path
):
    """A new case extract: the same state selection as on DuckDB rebuilds what the cases feed,
    and the barometer's models stay as the last night left them. In a database of its own, so
    the shared one keeps the sample night."""
    with session(postgres_server.dsn, autocommit=True) as con:
        con.execute("drop database if exists case_nights")
        con.execute("create database case_nights")
    database = dataclasses.replace(postgres_server, dbname="case_nights")
    monkeypatch.setenv("BAROMETER_PG_DSN", database.dsn)
    cases = tmp_path / "cases"
    shutil.copytree(SAMPLE_CASES, cases)
    monkeypatch.setenv("CASES_SOURCE_DIR", str(cases))
    settings = Settings.from_env()
    assert refresh(settings).success  # this folder's first night on the server builds it all
    write(cases / f"citizens_{NIGHT}.csv", [NEWCOMER_RECORD])
    write(cases / f"events_{NIGHT}.csv", [["99000102", NEWCOMER, "visitation", "2011-05-10",
                                           "", "", "", "0"]])  # fmt: skip
    result = refresh(settings)
    assert result.success
    models = rebuilt(result)
    assert {"marts/fct_case_outcomes", "intermediate/int_case_events_resolved"} <= set(models)
    assert "marts/fct_target_gap" not in models and "reference/municipalities" not in models
