"""PostgreSQL as a second engine: the same raw rows and the same dbt project on a real server give
the same marts as the DuckDB night, row by row.

One real server for the session (tests/postgres.py), the sample night run there by the nightly
job (``postgres_night``: raw tables copied by COPY, ``dbt build --target postgres`` with every
data test, the gates, the swap into ``marts``), and every mart compared with the published
DuckDB night after sorting, doubles to 1e-9.
"""

import dataclasses
import math
import shutil
from pathlib import Path

import dagster as dg
import duckdb
import psycopg2
import pytest
import yaml
from postgres import PostgresServer

from orchestration.automation.run import run_nightly_refresh
from orchestration.definitions import build_definitions
from orchestration.engines.postgres.raw import copy_raw_tables
from orchestration.engines.postgres.server import session
from orchestration.settings import PROJECT_ROOT, Settings

TOLERANCE = 1e-9
# The Dagster instances: SQLite for `make`, PostgreSQL for production.
INSTANCES = PROJECT_ROOT / ".dagster"


def duckdb_tables(path: Path, schema: str) -> list[str]:
    with duckdb.connect(str(path), read_only=True) as con:
        return [
            name
            for (name,) in con.execute(
                "select table_name from information_schema.tables where table_schema = ? "
                "order by table_name",
                [schema],
            ).fetchall()
        ]


def sort_key(row: tuple) -> tuple:
    """Nulls first, and doubles rounded, so rows differing only in the last bits sort alike."""
    return tuple(
        (0, 0) if value is None else (1, round(value, 6) if isinstance(value, float) else value)
        for value in row
    )


def same_value(left, right) -> bool:
    if isinstance(left, float) and isinstance(right, float):
        return math.isclose(left, right, rel_tol=TOLERANCE, abs_tol=TOLERANCE)
    return left == right and type(left) is type(right)


def test_raw_tables_arrive_whole(postgres_night: Settings, postgres_server):
    """Every raw table of the DuckDB warehouse, every row, copied to the server, again and
    again: a second copy replaces the rows (a changed table is created anew)."""
    raw_tables = duckdb_tables(postgres_night.warehouse_path, "raw")
    copied = copy_raw_tables(postgres_night.warehouse_path, postgres_server.dsn)
    assert [copy.table for copy in copied] == [f"raw.{t}" for t in raw_tables]
    with (
        duckdb.connect(str(postgres_night.warehouse_path), read_only=True) as source,
        session(postgres_server.dsn) as target,
    ):
        for table in raw_tables:
            expected = source.execute(f"select count(*) from raw.{table}").fetchone()[0]
            assert target.execute(f"select count(*) from raw.{table}").fetchone()[0] == expected
    assert sum(copy.rows for copy in copied) > 50_000


def test_postgres_marts_equal_the_duckdb_marts(
    published: Settings, postgres_night, postgres_server
):
    """The same night through the nightly job on both engines: same mart tables, columns and
    rows (the server's marts also hold the publication history, as serving.duckdb does)."""
    marts = [*duckdb_tables(published.warehouse_path, "marts"), "publication"]
    assert "fct_scorecard" in marts and "fct_case_outcomes" in marts
    with (
        duckdb.connect(str(published.warehouse_path), read_only=True) as duck,
        session(postgres_server.dsn) as pg,
    ):
        pg_marts = [
            name
            for (name,) in pg.execute(
                "select table_name from information_schema.tables where table_schema = 'marts' "
                "order by table_name"
            ).fetchall()
        ]
        assert pg_marts == sorted(marts)
        for table in marts[:-1]:
            duck_result = duck.execute(f"select * from marts.{table}")
            duck_columns = [column[0] for column in duck_result.description]
            duck_rows = sorted(duck_result.fetchall(), key=sort_key)
            pg_cursor = pg.execute(f"select * from marts.{table}")
            assert [column.name for column in pg_cursor.description] == duck_columns, table
            pg_rows = sorted(pg_cursor.fetchall(), key=sort_key)
            assert len(pg_rows) == len(duck_rows), table
            for duck_row, pg_row in zip(duck_rows, pg_rows, strict=True):
                assert all(map(same_value, duck_row, pg_row)), (table, duck_row, pg_row)


