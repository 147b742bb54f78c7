"""Bad input: a line that cannot be interpreted is a reject, a file that cannot be read an error.

Rejects carry the line, its raw text and the reason, and the valid lines still load; every
value written is either loaded or rejected. A file that cannot be read at all raises
ExportFormatError naming the file, the line and (where one is to blame) the column.
"""

import random
from datetime import date
from pathlib import Path

import openpyxl
import pytest

from orchestration.sources.barometer import ExportFormatError, ParseResult, Reject, parse_export
from orchestration.sources.reference import load_reference

PROJECT_ROOT = Path(__file__).resolve().parents[1]
REFERENCE = load_reference(PROJECT_ROOT / "seeds" / "reference")
TODAY = date(2024, 6, 1)  # years 2000-2025 are valid

HEADER = "Område;Indikator nr.;Indikator;Kommunenr.;Kommune;År;Befolkningsgruppe;Værdi;Enhed"
NONWESTERN = "Indvandrere og efterkommere med ikke-vestlig oprindelse"
DANISH = "Personer med dansk oprindelse"
FILE_NAME = "export.csv"


def line(
    value: str = "58,4",
    *,
    indicator: str = "1.2",
    code: str = "101",
    name: str = "København",
    year: str = "2023",
    group: str = NONWESTERN,
) -> str:
    fields = ["Arbejde", indicator, "Beskæftigelsesfrekvens", code, name, year, group, value]
    return ";".join([*fields, "pct."])


def write(tmp_path: Path, *lines: str, name: str = FILE_NAME) -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def parse(path: Path, written: int, **options) -> ParseResult:
    """Parse a file of ``written`` values; each of them must be loaded or rejected (none of these
    files names an area that is not a municipality, so none is skipped)."""
    result = parse_export(path, REFERENCE, today=TODAY, **options)
    assert result.skipped == {}
    assert len(result.rows) + len(result.rejects) == result.extracted == written
    return result


def parse_lines(tmp_path: Path, *lines: str) -> ParseResult:
    return parse(write(tmp_path, HEADER, *lines), written=len(lines))


def one_bad_line(tmp_path: Path, bad: str) -> Reject:
    """``bad`` between two valid lines: it is the one reject, on line 3; lines 2 and 4 load."""
    result = parse_lines(tmp_path, line("50,0", year="2012"), bad, line("60,0", year="2013"))
    assert [(r.source_line, r.year, r.value) for r in result.rows] == [
        (2, 2012, 50.0),
        (4, 2013, 60.0),
    ]
    [reject] = result.rejects
    assert (reject.source_line, reject.raw_text) == (3, bad)
    return reject


def format_error(path: Path, **options) -> ExportFormatError:
    with pytest.raises(ExportFormatError) as caught:
        parse_export(path, REFERENCE, today=TODAY, **options)
    error = caught.value
    # The message locates the problem the way the attributes do.
    assert str(error).startswith(f"{path.name}, line {error.line}")
    assert error.source == path.name
    return error


def write_xlsx(path: Path, rows: list[list], title: str = "Ark1") -> Path:
    workbook = openpyxl.Workbook()
    workbook.active.title = title
    for row in rows:
        workbook.active.append(row)
    workbook.save(path)
    return path


# --- one bad line among good ones ---------------------------------------------------------------


@pytest.mark.parametrize("code", ["999", "1010", "1O1"])
def test_unknown_municipality_code(tmp_path, code):
    reject = one_bad_line(tmp_path, line(code=code))
    assert reject.reason == f"unknown municipality '{code}'"


def test_unknown_municipality_name(tmp_path):
    header = HEADER.replace("Kommunenr.;", "")
    good = ";".join(["Arbejde", "1.2", "Beskæftigelsesfrekvens", "København", "2023"])
    lines = [
        f"{good};{DANISH};58,4;pct.",
        f"{good.replace('København', 'Atlantis')};{DANISH};1,0;pct.",
    ]
    result = parse(write(tmp_path, header, *lines), written=2)
    assert [row.municipality_code for row in result.rows] == ["101"]
    assert result.rejects == [Reject(3, lines[1], "unknown municipality 'Atlantis'")]


