"""Read an export file into lines of cells, whatever its container: CSV or Excel.

CSV: UTF-8 with or without BOM or Windows-1252; ``;``, ``,`` or tab separated (a ``,``
separated file writes decimals with a point); CRLF or LF. Excel (.xlsx): the first sheet or a
named one, every row of it whatever size the workbook records for the sheet. Title rows above
the header and notes below the data (``Kilde: ...``, ``Anm.: ...``) are set aside, not read as
data. Knows nothing of what the columns mean.

Nothing that can be read is dropped: a CSV line longer than ``ReadLimits.max_line_chars`` (or
one the CSV reader refuses) and an Excel cell that cannot be read stay in the grid, marked, so
the parser turns them into rejects. A workbook that would unpack to more than
``ReadLimits.max_xlsx_uncompressed_bytes`` is refused before anything is unpacked.
"""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from orchestration.sources.errors import ExportFormatError

NOTE_PREFIXES = ("kilde", "anm", "note", "noter", "source", "*")
_DELIMITERS = (";", ",", "\t")
_HEADER_SEARCH_LINES = 30
_EXCERPT_CHARS = 200  # of a refused line, as its reject keeps it


@dataclass(frozen=True)
class ReadLimits:
    """How much of one file is read (BAROMETER_CSV_MAX_LINE_CHARS and
    BAROMETER_XLSX_MAX_UNCOMPRESSED_BYTES; the defaults are theirs)."""

    max_line_chars: int = 100_000
    max_xlsx_uncompressed_bytes: int = 200_000_000


DEFAULT_LIMITS = ReadLimits()


@dataclass(frozen=True)
class Unreadable:
    """An Excel cell that cannot be read (``excel.py``): the reason, never a guess at its value."""

    reason: str

    def __str__(self) -> str:
        return "#UNREADABLE"


@dataclass(frozen=True)
class Line:
    number: int  # physical line in a CSV file, row number in a sheet
    cells: list  # str, or float/int/datetime/Unreadable for Excel cells
    text: str  # the line as written, for rejects
    problem: str | None = None  # why the whole line cannot be read (its cells are then empty)

    def cell(self, index: int):
        """The cell at ``index``, stripped; "" past the end of a short line."""
        if index >= len(self.cells):
            return ""
        cell = self.cells[index]
        return cell.strip() if isinstance(cell, str) else cell


@dataclass(frozen=True)
class Grid:
    source: str
    header: list[str]
    header_line: int
    lines: list[Line]  # data lines only: no blanks, titles or notes
    decimal_mark: str
    container: str  # e.g. "csv ; utf-8" or "xlsx sheet 'Ark1'"


def read_grid(
    path: Path,
    is_header: Callable[[list[str]], bool],
    sheet: str | None = None,
    limits: ReadLimits = DEFAULT_LIMITS,
) -> Grid:
    """Read ``path``; ``is_header`` recognises the header line among the first lines."""
    if path.suffix.lower() == ".xlsx":
        return _read_xlsx(path, is_header, sheet, limits.max_xlsx_uncompressed_bytes)
    return _read_csv(path, is_header, limits.max_line_chars)


def _read_csv(path: Path, is_header, max_line_chars: int) -> Grid:
    data = path.read_bytes()
    text, encoding = _decode(data, path.name)
    first_lines = itertools.islice(io.StringIO(text, newline=""), _HEADER_SEARCH_LINES)
    delimiter = _sniff_delimiter(list(first_lines))
    records = list(_csv_lines(text, delimiter, max_line_chars))
    decimal_mark = "." if delimiter == "," else ","
    return _grid(path.name, records, is_header, decimal_mark, f"csv '{delimiter}' {encoding}")


class _LineTooLong(Exception):
    """Raised into the CSV reader so that it never holds a record over the limit."""


class _Lines:
    """The physical lines of a CSV text as the CSV reader pulls them, one record at a time."""

    def __init__(self, text: str, max_chars: int):
        self._lines = iter(io.StringIO(text, newline=""))
        self._max_chars = max_chars
        self.number = 0  # lines pulled so far
        self.record: list[str] = []  # the lines of the record being read
        self._chars = 0

    def start_record(self) -> None:
        self.record, self._chars = [], 0

    def __iter__(self):
        return self

    def __next__(self) -> str:
        line = next(self._lines)
        self.number += 1
        self.record.append(line)
        self._chars += len(line)
        if self._chars > self._max_chars:
            raise _LineTooLong()
        return line

    def skip_rest_of_record(self) -> None:
        """After a refused line: the lines up to where its open quoted field closes, if any.

        A record only spans lines inside a quoted field; escaped quotes come in pairs, so the
        record ends on the first line end after an even number of quotes.
        """
        quotes = sum(line.count('"') for line in self.record)
        while quotes % 2:
            line = next(self._lines, None)
            if line is None:
                return
            self.number += 1
            self.record.append(line)
            self._chars += len(line)
            quotes += line.count('"')

    @property
    def chars(self) -> int:
        return self._chars


