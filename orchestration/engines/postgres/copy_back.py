"""The server's published marts copied into a local DuckDB file, for the report and the alerts.

The report page and the data-change comparison read DuckDB (``reporting/``,
``engines/duckdb/data_changes.py``); rather than a second version of each for PostgreSQL, the
published ``marts`` schema is copied after the swap into ``server_marts.duckdb`` beside the
warehouse, through psycopg2 and Arrow, and the same code reads it. BI tools read the server; this
file is the report's. Knows psycopg2, DuckDB and Arrow, not Dagster.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import duckdb
import pyarrow as pa
from psycopg2 import sql

from orchestration.engines.postgres.server import Connection

BATCH_ROWS = 50_000
# The server's types (format_type) as DuckDB's; jsonb is read as its text, as serving.duckdb has.
_TYPES = {
    "smallint": "SMALLINT",
    "integer": "INTEGER",
    "bigint": "BIGINT",
    "double precision": "DOUBLE",
    "real": "FLOAT",
    "boolean": "BOOLEAN",
    "date": "DATE",
    "timestamp without time zone": "TIMESTAMP",
    "timestamp with time zone": "TIMESTAMPTZ",
    "text": "VARCHAR",
    "jsonb": "VARCHAR",
    "json": "VARCHAR",
}


def duckdb_type(server_type: str) -> str:
    if server_type.startswith(("character varying", "character(")) or server_type == "character":
        return "VARCHAR"
    if server_type.startswith("numeric("):
        return "DECIMAL" + server_type.removeprefix("numeric")
    if server_type == "numeric":
        return "DOUBLE"
    try:
        return _TYPES[server_type]
    except KeyError:
        raise ValueError(f"no DuckDB type for the server's {server_type}") from None


def copy_schema(
    con: Connection, schema: str, tables: list[str], path: Path, as_schema: str = "marts"
) -> Path:
    """Write ``schema``'s ``tables`` from the server into a new DuckDB file at ``path`` (as
    ``as_schema``), whole or not at all: written aside, then moved over the old file."""
    partial = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        with duckdb.connect(str(partial)) as target:
            target.execute(f"create schema {as_schema}")
            for table in tables:
                _copy_table(con, schema, table, target, f"{as_schema}.{table}")
            target.execute("checkpoint")
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
        partial.with_name(partial.name + ".wal").unlink(missing_ok=True)
    return path


def _copy_table(
    con: Connection,
    schema: str,
    table: str,
    target: duckdb.DuckDBPyConnection,
    relation: str,
) -> None:
    columns = con.execute(
        "select a.attname, format_type(a.atttypid, a.atttypmod) from pg_attribute as a "
        "where a.attrelid = %s::regclass and a.attnum > 0 and not a.attisdropped "
        "order by a.attnum",
        [sql.Identifier(schema, table).as_string(con)],
    ).fetchall()
    types = {name: duckdb_type(kind) for name, kind in columns}
    target.execute(
        f"create table {relation} ("
        + ", ".join(f'"{name}" {kind}' for name, kind in types.items())
        + ")"
    )
    selected = sql.SQL(", ").join(
        sql.SQL("{}::text").format(sql.Identifier(name))
        if kind in ("jsonb", "json")
        else sql.Identifier(name)
        for name, kind in columns
    )
    with con.cursor(name=f"copy_{table}") as cursor:  # server-side: in batches, not whole
        cursor.execute(sql.SQL("select {} from {}").format(selected, sql.Identifier(schema, table)))
        while rows := cursor.fetchmany(BATCH_ROWS):
            batch = pa.table(
                {name: pa.array([row[i] for row in rows]) for i, name in enumerate(types)}
            )
            target.register("batch", batch)
            target.execute(f"insert into {relation} select * from batch")
            target.unregister("batch")
