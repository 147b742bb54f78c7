"""The export variants of test_export_variants.py: one small barometer content, and a writer for
every shape an export takes (CSV dialects, encodings, wide and long, Excel, StatBank).

The content: indicators 1.1 (a gap in percentage points, with a negative value) and 1.2 (a rate
in per cent, both population groups), for Hele landet, København, Høje-Taastrup and Ærø, in 2022
and 2023, with one suppressed cell (``..``).
"""

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import openpyxl

from orchestration.sources.barometer import IndicatorValue, ParseResult, parse_export
from orchestration.sources.reference import load_reference

PROJECT_ROOT = Path(__file__).resolve().parents[1]
REFERENCE = load_reference(PROJECT_ROOT / "seeds" / "reference")

MUNICIPALITIES = {"000": "Hele landet", "101": "København", "169": "Høje-Taastrup", "492": "Ærø"}
INDICATORS = {"1.1": ("Beskæftigelsesgab", "pct.-point"), "1.2": ("Beskæftigelsesfrekvens", "pct.")}
GROUPS = {
    "nonwestern": "Indvandrere og efterkommere med ikke-vestlig oprindelse",
    "danish": "Personer med dansk oprindelse",
}
# StatBank names the non-Western group its own way.
STATBANK_GROUPS = {
    "nonwestern": "Indvandrere og efterkommere fra ikke-vestlige lande",
    "danish": "Personer med dansk oprindelse",
}
YEARS = (2022, 2023)
# (indicator, municipality, group) -> the values for YEARS; None is the suppressed cell.
CONTENT = {
    ("1.1", "000", "nonwestern"): (25.1, 24.6),
    ("1.1", "101", "nonwestern"): (21.4, 20.7),
    ("1.1", "169", "nonwestern"): (29.4, 27.3),
    ("1.1", "492", "nonwestern"): (-1.5, 22.0),
    ("1.2", "000", "nonwestern"): (55.1, 56.3),
    ("1.2", "000", "danish"): (80.2, 80.9),
    ("1.2", "101", "nonwestern"): (57.2, 58.4),
    ("1.2", "101", "danish"): (78.6, 79.1),
    ("1.2", "169", "nonwestern"): (52.0, 53.7),
    ("1.2", "169", "danish"): (81.4, 81.0),
    ("1.2", "492", "nonwestern"): (None, 61.5),
    ("1.2", "492", "danish"): (82.3, 83.5),
}
TITLES = [["Integrationsbarometeret: Arbejde"], ["Udtræk juni 2024"], []]
NOTES = [[], ["Kilde: Danmarks Statistik og Integrationsbarometeret"], ["Anm.: .. = diskretion"]]


@dataclass(frozen=True)
class Cell:
    """One value of the content, with everything a line says about it."""

    indicator: str
    municipality: str
    group: str
    year: int
    value: float | None


CELLS = [
    Cell(indicator, municipality, group, year, value)
    for (indicator, municipality, group), values in CONTENT.items()
    for year, value in zip(YEARS, values, strict=True)
]
UNITS = {"pct.-point": "pp", "pct.": "pct"}


def canonical(indicators=("1.1", "1.2")) -> set[tuple]:
    return {
        (
            c.indicator,
            c.municipality,
            c.year,
            c.group,
            c.value,
            c.value is None,
            ".." if c.value is None else None,
            UNITS[INDICATORS[c.indicator][1]],
        )
        for c in CELLS
        if c.indicator in indicators
    }


def as_tuple(row: IndicatorValue) -> tuple:
    return (
        row.indicator_code,
        row.municipality_code,
        row.year,
        row.population_group,
        row.value,
        row.is_suppressed,
        row.suppression_marker,
        row.unit,
    )


# --- how a variant writes a cell ----------------------------------------------------------------


def danish(value: float | None) -> str:
    return ".." if value is None else f"{value:.1f}".replace(".", ",")


def english(value: float | None) -> str:
    return ".." if value is None else f"{value:.1f}"


def excel(value: float | None) -> float | str:
    return ".." if value is None else value


