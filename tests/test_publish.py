"""Write-audit-publish of the marts into serving.duckdb (engines/duckdb/publish.py)."""

import json
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from orchestration.engines.duckdb.publish import publish_schema

TABLES = ["dim_area", "fct_values"]
AREAS = [(1, "Arbejde"), (2, "Uddannelse")]
VALUES = [("000", 2020, 60.0), ("101", 2020, 57.9), ("101", 2021, 59.6)]

# A BI reader in another process: it opens the file, says so, waits for a line on stdin and only
# then queries, so the test can swap the file in between. DuckDB caches database instances per
# path within one process, so an in-process "second reader" would not be a separate open file.
READER = """
import json, sys
import duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
print("ready", flush=True)
sys.stdin.readline()
rows = con.execute("select * from marts.fct_values order by all").fetchall()
print(json.dumps(rows), flush=True)
"""


def make_warehouse(path: Path) -> duckdb.DuckDBPyConnection:
    """A warehouse with a marts schema: two tables to publish and one that must stay behind."""
    con = duckdb.connect(str(path))
    con.execute("create schema marts")
    con.execute("create table marts.dim_area (area_code integer, area_name varchar)")
    con.execute("create table marts.fct_values (code varchar, year integer, value double)")
    con.execute("create table marts.not_published as select 1 as x")
    con.executemany("insert into marts.dim_area values (?, ?)", AREAS)
    con.executemany("insert into marts.fct_values values (?, ?, ?)", VALUES)
    return con


def serving_paths(tmp_path: Path) -> tuple[Path, Path]:
    folder = tmp_path / "serving"  # not created: publishing must create it
    return folder / "serving.duckdb", folder / "parquet"


def publish(con, tmp_path: Path, tables: list[str] = TABLES) -> dict[str, int]:
    serving, parquet = serving_paths(tmp_path)
    return publish_schema(con, "marts", tables, serving, parquet)


def read_serving(path: Path, sql: str) -> list[tuple]:
    # Closed straight away: a cached open instance would hide a later swap of the file.
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql).fetchall()


def read_parquet(path: Path) -> list[tuple]:
    with duckdb.connect() as con:
        return con.execute(f"select * from read_parquet('{path}') order by all").fetchall()


def folder_listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def as_json_rows(rows: list[tuple]) -> list[list]:
    return [list(row) for row in rows]


# --- a first publish ----------------------------------------------------------------------------


def test_publish_copies_exactly_the_listed_tables(tmp_path):
    con = make_warehouse(tmp_path / "warehouse.duckdb")
    assert publish(con, tmp_path) == {"dim_area": 2, "fct_values": 3}
    serving, _ = serving_paths(tmp_path)
    tables = read_serving(
        serving,
        "select table_schema, table_name from information_schema.tables "
        "where table_catalog = current_database() order by all",
    )
    assert tables == [("marts", "dim_area"), ("marts", "fct_values")]
    assert read_serving(serving, "select * from marts.dim_area order by all") == AREAS
    assert read_serving(serving, "select * from marts.fct_values order by all") == VALUES


def test_publish_keeps_column_names_and_types(tmp_path):
    con = make_warehouse(tmp_path / "warehouse.duckdb")
    publish(con, tmp_path)
    columns = read_serving(
        serving_paths(tmp_path)[0],
        "select column_name, data_type from information_schema.columns "
        "where table_name = 'fct_values' order by ordinal_position",
    )
    assert columns == [("code", "VARCHAR"), ("year", "INTEGER"), ("value", "DOUBLE")]


def test_publish_writes_one_parquet_file_per_table(tmp_path):
    con = make_warehouse(tmp_path / "warehouse.duckdb")
    publish(con, tmp_path)
    _, parquet = serving_paths(tmp_path)
    assert folder_listing(parquet) == ["dim_area.parquet", "fct_values.parquet"]
    assert read_parquet(parquet / "dim_area.parquet") == AREAS
    assert read_parquet(parquet / "fct_values.parquet") == VALUES


def test_serving_file_opens_read_only(tmp_path):
    con = make_warehouse(tmp_path / "warehouse.duckdb")
    publish(con, tmp_path)
    with duckdb.connect(str(serving_paths(tmp_path)[0]), read_only=True) as reader:
        assert reader.execute("select count(*) from marts.fct_values").fetchone() == (3,)
        with pytest.raises(duckdb.Error, match="read-only"):
            reader.execute("delete from marts.fct_values")