def test_the_night_on_a_server_is_the_same_graph(tmp_path):
    """The same extracts, gates, dbt project, publishing and report on both engines: only the
    kinds of the dbt and publish steps tell them apart (engines/)."""
    graphs = {}
    for engine in ("duckdb", "postgres"):
        settings = Settings.from_env(
            {"BAROMETER_WAREHOUSE_DIR": str(tmp_path), "BAROMETER_ENGINE": engine}
        )
        graph = build_definitions(settings).resolve_asset_graph()
        graphs[engine] = (
            {key: graph.get(key).parent_keys for key in graph.get_all_asset_keys()},
            graph.asset_check_keys,
        )
        kinds = graph.get(dg.AssetKey(["marts", "fct_scorecard"])).kinds
        assert kinds == {"dbt", engine}
    assert graphs["duckdb"] == graphs["postgres"]
    keys = {key.to_user_string() for key in graphs["postgres"][0]}
    assert {"serving", "report", "docs/dbt", "raw/case_events"} <= keys


def test_the_postgres_instance_is_the_sqlite_one_but_for_storage():
    sqlite, postgres = (
        yaml.safe_load((folder / "dagster.yaml").read_text(encoding="utf-8"))
        for folder in (INSTANCES, INSTANCES / "postgres")
    )
    assert list(postgres["storage"]) == ["postgres"]
    assert {**postgres, "storage": None} == {**sqlite, "storage": None}


def test_a_night_is_recorded_in_dagster_storage_on_postgres(
    published_copy: Settings, postgres_server: PostgresServer, tmp_path, monkeypatch
):
    """Runs, events and schedule state on the server, with the production instance's file."""
    with session(postgres_server.dsn, autocommit=True) as con:
        con.execute("create database dagster")
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(INSTANCES / "postgres" / "dagster.yaml", home)
    monkeypatch.setenv(
        "DAGSTER_PG_URL",
        f"postgresql://{postgres_server.user}@/dagster"
        f"?host={postgres_server.socket_dir}&port={postgres_server.port}",
    )
    with dg.DagsterInstance.from_config(str(home)) as instance:
        storages = (instance.run_storage, instance.event_log_storage, instance.schedule_storage)
        assert [type(storage).__name__ for storage in storages] == [
            "PostgresRunStorage",
            "PostgresEventLogStorage",
            "PostgresScheduleStorage",
        ]
        result = run_nightly_refresh(published_copy, instance)
        assert result.success
        assert instance.get_run_by_id(result.run_id).is_success
        assert instance.get_latest_materialization_event(dg.AssetKey(["marts", "fct_scorecard"]))
        assert instance.all_instigator_state() == []
    with session(dataclasses.replace(postgres_server, dbname="dagster").dsn) as con:
        assert con.execute("select count(*) from runs").fetchone()[0] == 1
        assert con.execute("select count(*) from event_logs").fetchone()[0] > 100


def test_the_reader_role_has_no_file_or_program_access(postgres_server):
    """BI logins read schema marts; the server's files and programs are the server's only."""
    from orchestration.engines.postgres.publish import create_reader_role

    create_reader_role(postgres_server.dsn, "bi_reader_no_files")
    reader_dsn = dataclasses.replace(postgres_server, user="bi_reader_no_files").dsn
    with session(reader_dsn) as con:
        for role in ("pg_read_server_files", "pg_write_server_files", "pg_execute_server_program"):
            assert con.execute(
                "select pg_has_role(current_user, %s, 'member')", [role]
            ).fetchone() == (False,), role
    refused = (
        "copy (select 1) to program 'true'",
        "select pg_read_file('postgresql.conf')",
        "copy (select 1) to '/tmp/bi_reader_no_files.csv'",
    )
    for statement in refused:
        with (
            session(reader_dsn) as con,
            pytest.raises(psycopg2.errors.InsufficientPrivilege),
        ):
            con.execute(statement)