LONG = {
    "Område": lambda c: "Arbejde",
    "Indikator nr.": lambda c: c.indicator,
    "Indikator": lambda c: INDICATORS[c.indicator][0],
    "Kommunenr.": lambda c: c.municipality,
    "Kommune": lambda c: MUNICIPALITIES[c.municipality],
    "År": lambda c: str(c.year),
    "Befolkningsgruppe": lambda c: GROUPS[c.group],
    "Værdi": lambda c: danish(c.value),
    "Enhed": lambda c: INDICATORS[c.indicator][1],
}
# Wide: one line per series, the LONG fields without År and Værdi, then one column per year.
WIDE_FIELDS = [c for c in LONG if c not in ("År", "Værdi")]
EXCEL_CELLS = {
    "År": lambda c: c.year,
    "Værdi": lambda c: excel(c.value),
    "Kommunenr.": lambda c: int(c.municipality),  # number cells: 000 is 0, 0101 is 101
}


def long_table(columns=tuple(LONG), **fields: Callable[[Cell], object]) -> list[list]:
    """Header and one line per cell; ``fields`` replace how a column is written."""
    write = {**LONG, **fields}
    return [list(columns)] + [[write[column](c) for column in columns] for c in CELLS]


def wide_table(columns=tuple(WIDE_FIELDS), value=danish, **fields) -> list[list]:
    write = {**LONG, **fields}
    table = [[*columns, *(str(year) for year in YEARS)]]
    for start in range(0, len(CELLS), len(YEARS)):
        series = CELLS[start : start + len(YEARS)]
        table.append([write[column](series[0]) for column in columns])
        table[-1] += [value(c.value) for c in series]
    return table


def write_csv(
    path: Path,
    table: list[list],
    *,
    delimiter: str = ";",
    encoding: str = "utf-8",
    newline: str = "\n",
    above: list[list] = (),
    below: list[list] = (),
) -> Path:
    text = io.StringIO()
    csv.writer(text, delimiter=delimiter, lineterminator=newline).writerows(
        [*above, *table, *below]
    )
    path.write_bytes(text.getvalue().encode(encoding))
    return path


def write_xlsx(path: Path, sheets: dict[str, list[list]]) -> Path:
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for name, rows in sheets.items():
        worksheet = workbook.create_sheet(name)
        for row in rows:
            worksheet.append(row)
    workbook.save(path)
    return path


def with_header(table: list[list], header: list[str]) -> list[list]:
    return [header, *table[1:]]


# --- the variants -------------------------------------------------------------------------------
# name -> (write the file into a folder, parse_export options, expected layout)


def long_utf8(folder: Path) -> Path:
    return write_csv(folder / "long.csv", long_table())


def long_utf8_bom(folder: Path) -> Path:
    return write_csv(folder / "bom.csv", long_table(), encoding="utf-8-sig")


def long_crlf(folder: Path) -> Path:
    return write_csv(folder / "crlf.csv", long_table(), newline="\r\n")


def long_windows_1252(folder: Path) -> Path:
    return write_csv(folder / "ansi.csv", long_table(), encoding="cp1252", newline="\r\n")


def long_comma_separated_decimal_point(folder: Path) -> Path:
    # Danmarks Statistik's English CSV: ',' between fields, so '.' before decimals.
    table = long_table(Værdi=lambda c: english(c.value))
    return write_csv(folder / "english.csv", table, delimiter=",")


def long_tab_separated(folder: Path) -> Path:
    return write_csv(folder / "tabs.txt", long_table(), delimiter="\t")


def long_shuffled_columns_any_case(folder: Path) -> Path:
    columns = ["Værdi", "Befolkningsgruppe", "År", "Enhed", "Kommune", "Kommunenr."]
    columns += ["Indikator", "Indikator nr.", "Område"]
    header = ["VÆRDI", "befolkningsgruppe", " år ", "ENHED", "kommune", "KOMMUNENR."]
    header += ["indikator", "INDIKATOR NR.", "område"]
    return write_csv(folder / "shuffled.csv", with_header(long_table(columns), header))


def long_title_and_notes(folder: Path) -> Path:
    return write_csv(folder / "notes.csv", long_table(), above=TITLES, below=NOTES)


