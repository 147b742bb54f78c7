"""The rows of an Excel sheet, every one of them, each cell read or marked as unreadable.

openpyxl's read-only mode stops at the size the workbook records for a sheet
(``<dimension ref=...>``), which some writers leave too small: rows past it would vanish without
a word. Here the sheet's XML is read to its end instead, and a cell whose stored value openpyxl
cannot convert (a damaged number, a shared string the workbook lacks) becomes ``Unreadable``
rather than ending the read: the parser makes it a reject of its line. Imported only when a
workbook is read (``tables.py``), so openpyxl is loaded only then.

Built on openpyxl's own sheet parser (``WorkSheetParser``, pinned in pyproject.toml), so values,
shared strings and dates read exactly as openpyxl reads them.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from pathlib import Path

from openpyxl.utils.cell import coordinate_to_tuple, get_column_letter
from openpyxl.worksheet._reader import VALUE_TAG, WorkSheetParser

from orchestration.sources.tables import Unreadable


def uncompressed_size(path: Path) -> int:
    """What the workbook unpacks to, from the zip directory, before anything is unpacked.

    Python's zipfile never inflates a member past the size its directory records (and fails
    its checksum if the data wants more), so this bounds what reading the workbook can cost.
    """
    with zipfile.ZipFile(path) as archive:
        return sum(member.file_size for member in archive.infolist())


def sheet_rows(worksheet) -> Iterator[tuple[int, list]]:
    """(row number, values) of every row the sheet stores, whatever its recorded dimension.

    Values are as openpyxl's ``values_only`` gives them (None for an empty cell); a row is as
    wide as its last stored cell.
    """
    workbook = worksheet.parent
    with worksheet._get_source() as source:
        parser = _TolerantParser(
            source,
            workbook.shared_strings,
            data_only=workbook.data_only,
            epoch=workbook.epoch,
            date_formats=workbook._date_formats,
            timedelta_formats=workbook._timedelta_formats,
        )
        for number, cells in parser.parse():
            values = [None] * max((cell["column"] for cell in cells), default=0)
            for cell in cells:
                values[cell["column"] - 1] = cell["value"]
            yield number, values


class _TolerantParser(WorkSheetParser):
    def parse_cell(self, element):
        try:
            return super().parse_cell(element)
        except (ValueError, IndexError, OverflowError) as error:
            try:
                row, column = coordinate_to_tuple(element.get("r") or "")
            except Exception:  # no or a damaged reference: the cell after the last one read
                row, column = self.row_counter, self.col_counter + 1
            self.col_counter = column
            stored, kind = element.findtext(VALUE_TAG), element.get("t", "n")
            reason = (
                f"cell {get_column_letter(column)}{row} cannot be read: its stored value "
                f"{stored!r} is not a valid value of type '{kind}' ({error})"
            )
            return {
                "row": row,
                "column": column,
                "value": Unreadable(reason),
                "data_type": "e",
                "style_id": 0,
            }
