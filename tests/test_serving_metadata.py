"""Descriptions and keys from the dbt manifest into serving.duckdb and Parquet.

orchestration/publish/serving_metadata.py: small tables here; the real marts in
test_serving_clients.py.
"""

import json
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from orchestration.assets.publish import MART_TABLES
from orchestration.publish.serving_metadata import (
    TableDoc,
    copy_documented_table,
    read_table_docs,
    undocumented,
    write_documented_parquet,
)


def model(schema: str, alias: str, description: str, columns: dict, constraints=()) -> dict:
    return {
        "resource_type": "model",
        "schema": schema,
        "alias": alias,
        "description": description,
        "constraints": list(constraints),
        "columns": {
            name: {"description": text, "constraints": list(column_constraints)}
            for name, (text, column_constraints) in columns.items()
        },
    }


PK = {"type": "primary_key"}
# The shape of dbt's manifest.json for the parts that are read: a folded YAML description, a key
# declared on the column, a composite key declared on the model, and nodes that are not marts.
MANIFEST = {
    "nodes": {
        "model.p.dim_area": model(
            "marts",
            "dim_area",
            "The barometer's goals,\n  one per row.\n",
            {
                "area_code": ("The goal's number.", [PK, {"type": "not_null"}]),
                "area_name": ("The goal's Danish name, e.g. 'Arbejde'.", []),
            },
        ),
        "model.p.fct_values": model(
            "marts",
            "fct_values",
            "Values per municipality and year.",
            {"code": ("Municipality.", []), "year": ("Year.", []), "value": ("", [])},
            [{**PK, "columns": ["code", "year"]}],
        ),
        "model.p.stg_values": model("staging", "stg_values", "Not published.", {}),
        "test.p.unique_x": {"resource_type": "test", "schema": "marts", "alias": "unique_x"},
    }
}
AREA = TableDoc(
    "The barometer's goals, one per row.",
    {"area_code": "The goal's number.", "area_name": "The goal's Danish name, e.g. 'Arbejde'."},
    ("area_code",),
)
VALUES = TableDoc(
    "Values per municipality and year.",
    {"code": "Municipality.", "year": "Year.", "value": ""},
    ("code", "year"),
)


@pytest.fixture
def manifest(tmp_path) -> Path:
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(MANIFEST), encoding="utf-8")
    return path


