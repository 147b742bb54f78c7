"""``marts.publication``: one row per published night, so a reader can tell what the file holds.

Written by publishing, not by dbt: the row describes the publication itself (when, from which
code, which barometer year of each indicator, which case night, from which files). Each night's
serving file carries the rows of the previous one plus tonight's, so the history travels with the
file. Knows DuckDB, not Dagster.

``source_files`` lists every current barometer export, and the case extracts that entered the
warehouse since the previous publication (all of them in the first row). Case extracts are deltas
that all stay in force, so the full set behind a night is its row's and every earlier row's;
listing all of them in every row would make the table grow with the square of the nights.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from orchestration.publish.serving_metadata import TableDoc, comment_table
from orchestration.raw.cases import CASE_LOADS
from orchestration.raw.store import BAROMETER_TABLE, CURRENT_TABLE, LOADS_TABLE

PUBLICATION_TABLE = "publication"

# name: (type, description). Text columns hold JSON, which Superset, Power BI (Json.Document)
# and DuckDB (->>, json_each) all read; a DuckDB MAP or STRUCT is not shown by every client.
_COLUMNS = {
    "published_at": ("timestamp", "When this file was published, in UTC."),
    "code_commit": (
        "varchar",
        "The git commit of the warehouse code that published it; null when the code was not a "
        "git checkout.",
    ),
    "barometer_data_years": (
        "varchar",
        'JSON object: the latest year of each indicator in the barometer data, e.g. {"1.2": 2024}.',
    ),
    "case_extract_night": (
        "date",
        "The latest night of the case system's extracts in the data; null without case data.",
    ),
    "source_files": (
        "varchar",
        "JSON array of the files behind this publication, each with kind (barometer, citizens, "
        "events), file, sha256 and load_id or extract_night: every current barometer export, and "
        "the case extracts loaded since the previous publication (earlier ones are in earlier "
        "rows and stay in force).",
    ),
}
# The same table on a PostgreSQL server (engines/postgres/publish.py): the types mean the same.
PUBLICATION_COLUMN_TYPES = {name: kind for name, (kind, _) in _COLUMNS.items()}
PUBLICATION_DOC = TableDoc(
    description=(
        "One row per published night: when, from which code, which barometer year of each "
        "indicator and which case night the file holds, and the source files with their sha256. "
        "Written by publishing; the newest row describes this file."
    ),
    columns={name: description for name, (_, description) in _COLUMNS.items()},
    primary_key=("published_at",),
)

_BAROMETER_YEARS = f"""
select indicator_code, max(year) as year
from {BAROMETER_TABLE}
where load_id in (select load_id from {CURRENT_TABLE})
group by indicator_code
order by indicator_code
"""

_BAROMETER_FILES = f"""
select 'barometer' as kind, l.source_file as file, l.source_sha256 as sha256, l.load_id
from {CURRENT_TABLE} as c
inner join {LOADS_TABLE} as l using (load_id)
order by l.source_file
"""

_CASE_FILES = f"""
select source_kind as kind, source_file as file, source_sha256 as sha256,
    strftime(extract_date, '%Y-%m-%d') as extract_night
from {CASE_LOADS}
where $since is null or loaded_at > $since
order by extract_date, source_file
"""


def tonights_publication(
    con: duckdb.DuckDBPyConnection, project_root: Path, previous_published_at: datetime | None
) -> dict[str, object]:
    """The row that describes the publication about to be made from the warehouse ``con``."""
    years = {code: year for code, year in con.execute(_BAROMETER_YEARS).fetchall()}
    files = _records(con, _BAROMETER_FILES) + _records(
        con, _CASE_FILES, {"since": previous_published_at}
    )
    [(night,)] = con.execute(f"select max(extract_date) from {CASE_LOADS}").fetchall()
    return {
        "published_at": datetime.now(UTC).replace(tzinfo=None),
        "code_commit": git_commit(project_root),
        "barometer_data_years": json.dumps(years),
        "case_extract_night": night,
        "source_files": json.dumps(files),
    }


def _records(con, sql: str, parameters: dict | None = None) -> list[dict]:
    cursor = con.execute(sql, parameters)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def git_commit(project_root: Path) -> str | None:
    """HEAD of ``project_root`` if it is the top of a git checkout; else None.

    The top-level check keeps a deployed copy inside some other repository from reporting that
    repository's commit.
    """
    try:
        result = subprocess.run(
            ["git", "rev-parse", "--show-toplevel", "HEAD"],
            cwd=project_root,
            capture_output=True,
            text=True,
            timeout=10,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    lines = result.stdout.split()
    if result.returncode != 0 or len(lines) != 2:
        return None
    top, commit = lines
    return commit if Path(top).resolve() == project_root.resolve() else None


def previous_published_at(
    con: duckdb.DuckDBPyConnection, previous_serving: Path
) -> datetime | None:
    """When the file now being served was published; None if it has no publication rows."""
    with _previous(con, previous_serving) as previous:
        if previous is None:
            return None
        return con.execute(f"select max(published_at) from {previous}").fetchone()[0]


def published_at(serving: Path) -> datetime | None:
    """When the serving file ``serving`` was published (its newest row); None without one."""
    if not serving.is_file():
        return None
    with duckdb.connect(str(serving), read_only=True) as con:
        return con.execute(f"select max(published_at) from marts.{PUBLICATION_TABLE}").fetchone()[0]


def write_publication(
    con: duckdb.DuckDBPyConnection,
    target_schema: str,
    previous_serving: Path,
    row: dict[str, object],
) -> int:
    """Create ``<target_schema>.publication``: the previous file's rows and tonight's row."""
    target = f"{target_schema}.{PUBLICATION_TABLE}"
    columns = ", ".join(f"{name} {kind}" for name, (kind, _) in _COLUMNS.items())
    key = ", ".join(PUBLICATION_DOC.primary_key)
    con.execute(f"create table {target} ({columns}, primary key ({key}))")
    with _previous(con, previous_serving) as previous:
        if previous is not None:
            # By name: a column added later is null in older rows instead of failing.
            con.execute(f"insert into {target} by name select * from {previous}")
    names = list(_COLUMNS)
    con.execute(
        f"insert into {target} ({', '.join(names)}) values ({', '.join('?' * len(names))})",
        [row[name] for name in names],
    )
    comment_table(con, target, PUBLICATION_DOC)
    return con.execute(f"select count(*) from {target}").fetchone()[0]


@contextmanager
def _previous(con: duckdb.DuckDBPyConnection, previous_serving: Path) -> Iterator[str | None]:
    """The previous file's publication table, attached read-only; None if it has none."""
    if not previous_serving.exists():
        yield None
        return
    con.execute(f"attach '{previous_serving}' as previous_publication (read_only)")
    try:
        found = con.execute(
            "select 1 from duckdb_tables() where database_name = 'previous_publication' "
            "and schema_name = 'marts' and table_name = ?",
            [PUBLICATION_TABLE],
        ).fetchall()
        yield f"previous_publication.marts.{PUBLICATION_TABLE}" if found else None
    finally:
        con.execute("detach previous_publication")
