"""Write-audit-publish: copy the validated marts into a new serving file and swap it in atomically.

BI tools only ever open ``serving.duckdb``. The new file is written beside it under a temporary
name and moved over it with ``os.replace``, so a reader never sees a partial file and a reader
holding the old file open is never blocked. Knows DuckDB, not Dagster.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Mapping
from pathlib import Path

import duckdb

from orchestration.publish.publication import PUBLICATION_DOC, PUBLICATION_TABLE, write_publication
from orchestration.publish.serving_metadata import (
    TableDoc,
    copy_documented_table,
    write_documented_parquet,
)

# BI drivers often bundle an older DuckDB, and DuckDB before 2.0 cannot open 2.0's storage
# format: write the serving file in a format that DuckDB 1.4 and later read.
SERVING_STORAGE_VERSION = "v1.4.0"


def publish_schema(
    con: duckdb.DuckDBPyConnection,
    schema: str,
    tables: list[str],
    serving_path: Path,
    parquet_dir: Path,
    docs: Mapping[str, TableDoc] | None = None,
    publication: Mapping[str, object] | None = None,
    previous_serving: Path | None = None,
) -> dict[str, int]:
    """Publish ``schema.<table>`` for each table; returns the row count per table.

    Each table gets its description, column descriptions and primary key from ``docs``
    (serving_metadata.py). With a ``publication`` row, ``schema.publication`` is the rows of
    ``previous_serving`` (default: the file replaced) plus this one (publication.py), and each
    Parquet copy carries its ``published_at``.
    """
    serving_path.parent.mkdir(parents=True, exist_ok=True)
    staging_path = serving_path.with_name(f".{serving_path.name}.{uuid.uuid4().hex}.tmp")
    alias = "serving_new"
    counts = {}
    docs = {**(docs or {}), PUBLICATION_TABLE: PUBLICATION_DOC}
    published = [*tables, *([PUBLICATION_TABLE] if publication is not None else [])]
    # Which night each Parquet file belongs to, readable without the serving file.
    stamp = {"published_at": str(publication["published_at"])} if publication is not None else {}

    def partial(table: str) -> Path:
        return parquet_dir / f".{table}.parquet.tmp"

    try:
        con.execute(
            f"attach '{staging_path}' as {alias} (storage_version '{SERVING_STORAGE_VERSION}')"
        )
        con.execute(f"create schema {alias}.{schema}")
        for table in tables:
            copy_documented_table(
                con, f"{schema}.{table}", f"{alias}.{schema}.{table}", docs.get(table)
            )
            counts[table] = con.execute(
                f"select count(*) from {alias}.{schema}.{table}"
            ).fetchone()[0]
        if publication is not None:
            counts[PUBLICATION_TABLE] = write_publication(
                con, f"{alias}.{schema}", previous_serving or serving_path, publication
            )
        con.execute(f"checkpoint {alias}")
        # The Parquet copies are read from the new file: exactly the rows it publishes.
        parquet_dir.mkdir(parents=True, exist_ok=True)
        for table in published:
            write_documented_parquet(
                con, f"{alias}.{schema}.{table}", partial(table), docs.get(table), stamp
            )
        con.execute(f"detach {alias}")
        _fsync(staging_path)
        # Only now, with every new file complete, does anything visible change.
        os.replace(staging_path, serving_path)
        for table in published:
            os.replace(partial(table), parquet_dir / f"{table}.parquet")
    finally:
        # A failed publish (a full disk, a failed query) leaves no partial file behind, so the
        # next night starts clean; the published files were never touched.
        try:
            con.execute(f"detach database if exists {alias}")
        finally:
            wal = staging_path.with_name(f"{staging_path.name}.wal")
            for leftover in [staging_path, wal, *map(partial, published)]:
                leftover.unlink(missing_ok=True)
    return counts


def _fsync(path: Path) -> None:
    with path.open("rb") as handle:
        os.fsync(handle.fileno())
