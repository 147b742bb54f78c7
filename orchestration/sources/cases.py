"""Parser for the case system's nightly extracts (docs/data.md §5), free of Dagster and dbt.

One pair of files per night: ``citizens_YYYYMMDD.csv`` and ``events_YYYYMMDD.csv``, UTF-8,
``;``-separated, with a header. Each file is read by DuckDB in a private in-memory connection
whose spilling to disk is switched off, so a CPR number never touches a disk. Three vectorised
passes, no Python object per row: (1) every record checked, giving the count and the rejects;
(2) one pseudonym per distinct valid CPR number, a temp table of that connection; (3) the
readable rows with the pseudonym instead of the CPR number, handed out as Arrow batches. Only
pseudonymised rows ever leave the connection.

Protection rules, applied here and nowhere later:
- ``cpr`` becomes ``citizen_id`` = HMAC-SHA256(key, the 10 digits without the dash), the first
  128 bits of its hex digest written with the letters a–p (0→a … f→p). A pseudonym therefore
  holds no digit at all: it can never be shaped like a CPR number. ``DDMMYY-XXXX`` and
  ``DDMMYYXXXX`` give the same pseudonym.
- ``fornavn``, ``efternavn`` and any column not listed below are never read into a row;
  ``foedselsdato`` is reduced to the birth year.
- A CPR-shaped run of digits in any kept text field (free text such as ``detalje``) is replaced
  by ``[cpr fjernet]``.
- A row that cannot be read (an invalid CPR number, an unreadable date or id) is a reject,
  identified by file, line and reason, never by its values. Errors never quote a line.

Every dimension a published cell is cut by is total, so no citizen can fall out of every part
of a margin and be found by subtraction (README, "Small cells"):
- a blank ``koen``, ``program`` or ``foedselsdato`` becomes the explicit member ``unknown`` (a
  null birth year, whose age band is ``unknown``): the citizen is counted and protected like
  any other;
- a ``koen`` other than M or K, a ``program`` not in ``seeds/reference/case_programmes.csv``,
  a missing or unreadable ``ankomstdato`` (the cohort itself) or an unreadable birth date is a
  reject.
"""

from __future__ import annotations

import csv
import hashlib
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import duckdb
import pyarrow as pa

from orchestration.sources.case_sql import checked_sql, pseudonyms_sql, rows_sql, scan_sql
from orchestration.sources.pseudonyms import hmac_pads

EXTRACT_NAME = re.compile(r"^(citizens|events)_(\d{8})\.csv$")

CITIZEN_COLUMNS = (
    "cpr", "fornavn", "efternavn", "foedselsdato", "koen", "statsborgerskab", "ankomstdato",
    "program", "asylcenter",
)  # fmt: skip
EVENT_COLUMNS = (
    "event_id", "cpr", "haendelse", "dato", "slutdato", "detalje", "erstatter_event_id",
    "annulleret",
)  # fmt: skip
REQUIRED_COLUMNS = {"citizens": CITIZEN_COLUMNS, "events": EVENT_COLUMNS}

_READ_CHUNK = 8 * 1024 * 1024


class CaseExtractError(ValueError):
    """A file that cannot be read as a case extract at all, located to file, line and column.

    The reason is always our own words: never the content of a line, which may hold a CPR number.
    """

    def __init__(self, source: str, line: int, column: str | None, reason: str):
        self.source, self.line, self.column, self.reason = source, line, column, reason
        where = f"{source}, line {line}" + (f", column '{column}'" if column else "")
        super().__init__(f"{where}: {reason}")


@dataclass(frozen=True)
class Extract:
    """One extract file as found in the source folder: never copied, only described."""

    path: Path
    kind: str  # citizens | events
    extract_date: date
    sha256: str
    line_count: int  # physical lines, header included
    size: int = 0
    mtime_ns: int = 0

    @property
    def name(self) -> str:
        return self.path.name


@dataclass(frozen=True)
class Reject:
    source_file: str
    line: int
    reason: str


def describe_extract(path: Path) -> Extract:
    """Name, kind, night, sha256 and line count of one extract, in one streaming read."""
    match = EXTRACT_NAME.match(path.name)
    if not match:
        raise CaseExtractError(
            path.name, 1, None, "not named citizens_YYYYMMDD.csv or events_YYYYMMDD.csv"
        )
    try:
        night = datetime.strptime(match.group(2), "%Y%m%d").date()
    except ValueError:
        raise CaseExtractError(
            path.name, 1, None, "the date in the file name is not a date"
        ) from None
    digest, newlines, last = hashlib.sha256(), 0, b"\n"
    with path.open("rb") as handle:
        while chunk := handle.read(_READ_CHUNK):
            digest.update(chunk)
            newlines += chunk.count(b"\n")
            last = chunk[-1:]
    lines = newlines + (0 if last == b"\n" else 1)
    _, size, mtime_ns = file_stamp(path)
    return Extract(path, match.group(1), night, digest.hexdigest(), lines, size, mtime_ns)


