"""What a killed night leaves behind, removed at the start of the next one.

A night killed at any moment (power, OOM killer, ``kill -9``) leaves nothing a reader sees, but
it may leave files: an unpublished generation folder and its pending mark, half-written
temporary files (``.serving.duckdb.<uuid>.tmp``, ``.index.html.<uuid>.tmp``,
``.<table>.parquet.tmp``) and ``landing/<load_id>/`` folders of loads never recorded. Each is
removed here, by name, under the refresh lock, so no running night can own any of them.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb

from orchestration.publish import generation

# Where a step writes a temporary file beside the one it replaces; through the fixed links this
# also covers the published generation (a step run on its own rebuilds its pages in place).
_TEMPORARY_IN = (".", "parquet", "report", "docs/dbt", "docs/quality")
# Every raw.*_loads table with a load_id names the landing folders of its loads.
_LOAD_TABLES = """
select table_name from duckdb_columns()
where database_name = current_database() and schema_name = 'raw'
    and table_name like '%\\_loads' escape '\\' and column_name = 'load_id'
"""


def sweep(warehouse_dir: Path, con: duckdb.DuckDBPyConnection) -> list[Path]:
    """Remove what killed nights left in ``warehouse_dir``; returns what was removed."""
    removed = generation.prune(warehouse_dir)
    for folder in _TEMPORARY_IN:
        for leftover in sorted((warehouse_dir / folder).glob(".*.tmp*")):
            leftover.unlink()
            removed.append(leftover)
    landing = warehouse_dir / "landing"
    if landing.is_dir():
        loaded = _load_ids(con)
        for folder in sorted(landing.iterdir()):
            if folder.is_dir() and folder.name not in loaded:
                shutil.rmtree(folder)
                removed.append(folder)
    return removed


def _load_ids(con: duckdb.DuckDBPyConnection) -> set[str]:
    ids: set[str] = set()
    for (table,) in con.execute(_LOAD_TABLES).fetchall():
        ids |= {str(i) for (i,) in con.execute(f'select load_id from raw."{table}"').fetchall()}
    return ids