@pytest.mark.parametrize("indicator", ["4.1", "1.2.3", "Ukendt indikator"])
def test_unknown_indicator(tmp_path, indicator):
    reject = one_bad_line(tmp_path, line(indicator=indicator))
    assert reject.reason == f"unknown indicator '{indicator}'"


@pytest.mark.parametrize("year", ["1999", "2026"])
def test_year_outside_2000_to_next_year(tmp_path, year):
    reject = one_bad_line(tmp_path, line(year=year))
    assert reject.reason == f"year {year} is outside 2000-2025"


def test_first_and_next_year_are_inside_the_range(tmp_path):
    result = parse_lines(tmp_path, line(year="2000"), line(year="2025"))
    assert ([r.year for r in result.rows], result.rejects) == ([2000, 2025], [])


def test_year_range_follows_today(tmp_path):
    path = write(tmp_path, HEADER, line(year="2026"))
    assert parse_export(path, REFERENCE, today=date(2025, 1, 1)).rejects == []


@pytest.mark.parametrize("year", ["2020/21", "23", "år"])
def test_year_that_is_not_a_year(tmp_path, year):
    assert one_bad_line(tmp_path, line(year=year)).reason == f"'{year}' is not a year"


@pytest.mark.parametrize("value", ["58,4x", "12.34", "1,2,3", "n/a"])
def test_unreadable_number(tmp_path, value):
    reject = one_bad_line(tmp_path, line(value))
    assert reject.reason == f"unreadable number: '{value}' is not a number"


def test_unknown_population_group(tmp_path):
    reject = one_bad_line(tmp_path, line(group="Vestlige indvandrere"))
    assert reject.reason == "unknown population group 'Vestlige indvandrere'"


# --- duplicate keys -----------------------------------------------------------------------------


def test_duplicate_with_the_same_value_keeps_the_first(tmp_path):
    # '0101' is '101': the same key, however it is written.
    lines = [line("58,4"), line("60,0", year="2022"), line("58,4", code="0101")]
    result = parse_lines(tmp_path, *lines)
    assert [(r.source_line, r.year, r.value) for r in result.rows] == [
        (2, 2023, 58.4),
        (3, 2022, 60.0),
    ]
    assert result.rejects == [Reject(4, lines[2], "duplicate of line 2")]


def test_duplicate_with_different_values_rejects_them_all(tmp_path):
    # Which one is right cannot be known, so neither loads.
    lines = [line("58,4"), line("60,0", year="2022"), line("58,5"), line("..")]
    result = parse_lines(tmp_path, *lines)
    assert [(r.source_line, r.year) for r in result.rows] == [(3, 2022)]
    assert result.rejects == [
        Reject(number, text, "conflicting values on lines 2, 4, 5")
        for number, text in [(2, lines[0]), (4, lines[2]), (5, lines[3])]
    ]


def test_duplicate_suppressed_cells_with_different_markers_conflict(tmp_path):
    result = parse_lines(tmp_path, line(".."), line("x"))
    assert result.rows == []
    assert [r.reason for r in result.rejects] == ["conflicting values on lines 2, 3"] * 2


# --- wide layout: a reject per value ------------------------------------------------------------


def test_wide_unreadable_cell_rejects_that_year_only(tmp_path):
    header = "Indikator nr.;Kommunenr.;Befolkningsgruppe;2022;2023"
    lines = [f"1.2;101;{DANISH};57,2;58,4", f"1.2;169;{DANISH};52,0;5?,7"]
    result = parse(write(tmp_path, header, *lines), written=4)
    assert [(r.municipality_code, r.year, r.value) for r in result.rows] == [
        ("101", 2022, 57.2),
        ("101", 2023, 58.4),
        ("169", 2022, 52.0),
    ]
    reason = "unreadable number: '5?,7' is not a number (column '2023')"
    assert result.rejects == [Reject(3, lines[1], reason)]