def long_municipality_by_name(folder: Path) -> Path:
    # No code column: the name decides, in any case and spacing.
    written = {"000": "hele  LANDET", "101": " KØBENHAVN", "169": "høje-taastrup", "492": "ærø "}
    columns = [c for c in LONG if c != "Kommunenr."]
    table = long_table(columns, Kommune=lambda c: written[c.municipality])
    return write_csv(folder / "names.csv", table)


def long_municipality_old_spelling(folder: Path) -> Path:
    written = {
        "000": "Landet i alt",
        "101": "Københavns Kommune",
        "169": "Høje-Taastrup Kommune",
        "492": "Ærø Kommune",
    }
    columns = [c for c in LONG if c != "Kommunenr."]
    table = long_table(columns, Kommune=lambda c: written[c.municipality])
    return write_csv(folder / "old_names.csv", table)


def long_municipality_padded_code(folder: Path) -> Path:
    table = long_table(**{"Kommunenr.": lambda c: f"0{c.municipality}"})
    return write_csv(folder / "padded.csv", table)


def long_municipality_code_and_name(folder: Path) -> Path:
    # '101 København' in the code column, no separate name column.
    columns = [c for c in LONG if c != "Kommune"]
    table = long_table(
        columns, **{"Kommunenr.": lambda c: f"{c.municipality} {MUNICIPALITIES[c.municipality]}"}
    )
    return write_csv(folder / "code_and_name.csv", table)


def long_indicator_by_name(folder: Path) -> Path:
    # No 'Indikator nr.': the Danish name, in any case, names the indicator.
    columns = [c for c in LONG if c != "Indikator nr."]
    table = long_table(columns, Indikator=lambda c: INDICATORS[c.indicator][0].upper())
    return write_csv(folder / "indicator_names.csv", table)


def wide_csv(folder: Path) -> Path:
    return write_csv(folder / "wide.csv", wide_table())


def wide_xlsx(folder: Path) -> Path:
    # Number cells throughout; the code column alone names the municipality (000 is 0).
    columns = [c for c in WIDE_FIELDS if c != "Kommune"]
    table = wide_table(columns, value=excel, **EXCEL_CELLS)
    table[0] = [*columns, *YEARS]
    return write_xlsx(folder / "wide.xlsx", {"Ark1": table})


def xlsx_first_sheet(folder: Path) -> Path:
    sheets = {
        "Arbejde": [*TITLES, *long_table(**EXCEL_CELLS), *NOTES],
        "Noter": [["Indikator nr.", "Kommunenr.", "Befolkningsgruppe"], ["9.9", "999", "?"]],
    }
    return write_xlsx(folder / "first.xlsx", sheets)


def xlsx_named_second_sheet(folder: Path) -> Path:
    sheets = {
        "Forside": [["Integrationsbarometeret"], ["Se arket 'Data'"]],
        "Data": [*TITLES, *long_table(**EXCEL_CELLS), *NOTES],
    }
    return write_xlsx(folder / "second.xlsx", sheets)


def statbank(folder: Path, area: Callable[[str], str] = MUNICIPALITIES.get) -> Path:
    # One indicator only; 'Hele landet' is the whole country. UTF-8 with BOM, ';' and ','.
    table = [["OMRÅDE", "HERKOMST", "TID", "INDHOLD"]]
    table += [
        [area(c.municipality), STATBANK_GROUPS[c.group], str(c.year), danish(c.value)]
        for c in CELLS
        if c.indicator == "1.2"
    ]
    return write_csv(folder / "statbank.csv", table, encoding="utf-8-sig", newline="\r\n")


def statbank_code_and_name(folder: Path) -> Path:
    return statbank(folder, lambda code: f"{code} {MUNICIPALITIES[code]}")


PIVOT_TITLE = [["Beskæftigelsesfrekvens (ultimo november) efter område, herkomst og tid"], []]