def _csv_lines(text: str, delimiter: str, max_chars: int) -> Iterator[Line]:
    """Each record of the text as a Line; one over ``max_chars`` or that the CSV reader refuses
    becomes a Line with its problem, and reading goes on after it."""
    if csv.field_size_limit() < max_chars:  # a record within the limit is read whole
        csv.field_size_limit(max_chars)
    lines = _Lines(text, max_chars)
    reader = csv.reader(lines, delimiter=delimiter)
    while True:
        lines.start_record()
        start = lines.number + 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except (_LineTooLong, csv.Error) as error:
            lines.skip_rest_of_record()
            yield _unread_line(start, lines, max_chars, error)
            continue
        yield Line(start, cells, "\n".join(line.rstrip("\r\n") for line in lines.record))


def _unread_line(start: int, lines: _Lines, max_chars: int, error: Exception) -> Line:
    where = f"line {start}" if lines.number == start else f"lines {start}-{lines.number}"
    if isinstance(error, _LineTooLong):
        problem = (
            f"{where} hold{'s' if lines.number == start else ''} {lines.chars:,} characters, "
            f"more than BAROMETER_CSV_MAX_LINE_CHARS allows ({max_chars:,})"
        )
    else:
        problem = f"{where} cannot be read as CSV ({error})"
    first = lines.record[0].rstrip("\r\n")
    text = first if len(first) <= _EXCERPT_CHARS else first[:_EXCERPT_CHARS] + " ..."
    return Line(start, [], text, problem)


def _decode(data: bytes, source: str) -> tuple[str, str]:
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "windows-1252"
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise ExportFormatError(source, line, None, "neither UTF-8 nor Windows-1252 text") from None


def _sniff_delimiter(lines: list[str]) -> str:
    # The separator that splits the most lines into the most fields; ties go to ';'.
    def score(delimiter: str) -> tuple[int, int]:
        counts = [line.count(delimiter) for line in lines if line.strip()]
        return (max(counts, default=0), sum(counts))

    return max(_DELIMITERS, key=score)


def _read_xlsx(path: Path, is_header, sheet: str | None, max_uncompressed: int) -> Grid:
    import openpyxl

    from orchestration.sources.excel import sheet_rows, uncompressed_size

    try:
        unpacked = uncompressed_size(path)
        if unpacked > max_uncompressed:
            raise ExportFormatError(
                path.name, None, None,
                f"the workbook unpacks to {unpacked:,} bytes, more than "
                f"BAROMETER_XLSX_MAX_UNCOMPRESSED_BYTES allows ({max_uncompressed:,})",
            )  # fmt: skip
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (OSError, ExportFormatError):
        raise
    except Exception as error:  # openpyxl raises many types for a damaged file
        raise ExportFormatError(
            path.name, 1, None, f"not a readable .xlsx file ({error})"
        ) from None
    records: list[Line] = []
    try:
        if sheet is not None and sheet not in workbook.sheetnames:
            raise ExportFormatError(
                path.name, 1, None, f"no sheet named '{sheet}' (sheets: {workbook.sheetnames})"
            )
        worksheet = workbook[sheet] if sheet else workbook.worksheets[0]
        for number, values in sheet_rows(worksheet):
            cells = ["" if c is None else c for c in values]
            records.append(Line(number, cells, ";".join(str(c) for c in cells)))
    except ExportFormatError:
        raise
    except Exception as error:  # damaged XML: nothing past this row can be located
        row = records[-1].number + 1 if records else 1
        raise ExportFormatError(
            path.name, row, None, f"the sheet cannot be read from this row on ({error})"
        ) from None
    finally:
        workbook.close()
    # A row is as wide as its last stored cell: pad them all to the widest, as the sheet is.
    width = max((len(record.cells) for record in records), default=0)
    records = [Line(r.number, r.cells + [""] * (width - len(r.cells)), r.text) for r in records]
    return _grid(path.name, records, is_header, ",", f"xlsx sheet '{worksheet.title}'")


def _grid(source: str, records: list[Line], is_header, decimal_mark: str, container: str) -> Grid:
    if not any(_cell_text(c) for record in records for c in record.cells):
        raise ExportFormatError(source, 1, None, "the file is empty")
    header_index = next(
        (
            i
            for i, record in enumerate(records)
            if record.number <= _HEADER_SEARCH_LINES
            and is_header([_cell_text(c) for c in record.cells])
        ),
        None,
    )
    if header_index is None:
        raise ExportFormatError(
            source, 1, None, "no header line with the columns of a barometer export was found"
        )
    header_record = records[header_index]
    header = [_cell_text(c) for c in header_record.cells]
    lines = [
        record
        for record in records[header_index + 1 :]
        if record.problem
        or (any(_cell_text(c) for c in record.cells) and not _is_note(record.cells))
    ]
    return Grid(source, header, header_record.number, lines, decimal_mark, container)


def _is_note(cells: list) -> bool:
    filled = [_cell_text(c) for c in cells if _cell_text(c)]
    return len(filled) == 1 and filled[0].lower().startswith(NOTE_PREFIXES)


def _cell_text(cell) -> str:
    return cell.strip() if isinstance(cell, str) else str(cell)
