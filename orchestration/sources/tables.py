"""Read an export file into lines of cells, whatever its container: CSV or Excel.

CSV: UTF-8 with or without BOM or Windows-1252; ``;``, ``,`` or tab separated (a ``,``
separated file writes decimals with a point); CRLF or LF. Excel (.xlsx): the first sheet or a
named one. Title rows above the header and notes below the data (``Kilde: ...``, ``Anm.: ...``)
are set aside, not read as data. Knows nothing of what the columns mean.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from orchestration.sources.errors import ExportFormatError

NOTE_PREFIXES = ("kilde", "anm", "note", "noter", "source", "*")
_DELIMITERS = (";", ",", "\t")
_HEADER_SEARCH_LINES = 30


@dataclass(frozen=True)
class Line:
    number: int  # physical line in a CSV file, row number in a sheet
    cells: list  # str, or float/int for Excel number cells
    text: str  # the line as written, for rejects

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


def read_grid(path: Path, is_header: Callable[[list[str]], bool], sheet: str | None = None) -> Grid:
    """Read ``path``; ``is_header`` recognises the header line among the first lines."""
    if path.suffix.lower() == ".xlsx":
        return _read_xlsx(path, is_header, sheet)
    return _read_csv(path, is_header)


def _read_csv(path: Path, is_header) -> Grid:
    data = path.read_bytes()
    text, encoding = _decode(data, path.name)
    physical = text.splitlines()
    delimiter = _sniff_delimiter(physical[:_HEADER_SEARCH_LINES])
    records = []
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    start = 1
    for record in reader:
        records.append(Line(start, record, "\n".join(physical[start - 1 : reader.line_num])))
        start = reader.line_num + 1
    decimal_mark = "." if delimiter == "," else ","
    return _grid(path.name, records, is_header, decimal_mark, f"csv '{delimiter}' {encoding}")


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


def _read_xlsx(path: Path, is_header, sheet: str | None) -> Grid:
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many types for a damaged file
        raise ExportFormatError(
            path.name, 1, None, f"not a readable .xlsx file ({error})"
        ) from None
    try:
        if sheet is not None and sheet not in workbook.sheetnames:
            raise ExportFormatError(
                path.name, 1, None, f"no sheet named '{sheet}' (sheets: {workbook.sheetnames})"
            )
        worksheet = workbook[sheet] if sheet else workbook.worksheets[0]
        records = [
            Line(number, cells, ";".join("" if c is None else str(c) for c in cells))
            for number, cells in enumerate(
                (
                    [("" if c is None else c) for c in row]
                    for row in worksheet.iter_rows(values_only=True)
                ),
                start=1,
            )
        ]
    finally:
        workbook.close()
    return _grid(path.name, records, is_header, ",", f"xlsx sheet '{worksheet.title}'")


def _grid(source: str, records: list[Line], is_header, decimal_mark: str, container: str) -> Grid:
    if not any(_cell_text(c) for record in records for c in record.cells):
        raise ExportFormatError(source, 1, None, "the file is empty")
    header_index = next(
        (
            i
            for i, record in enumerate(records[:_HEADER_SEARCH_LINES])
            if is_header([_cell_text(c) for c in record.cells])
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
        if any(_cell_text(c) for c in record.cells) and not _is_note(record.cells)
    ]
    return Grid(source, header, header_record.number, lines, decimal_mark, container)


def _is_note(cells: list) -> bool:
    filled = [_cell_text(c) for c in cells if _cell_text(c)]
    return len(filled) == 1 and filled[0].lower().startswith(NOTE_PREFIXES)


def _cell_text(cell) -> str:
    return cell.strip() if isinstance(cell, str) else str(cell)
