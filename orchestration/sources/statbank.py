"""Danmarks Statistik's StatBank conventions: its two layouts and its periods.

The API layout has one column per variable (``OMRÅDE``, ``HERKOMST``, ...) plus ``TID`` and
``INDHOLD``. The statbank.dk pivot ("Download CSV" or xlsx) has a title line, then a header whose
first cells are the row variables (named, or blank) and whose other cells are periods; a row
variable's value is written only on the first line of its group and is carried down here. Time
is a year (``2020``), a half-year (``2020H1``), a quarter (``2020K4``, English ``2020Q4``) or a
month (``2020M11``); every barometer indicator is annual, so only a year becomes a row.
"""

from __future__ import annotations

import re

from orchestration.sources.errors import ExportFormatError, RowError
from orchestration.sources.reference import Reference
from orchestration.sources.tables import Grid, Line

# Field -> the variable names StatBank gives it (compared without case or surrounding spaces).
STATBANK_COLUMNS = {
    "municipality_name": ("område",),
    "population_group": ("herkomst",),
    "year": ("tid",),
    "value": ("indhold",),
}
PIVOT_VARIABLES = {f: names for f, names in STATBANK_COLUMNS.items() if f not in ("year", "value")}
_PIVOT_NAMES = {name for names in PIVOT_VARIABLES.values() for name in names}

PERIOD = re.compile(r"^(?:19|20)\d{2}(?:[KQ][1-4]|M(?:0[1-9]|1[0-2])|H[12])?$", re.IGNORECASE)
_SUB_ANNUAL = {"K": "quarter", "Q": "quarter", "M": "month", "H": "half-year"}
_VARIABLE_NAME = re.compile(r"^[^\W\d_]+$")  # OMRÅDE, HERKOMST, KØN: letters only


def is_api_header(names: set[str]) -> bool:
    return {"tid", "indhold"} <= names


def is_pivot_header(cells: list[str]) -> bool:
    """Row variables (named or blank), then nothing but periods: ``OMRÅDE;HERKOMST;2019;2020``.

    One of the variables must be blank or an area or origin, so that a title such as
    ``Integrationsbarometeret;2023`` above another layout's header is not taken for one.
    """
    texts = [cell.strip() for cell in cells]
    while texts and not texts[-1]:
        texts.pop()
    first = next((i for i, text in enumerate(texts) if PERIOD.match(text)), 0)
    variables = texts[:first]
    return (
        first >= 1
        and all(PERIOD.match(text) for text in texts[first:])
        and all(not text or _VARIABLE_NAME.match(text) for text in variables)
        and any(not text or text.lower() in _PIVOT_NAMES for text in variables)
    )


def period_year(text, indicator_code: str) -> int:
    """The year of a period; a shorter period of an annual indicator is a reject, never a year."""
    if isinstance(text, int | float) and float(text).is_integer():
        return int(text)
    text = str(text).strip()
    if text.isascii() and text.isdigit() and len(text) == 4:
        return int(text)
    if PERIOD.match(text):
        kind = _SUB_ANNUAL[text[4].upper()]
        raise RowError(f"indicator {indicator_code} is annual; {kind} {text} is not a year")
    raise RowError(f"'{text}' is not a year")


def pivot_columns(grid: Grid, reference: Reference) -> tuple[dict[str, int], list[int]]:
    """Which row variable is the area and which the origin; the rest are not used.

    A named variable is taken by its name. A blank one (statbank.dk leaves them blank) by its
    values: the column whose values are mostly areas is ``OMRÅDE``, mostly origin labels
    ``HERKOMST``.
    """
    headers = [h.strip().lower() for h in grid.header]
    leading = range(next(i for i, h in enumerate(headers) if PERIOD.match(h)))
    columns = {
        field_name: index
        for field_name, names in PIVOT_VARIABLES.items()
        for index in leading
        if headers[index] in names
    }
    guesses = {
        "municipality_name": lambda v: bool(reference.municipality_code(v) or reference.area(v)),
        "population_group": lambda v: reference.origin_group(v) is not None,
    }
    for index in leading:
        if headers[index]:
            continue
        values = {str(line.cell(index)) for line in grid.lines} - {""}
        for field_name, known in guesses.items():
            if field_name not in columns and values and sum(map(known, values)) > len(values) / 2:
                columns[field_name] = index
                break
    for field_name, names in PIVOT_VARIABLES.items():
        if field_name not in columns:
            raise ExportFormatError(
                grid.source, grid.header_line, names[0].upper(), "required column is missing"
            )
    return columns, list(leading)


def carry_down(lines: list[Line], leading: list[int]) -> list[Line]:
    """Fill each blank row-variable cell with the value above it, as the pivot means it."""
    filled, above = [], {}
    for line in lines:
        cells = list(line.cells)
        for index in leading:
            if line.cell(index) != "":
                above[index] = cells[index]
            elif index in above:
                cells += [""] * (index + 1 - len(cells))
                cells[index] = above[index]
        filled.append(Line(line.number, cells, line.text))
    return filled
