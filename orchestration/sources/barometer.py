"""Integrationsbarometer exports, in every shape they are published in, as typed rows.

Reads the long layout (one value per line), the wide layout (one column per year) and Danmarks
Statistik's StatBank layouts, API and statbank.dk pivot (see ``statbank.py``), from CSV or Excel
(see ``tables.py``). A file that cannot be read at all raises ``ExportFormatError`` naming file,
line and column; a line that cannot be interpreted becomes a ``Reject`` with its reason, and the
rest still loads. A line of an area that is not a municipality (a region, a landsdel,
Christiansø: StatBank tables carry them) is skipped and counted, not rejected: every value read
is loaded, skipped or rejected. Free of Dagster and dbt.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from orchestration.sources import statbank
from orchestration.sources.errors import ExportFormatError, RowError
from orchestration.sources.numbers import is_suppression_marker, parse_number
from orchestration.sources.reference import Area, Reference
from orchestration.sources.tables import (
    DEFAULT_LIMITS,
    Grid,
    Line,
    ReadLimits,
    Unreadable,
    read_grid,
)

__all__ = [
    "ExportFormatError", "IndicatorValue", "ParseResult", "ReadLimits", "Reject", "parse_export",
]  # fmt: skip

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
# Either of each pair names the thing; the first is how an error refers to it when both miss.
REQUIRED = {
    "indicator": ("indicator_code", "indicator_name"),
    "municipality": ("municipality_code", "municipality_name"),
    "population_group": ("population_group",),
}

UNITS = {
    "pct.": "pct", "pct": "pct", "procent": "pct", "%": "pct", "per cent": "pct",
    "pct.-point": "pp", "procentpoint": "pp", "pct.point": "pp", "pp": "pp",
    "percentage points": "pp", "antal": "count", "number": "count", "count": "count",
}  # fmt: skip


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
    layout: str  # long, wide, statbank or statbank pivot, and the container
    rows: list[IndicatorValue] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    # Values read from the file, counted as read: each is loaded, skipped or rejected.
    extracted: int = 0
    skipped: dict[str, int] = field(default_factory=dict)  # values skipped, by reason

    @property
    def skipped_total(self) -> int:
        return sum(self.skipped.values())


def parse_export(
    path: Path,
    reference: Reference,
    *,
    indicator: str | None = None,
    sheet: str | None = None,
    today: date | None = None,
    limits: ReadLimits = DEFAULT_LIMITS,
) -> ParseResult:
    """Parse one export; ``indicator`` names the indicator of a file that carries none."""
    grid = read_grid(path, _looks_like_header, sheet, limits)
    named = _resolve_indicator(indicator, reference, grid)
    last_year = (today or date.today()).year + 1
    layout, columns, period_columns, lines = _layout(grid, named, reference)

    result = ParseResult(grid.source, f"{layout} {grid.container}")
    used = set(columns.values()) | set(period_columns)
    for index, name in enumerate(grid.header):
        if index in used:
            continue
        if name.strip():
            result.warnings.append(f"{grid.source}: column '{name.strip()}' is not used")
        elif any(line.cell(index) != "" for line in lines):
            result.warnings.append(f"{grid.source}: column {index + 1} (no name) is not used")

    skipped_areas: dict[str, dict[str, str]] = defaultdict(dict)
    for line in lines:
        cells = {f: line.cell(i) for f, i in columns.items()}
        if period_columns:
            values = [(grid.header[i], line.cell(i), grid.header[i]) for i in period_columns]
        else:
            values = [(cells.get("year", ""), cells.get("value", ""), None)]
        result.extracted += len(values)
        problem = (
            line.problem
            or _unreadable(cells.values())
            or _field_count_problem(line, grid.header, used)
        )
        if problem:
            result.rejects += [Reject(line.number, line.text, problem) for _ in values]
            continue
        area = _non_municipal_area(cells, reference)
        if area is not None:
            result.skipped[area.kind] = result.skipped.get(area.kind, 0) + len(values)
            skipped_areas[area.kind][area.code] = area.name
            continue
        for year, value, period_header in values:
            try:
                result.rows.append(
                    _typed(line, cells, year, value, named, reference, grid, last_year)
                )
            except RowError as error:
                where = f" (column '{period_header}')" if period_header else ""
                result.rejects.append(Reject(line.number, line.text, f"{error}{where}"))
    _reject_duplicates(result, {line.number: line.text for line in lines})
    for kind, areas in skipped_areas.items():
        names = ", ".join(f"{code} {name}" for code, name in sorted(areas.items()))
        result.warnings.append(
            f"{grid.source}: skipped {result.skipped[kind]} values of areas that are not "
            f"municipalities ({kind}): {names}"
        )
    return result


def _layout(grid: Grid, named, reference: Reference):
    """The layout, the columns of its fields, its period columns and its data lines."""
    headers = [h.strip().lower() for h in grid.header]
    periods = [i for i, h in enumerate(headers) if statbank.PERIOD.match(h)]
    if statbank.is_api_header(set(headers)):
        columns = _positions(headers, statbank.STATBANK_COLUMNS)
        for field_name, aliases in statbank.STATBANK_COLUMNS.items():
            if field_name not in columns:
                raise ExportFormatError(
                    grid.source, grid.header_line, aliases[0].upper(), "required column is missing"
                )
        _require_named(named, grid)
        return "statbank", columns, [], grid.lines

    columns = _positions(headers, LONG_COLUMNS)
    municipality = {"municipality_code", "municipality_name"} & columns.keys()
    if statbank.is_pivot_header(grid.header) and not municipality:
        _require_named(named, grid)
        columns, leading = statbank.pivot_columns(grid, reference)
        return "statbank pivot", columns, periods, statbank.carry_down(grid.lines, leading)

    layout = "long" if "year" in columns and "value" in columns else "wide"
    if layout == "wide" and not periods:
        missing = "År" if "year" not in columns else "Værdi"
        raise ExportFormatError(
            grid.source, grid.header_line, missing, "required column is missing"
        )
    _require(columns, named, grid)
    return layout, columns, periods if layout == "wide" else [], grid.lines


def _require_named(named, grid: Grid) -> None:
    if named is None:
        raise ExportFormatError(
            grid.source, grid.header_line, None,
            "a StatBank table carries no barometer number: name its indicator "
            "(barometer parse --indicator, or BAROMETER_STATBANK_INDICATORS)",
        )  # fmt: skip


def _field_count_problem(line: Line, header: list[str], used: set[int]) -> str | None:
    """A cut-off or overlong line: its cells cannot be trusted to be in their columns.

    A line may stop before columns that are not read (an empty comment column), and may carry
    empty cells past the header (a trailing separator, a padded spreadsheet row).
    """
    found = len(line.cells)
    while found > len(header) and line.cell(found - 1) == "":
        found -= 1
    if found > len(header) or found <= max(used):
        return f"expected {len(header)} fields, found {found}"
    return None


def _unreadable(cells) -> str | None:
    """The first cell of the line's fields that could not be read (a period cell rejects only
    its own value, in ``_value``)."""
    return next((cell.reason for cell in cells if isinstance(cell, Unreadable)), None)


def _looks_like_header(cells: list[str]) -> bool:
    names = {c.strip().lower() for c in cells}
    known = {alias for aliases in LONG_COLUMNS.values() for alias in aliases}
    return (
        statbank.is_api_header(names) or len(names & known) >= 3 or statbank.is_pivot_header(cells)
    )


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


def _typed(line, cells, year_text, value_text, named, reference, grid, last_year) -> IndicatorValue:
    indicator = named
    if "indicator_code" in cells or "indicator_name" in cells:
        given = str(cells.get("indicator_code") or cells.get("indicator_name") or "")
        indicator = reference.indicator(given)
        if indicator is None:
            raise RowError(f"unknown indicator '{given}'")

    given_municipality = _given_municipality(cells)
    municipality = reference.municipality_code(given_municipality)
    if municipality is None:
        raise RowError(f"unknown municipality '{given_municipality}'")

    group = _population_group(str(cells.get("population_group", "")), indicator, reference)
    year = statbank.period_year(year_text, indicator.code)
    if not FIRST_YEAR <= year <= last_year:
        raise RowError(f"year {year} is outside {FIRST_YEAR}-{last_year}")

    unit = indicator.unit
    if cells.get("unit"):
        unit = UNITS.get(str(cells["unit"]).lower())
        if unit is None:
            raise RowError(f"unknown unit '{cells['unit']}'")

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


def _given_municipality(cells: dict) -> str:
    # Not `or`: an Excel number cell 0 (Hele landet, 000) is a code, not a missing one.
    fields = ("municipality_code", "municipality_name")
    return next((str(cells[f]) for f in fields if cells.get(f, "") != ""), "")


def _non_municipal_area(cells: dict, reference: Reference) -> Area | None:
    given = _given_municipality(cells)
    return None if reference.municipality_code(given) else reference.area(given)


def _population_group(text: str, indicator, reference: Reference) -> str:
    """The barometer's group for an origin label, if it is one the indicator is published for."""
    origin = reference.origin_group(text)
    if origin is None:
        raise RowError(f"unknown population group '{text}'")
    if origin.population_group is None:
        raise RowError(
            f"'{text}' is not a barometer population group: "
            f"{origin.not_the_barometer_group_because}"
        )
    if origin.population_group not in indicator.population_groups:
        raise RowError(
            f"indicator {indicator.code} is not published for '{text}' "
            f"({origin.population_group}), only for {', '.join(indicator.population_groups)}"
        )
    return origin.population_group


def _value(text, decimal_mark: str) -> tuple[float | None, str | None]:
    if isinstance(text, Unreadable):
        raise RowError(text.reason)
    if isinstance(text, bool) or not isinstance(text, int | float | str):
        # An Excel date or TRUE/FALSE where a number belongs.
        raise RowError(f"unreadable number: a {type(text).__name__} cell ({text})")
    if isinstance(text, int | float):
        return float(text), None
    if is_suppression_marker(text):
        return None, text.strip()
    try:
        return parse_number(text, decimal_mark), None
    except ValueError as error:
        raise RowError(f"unreadable number: {error}") from None


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
