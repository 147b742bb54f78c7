"""Erasure and retention of citizens (GDPR art. 17 and 5(1)(e)). Knows DuckDB, not Dagster.

A citizen is erased from every table of the warehouse that holds them, raw and built: every
base table with a ``citizen_id`` column loses their rows, and a ``previous_citizen_id`` naming
them is cleared. The dbt models downstream of the built tables touched are rebuilt by the next
night (``transform/dbt_process.py``: ``rebuild_downstream``), so its marts no longer count them.

Each erasure is recorded by pseudonym only (``raw.erased_citizens``: reason, erased_at, rows
erased), and the same record is appended to ``erasures.csv`` beside the warehouse file (0600):
a warehouse restored from a backup taken before the erasure lacks the table's rows, and
``reapply_erasures`` erases again from the file. A later extract that re-sends an erased citizen
is not loaded for them (``raw/cases.py``).

Retention: a citizen whose last case activity (an event's date or end date, or their arrival) is
more than ``BAROMETER_CASE_RETENTION_YEARS`` before the case data's own today (its latest
extract night, as the outcomes' as-of date) is erased every night the same way, with reason
``retention``. The data's own today, not the clock's, so a night over the same extracts gives
the same tables.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb

from orchestration.raw.cases import CASE_CITIZENS, CASE_EVENTS, ERASED_CITIZENS, ensure_case_tables
from orchestration.settings import Settings
from orchestration.sources.pseudonyms import pseudonym
from orchestration.transform.dbt_process import rebuild_downstream

RECORD_NAME = "erasures.csv"
RECORD_COLUMNS = ("citizen_id", "reason", "erased_at", "rows_erased")
REQUEST, RETENTION = "erasure", "retention"


class CprFileError(ValueError):
    """A CPR file that cannot be used: names the file and line, never the value."""


@dataclass(frozen=True)
class Erasure:
    citizens: int  # citizens erased (recorded), with rows or not
    citizens_found: int  # of them, the ones that had rows in the warehouse
    rows: int  # rows deleted, every table together
    tables: tuple[str, ...]  # the tables that lost rows


def pseudonyms_from_lines(lines: Iterable[str], source: str, key: str) -> list[str]:
    """The pseudonyms of a CPR file's numbers (one a line; blank lines and ``#`` comments are
    skipped), in file order without repeats. A malformed line stops it, by file and line."""
    found: dict[str, None] = {}
    for number, line in enumerate(lines, start=1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        try:
            found[pseudonym(text, key)] = None
        except ValueError as error:
            raise CprFileError(f"{source}, line {number}: {error}") from None
    return list(found)


def read_cpr_file(path: Path, key: str) -> list[str]:
    """The pseudonyms of the CPR numbers in ``path``; the numbers themselves are not kept."""
    try:
        with path.open(encoding="utf-8") as handle:
            return pseudonyms_from_lines(handle, str(path), key)
    except UnicodeDecodeError:
        raise CprFileError(f"{path}: not UTF-8 text") from None
    except OSError as error:
        raise CprFileError(f"{path} cannot be read: {error.strerror}") from None


def erase(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    citizen_ids: list[str],
    reason: str = REQUEST,
    erased_at: datetime | None = None,
    *,
    to_file: bool = True,
) -> Erasure:
    """Erase these pseudonyms from every table and record it, in one transaction of its own.
    ``to_file``: also append the record to ``erasures.csv`` (not when re-applying it)."""
    ensure_case_tables(con)
    erased_at = erased_at or datetime.now(UTC).replace(tzinfo=None)
    con.execute("begin transaction")
    try:
        con.execute(
            "create or replace temp table erasing as select unnest(?::varchar[]) as citizen_id",
            [list(dict.fromkeys(citizen_ids))],
        )
        rows, tables = _delete_everywhere(con)
        records = con.execute(
            f"""
            insert into {ERASED_CITIZENS}
            select erasing.citizen_id, ?, ?::timestamp, coalesce(deleted.rows, 0)
            from erasing
            left join (
                select citizen_id, sum(rows)::bigint as rows from erased_rows group by citizen_id
            ) as deleted using (citizen_id)
            anti join {ERASED_CITIZENS} as known
                on known.citizen_id = erasing.citizen_id
                and known.reason = ? and known.erased_at = ?::timestamp
            returning *
            """,
            [reason, erased_at, reason, erased_at],
        ).fetchall()
        if to_file:
            # On disk before the commit: an erasure the warehouse keeps is always in the file.
            _append_records(settings.warehouse_dir / RECORD_NAME, records)
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    finally:
        con.execute("drop table if exists erasing")
        con.execute("drop table if exists erased_rows")
    built = [table.split(".")[-1] for table in tables if not table.startswith("raw.")]
    rebuild_downstream(settings.dbt_state_dir, built)
    found = sum(1 for record in records if record[3])
    return Erasure(len(records), found, rows, tuple(tables))


def _delete_everywhere(con: duckdb.DuckDBPyConnection) -> tuple[int, list[str]]:
    """Delete the rows of the citizens in ``erasing`` from every base table (the erasure record
    itself aside); the rows deleted per citizen go to the temp table ``erased_rows``."""
    con.execute("create or replace temp table erased_rows (citizen_id varchar, rows bigint)")
    total, tables = 0, []
    for schema, table, column in _citizen_columns(con):
        target, where = f'"{schema}"."{table}"', f"{column} in (select citizen_id from erasing)"
        if column == "previous_citizen_id":
            # An event moved away from an erased citizen stays its new owner's: only the
            # reference to the erased one goes.
            changed = con.execute(f"update {target} set {column} = null where {where}")
        else:
            con.execute(
                f"insert into erased_rows select citizen_id, count(*) from {target} "
                f"where {where} group by citizen_id"
            )
            changed = con.execute(f"delete from {target} where {where}")
        count = changed.fetchone()[0]
        if count:
            total += count
            tables.append(f"{schema}.{table}")
    return total, sorted(set(tables))


def _citizen_columns(
    con: duckdb.DuckDBPyConnection, columns: tuple[str, ...] = ("citizen_id", "previous_citizen_id")
) -> list[tuple[str, str, str]]:
    """(schema, table, column) of every base table column that can name a citizen, the erasure
    record aside: found by name, so a new model holding citizens is covered without a change."""
    found = con.execute(
        """
        select c.table_schema, c.table_name, c.column_name
        from information_schema.columns as c
        inner join information_schema.tables as t using (table_catalog, table_schema, table_name)
        where t.table_type = 'BASE TABLE' and t.table_catalog = current_database()
            and list_contains(?, c.column_name)
        order by all
        """,
        [list(columns)],
    ).fetchall()
    return [row for row in found if f"{row[0]}.{row[1]}" != ERASED_CITIZENS]


def _append_records(path: Path, records: list[tuple]) -> None:
    """Append to the private record file, readable by the owner only, flushed to disk."""
    new = not path.exists()
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.fchmod(descriptor, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        if new:
            writer.writerow(RECORD_COLUMNS)
        writer.writerows(
            (citizen_id, reason, at.isoformat(sep=" "), rows)
            for citizen_id, reason, at, rows in records
        )
        handle.flush()
        os.fsync(handle.fileno())


def expired_citizens(con: duckdb.DuckDBPyConnection, retention_years: int) -> list[str]:
    """Citizens whose last case activity is more than ``retention_years`` before the latest
    extract night; none when no extract was loaded."""
    ensure_case_tables(con)
    today = con.execute(
        f"select greatest((select max(extract_date) from {CASE_EVENTS}), "
        f"(select max(extract_date) from {CASE_CITIZENS}))"
    ).fetchone()[0]
    if today is None:
        return []
    cutoff = _years_before(today, retention_years)
    # Nobody can have expired when every event and every citizen row has a date since the
    # cutoff: each citizen then has activity since it. Two filtered counts, which DuckDB
    # answers mostly from each row group's minimum, instead of grouping every row by citizen.
    older = con.execute(
        f"""
        select
            (select count(*) from {CASE_EVENTS} where event_date is null or event_date < ?)
            + (select count(*) from {CASE_CITIZENS} where arrival_date is null or arrival_date < ?)
        """,
        [cutoff, cutoff],
    ).fetchone()[0]
    if not older:
        return []
    rows = con.execute(
        f"""
        with activity as (
            select citizen_id, event_date as activity_date from {CASE_EVENTS}
            union all
            select citizen_id, end_date from {CASE_EVENTS}
            union all
            select citizen_id, arrival_date from {CASE_CITIZENS}
        )
        select citizen_id from activity
        group by citizen_id
        having coalesce(max(activity_date), date '0001-01-01') < ?
        order by citizen_id
        """,
        [cutoff],
    ).fetchall()
    return [citizen_id for (citizen_id,) in rows]


def expire_citizens(con: duckdb.DuckDBPyConnection, settings: Settings) -> Erasure | None:
    """The night's retention step: erase every expired citizen; None when nobody expired."""
    expired = expired_citizens(con, settings.case_retention_years)
    return erase(con, settings, expired, RETENTION) if expired else None


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def reapply_erasures(con: duckdb.DuckDBPyConnection, settings: Settings) -> int:
    """After a restore: erase again every citizen of ``erasures.csv`` that the warehouse still
    holds or has no record of (a backup taken before their erasure). Returns how many."""
    path = settings.warehouse_dir / RECORD_NAME
    if not path.exists():
        return 0
    ensure_case_tables(con)
    with path.open(encoding="utf-8", newline="") as handle:
        recorded = list(csv.DictReader(handle))
    known = {row[0] for row in con.execute(f"select citizen_id from {ERASED_CITIZENS}").fetchall()}
    held = _held_citizens(con, [r["citizen_id"] for r in recorded])
    again = [r for r in recorded if r["citizen_id"] in held or r["citizen_id"] not in known]
    # Each with its reason and time as first recorded; the file has them already.
    for (reason, erased_at), group in _grouped(again).items():
        erase(con, settings, group, reason, datetime.fromisoformat(erased_at), to_file=False)
    return len({r["citizen_id"] for r in again})


def _held_citizens(con: duckdb.DuckDBPyConnection, citizen_ids: list[str]) -> set[str]:
    """The citizens among ``citizen_ids`` that some table (the record aside) still holds."""
    held: set[str] = set()
    for schema, table, column in _citizen_columns(con, ("citizen_id",)):
        rows = con.execute(
            f'select distinct {column} from "{schema}"."{table}" where list_contains(?, {column})',
            [citizen_ids],
        ).fetchall()
        held |= {row[0] for row in rows}
    return held


def _grouped(records: list[dict]) -> dict[tuple[str, str], list[str]]:
    groups: dict[tuple[str, str], list[str]] = {}
    for record in records:
        groups.setdefault((record["reason"], record["erased_at"]), []).append(record["citizen_id"])
    return groups
