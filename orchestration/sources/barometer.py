"""Parser for Integrationsbarometer exports (DATA.md §4), free of Dagster and dbt.

The canonical export is a semicolon-separated UTF-8 file with Danish headers, decimal commas and
``..`` for suppressed cells. The parser returns typed rows; anything it cannot interpret raises
``ExportFormatError`` naming the file, line and column.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path

# Markers the barometer and Danmarks Statistik use for a suppressed or unavailable cell.
SUPPRESSION_MARKERS = frozenset({"..", ".", "-", "x", ""})

# Export header -> field name; headers match whatever their case.
COLUMNS = {
    "Område": "area_name",
    "Indikator nr.": "indicator_code",
    "Indikator": "indicator_name",
    "Kommunenr.": "municipality_code",
    "Kommune": "municipality_name",
    "År": "year",
    "Befolkningsgruppe": "population_group",
    "Værdi": "value",
    "Enhed": "unit",
}
_FIELD_BY_HEADER = {name.lower(): field for name, field in COLUMNS.items()}

POPULATION_GROUPS = {
    "indvandrere og efterkommere med ikke-vestlig oprindelse": "nonwestern",
    "personer med dansk oprindelse": "danish",
    "i alt": "all",
}

UNITS = {"pct.": "pct", "pct": "pct", "pct.-point": "pp", "procentpoint": "pp", "antal": "count"}

_DANISH_NUMBER = re.compile(r"^[+-]?(\d{1,3}(\.\d{3})+|\d+)(,\d+)?$")


class ExportFormatError(ValueError):
    """A file that cannot be read as a barometer export, located to file, line and column."""

    def __init__(self, source: str, line: int, column: str | None, reason: str):
        self.source, self.line, self.column, self.reason = source, line, column, reason
        where = f"{source}, line {line}" + (f", column '{column}'" if column else "")
        super().__init__(f"{where}: {reason}")


@dataclass(frozen=True)
class IndicatorValue:
    source_line: int
    area_name: str
    indicator_code: str
    indicator_name: str
    municipality_code: str
    municipality_name: str
    year: int
    population_group: str
    value: float | None
    is_suppressed: bool
    suppression_marker: str | None
    unit: str


def parse_danish_number(text: str) -> float:
    """``58,4`` -> 58.4, ``1.234,5`` -> 1234.5; raises ValueError for anything else."""
    cleaned = text.strip()
    if not _DANISH_NUMBER.match(cleaned):
        raise ValueError(f"'{text}' is not a number with a decimal comma")
    return float(cleaned.replace(".", "").replace(",", "."))


def parse_barometer_file(path: Path) -> list[IndicatorValue]:
    """Parse one export file; the error names the file as given."""
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise ExportFormatError(path.name, line, None, f"not UTF-8 text ({error.reason})") from None
    return parse_barometer_text(text, path.name)


def parse_barometer_text(text: str, source: str) -> list[IndicatorValue]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=";")
    header = next(reader, None)
    if not header:
        raise ExportFormatError(source, 1, None, "the file is empty")
    positions = _column_positions(header, source)
    names = {field: header[index].strip() for field, index in positions.items()}
    rows = []
    for record in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in record):
            continue
        if len(record) != len(header):
            raise ExportFormatError(
                source, line, None, f"expected {len(header)} fields, found {len(record)}"
            )
        fields = {name: record[index].strip() for name, index in positions.items()}
        rows.append(_typed_row(fields, names, line, source))
    return rows


def _column_positions(header: list[str], source: str) -> dict[str, int]:
    positions = {}
    for index, name in enumerate(header):
        field = _FIELD_BY_HEADER.get(name.strip().lower())
        if field:
            positions[field] = index
    missing = [name for name, field in COLUMNS.items() if field not in positions]
    if missing:
        raise ExportFormatError(source, 1, missing[0], "required column is missing")
    return positions


def _typed_row(
    fields: dict[str, str], names: dict[str, str], line: int, source: str
) -> IndicatorValue:
    def fail(field: str, reason: str) -> ExportFormatError:
        return ExportFormatError(source, line, names[field], reason)

    code = fields["municipality_code"]
    if not (code.isascii() and code.isdigit()) or len(code) > 4 or int(code) > 999:
        raise fail("municipality_code", f"'{code}' is not a municipality code")
    if not (fields["year"].isascii() and fields["year"].isdigit()):
        raise fail("year", f"'{fields['year']}' is not a year")
    group = POPULATION_GROUPS.get(fields["population_group"].lower())
    if group is None:
        raise fail("population_group", f"unknown population group '{fields['population_group']}'")
    unit = UNITS.get(fields["unit"].lower())
    if unit is None:
        raise fail("unit", f"unknown unit '{fields['unit']}'")

    raw_value = fields["value"]
    is_suppressed = raw_value.lower() in SUPPRESSION_MARKERS
    value = None
    if not is_suppressed:
        try:
            value = parse_danish_number(raw_value)
        except ValueError as error:
            raise fail("value", str(error)) from None

    return IndicatorValue(
        source_line=line,
        area_name=fields["area_name"],
        indicator_code=fields["indicator_code"],
        indicator_name=fields["indicator_name"],
        municipality_code=f"{int(code):03d}",
        municipality_name=fields["municipality_name"],
        year=int(fields["year"]),
        population_group=group,
        value=value,
        is_suppressed=is_suppressed,
        suppression_marker=raw_value if is_suppressed else None,
        unit=unit,
    )
