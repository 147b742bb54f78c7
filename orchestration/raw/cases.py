"""The raw layer of the case data: keyed, pseudonymised landing tables. Knows DuckDB, not Dagster.

Unlike the barometer's append-only snapshots, case extracts are nightly deltas, so they are merged:
- ``raw.case_events``: one row per ``event_id``, the version from the latest extract (a
  correction re-sent under the same id replaces it; an older extract loaded late never wins).
- ``raw.case_citizens``: one row per citizen and extract night, so attributes such as the
  programme are dated; staging takes the latest.
- ``raw.case_loads``: what was loaded from which file: name, sha256, line counts, rows, rejects.
  The files themselves are never copied into the warehouse: they hold CPR numbers.
- ``raw.case_rejects``: rows that could not be read, by file, line and reason; never a value.
- ``raw.erased_citizens``: the pseudonyms of citizens erased (on request, or expired by the
  retention period; ``raw/erasure.py``). A later extract's rows for them are not loaded: they
  are rejects with the reason ``erased citizen``.

Loading the same file again changes nothing, and loading the extracts night by night gives the
same tables as loading them all at once.

Several extracts loaded in one transaction (a first load, a night after an outage) go newest night
first (``newest_first``): a row that a later night replaces is then never inserted, rather than
inserted and deleted. DuckDB commits the bulk rows of a transaction as the blocks it has already
written, unless the transaction deleted some of them: then it writes every one of them again at
commit (24 s of a 126 s first load of 30 M events).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime

import duckdb
import pyarrow as pa

from orchestration.sources.cases import CaseExtractError, Extract, ParsedExtract, Reject

CASE_LOADS = "raw.case_loads"
CASE_CITIZENS = "raw.case_citizens"
CASE_EVENTS = "raw.case_events"
CASE_REJECTS = "raw.case_rejects"
ERASED_CITIZENS = "raw.erased_citizens"
ERASED_REASON = "erased citizen"

_DDL = [
    f"""
create table if not exists {CASE_LOADS} (
    source_file varchar not null,
    source_kind varchar not null,
    extract_date date not null,
    source_sha256 varchar not null,
    line_count bigint not null,
    records bigint not null,
    rows_loaded bigint not null,
    rows_rejected bigint not null,
    values_masked bigint not null,
    key_fingerprint varchar not null,
    file_size bigint not null,
    file_mtime_ns bigint not null,
    loaded_at timestamp not null
)""",
    f"""
create table if not exists {CASE_CITIZENS} (
    citizen_id varchar not null,
    birth_year integer,
    sex varchar,
    citizenship varchar,
    arrival_date date,
    programme varchar,
    asylum_centre varchar,
    extract_date date not null,
    source_file varchar not null,
    source_line integer not null,
    loaded_at timestamp not null
)""",
    f"""
create table if not exists {CASE_EVENTS} (
    event_id bigint not null,
    citizen_id varchar not null,
    event_type varchar,
    event_date date,
    end_date date,
    detail varchar,
    replaces_event_id bigint,
    is_cancelled boolean not null,
    extract_date date not null,
    source_file varchar not null,
    source_line integer not null,
    loaded_at timestamp not null
)""",
    f"""
create table if not exists {CASE_REJECTS} (
    source_file varchar not null,
    source_sha256 varchar not null,
    line integer not null,
    reason varchar not null,
    loaded_at timestamp not null
)""",
    f"""