def find_extract_paths(folder: Path) -> list[Path]:
    """The extract files of a folder, oldest night first; a night's citizens before its events."""
    paths = sorted(folder.glob("citizens_*.csv")) + sorted(folder.glob("events_*.csv"))
    for path in paths:
        if not EXTRACT_NAME.match(path.name):
            raise CaseExtractError(
                path.name, 1, None, "not named citizens_YYYYMMDD.csv or events_YYYYMMDD.csv"
            )
    return sorted(paths, key=lambda p: (p.stem.split("_")[1], not p.name.startswith("citizens")))


def find_extracts(folder: Path) -> list[Extract]:
    """Every extract in the folder, described (sha256, line count), in night order."""
    return [describe_extract(path) for path in find_extract_paths(folder)]


def file_stamp(path: Path) -> tuple[str, int, int]:
    """Name, size and modification time: a file with the stamp of a loaded one is that file."""
    stat = path.stat()
    return path.name, stat.st_size, stat.st_mtime_ns


# --- reading ------------------------------------------------------------------------------------


@dataclass
class ParsedExtract:
    """An extract being read: its rejects are known, its rows stream from ``batches()``."""

    extract: Extract
    records: int
    rejects: list[Reject]
    masked_values: int
    _con: duckdb.DuckDBPyConnection
    _rows_sql: str

    def batches(self, rows_per_batch: int = 200_000) -> pa.RecordBatchReader:
        """The readable rows, pseudonymised, as Arrow batches (valid while the ``with`` lasts)."""
        return self._con.sql(self._rows_sql).to_arrow_reader(rows_per_batch)

    def release(self) -> None:
        """Close the private connection once the rows are read: its memory (the pseudonym of
        every CPR number of the file, the join) goes before the load's own work after it."""
        self._con.close()


def load_case_programmes(reference_dir: Path) -> frozenset[str]:
    """The programme codes a citizen may be in (``case_programmes.csv``), ``unknown`` included."""
    with (reference_dir / "case_programmes.csv").open(encoding="utf-8", newline="") as handle:
        return frozenset(row["programme"] for row in csv.DictReader(handle))


@contextmanager
def read_extract(extract: Extract, key: str, programmes: frozenset[str]) -> Iterator[ParsedExtract]:
    """Read one extract: the rejects first (one pass), then the rows on demand (a second pass).

    ``programmes``: the known programme codes (``load_case_programmes``); any other is a reject.
    """
    header = _read_header(extract)
    con = duckdb.connect(config={"temp_directory": ""})  # in memory, and never spilled to disk
    try:
        ipad, opad = hmac_pads(key)
        # The key pads as constant macros of this private in-memory connection: bound once, not
        # looked up per row. They never appear in the text of a query over the file.
        con.execute(f"create temp macro hmac_ipad() as unhex('{ipad.hex()}')")
        con.execute(f"create temp macro hmac_opad() as unhex('{opad.hex()}')")
        # One pass: the number of records and the few that need a look (rejects, line breaks
        # inside a field, masked values).
        problems_sql = (
            " select count(*), list({'record_no': record_no, 'newlines': newlines, "
            "'reasons': reasons, 'masked': masked} order by record_no) "
            "filter (where len(reasons) > 0 or newlines > 0 or masked > 0) from checked"
        )
        parallel = True
        _refuse_extra_fields(con, extract)
        checked = checked_sql(extract, header, programmes, parallel)
        try:
            records, problems = _run(con, extract, checked + problems_sql).fetchall()[0]
        except _NeedsSerialReader:
            # Quoted line breaks inside a field: DuckDB's parallel reader cannot pad short rows.
            parallel = False
            checked = checked_sql(extract, header, programmes, parallel)
            records, problems = _run(con, extract, checked + problems_sql).fetchall()[0]
        _run(con, extract, pseudonyms_sql(extract, header, parallel)).fetchall()
        offsets, rejects, rejected, masked, shift = [], [], [], 0, 0
        for problem in problems or []:
            record_no, newlines = problem["record_no"], problem["newlines"]
            reasons, masked_fields = problem["reasons"], problem["masked"]
            line = record_no + 1 + shift  # +1: the header line
            if reasons:
                rejects.append(Reject(extract.name, line, "; ".join(reasons)))
                rejected.append(record_no)
            masked += masked_fields
            if newlines:
                shift += newlines
                offsets.append((record_no, shift))
        yield ParsedExtract(
            extract,
            records,
            rejects,
            masked,
            con,
            rows_sql(con, extract, checked, offsets, rejected),
        )
    finally:
        con.close()


