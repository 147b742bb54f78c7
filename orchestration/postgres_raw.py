"""The raw layer on PostgreSQL: the warehouse's ``raw`` tables copied to a server by ``COPY``.

Knows DuckDB and psycopg, not Dagster. The extracts parse and land into DuckDB as always; this
copies every table of its ``raw`` schema into the same schema on the server, in one
transaction, each by one ``COPY ... FROM STDIN`` (bulk, never row inserts), so the dbt
``postgres`` target reads exactly the rows the DuckDB night read. A table is replaced whole:
the DuckDB raw layer stays the append-only record, the server holds its latest copy.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb
import psycopg
from psycopg import sql

RAW_SCHEMA = "raw"
# The raw layer's DuckDB types and their PostgreSQL equivalents: a type missing here fails the
# copy by name rather than landing as something else.
PG_TYPES = {
    "VARCHAR": "varchar",
    "INTEGER": "integer",
    "BIGINT": "bigint",
    "DOUBLE": "double precision",
    "BOOLEAN": "boolean",
    "DATE": "date",
    "TIMESTAMP": "timestamp",
}
BATCH_ROWS = 50_000


@dataclass(frozen=True)
class CopiedTable:
    table: str
    rows: int


def copy_raw_tables(duckdb_path: Path, dsn: str) -> list[CopiedTable]:
    """Replace the server's ``raw`` tables by the DuckDB warehouse's, all or none."""
    copied = []
    with (
        duckdb.connect(str(duckdb_path), read_only=True) as source,
        psycopg.connect(dsn) as target,
    ):
        tables = [
            name
            for (name,) in source.execute(
                "select table_name from information_schema.tables "
                "where table_schema = ? and table_type = 'BASE TABLE' order by table_name",
                [RAW_SCHEMA],
            ).fetchall()
        ]
        with target.transaction():
            target.execute(
                sql.SQL("create schema if not exists {}").format(sql.Identifier(RAW_SCHEMA))
            )
            for table in tables:
                copied.append(
                    CopiedTable(f"{RAW_SCHEMA}.{table}", _copy_table(source, target, table))
                )
    return copied


def _copy_table(source: duckdb.DuckDBPyConnection, target: psycopg.Connection, table: str) -> int:
    columns = source.execute(
        "select column_name, data_type, is_nullable from information_schema.columns "
        "where table_schema = ? and table_name = ? order by ordinal_position",
        [RAW_SCHEMA, table],
    ).fetchall()
    unknown = sorted({data_type for _, data_type, _ in columns} - PG_TYPES.keys())
    if unknown:
        raise ValueError(f"{RAW_SCHEMA}.{table}: no PostgreSQL type for {', '.join(unknown)}")
    name = sql.Identifier(RAW_SCHEMA, table)
    target.execute(sql.SQL("drop table if exists {}").format(name))
    target.execute(
        sql.SQL("create table {} ({})").format(
            name,
            sql.SQL(", ").join(
                sql.SQL("{} {}{}").format(
                    sql.Identifier(column),
                    sql.SQL(PG_TYPES[data_type]),
                    sql.SQL("" if nullable == "YES" else " not null"),
                )
                for column, data_type, nullable in columns
            ),
        )
    )
    names = [column for column, _, _ in columns]
    quoted = ", ".join(f'"{column}"' for column in names)
    reader = source.execute(f'select {quoted} from {RAW_SCHEMA}."{table}"')
    rows = 0
    copy_statement = sql.SQL("copy {} ({}) from stdin").format(
        name, sql.SQL(", ").join(map(sql.Identifier, names))
    )
    with target.cursor().copy(copy_statement) as copy:
        while batch := reader.fetchmany(BATCH_ROWS):
            for row in batch:
                copy.write_row(row)
            rows += len(batch)
    return rows