create table if not exists {ERASED_CITIZENS} (
    citizen_id varchar not null,
    reason varchar not null,
    erased_at timestamp not null,
    rows_erased bigint not null
)""",
]

# The key of each table, and the order in which the latest version of a key wins.
_KEYS = {
    CASE_EVENTS: ("event_id",),
    CASE_CITIZENS: ("citizen_id", "extract_date"),
}
_LATEST_FIRST = "extract_date desc, loaded_at desc, source_line desc"


@dataclass(frozen=True)
class CaseLoad:
    source_file: str
    kind: str
    sha256: str
    records: int
    rows_loaded: int
    rows_rejected: int
    values_masked: int
    rows_erased: int = 0  # rows of erased citizens, not loaded (counted in rows_rejected too)


def ensure_case_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("create schema if not exists raw")
    for ddl in _DDL:
        con.execute(ddl)


def loaded_sha256s(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {row[0] for row in con.execute(f"select source_sha256 from {CASE_LOADS}").fetchall()}


def loaded_stamps(con: duckdb.DuckDBPyConnection) -> set[tuple[str, int, int]]:
    """(name, size, mtime_ns) of every file loaded: such a file need not be hashed again."""
    rows = con.execute(f"select source_file, file_size, file_mtime_ns from {CASE_LOADS}").fetchall()
    return {tuple(row) for row in rows}


def key_fingerprints(con: duckdb.DuckDBPyConnection) -> set[str]:
    rows = con.execute(f"select distinct key_fingerprint from {CASE_LOADS}").fetchall()
    return {row[0] for row in rows}


def load_extract(
    con: duckdb.DuckDBPyConnection,
    parsed: ParsedExtract,
    loaded_at: datetime,
    key_fingerprint: str,
) -> CaseLoad:
    """Merge one parsed extract into its raw table; the caller owns the transaction."""
    extract = parsed.extract
    table = CASE_EVENTS if extract.kind == "events" else CASE_CITIZENS
    stamp = [extract.extract_date, extract.name, loaded_at]
    # An event's version from a later night, already in the table, wins: this extract's version
    # is read but not inserted. (`not in`: an anti join takes twice as long over the stream; a
    # null id, which the parser rejects, would still reach the insert and fail it. A citizen's
    # key holds the night, so no other night has a version of it.)
    replaced = (
        "where event_id is null or event_id not in "
        f"(select event_id from {table} where extract_date > ?)"
        if table == CASE_EVENTS
        else ""
    )
    batches = _CountedBatches(parsed.batches())
    con.register("case_batches", batches.reader)
    try:
        con.execute(
            f"insert into {table} by name "
            "select *, ?::date as extract_date, ? as source_file, ?::timestamp as loaded_at "
            f"from case_batches {replaced}",
            stamp + ([extract.extract_date] if replaced else []),
        ).fetchall()
    finally:
        con.unregister("case_batches")
        parsed.release()
    rows = batches.rows
    if rows != parsed.records - len(parsed.rejects):
        # The rows pass leaves out the records the first pass rejected, by number: a file that
        # changed between the passes is refused, never loaded half-checked.
        raise CaseExtractError(extract.name, 1, None, "the file changed while it was read")
    # An erased citizen stays erased: rows a later extract re-sends for them are not kept.
    erased = con.execute(
        f"delete from {table} where source_file = ? and loaded_at = ? "
        f"and citizen_id in (select citizen_id from {ERASED_CITIZENS}) returning source_line",
        [extract.name, loaded_at],
    ).fetchall()
    rows -= len(erased)
    rejects = parsed.rejects + [Reject(extract.name, line, ERASED_REASON) for (line,) in erased]
    _keep_latest_versions(con, table, extract.name, loaded_at, extract.extract_date)
    # Keyed by the file's sha256 too: a forced re-load of the same file does not double them.
    for log_table in (CASE_REJECTS, CASE_LOADS):
        con.execute(f"delete from {log_table} where source_sha256 = ?", [extract.sha256]).fetchall()
    if rejects:
        con.executemany(
            f"insert into {CASE_REJECTS} values (?, ?, ?, ?, ?)",
            [(r.source_file, extract.sha256, r.line, r.reason, loaded_at) for r in rejects],
        )
    con.execute(
        f"insert into {CASE_LOADS} values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            extract.name,
            extract.kind,
            extract.extract_date,
            extract.sha256,
            extract.line_count,
            parsed.records,
            rows,
            len(rejects),
            parsed.masked_values,
            key_fingerprint,
            extract.size,
            extract.mtime_ns,
            loaded_at,
        ],
    )
    return CaseLoad(
        extract.name, extract.kind, extract.sha256, parsed.records, rows,
        len(rejects), parsed.masked_values, len(erased),
    )  # fmt: skip


def _keep_latest_versions(
    con: duckdb.DuckDBPyConnection,
    table: str,
    source_file: str,
    loaded_at: datetime,
    extract_date: date,
) -> None:
    """Delete every older version of the keys this load touched: a merge, not an append.

    A key has versions to choose from when this load holds it twice or another load of the
    same night or before holds it too (a later night's version kept this one out). When no
    such load has rows (the first, big extract, even after the later nights of its run), only
    the first can be: one aggregation over this load. Otherwise (a night's few thousand rows)
    the keys this load touched are looked up among all rows, the hash table built on those
    keys. Then only the rows of keys with versions are ranked, latest first.
    """
    key = ", ".join(_KEYS[table])
    this_load = "source_file = ? and loaded_at = ?"
    others = con.execute(
        f"select count(*) from {table} where not ({this_load}) and extract_date <= ?",
        [source_file, loaded_at, extract_date],
    ).fetchone()[0]
    if others:
        versioned = f"""
            with touched as (select distinct {key} from {table} where {this_load})
            select {key} from {table} semi join touched using ({key})
            group by {key}
            having count(*) > 1"""
    else:
        versioned = (
            f"select {key} from {table} where {this_load} group by {key} having count(*) > 1"
        )
    con.execute(
        f"""
        delete from {table} where rowid in (
            with versioned as ({versioned})
            select t.rowid from {table} as t semi join versioned using ({key})
            qualify row_number() over (partition by {key} order by {_LATEST_FIRST}) > 1
        )
        """,
        [source_file, loaded_at],
    ).fetchall()


def newest_first(extracts: Sequence[Extract]) -> list[Extract]:
    """The order to load several extracts in one transaction: newest night first, so that no
    row is inserted that a later night replaces (the module's docstring)."""
    return sorted(extracts, key=lambda extract: extract.extract_date)[::-1]


class _CountedBatches:
    """The rows of an extract as the insert reads them, counted: the rows a later night
    replaces are read, and count as loaded, but are not inserted."""

    def __init__(self, batches: pa.RecordBatchReader):
        self.rows = 0
        self.reader = pa.RecordBatchReader.from_batches(batches.schema, self._counted(batches))

    def _counted(self, batches: pa.RecordBatchReader) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            self.rows += batch.num_rows
            yield batch


def table_rows(con: duckdb.DuckDBPyConnection, table: str) -> int:
    return con.execute(f"select count(*) from {table}").fetchone()[0]
