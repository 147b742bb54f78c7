"""The raw layer on PostgreSQL: the warehouse's ``raw`` tables copied to a server by ``COPY``.

Knows DuckDB, Arrow and psycopg2, not Dagster. The extracts parse and land into DuckDB as
always; this copies every table of its ``raw`` schema into the same schema on the server, in one
transaction, each by one ``COPY ... FROM STDIN`` (bulk, never row inserts) fed CSV that Arrow
writes from DuckDB's record batches, one batch in memory at a time, so the dbt
``postgres`` target reads exactly the rows the DuckDB night read. A table's rows are replaced
whole: the DuckDB raw layer stays the append-only record, the server holds its latest copy.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.csv as pa_csv
from psycopg2 import sql

from orchestration.engines.postgres.server import Connection, connect

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
    # Created anew (new or changed columns): the views dbt built on the old one went with it.
    recreated: bool = False


def copy_raw_tables(duckdb_path: Path, dsn: str) -> list[CopiedTable]:
    """Replace the server's ``raw`` tables by the DuckDB warehouse's, all or none."""
    copied = []
    with (
        duckdb.connect(str(duckdb_path), read_only=True) as source,
        connect(dsn) as target,
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
                copied.append(_copy_table(source, target, table))
    return copied


def _copy_table(source: duckdb.DuckDBPyConnection, target: Connection, table: str) -> CopiedTable:
    columns = source.execute(
        "select column_name, data_type, is_nullable from information_schema.columns "
        "where table_schema = ? and table_name = ? order by ordinal_position",
        [RAW_SCHEMA, table],
    ).fetchall()
    unknown = sorted({data_type for _, data_type, _ in columns} - PG_TYPES.keys())
    if unknown:
        raise ValueError(f"{RAW_SCHEMA}.{table}: no PostgreSQL type for {', '.join(unknown)}")
    name = sql.Identifier(RAW_SCHEMA, table)
    wanted = [(column, PG_TYPES[data_type], nullable) for column, data_type, nullable in columns]
    recreated = _server_columns(target, table) != _spelled_by_server(target, wanted)
    if not recreated:
        # Emptied, not dropped: dbt's staging views on the table stay valid.
        target.execute(sql.SQL("truncate table {}").format(name))
    else:
        # A new or changed table: its staging views go with the old one; dbt builds them again.
        target.execute(sql.SQL("drop table if exists {} cascade").format(name))
        target.execute(
            sql.SQL("create table {} ({})").format(
                name,
                sql.SQL(", ").join(
                    sql.SQL("{} {}{}").format(
                        sql.Identifier(column),
                        sql.SQL(pg_type),
                        sql.SQL("" if nullable == "YES" else " not null"),
                    )
                    for column, pg_type, nullable in wanted
                ),
            )
        )
    names = [column for column, _, _ in columns]
    quoted = ", ".join(f'"{column}"' for column in names)
    batches = source.sql(f'select {quoted} from {RAW_SCHEMA}."{table}"').to_arrow_reader(BATCH_ROWS)
    # CSV as COPY reads it: a null is an empty field, an empty string a quoted one ("").
    copy_statement = sql.SQL("copy {} ({}) from stdin (format csv, encoding 'UTF8')").format(
        name, sql.SQL(", ").join(map(sql.Identifier, names))
    )
    stream = CsvStream(batches)
    with target.cursor() as cursor:
        cursor.copy_expert(copy_statement, stream)
    return CopiedTable(f"{RAW_SCHEMA}.{table}", stream.rows, recreated)


class CsvStream(io.RawIOBase):
    """Record batches read as one CSV file (no header), a batch written when the last is read:
    what ``copy_expert`` reads, without the whole table in memory."""

    def __init__(self, batches: pa.RecordBatchReader):
        self._batches = batches
        self._current = io.BytesIO()
        self.rows = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        while not (chunk := self._current.read(size)):
            try:
                batch = self._batches.read_next_batch()
            except StopIteration:
                return b""
            self._current = io.BytesIO()
            pa_csv.write_csv(batch, self._current, pa_csv.WriteOptions(include_header=False))
            self._current.seek(0)
            self.rows += batch.num_rows
        return chunk


def _server_columns(target: Connection, table: str) -> list[tuple[str, str, str]]:
    """The server table's columns as (name, type, nullable); none if it has no such table."""
    return target.execute(
        "select a.attname, a.atttypid::regtype::text, "
        "case when a.attnotnull then 'NO' else 'YES' end "
        "from pg_attribute as a where a.attrelid = to_regclass(%s) "
        "and a.attnum > 0 and not a.attisdropped order by a.attnum",
        [f'{RAW_SCHEMA}."{table}"'],
    ).fetchall()


def _spelled_by_server(target: Connection, columns: list[tuple[str, str, str]]) -> list:
    """The columns with their types as the server names them (varchar: character varying)."""
    [(types,)] = target.execute(
        "select array(select t::regtype::text from unnest(%s::text[]) as t)",
        [[pg_type for _, pg_type, _ in columns]],
    ).fetchall()
    return [(c, t, n) for (c, _, n), t in zip(columns, types, strict=True)]