@pytest.fixture
def warehouse(tmp_path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    con.execute("create schema marts")
    con.execute("create table marts.dim_area (area_code integer, area_name varchar)")
    con.execute("insert into marts.dim_area values (2, 'Uddannelse'), (1, 'Arbejde')")
    con.execute("create table marts.fct_values (code varchar, year integer, value decimal(4, 1))")
    con.execute("insert into marts.fct_values values ('101', 2024, 62.5), ('000', 2024, 63.5)")
    return con


def serve(con, path: Path, tables: dict[str, TableDoc | None]) -> None:
    """Copy tables into a new file as publishing does: the storage version DuckDB 1.4 reads."""
    con.execute(f"attach '{path}' as serving (storage_version 'v1.4.0')")
    con.execute("create schema serving.marts")
    for table, doc in tables.items():
        copy_documented_table(con, f"marts.{table}", f"serving.marts.{table}", doc)
    con.execute("detach serving")


def read(path: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_manifest_gives_descriptions_on_one_line_and_either_form_of_primary_key(manifest):
    assert read_table_docs(manifest, "marts") == {"dim_area": AREA, "fct_values": VALUES}


def test_table_comment_names_the_key_for_clients_that_cannot_reflect_it():
    assert VALUES.comment() == "Values per municipality and year. Primary key: code, year."
    assert TableDoc("Bare.").comment() == "Bare."


def test_served_table_keeps_rows_types_comments_and_key_in_a_file_duckdb_1_4_reads(
    warehouse, tmp_path
):
    path = tmp_path / "serving.duckdb"
    serve(warehouse, path, {"dim_area": AREA, "fct_values": VALUES})
    assert read(path, "select * from marts.fct_values") == [
        ("000", 2024, pytest.approx(63.5)),
        ("101", 2024, pytest.approx(62.5)),
    ]
    assert read(path, "select comment from duckdb_tables() order by table_name") == [
        ("The barometer's goals, one per row. Primary key: area_code.",),
        (VALUES.comment(),),
    ]
    assert read(
        path,
        "select table_name, column_name, data_type, comment from duckdb_columns() "
        "where schema_name = 'marts' order by table_name, column_index",
    ) == [
        ("dim_area", "area_code", "INTEGER", "The goal's number."),
        ("dim_area", "area_name", "VARCHAR", "The goal's Danish name, e.g. 'Arbejde'."),
        ("fct_values", "code", "VARCHAR", "Municipality."),
        ("fct_values", "year", "INTEGER", "Year."),
        ("fct_values", "value", "DECIMAL(4,1)", None),  # no description, no comment
    ]
    assert read(
        path,
        "select table_name, constraint_column_names from duckdb_constraints() "
        "where constraint_type = 'PRIMARY KEY' order by table_name",
    ) == [("dim_area", ["area_code"]), ("fct_values", ["code", "year"])]
    [(tags,)] = read(
        path, "select tags from duckdb_databases() where database_name = current_database()"
    )
    assert tags["storage_version"] == "v1.4.0+"


def test_a_table_without_doc_is_copied_bare(warehouse, tmp_path):
    path = tmp_path / "serving.duckdb"
    serve(warehouse, path, {"dim_area": None})
    assert read(path, "select comment from duckdb_tables()") == [(None,)]
    assert read(path, "select constraint_type from duckdb_constraints()") == []


def test_rows_that_break_the_declared_key_fail_the_copy(warehouse, tmp_path):
    # A key that does not hold must stop the publish, not be published as if it did.
    warehouse.execute("insert into marts.fct_values values ('101', 2024, 62.4)")
    with pytest.raises(duckdb.ConstraintException, match="duplicate key"):
        serve(warehouse, tmp_path / "serving.duckdb", {"fct_values": VALUES})


def test_parquet_copy_carries_descriptions_as_field_and_file_metadata(warehouse, tmp_path):
    path = tmp_path / "fct_values.parquet"
    write_documented_parquet(warehouse, "marts.fct_values", path, VALUES)
    schema = pq.read_schema(path)
    assert schema.field("code").metadata == {b"description": b"Municipality."}
    assert schema.field("value").metadata is None
    assert schema.metadata[b"description"] == b"Values per municipality and year."
    assert json.loads(schema.metadata[b"primary_key"]) == ["code", "year"]
    with duckdb.connect() as con:
        # Any Parquet reader sees the file-level metadata; DuckDB reads the rows back typed.
        assert con.execute(
            f"select value from parquet_kv_metadata('{path}') where key = 'description'"
        ).fetchall() == [(b"Values per municipality and year.",)]
        assert con.execute(f"select * from '{path}'").fetchall() == [
            ("000", 2024, pytest.approx(63.5)),
            ("101", 2024, pytest.approx(62.5)),
        ]
        types = con.execute(f"select column_type from (describe '{path}')").fetchall()
    assert types == [("VARCHAR",), ("INTEGER",), ("DECIMAL(4,1)",)]


def test_parquet_copy_of_an_empty_table_keeps_its_schema(warehouse, tmp_path):
    warehouse.execute("delete from marts.dim_area")
    path = tmp_path / "dim_area.parquet"
    write_documented_parquet(warehouse, "marts.dim_area", path, AREA)
    assert pq.read_table(path).num_rows == 0
    assert pq.read_schema(path).field("area_code").metadata == {
        b"description": b"The goal's number."
    }


def test_undocumented_names_each_gap():
    docs = {"dim_area": AREA, "fct_values": VALUES, "bare": TableDoc(columns={"x": ""})}
    assert undocumented(docs, ["dim_area", "fct_values", "bare", "missing"]) == [
        "fct_values.value: no description",
        "bare: no description",
        "bare: no primary key",
        "bare.x: no description",
        "missing: not a dbt model in the manifest",
    ]


def test_every_published_mart_has_descriptions_and_a_primary_key_in_dbt(dbt_manifest):
    # What BI users see beside each table and column comes from the dbt YAML of the marts.
    assert undocumented(read_table_docs(dbt_manifest, "marts"), MART_TABLES) == []