def test_serving_file_is_readable_by_duckdb_1_4(tmp_path):
    con = make_warehouse(tmp_path / "warehouse.duckdb")
    publish(con, tmp_path)
    # DuckDB 2.0 reports the oldest version that can read a file as tags['storage_version'];
    # a file in its default format says 'v2.0.0+', which BI drivers bundling 1.x cannot open.
    [(tags,)] = read_serving(
        serving_paths(tmp_path)[0],
        "select tags from duckdb_databases() where database_name = current_database()",
    )
    assert tags["storage_version"] == "v1.4.0+"


def test_no_temporary_files_are_left_after_success(tmp_path):
    con = make_warehouse(tmp_path / "warehouse.duckdb")
    publish(con, tmp_path)
    serving, parquet = serving_paths(tmp_path)
    assert folder_listing(serving.parent) == ["parquet", "serving.duckdb"]
    assert all(not name.endswith(".tmp") for name in folder_listing(parquet))


def test_publish_leaves_the_warehouse_connection_as_it_found_it(tmp_path):
    con = make_warehouse(tmp_path / "warehouse.duckdb")
    before = con.execute("select database_name from duckdb_databases() order by all").fetchall()
    publish(con, tmp_path)
    assert con.execute("select database_name from duckdb_databases() order by all").fetchall() == (
        before
    )


# --- republishing -------------------------------------------------------------------------------


def test_republish_replaces_the_rows(tmp_path):
    con = make_warehouse(tmp_path / "warehouse.duckdb")
    publish(con, tmp_path)
    con.execute("insert into marts.fct_values values ('101', 2022, 61.3)")
    assert publish(con, tmp_path) == {"dim_area": 2, "fct_values": 4}
    serving, parquet = serving_paths(tmp_path)
    expected = [*VALUES, ("101", 2022, 61.3)]
    assert read_serving(serving, "select * from marts.fct_values order by all") == expected
    assert read_parquet(parquet / "fct_values.parquet") == expected
    assert folder_listing(serving.parent) == ["parquet", "serving.duckdb"]


def test_reader_of_the_old_file_keeps_old_rows_while_new_readers_see_new_rows(tmp_path):
    con = make_warehouse(tmp_path / "warehouse.duckdb")
    publish(con, tmp_path)
    serving, _ = serving_paths(tmp_path)
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(serving)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert reader.stdout.readline() == "ready\n", reader.stderr.read()
        con.execute("delete from marts.fct_values where year = 2020")
        # The swap must not wait for, or be refused by, the reader holding the old file open.
        assert publish(con, tmp_path)["fct_values"] == 1
        new_rows = read_serving(serving, "select * from marts.fct_values order by all")
        old_rows, errors = reader.communicate("go\n", timeout=60)
    finally:
        reader.kill()
    assert reader.returncode == 0, errors
    assert json.loads(old_rows) == as_json_rows(VALUES)
    assert new_rows == [("101", 2021, 59.6)]


# --- a failed publish ---------------------------------------------------------------------------


def test_failed_publish_keeps_the_previous_serving_file_and_leaves_no_temporary_file(tmp_path):
    con = make_warehouse(tmp_path / "warehouse.duckdb")
    publish(con, tmp_path)
    serving, parquet = serving_paths(tmp_path)
    serving_bytes = serving.read_bytes()
    parquet_bytes = {p.name: p.read_bytes() for p in parquet.iterdir()}
    con.execute("insert into marts.dim_area values (3, 'Danskkundskaber')")

    # The first table is copied into the staging file before the second one fails.
    with pytest.raises(duckdb.CatalogException, match="does_not_exist"):
        publish(con, tmp_path, ["dim_area", "does_not_exist"])

    assert serving.read_bytes() == serving_bytes
    assert {p.name: p.read_bytes() for p in parquet.iterdir()} == parquet_bytes
    # Checked with the warehouse connection still open, as a long-lived process would keep it.
    assert folder_listing(serving.parent) == ["parquet", "serving.duckdb"]


def test_publish_succeeds_on_the_same_connection_after_a_failed_publish(tmp_path):
    con = make_warehouse(tmp_path / "warehouse.duckdb")
    with pytest.raises(duckdb.CatalogException):
        publish(con, tmp_path, ["dim_area", "does_not_exist"])
    assert publish(con, tmp_path) == {"dim_area": 2, "fct_values": 3}
    serving, _ = serving_paths(tmp_path)
    assert read_serving(serving, "select * from marts.dim_area order by all") == AREAS
