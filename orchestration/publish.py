"""Write-audit-publish: copy the validated marts into a new serving file and swap it in atomically.

BI tools only ever open ``serving.duckdb``. The new file is written beside it under a temporary
name and moved over it with ``os.replace``, so a reader never sees a partial file and a reader
holding the old file open is never blocked. Knows DuckDB, not Dagster.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import duckdb

# BI drivers often bundle an older DuckDB, and DuckDB before 2.0 cannot open 2.0's storage
# format: write the serving file in a format that DuckDB 1.4 and later read.
SERVING_STORAGE_VERSION = "v1.4.0"


def publish_schema(
    con: duckdb.DuckDBPyConnection,
    schema: str,
    tables: list[str],
    serving_path: Path,
    parquet_dir: Path,
) -> dict[str, int]:
    """Publish ``schema.<table>`` for each table; returns the row count per table."""
    serving_path.parent.mkdir(parents=True, exist_ok=True)
    staging_path = serving_path.with_name(f".{serving_path.name}.{uuid.uuid4().hex}.tmp")
    alias = "serving_new"
    counts = {}

    def partial(table: str) -> Path:
        return parquet_dir / f".{table}.parquet.tmp"

    try:
        con.execute(
            f"attach '{staging_path}' as {alias} (storage_version '{SERVING_STORAGE_VERSION}')"
        )
        con.execute(f"create schema {alias}.{schema}")
        for table in tables:
            # Sorted rows give byte-stable Parquet and reproducible reads for the same input.
            con.execute(
                f"create table {alias}.{schema}.{table} as "
                f"select * from {schema}.{table} order by all"
            )
            counts[table] = con.execute(
                f"select count(*) from {alias}.{schema}.{table}"
            ).fetchone()[0]
        con.execute(f"checkpoint {alias}")
        con.execute(f"detach {alias}")
        _fsync(staging_path)
        _export_parquet(con, schema, tables, partial)
        # Only now, with every new file complete, does anything visible change.
        os.replace(staging_path, serving_path)
        for table in tables:
            os.replace(partial(table), parquet_dir / f"{table}.parquet")
    finally:
        # A failed publish (a full disk, a failed query) leaves no partial file behind, so the
        # next night starts clean; the published files were never touched.
        try:
            con.execute(f"detach database if exists {alias}")
        finally:
            wal = staging_path.with_name(f"{staging_path.name}.wal")
            for leftover in [staging_path, wal, *map(partial, tables)]:
                leftover.unlink(missing_ok=True)
    return counts


def _export_parquet(con, schema: str, tables: list[str], partial) -> None:
    for table in tables:
        partial(table).parent.mkdir(parents=True, exist_ok=True)
        con.execute(
            f"copy (select * from {schema}.{table} order by all) "
            f"to '{partial(table)}' (format parquet)"
        )


def _fsync(path: Path) -> None:
    with path.open("rb") as handle:
        os.fsync(handle.fileno())
