"""The raw layer of the warehouse: append-only landing tables keyed by load.

Knows DuckDB, not Dagster. Every load of a file adds its rows under a new ``load_id`` with the
file's name, sha256 and load time; a file whose sha256 equals that of its latest load is skipped.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pandas as pd

from orchestration.sources.barometer import IndicatorValue

BAROMETER_TABLE = "raw.barometer_indicator_values"

_BAROMETER_DDL = f"""
create table if not exists {BAROMETER_TABLE} (
    load_id varchar not null,
    source_file varchar not null,
    source_sha256 varchar not null,
    loaded_at timestamp not null,
    source_line integer not null,
    area_name varchar,
    indicator_code varchar not null,
    indicator_name varchar,
    municipality_code varchar not null,
    municipality_name varchar,
    year integer not null,
    population_group varchar not null,
    value double,
    is_suppressed boolean not null,
    suppression_marker varchar,
    unit varchar not null
)
"""


@dataclass(frozen=True)
class FileLoad:
    source_file: str
    source_sha256: str
    load_id: str | None  # None when the file was unchanged and skipped
    rows: int


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def ensure_raw_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("create schema if not exists raw")
    con.execute(_BAROMETER_DDL)


def latest_sha256(con: duckdb.DuckDBPyConnection, source_file: str) -> str | None:
    row = con.execute(
        f"select arg_max(source_sha256, loaded_at) from {BAROMETER_TABLE} where source_file = ?",
        [source_file],
    ).fetchone()
    return row[0] if row else None


def append_barometer_load(
    con: duckdb.DuckDBPyConnection,
    source_file: str,
    sha256: str,
    rows: Sequence[IndicatorValue],
    loaded_at: datetime | None = None,
) -> FileLoad:
    """Append one file's parsed rows as a new load, in one transaction."""
    loaded_at = loaded_at or datetime.now(UTC).replace(tzinfo=None)
    load_id = f"{loaded_at:%Y%m%dT%H%M%S%f}-{sha256[:12]}"
    frame = pd.DataFrame(
        [asdict(row) for row in rows], columns=list(IndicatorValue.__annotations__)
    )
    frame.insert(0, "load_id", load_id)
    frame.insert(1, "source_file", source_file)
    frame.insert(2, "source_sha256", sha256)
    frame.insert(3, "loaded_at", loaded_at)
    con.execute("begin transaction")
    try:
        # `frame` is read by DuckDB's replacement scan of local pandas DataFrames.
        con.execute(f"insert into {BAROMETER_TABLE} by name select * from frame")
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    return FileLoad(source_file, sha256, load_id, len(frame))
