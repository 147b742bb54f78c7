"""PostgreSQL as a second engine: the same raw rows and the same dbt project on a real server give
the same marts as the DuckDB night, row by row.

One real server for the session (tests/postgres.py), the sample night's raw tables copied to it
by COPY, one ``dbt build --target postgres`` (the nightly selection) with every data test, and
every mart compared with the published DuckDB night after sorting, doubles to 1e-9.
"""

import math
import os
import subprocess
from pathlib import Path

import duckdb
import psycopg
import pytest
from postgres import PostgresServer

from orchestration.definitions import build_definitions
from orchestration.postgres_raw import copy_raw_tables
from orchestration.settings import DBT_EXECUTABLE, DBT_PROJECT_DIR, ConfigError, Settings

NIGHTLY_SELECTION = ["--exclude-resource-type", "unit_test"]
TOLERANCE = 1e-9


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


@pytest.fixture(scope="session")
def postgres_night(published: Settings, postgres_server: PostgresServer, tmp_path_factory):
    """The published night's raw layer on PostgreSQL, built there by dbt like the nightly job."""
    copied = copy_raw_tables(published.warehouse_path, postgres_server.dsn)
    # The night's settings with the server as its engine, read as `barometer` reads them.
    settings = Settings.from_env(
        {
            "BAROMETER_WAREHOUSE_DIR": str(published.warehouse_dir),
            "BAROMETER_SOURCE_DIR": str(published.source_dir),
            "BAROMETER_ENGINE": "postgres",
            "BAROMETER_PG_DSN": postgres_server.dsn,
        }
    )
    build = subprocess.run(
        [
            str(DBT_EXECUTABLE),
            "build",
            *NIGHTLY_SELECTION,
            "--target",
            settings.dbt_target,
            "--target-path",
            str(tmp_path_factory.mktemp("dbt_postgres")),
        ],
        cwd=DBT_PROJECT_DIR,
        env={**os.environ, **settings.subprocess_env()},
        capture_output=True,
        text=True,
    )
    assert build.returncode == 0, build.stdout[-4000:]
    return copied


def test_raw_tables_arrive_whole(published: Settings, postgres_night, postgres_server):
    """Every raw table of the DuckDB warehouse, every row, copied to the server."""
    raw_tables = duckdb_tables(published.warehouse_path, "raw")
    assert sorted(copy.table for copy in postgres_night) == [f"raw.{t}" for t in raw_tables]
    with (
        duckdb.connect(str(published.warehouse_path), read_only=True) as source,
        psycopg.connect(postgres_server.dsn) as target,
    ):
        for table in raw_tables:
            expected = source.execute(f"select count(*) from raw.{table}").fetchone()[0]
            assert target.execute(f"select count(*) from raw.{table}").fetchone()[0] == expected
    assert sum(copy.rows for copy in postgres_night) > 50_000


def test_postgres_marts_equal_the_duckdb_marts(
    published: Settings, postgres_night, postgres_server
):
    """The same night on both engines: same mart tables, columns and rows."""
    marts = duckdb_tables(published.warehouse_path, "marts")
    assert "fct_scorecard" in marts and "fct_case_outcomes" in marts
    with (
        duckdb.connect(str(published.warehouse_path), read_only=True) as duck,
        psycopg.connect(postgres_server.dsn) as pg,
    ):
        pg_marts = [
            name
            for (name,) in pg.execute(
                "select table_name from information_schema.tables where table_schema = 'marts' "
                "order by table_name"
            ).fetchall()
        ]
        assert pg_marts == marts
        for table in marts:
            duck_result = duck.execute(f"select * from marts.{table}")
            duck_columns = [column[0] for column in duck_result.description]
            duck_rows = sorted(duck_result.fetchall(), key=sort_key)
            pg_cursor = pg.execute(f"select * from marts.{table}")
            assert [column.name for column in pg_cursor.description] == duck_columns, table
            pg_rows = sorted(pg_cursor.fetchall(), key=sort_key)
            assert len(pg_rows) == len(duck_rows), table
            for duck_row, pg_row in zip(duck_rows, pg_rows, strict=True):
                assert all(map(same_value, duck_row, pg_row)), (table, duck_row, pg_row)


def test_the_nightly_job_refuses_a_server_until_it_runs_there(tmp_path):
    """Never a DuckDB night when the settings asked for PostgreSQL."""
    settings = Settings.from_env(
        {"BAROMETER_WAREHOUSE_DIR": str(tmp_path), "BAROMETER_ENGINE": "postgres"}
    )
    with pytest.raises(ConfigError, match="^BAROMETER_ENGINE must be duckdb for the nightly job"):
        build_definitions(settings)
