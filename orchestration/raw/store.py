"""The raw layer of the warehouse: append-only landing tables keyed by load.

Knows DuckDB, not Dagster. Every load of a file gets a ``load_id``; its values go to
``raw.barometer_indicator_values``, the lines that could not be interpreted to
``raw.barometer_rejects`` with their reason, and one row describing the load (file, sha256, counts,
where the original bytes are archived) to ``raw.barometer_loads``: values read = loaded +
skipped (areas that are not municipalities) + rejected. A file whose sha256 equals that
of its latest load is not loaded again. ``raw.barometer_current_loads`` names, for every export
file found in the last extract, the load that holds its current content: a file that is gone
from the sources, or renamed, no longer counts; its ``changed_at`` is when that set last changed,
which dbt's source freshness reads to tell whether the barometer models need a rebuild.
"""

from __future__ import annotations

import hashlib
import shutil
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pandas as pd

from orchestration.sources.barometer import IndicatorValue, ParseResult, Reject

BAROMETER_TABLE = "raw.barometer_indicator_values"
REJECTS_TABLE = "raw.barometer_rejects"
LOADS_TABLE = "raw.barometer_loads"
CURRENT_TABLE = "raw.barometer_current_loads"

_DDL = f"""
create schema if not exists raw;
create table if not exists {BAROMETER_TABLE} (
    load_id varchar not null,
    source_file varchar not null,
    source_sha256 varchar not null,
    loaded_at timestamp not null,
    source_line integer not null,
    indicator_code varchar not null,
    municipality_code varchar not null,
    year integer not null,
    population_group varchar not null,
    value double,
    is_suppressed boolean not null,
    suppression_marker varchar,
    unit varchar not null,
    area_name varchar,
    indicator_name varchar,
    municipality_name varchar
);
create table if not exists {REJECTS_TABLE} (
    load_id varchar not null,
    source_file varchar not null,
    source_line integer not null,
    raw_text varchar,
    reason varchar not null
);
create table if not exists {LOADS_TABLE} (
    load_id varchar primary key,
    source_file varchar not null,
    source_uri varchar not null,
    source_sha256 varchar not null,
    loaded_at timestamp not null,
    layout varchar not null,
    rows_extracted integer not null,
    rows_loaded integer not null,
    rows_rejected integer not null,
    archive_path varchar not null,
    rows_skipped integer not null default 0
);
-- Loads recorded before rows were skipped had none.
alter table {LOADS_TABLE} add column if not exists rows_skipped integer default 0;
create table if not exists {CURRENT_TABLE} (
    source_file varchar primary key,
    load_id varchar not null,
    changed_at timestamp
);
-- Sets recorded before dbt read their freshness had no time: the next extract stamps them.
alter table {CURRENT_TABLE} add column if not exists changed_at timestamp;
"""


@dataclass(frozen=True)
class Candidate:
    """A file to load: where it came from and its exact bytes' digest."""

    path: Path
    source_uri: str  # the folder path or URL it came from
    sha256: str

    @property
    def source_file(self) -> str:
        return self.path.name


@dataclass(frozen=True)
class FileLoad:
    load_id: str
    source_file: str
    source_sha256: str
    extracted: int
    loaded: int
    rejected: int
    archive_path: Path
    skipped: dict[str, int]  # values skipped, by reason


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def ensure_raw_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(_DDL)


def unchanged_load(con: duckdb.DuckDBPyConnection, candidate: Candidate) -> str | None:
    """The load_id of the file's latest load if that load had exactly these bytes."""
    rows = con.execute(
        f"select load_id, source_sha256 from {LOADS_TABLE} where source_file = ? "
        "order by loaded_at desc limit 1",
        [candidate.source_file],
    ).fetchall()
    return rows[0][0] if rows and rows[0][1] == candidate.sha256 else None


def set_current_loads(
    con: duckdb.DuckDBPyConnection, load_by_file: dict[str, str], at: datetime
) -> None:
    """Record which load holds the current content of each export file found tonight.

    An unchanged set is left as it is, so its ``changed_at`` stays the night it last changed.
    """
    stored = con.execute(
        f"select source_file, load_id, changed_at is null from {CURRENT_TABLE}"
    ).fetchall()
    if {(file, load) for file, load, _ in stored} == set(load_by_file.items()) and not any(
        unstamped for *_, unstamped in stored
    ):
        return
    con.execute("begin transaction")
    try:
        con.execute(f"delete from {CURRENT_TABLE}")
        con.executemany(
            f"insert into {CURRENT_TABLE} values (?, ?, ?)",
            [(file, load, at) for file, load in load_by_file.items()],
        )
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise


def new_load_id(candidate: Candidate, at: datetime) -> str:
    return f"{at:%Y%m%dT%H%M%S%f}-{candidate.sha256[:12]}"


def archive(candidate: Candidate, landing_dir: Path, load_id: str) -> Path:
    """Keep the exact bytes that were read, with their sha256, under landing/<load_id>/."""
    folder = landing_dir / load_id
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / candidate.source_file
    shutil.copyfile(candidate.path, target)
    (folder / f"{candidate.source_file}.sha256").write_text(
        f"{candidate.sha256}  {candidate.source_file}\n", encoding="utf-8"
    )
    return target


def append_load(
    con: duckdb.DuckDBPyConnection,
    candidate: Candidate,
    load_id: str,
    loaded_at: datetime,
    parsed: ParseResult,
    archive_path: Path,
) -> FileLoad:
    """Append one file's values, rejects and load record in one transaction."""
    value_rows = _frame(parsed.rows, IndicatorValue)
    reject_rows = _frame(parsed.rejects, Reject)
    for frame in (value_rows, reject_rows):
        frame.insert(0, "load_id", load_id)
        frame.insert(1, "source_file", candidate.source_file)
    value_rows.insert(2, "source_sha256", candidate.sha256)
    value_rows.insert(3, "loaded_at", loaded_at)
    load = FileLoad(
        load_id, candidate.source_file, candidate.sha256,
        parsed.extracted, len(parsed.rows), len(parsed.rejects), archive_path, parsed.skipped,
    )  # fmt: skip
    con.execute("begin transaction")
    try:
        # The DataFrames are read by DuckDB's replacement scan of local variables.
        con.execute(f"insert into {BAROMETER_TABLE} by name select * from value_rows")
        con.execute(f"insert into {REJECTS_TABLE} by name select * from reject_rows")
        con.execute(
            f"insert into {LOADS_TABLE} (load_id, source_file, source_uri, source_sha256, "
            "loaded_at, layout, rows_extracted, rows_loaded, rows_rejected, rows_skipped, "
            "archive_path) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                load_id, candidate.source_file, candidate.source_uri, candidate.sha256,
                loaded_at, parsed.layout, load.extracted, load.loaded, load.rejected,
                parsed.skipped_total, str(archive_path),
            ],
        )  # fmt: skip
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    return load


def now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _frame(items: list, kind) -> pd.DataFrame:
    return pd.DataFrame([asdict(item) for item in items], columns=list(kind.__annotations__))
