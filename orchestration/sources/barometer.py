"""Integrationsbarometer exports, in every shape they are published in, as typed rows.

Reads the long layout (one value per line), the wide layout (one column per year) and Danmarks
Statistik's StatBank layout (``OMRÅDE``/``HERKOMST``/... plus ``TID`` and ``INDHOLD``), from CSV or
Excel (see ``tables.py``). A file that cannot be read at all raises ``ExportFormatError`` naming
file, line and column; a line that cannot be interpreted becomes a ``Reject`` with its reason,
and the rest still loads. Free of Dagster and dbt.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from orchestration.sources.errors import ExportFormatError
from orchestration.sources.numbers import is_suppression_marker, parse_number
from orchestration.sources.reference import Reference
from orchestration.sources.tables import Grid, Line, read_grid

__all__ = ["ExportFormatError", "IndicatorValue", "ParseResult", "Reject", "parse_export"]

FIRST_YEAR = 2000

# Field -> the header names it goes by (compared without case or surrounding spaces).
LONG_COLUMNS = {
    "area_name": ("område", "area"),
    "indicator_code": (
        "indikator nr.",
        "indikator nr",
        "indikatornr.",
        "indicator no.",
        "indicator code",
    ),
    "indicator_name": ("indikator", "indicator"),
    "municipality_code": ("kommunenr.", "kommunenr", "kommunekode", "municipality code"),
    "municipality_name": ("kommune", "municipality"),
    "year": ("år", "aar", "year"),
    "population_group": ("befolkningsgruppe", "population group"),
    "value": ("værdi", "vaerdi", "value"),
    "unit": ("enhed", "unit"),
}
STATBANK_COLUMNS = {
    "municipality_name": ("område",),
    "population_group": ("herkomst",),
    "year": ("tid",),
    "value": ("indhold",),
}
# Either of each pair names the thing; the first is how an error refers to it when both miss.
REQUIRED = {
    "indicator": ("indicator_code", "indicator_name"),
    "municipality": ("municipality_code", "municipality_name"),
    "population_group": ("population_group",),
}

POPULATION_GROUPS = {
    "indvandrere og efterkommere med ikke-vestlig oprindelse": "nonwestern",
    "indvandrere og efterkommere fra ikke-vestlige lande": "nonwestern",
    "non-western immigrants and descendants": "nonwestern",
    "nonwestern": "nonwestern",
    "personer med dansk oprindelse": "danish",
    "persons of danish origin": "danish",
    "danish": "danish",
    "i alt": "all",
    "alle": "all",
    "total": "all",
    "all": "all",
}
UNITS = {
    "pct.": "pct", "pct": "pct", "procent": "pct", "%": "pct", "per cent": "pct",
    "pct.-point": "pp", "procentpoint": "pp", "pct.point": "pp", "pp": "pp",
    "percentage points": "pp", "antal": "count", "number": "count", "count": "count",
}  # fmt: skip
_YEAR_HEADER = re.compile(r"^(19|20)\d{2}$")


@dataclass(frozen=True)
class IndicatorValue:
    source_line: int
    indicator_code: str
    municipality_code: str
    year: int
    population_group: str
    value: float | None
    is_suppressed: bool
    suppression_marker: str | None
    unit: str
    area_name: str | None = None
    indicator_name: str | None = None
    municipality_name: str | None = None

    @property
    def key(self) -> tuple:
        return (self.indicator_code, self.municipality_code, self.year, self.population_group)


@dataclass(frozen=True)
class Reject:
    source_line: int
    raw_text: str
    reason: str


@dataclass
class ParseResult:
    source: str
    layout: str  # long, wide or statbank, and the container
    rows: list[IndicatorValue] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    extracted: int = 0  # values read from the file, counted as read: each is loaded or rejected


class _RowError(ValueError):
    """A value on one line that cannot be interpreted: the line becomes a reject."""


def parse_export(
    path: Path,
    reference: Reference,
    *,
    indicator: str | None = None,
    sheet: str | None = None,
    today: date | None = None,
) -> ParseResult:
    """Parse one export; ``indicator`` names the indicator of a file that carries none."""
    grid = read_grid(path, _looks_like_header, sheet)
    headers = [h.strip().lower() for h in grid.header]
    named = _resolve_indicator(indicator, reference, grid)
    last_year = (today or date.today()).year + 1

    if "tid" in headers and "indhold" in headers:
        layout, columns = "statbank", _positions(headers, STATBANK_COLUMNS)
        for field_name, aliases in STATBANK_COLUMNS.items():
            if field_name not in columns:
                raise ExportFormatError(
                    grid.source, grid.header_line, aliases[0].upper(), "required column is missing"
                )
        if named is None:
            raise ExportFormatError(
                grid.source, grid.header_line, None,
                "a StatBank table carries no barometer number: name its indicator "
                "(barometer parse --indicator, or BAROMETER_STATBANK_INDICATORS)",
            )  # fmt: skip
    else:
        columns = _positions(headers, LONG_COLUMNS)
        year_columns = {i: int(h) for i, h in enumerate(headers) if _YEAR_HEADER.match(h)}
        layout = "long" if "year" in columns and "value" in columns else "wide"
        if layout == "wide" and not year_columns:
            missing = "År" if "year" not in columns else "Værdi"
            raise ExportFormatError(
                grid.source, grid.header_line, missing, "required column is missing"
            )
        _require(columns, named, grid)

    result = ParseResult(grid.source, f"{layout} {grid.container}")
    used = set(columns.values()) | (set(year_columns) if layout == "wide" else set())
    for index, name in enumerate(grid.header):
        if index not in used and name.strip():
            result.warnings.append(f"{grid.source}: column '{name.strip()}' is not used")

    for line in grid.lines:
        cells = {f: _cell(line, i) for f, i in columns.items()}
        if layout == "wide":
            values = [(year, _cell(line, i), grid.header[i]) for i, year in year_columns.items()]
        else:
            values = [(cells.get("year", ""), cells.get("value", ""), None)]
        result.extracted += len(values)
        problem = _field_count_problem(line, grid.header, used)
        if problem:
            result.rejects += [Reject(line.number, line.text, problem) for _ in values]
            continue
        for year, value, year_header in values:
            try:
                result.rows.append(
                    _typed(line, cells, year, value, named, reference, grid, last_year)
                )
            except _RowError as error:
                where = f" (column '{year_header}')" if year_header else ""
                result.rejects.append(Reject(line.number, line.text, f"{error}{where}"))
    _reject_duplicates(result, {line.number: line.text for line in grid.lines})
    return result


def _field_count_problem(line: Line, header: list[str], used: set[int]) -> str | None:
    """A cut-off or overlong line: its cells cannot be trusted to be in their columns.

    A line may stop before columns that are not read (an empty comment column), and may carry
    empty cells past the header (a trailing separator, a padded spreadsheet row).
    """
    found = len(line.cells)
    while found > len(header) and _cell(line, found - 1) == "":
        found -= 1
    if found > len(header) or found <= max(used):
        return f"expected {len(header)} fields, found {found}"
    return None


def _looks_like_header(cells: list[str]) -> bool:
    names = {c.strip().lower() for c in cells}
    known = {alias for aliases in LONG_COLUMNS.values() for alias in aliases}
    return {"tid", "indhold"} <= names or len(names & known) >= 3


def _positions(headers: list[str], columns: dict[str, tuple[str, ...]]) -> dict[str, int]:
    positions = {}
    for field_name, aliases in columns.items():
        for index, header in enumerate(headers):
            if header in aliases:
                positions[field_name] = index
                break
    return positions


def _require(columns: dict[str, int], named, grid: Grid) -> None:
    display = {
        "indicator": "Indikator nr.",
        "municipality": "Kommunenr.",
        "population_group": "Befolkningsgruppe",
    }
    for thing, fields in REQUIRED.items():
        if thing == "indicator" and named is not None:
            continue
        if not any(f in columns for f in fields):
            raise ExportFormatError(
                grid.source, grid.header_line, display[thing], "required column is missing"
            )


def _resolve_indicator(code: str | None, reference: Reference, grid: Grid):
    if code is None:
        return None
    indicator = reference.indicator(code)
    if indicator is None:
        raise ExportFormatError(grid.source, grid.header_line, None, f"unknown indicator '{code}'")
    return indicator


def _cell(line: Line, index: int):
    if index >= len(line.cells):
        return ""
    cell = line.cells[index]
    return cell.strip() if isinstance(cell, str) else cell


def _typed(line, cells, year_text, value_text, named, reference, grid, last_year) -> IndicatorValue:
    indicator = named
    if "indicator_code" in cells or "indicator_name" in cells:
        given = str(cells.get("indicator_code") or cells.get("indicator_name") or "")
        indicator = reference.indicator(given)
        if indicator is None:
            raise _RowError(f"unknown indicator '{given}'")

    # Not `or`: an Excel number cell 0 (Hele landet, 000) is a code, not a missing one.
    fields = ("municipality_code", "municipality_name")
    given_municipality = next((str(cells[f]) for f in fields if cells.get(f, "") != ""), "")
    municipality = reference.municipality_code(given_municipality)
    if municipality is None:
        raise _RowError(f"unknown municipality '{given_municipality}'")

    group_text = str(cells.get("population_group", ""))
    group = POPULATION_GROUPS.get(" ".join(group_text.lower().split()))
    if group is None:
        raise _RowError(f"unknown population group '{group_text}'")

    year = _year(year_text)
    if not FIRST_YEAR <= year <= last_year:
        raise _RowError(f"year {year} is outside {FIRST_YEAR}-{last_year}")

    unit = indicator.unit
    if cells.get("unit"):
        unit = UNITS.get(str(cells["unit"]).lower())
        if unit is None:
            raise _RowError(f"unknown unit '{cells['unit']}'")

    value, marker = _value(value_text, grid.decimal_mark)
    return IndicatorValue(
        source_line=line.number,
        indicator_code=indicator.code,
        municipality_code=municipality,
        year=year,
        population_group=group,
        value=value,
        is_suppressed=value is None,
        suppression_marker=marker,
        unit=unit,
        area_name=cells.get("area_name") or None,
        indicator_name=cells.get("indicator_name") or None,
        municipality_name=cells.get("municipality_name") or None,
    )


def _year(text) -> int:
    if isinstance(text, int | float) and float(text).is_integer():
        return int(text)
    text = str(text).strip()
    if not (text.isascii() and text.isdigit() and len(text) == 4):
        raise _RowError(f"'{text}' is not a year")
    return int(text)


def _value(text, decimal_mark: str) -> tuple[float | None, str | None]:
    if isinstance(text, int | float):
        return float(text), None
    if is_suppression_marker(text):
        return None, text.strip()
    try:
        return parse_number(text, decimal_mark), None
    except ValueError as error:
        raise _RowError(f"unreadable number: {error}") from None


def _reject_duplicates(result: ParseResult, texts: dict[int, str]) -> None:
    """The same key twice: an exact repeat is set aside, conflicting values reject them all."""
    by_key = defaultdict(list)
    for row in result.rows:
        by_key[row.key].append(row)
    kept = []
    for rows in by_key.values():
        first, *others = rows
        if not others:
            kept.append(first)
        elif all(
            (r.value, r.suppression_marker) == (first.value, first.suppression_marker)
            for r in others
        ):
            kept.append(first)
            result.rejects += [
                Reject(
                    r.source_line, texts[r.source_line], f"duplicate of line {first.source_line}"
                )
                for r in others
            ]
        else:
            lines = ", ".join(str(r.source_line) for r in rows)
            result.rejects += [
                Reject(r.source_line, texts[r.source_line], f"conflicting values on lines {lines}")
                for r in rows
            ]
    result.rows = kept