def statbank_pivot_table(variables: list, value=danish, blank="") -> list[list]:
    """statbank.dk's pivot: area and origin as row variables, years as columns; an area is
    written on the first line of its group only."""
    table = [[*variables, *YEARS]]
    previous = None
    for (indicator, municipality, group), values in CONTENT.items():
        if indicator == "1.2":
            area = MUNICIPALITIES[municipality]
            table.append([blank if area == previous else area, STATBANK_GROUPS[group]])
            table[-1] += [value(v) for v in values]
            previous = area
    return table


def statbank_pivot_csv(folder: Path) -> Path:
    # "Download CSV": the row variables' header cells are blank. Windows-1252, CRLF.
    table = statbank_pivot_table(["", ""])
    return write_csv(
        folder / "pivot.csv", table, encoding="cp1252", newline="\r\n", above=PIVOT_TITLE
    )


def statbank_pivot_csv_named(folder: Path) -> Path:
    table = statbank_pivot_table(["OMRÅDE", "HERKOMST"])
    return write_csv(folder / "pivot_named.csv", table, encoding="utf-8-sig", above=PIVOT_TITLE)


def statbank_pivot_xlsx(folder: Path) -> Path:
    # Empty cells below an area's first line; years as number cells; a source note below.
    table = statbank_pivot_table([None, None], value=excel, blank=None)
    sheet = [*PIVOT_TITLE, *table, [], ["Kilde: Danmarks Statistik"]]
    return write_xlsx(folder / "pivot.xlsx", {"RAS": sheet})


STATBANK = {"indicator": "1.2"}
VARIANTS = {
    "long ; utf-8": (long_utf8, {}, "long csv ';' utf-8"),
    "long utf-8 BOM": (long_utf8_bom, {}, "long csv ';' utf-8"),
    "long CRLF": (long_crlf, {}, "long csv ';' utf-8"),
    "long windows-1252": (long_windows_1252, {}, "long csv ';' windows-1252"),
    "long , and decimal point": (long_comma_separated_decimal_point, {}, "long csv ',' utf-8"),
    "long tab separated": (long_tab_separated, {}, "long csv '\t' utf-8"),
    "long shuffled columns, any case": (long_shuffled_columns_any_case, {}, "long csv ';' utf-8"),
    "long title and notes": (long_title_and_notes, {}, "long csv ';' utf-8"),
    "municipality by name": (long_municipality_by_name, {}, "long csv ';' utf-8"),
    "municipality old spelling": (long_municipality_old_spelling, {}, "long csv ';' utf-8"),
    "municipality 0101": (long_municipality_padded_code, {}, "long csv ';' utf-8"),
    "municipality 101 København": (long_municipality_code_and_name, {}, "long csv ';' utf-8"),
    "indicator by Danish name": (long_indicator_by_name, {}, "long csv ';' utf-8"),
    "wide csv": (wide_csv, {}, "wide csv ';' utf-8"),
    "wide xlsx": (wide_xlsx, {}, "wide xlsx sheet 'Ark1'"),
    "xlsx first sheet": (xlsx_first_sheet, {}, "long xlsx sheet 'Arbejde'"),
    "xlsx named sheet": (xlsx_named_second_sheet, {"sheet": "Data"}, "long xlsx sheet 'Data'"),
    "statbank": (statbank, STATBANK, "statbank csv ';' utf-8"),
    "statbank 101 København": (statbank_code_and_name, STATBANK, "statbank csv ';' utf-8"),
    "statbank pivot csv": (
        statbank_pivot_csv,
        STATBANK,
        "statbank pivot csv ';' windows-1252",
    ),
    "statbank pivot csv named": (
        statbank_pivot_csv_named,
        STATBANK,
        "statbank pivot csv ';' utf-8",
    ),
    "statbank pivot xlsx": (statbank_pivot_xlsx, STATBANK, "statbank pivot xlsx sheet 'RAS'"),
}


def parse_variant(name: str, folder: Path) -> ParseResult:
    write, options, _ = VARIANTS[name]
    return parse_export(write(folder), REFERENCE, **options)


def by_key(result: ParseResult) -> dict[tuple, tuple]:
    return {row.key: (row.value, row.is_suppressed, row.suppression_marker) for row in result.rows}