def test_wide_unknown_municipality_rejects_every_year_of_the_line(tmp_path):
    header = "Indikator nr.;Kommunenr.;Befolkningsgruppe;2022;2023"
    lines = [f"1.2;999;{DANISH};57,2;58,4", f"1.2;101;{DANISH};52,0;53,7"]
    result = parse(write(tmp_path, header, *lines), written=4)
    assert [(r.source_line, r.year) for r in result.rows] == [(3, 2022), (3, 2023)]
    assert result.rejects == [
        Reject(2, lines[0], f"unknown municipality '999' (column '{year}')")
        for year in ("2022", "2023")
    ]


# --- every kind at once: nothing is dropped -----------------------------------------------------


def test_mixed_file_loads_the_good_lines_and_rejects_each_bad_one(tmp_path):
    lines = [
        line("50,0", year="2012"),  # 2 good
        line(code="999"),  # 3 unknown municipality
        line(indicator="4.1"),  # 4 unknown indicator
        line(year="1999"),  # 5 year too early
        line(year="2026"),  # 6 year too late
        line("58,4x"),  # 7 unreadable number
        line("51,0", year="2013"),  # 8 good
        line("51,0", year="2013"),  # 9 duplicate of line 8
        line("1,0", year="2014"),  # 10 conflicts with 11
        line("2,0", year="2014"),  # 11
        line("..", year="2015"),  # 12 good, suppressed
    ]
    result = parse_lines(tmp_path, *lines)
    assert [(r.source_line, r.year, r.value, r.suppression_marker) for r in result.rows] == [
        (2, 2012, 50.0, None),
        (8, 2013, 51.0, None),
        (12, 2015, None, ".."),
    ]
    assert sorted((r.source_line, r.reason) for r in result.rejects) == [
        (3, "unknown municipality '999'"),
        (4, "unknown indicator '4.1'"),
        (5, "year 1999 is outside 2000-2025"),
        (6, "year 2026 is outside 2000-2025"),
        (7, "unreadable number: '58,4x' is not a number"),
        (9, "duplicate of line 8"),
        (10, "conflicting values on lines 10, 11"),
        (11, "conflicting values on lines 10, 11"),
    ]
    assert all(r.raw_text == lines[r.source_line - 2] for r in result.rejects)


def test_xlsx_reject_carries_the_sheet_row_and_its_cells(tmp_path):
    rows = [
        ["Integrationsbarometeret"],
        [],
        ["Indikator nr.", "Kommunenr.", "År", "Befolkningsgruppe", "Værdi"],
        ["1.2", 101, 2023, DANISH, 58.4],
        ["1.2", 999, 2023, DANISH, 12.5],
        ["Kilde: Danmarks Statistik"],
    ]
    result = parse(write_xlsx(tmp_path / "export.xlsx", rows), written=2)
    assert [(r.source_line, r.value) for r in result.rows] == [(4, 58.4)]
    assert result.rejects == [
        Reject(5, f"1.2;999;2023;{DANISH};12.5", "unknown municipality '999'")
    ]


# --- columns ------------------------------------------------------------------------------------


def test_unknown_extra_column_is_ignored_with_a_warning(tmp_path):
    path = write(tmp_path, f"{HEADER};Kommentar", f"{line()};foreløbigt tal")
    result = parse(path, written=1)
    assert [(r.municipality_code, r.value) for r in result.rows] == [("101", 58.4)]
    assert result.warnings == [f"{FILE_NAME}: column 'Kommentar' is not used"]


def test_statbank_extra_variable_is_ignored_with_a_warning(tmp_path):
    path = write(tmp_path, "OMRÅDE;KØN;HERKOMST;TID;INDHOLD", f"København;I alt;{DANISH};2023;58,4")
    result = parse(path, written=1, indicator="1.2")
    assert [(r.indicator_code, r.municipality_code, r.value) for r in result.rows] == [
        ("1.2", "101", 58.4)
    ]
    assert result.warnings == [f"{FILE_NAME}: column 'KØN' is not used"]


@pytest.mark.parametrize(
    ("dropped", "column"),
    [
        (["Befolkningsgruppe"], "Befolkningsgruppe"),
        (["Kommunenr.", "Kommune"], "Kommunenr."),
        (["Indikator nr.", "Indikator"], "Indikator nr."),
        (["År"], "År"),
        (["Værdi"], "Værdi"),
    ],
)
def test_missing_required_column_is_named(tmp_path, dropped, column):
    header = HEADER.split(";")
    keep = [i for i, name in enumerate(header) if name not in dropped]
    lines = [";".join(text.split(";")[i] for i in keep) for text in (HEADER, line())]
    error = format_error(write(tmp_path, "Integrationsbarometeret", *lines))
    assert (error.line, error.column, error.reason) == (2, column, "required column is missing")
    assert f"line 2, column '{column}': required column is missing" in str(error)