def _refuse_extra_fields(con: duckdb.DuckDBPyConnection, extract: Extract) -> None:
    """A line with more fields than the header fails the file, wherever it stands.

    Beyond DuckDB's sniffing sample such a line is an error of the reader; within it, the
    reader adds columns instead: find the first line that fills one.
    """
    with extract.path.open("rb") as handle:
        width = handle.readline().count(b";") + 1
    result = _run(con, extract, f"{scan_sql(extract)} select * from scan limit 0")
    columns = result.description
    result.fetchall()
    extra = [f"#{position}" for position in range(width + 2, len(columns) + 1)]
    if not extra:
        return
    first = _run(
        con,
        extract,
        f"{scan_sql(extract, parallel=False)} select min(record_no) from scan "
        f"where coalesce({', '.join(extra)}) is not null",
    ).fetchall()[0][0]
    raise CaseExtractError(extract.name, (first or 0) + 1, None, "more fields than the header")


def _read_header(extract: Extract) -> dict[str, int]:
    """Required column -> position in the header line (names match in any case)."""
    with extract.path.open("rb") as handle:
        first = handle.readline()
    if not first.strip():
        raise CaseExtractError(extract.name, 1, None, "the file is empty")
    try:
        text = first.decode("utf-8-sig").rstrip("\r\n")
    except UnicodeDecodeError:
        raise CaseExtractError(extract.name, 1, None, "the header is not UTF-8 text") from None
    names = [name.strip().strip('"').lower() for name in text.split(";")]
    positions = {}
    for column in REQUIRED_COLUMNS[extract.kind]:
        if column not in names:
            raise CaseExtractError(extract.name, 1, column, "required column is missing")
        positions[column] = names.index(column)
    return positions


def _run(con: duckdb.DuckDBPyConnection, extract: Extract, sql: str):
    """Run a query over the file; a DuckDB error becomes a CaseExtractError without its text.

    DuckDB's CSV errors quote the offending line, which may hold a CPR number: only the line
    number and our own words for the kind of problem leave this function.
    """
    failure = None
    try:
        return con.execute(sql)
    except duckdb.Error as error:
        if "parallel=false" in str(error):
            failure = "serial"
        else:
            failure = _describe_duckdb_error(str(error))
    if failure == "serial":
        raise _NeedsSerialReader()
    if failure[2] == _UNCLOSED_QUOTE or failure[2] == _NOT_READABLE:
        # DuckDB's sniffer names no line, and its reader the line it stopped at: find the
        # quote that is never closed ourselves.
        opened = _unclosed_quote_line(extract.path)
        if opened is not None:
            failure = (opened, None, _UNCLOSED_QUOTE)
    raise CaseExtractError(extract.name, *failure)


def _unclosed_quote_line(path: Path) -> int | None:
    """The line where a quoted field opens that the file never closes, if one does.

    Quotes inside a quoted field are doubled, so a field is open exactly while the file so far
    holds an odd number of quotes.
    """
    opened, quotes = None, 0
    with path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            count = line.count(b'"')
            if quotes % 2 == 0 and count % 2:
                opened = number
            quotes += count
    return opened if quotes % 2 else None


class _NeedsSerialReader(Exception):
    """The file has quoted line breaks: read it again with DuckDB's serial CSV reader."""


_UNCLOSED_QUOTE = 'unclosed quote: a field opened with " on this line is never closed'
_NOT_READABLE = "not a readable ';'-separated extract"


def _describe_duckdb_error(message: str) -> tuple[int, None, str]:
    line_match = re.search(r"Line: (\d+)", message)
    line = int(line_match.group(1)) if line_match else 1
    # The sniffer's message lists the encoding it tried ("Encoding: utf-8") whatever failed.
    if "invalid unicode" in message.lower():
        reason = "not UTF-8 text"
    elif "Expected Number of Columns" in message:
        reason = "more fields than the header"
    elif "quote" in message.lower() and "sniffing" not in message:
        reason = _UNCLOSED_QUOTE
    else:
        reason = _NOT_READABLE
    return line, None, reason