def test_indicator_column_is_not_needed_when_the_indicator_is_named(tmp_path):
    header = HEADER.replace("Indikator nr.;Indikator;", "")
    text = line().replace("1.2;Beskæftigelsesfrekvens;", "")
    result = parse(write(tmp_path, header, text), written=1, indicator="1.2")
    assert [(r.indicator_code, r.municipality_code, r.value) for r in result.rows] == [
        ("1.2", "101", 58.4)
    ]


# --- files that cannot be read at all -----------------------------------------------------------


def test_statbank_without_an_indicator(tmp_path):
    path = tmp_path / "statbank.csv"
    path.write_text("\ufeffOMRÅDE;HERKOMST;TID;INDHOLD\nKøbenhavn;I alt;2023;58,4\n", "utf-8")
    error = format_error(path)
    assert (error.line, error.column) == (1, None)
    assert "--indicator" in error.reason


def test_unknown_indicator_named_for_a_file(tmp_path):
    path = write(tmp_path, "OMRÅDE;HERKOMST;TID;INDHOLD", "København;I alt;2023;58,4")
    error = format_error(path, indicator="4.1")
    assert (error.line, error.reason) == (1, "unknown indicator '4.1'")


@pytest.mark.parametrize("content", [b"", b"\n\n", b"  ;  ;\r\n \r\n"])
def test_empty_file(tmp_path, content):
    path = tmp_path / FILE_NAME
    path.write_bytes(content)
    error = format_error(path)
    assert (error.line, error.column, error.reason) == (1, None, "the file is empty")


def test_file_that_is_not_an_export(tmp_path):
    path = write(tmp_path, "Kære modtager,", "hermed tallene; se vedhæftede.", "Venlig hilsen")
    error = format_error(path)
    assert (error.line, error.column) == (1, None)
    assert error.reason == "no header line with the columns of a barometer export was found"


def test_header_further_down_than_30_lines_is_not_found(tmp_path):
    path = write(tmp_path, *["Titel"] * 30, HEADER, line())
    assert "no header line" in format_error(path).reason


def test_binary_garbage_is_located_to_the_line_of_the_first_unreadable_byte(tmp_path):
    # 0x81 is neither UTF-8 nor Windows-1252; it follows the line end 0x0a, so it is on line 2.
    path = tmp_path / FILE_NAME
    path.write_bytes(bytes(range(256)) * 4)
    error = format_error(path)
    assert (error.line, error.reason) == (2, "neither UTF-8 nor Windows-1252 text")


def test_random_bytes_are_an_export_error(tmp_path):
    path = tmp_path / "download.csv"
    path.write_bytes(random.Random(0).randbytes(4000))
    assert format_error(path).line >= 1


@pytest.mark.parametrize(
    "content", [random.Random(1).randbytes(2000), b"PK\x03\x04 truncated", HEADER.encode()]
)
def test_unreadable_xlsx(tmp_path, content):
    path = tmp_path / "export.xlsx"
    path.write_bytes(content)
    error = format_error(path)
    assert (error.line, error.column) == (1, None)
    assert error.reason.startswith("not a readable .xlsx file")


def test_xlsx_without_the_named_sheet(tmp_path):
    path = write_xlsx(tmp_path / "export.xlsx", [HEADER.split(";")], title="Ark1")
    error = format_error(path, sheet="Data")
    assert error.reason == "no sheet named 'Data' (sheets: ['Ark1'])"


def test_xlsx_without_a_header(tmp_path):
    path = write_xlsx(tmp_path / "export.xlsx", [["Integrationsbarometeret"], [1, 2, 3]])
    assert "no header line" in format_error(path).reason


def test_missing_file_is_an_os_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        parse_export(tmp_path / "missing.csv", REFERENCE)
