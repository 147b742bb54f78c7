"""The long barometer CSV, line by line (orchestration/sources/barometer.py: parse_export).

Export variants are in test_export_variants.py, bad input in test_export_rejects.py; here are
the typed values of single lines, and how a line that cannot be interpreted becomes a reject.
"""

from pathlib import Path

import pytest

from orchestration.sources.barometer import (
    ExportFormatError,
    IndicatorValue,
    ParseResult,
    Reject,
    parse_export,
)
from orchestration.sources.reference import load_reference

PROJECT_ROOT = Path(__file__).resolve().parents[1]
REFERENCE = load_reference(PROJECT_ROOT / "seeds" / "reference")

HEADER = "Område;Indikator nr.;Indikator;Kommunenr.;Kommune;År;Befolkningsgruppe;Værdi;Enhed"
NONWESTERN = "Indvandrere og efterkommere med ikke-vestlig oprindelse"
DANISH = "Personer med dansk oprindelse"
FILE_NAME = "barometer_1_arbejde.csv"


def row(
    value: str = "58,4",
    *,
    code: str = "101",
    group: str = NONWESTERN,
    unit: str = "pct.",
    year: str = "2020",
) -> str:
    """One export line in canonical column order; only the fields a test varies are arguments."""
    fields = ["Arbejde", "1.2", "Beskæftigelsesfrekvens", code, "København", year, group]
    return ";".join([*fields, value, unit])


def write_export(
    tmp_path: Path, *lines: str, newline: str = "\n", bom: bool = False, name: str = FILE_NAME
) -> Path:
    text = ("\ufeff" if bom else "") + newline.join(lines) + newline
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8"))
    return path


def parse(path: Path) -> ParseResult:
    result = parse_export(path, REFERENCE)
    # Every value read is loaded, skipped or rejected: nothing disappears.
    assert result.extracted == len(result.rows) + result.skipped_total + len(result.rejects)
    return result


def parse_rows(tmp_path: Path, *rows: str, **options) -> list[IndicatorValue]:
    """The rows of a file that must parse cleanly: no rejects, no warnings."""
    result = parse(write_export(tmp_path, HEADER, *rows, **options))
    assert (result.rejects, result.warnings) == ([], [])
    return result.rows


def parse_one(tmp_path: Path, line: str) -> IndicatorValue:
    [value] = parse_rows(tmp_path, line)
    return value


def reject_of(tmp_path: Path, line: str) -> Reject:
    """The one reject of a file with a valid line 2 and ``line`` as line 3; line 2 still loads."""
    result = parse(write_export(tmp_path, HEADER, row("50,0", year="2012"), line))
    assert [(r.source_line, r.value) for r in result.rows] == [(2, 50.0)]
    [reject] = result.rejects
    assert (reject.source_line, reject.raw_text) == (3, line)
    return reject


def export_error(path: Path) -> ExportFormatError:
    with pytest.raises(ExportFormatError) as caught:
        parse_export(path, REFERENCE)
    return caught.value


def assert_located(error: ExportFormatError, line: int, column: str | None) -> None:
    """The error names file, line and column, both as attributes and in its message."""
    assert error.source == FILE_NAME
    assert error.line == line
    # The column is named by its Danish header, as the file spells it.
    assert error.column == column
    message = str(error)
    assert message.startswith(f"{FILE_NAME}, line {line}")
    if column:
        assert f"column '{column}'" in message


# --- typed values -------------------------------------------------------------------------------


def test_canonical_row_becomes_a_fully_typed_value(tmp_path):
    result = parse(write_export(tmp_path, HEADER, row("58,4")))
    assert result.rows == [
        IndicatorValue(
            source_line=2,
            area_name="Arbejde",
            indicator_code="1.2",
            indicator_name="Beskæftigelsesfrekvens",
            municipality_code="101",
            municipality_name="København",
            year=2020,
            population_group="nonwestern",
            value=58.4,
            is_suppressed=False,
            suppression_marker=None,
            unit="pct",
        )
    ]
    assert (result.source, result.layout) == (FILE_NAME, "long csv ';' utf-8")
    assert (result.rejects, result.warnings, result.extracted) == ([], [], 1)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("58,4", 58.4),
        ("1.234,5", 1234.5),
        ("1.234", 1234.0),
        ("12", 12.0),
        ("0,0", 0.0),
        ("-3,2", -3.2),
        ("58,4 %", 58.4),
        (" 58,4 ", 58.4),
    ],
)
def test_value_uses_decimal_comma_and_thousands_dot(tmp_path, text, expected):
    value = parse_one(tmp_path, row(text))
    assert value.value == expected
    assert value.is_suppressed is False
    assert value.suppression_marker is None


def test_negative_gap_in_percentage_points(tmp_path):
    value = parse_one(tmp_path, row("-12,5", unit="pct.-point"))
    assert (value.value, value.unit) == (-12.5, "pp")


@pytest.mark.parametrize(
    ("written", "kept"),
    [("..", ".."), (".", "."), ("-", "-"), ("x", "x"), ("X", "X"), ("", ""), (" .. ", "..")],
)
def test_suppression_marker_gives_no_value_and_keeps_the_marker(tmp_path, written, kept):
    # The marker is kept as written, only stripped: 'X' stays 'X', it is not lower-cased.
    value = parse_one(tmp_path, row(written))
    assert value.value is None
    assert value.is_suppressed is True
    assert value.suppression_marker == kept


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        (NONWESTERN, "nonwestern"),
        ("Indvandrere og efterkommere fra ikke-vestlige lande", "nonwestern"),
        (DANISH, "danish"),
        ("PERSONER MED DANSK OPRINDELSE", "danish"),
        ("Personer  med dansk   oprindelse", "danish"),
    ],
)
def test_population_group_label_maps_to_code(tmp_path, label, expected):
    assert parse_one(tmp_path, row(group=label)).population_group == expected


@pytest.mark.parametrize(
    ("label", "expected"),
    [("pct.", "pct"), ("Pct.", "pct"), ("pct.-point", "pp"), ("antal", "count"), ("", "pct")],
)
def test_unit_label_maps_to_code(tmp_path, label, expected):
    # No unit written: the indicator's unit from the reference data (1.2 is in pct).
    assert parse_one(tmp_path, row(unit=label)).unit == expected


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("101", "101"),
        ("0101", "101"),
        ("000", "000"),
        ("0", "000"),
        ("851", "851"),
        ("101 København", "101"),
    ],
)
def test_municipality_code_is_a_three_digit_string(tmp_path, code, expected):
    assert parse_one(tmp_path, row(code=code)).municipality_code == expected


def test_spaces_around_fields_are_trimmed(tmp_path):
    padded = ";".join(f"  {field} " for field in row("58,4", group=DANISH).split(";"))
    value = parse_one(tmp_path, padded)
    assert (value.area_name, value.indicator_code, value.indicator_name) == (
        "Arbejde",
        "1.2",
        "Beskæftigelsesfrekvens",
    )
    assert (value.municipality_code, value.municipality_name, value.year) == (
        "101",
        "København",
        2020,
    )
    assert (value.population_group, value.value, value.unit) == ("danish", 58.4, "pct")


def test_header_case_and_column_order_do_not_matter(tmp_path):
    header = "ENHED; værdi ;BEFOLKNINGSGRUPPE;år;KOMMUNE;Kommunenr.;INDIKATOR;indikator nr.;OMRÅDE"
    line = f"pct.;58,4;{DANISH};2020;København;101;Beskæftigelsesfrekvens;1.2;Arbejde"
    reordered = parse(write_export(tmp_path, header, line, name="reordered.csv")).rows
    canonical = parse_rows(tmp_path, row("58,4", group=DANISH))
    assert reordered == canonical


def test_utf8_byte_order_mark_is_ignored(tmp_path):
    # Excel writes a BOM; left in place it would hide the first header, 'Område'.
    with_bom = parse_rows(tmp_path, row("58,4"), bom=True)
    assert with_bom == parse_rows(tmp_path, row("58,4"))
    assert with_bom[0].area_name == "Arbejde"


def test_crlf_line_ends(tmp_path):
    values = parse_rows(tmp_path, row("58,4"), row("..", year="2021"), newline="\r\n")
    assert [(v.year, v.value, v.unit, v.suppression_marker) for v in values] == [
        (2020, 58.4, "pct", None),
        (2021, None, "pct", ".."),
    ]
    assert [v.source_line for v in values] == [2, 3]


def test_blank_lines_are_skipped_and_source_line_is_the_physical_line(tmp_path):
    lines = [row("1,0", year="2012"), "", row("2,0", year="2013"), "   ", ";;;;;;;;"]
    values = parse_rows(tmp_path, *lines, row("3,0", year="2014"))
    assert [(v.source_line, v.year, v.value) for v in values] == [
        (2, 2012, 1.0),
        (4, 2013, 2.0),
        (7, 2014, 3.0),
    ]


def test_source_line_counts_blank_lines_with_crlf(tmp_path):
    values = parse_rows(tmp_path, "", row("1,0"), "", "", row("2,0", year="2021"), newline="\r\n")
    assert [v.source_line for v in values] == [3, 6]


def test_quoted_field_over_two_lines_keeps_later_line_numbers(tmp_path):
    # A quoted newline is one record on two physical lines; the next record is on line 4.
    multiline = row("1,0").replace("København", '"Køben\nhavn"')
    values = parse_rows(tmp_path, multiline, row("2,0", year="2021"))
    assert [(v.source_line, v.municipality_name) for v in values] == [
        (2, "Køben\nhavn"),
        (4, "København"),
    ]


def test_header_only_file_has_no_rows(tmp_path):
    result = parse(write_export(tmp_path, HEADER))
    assert (result.rows, result.rejects, result.extracted) == ([], [], 0)


# --- lines that become rejects: the rest of the file still loads ---------------------------------


def test_unreadable_number_is_a_reject(tmp_path):
    reject = reject_of(tmp_path, row("58,4x"))
    assert reject.reason == "unreadable number: '58,4x' is not a number"


def test_non_numeric_municipality_code_is_a_reject(tmp_path):
    assert reject_of(tmp_path, row(code="1O1")).reason == "unknown municipality '1O1'"


@pytest.mark.parametrize("code", ["1010", "01010", "-101", "999", "10²"])
def test_out_of_range_municipality_code_is_a_reject(tmp_path, code):
    assert reject_of(tmp_path, row(code=code)).reason == f"unknown municipality '{code}'"


def test_empty_municipality_code_falls_back_to_the_name(tmp_path):
    # Both columns name the municipality; an empty code leaves the name to decide.
    assert parse_one(tmp_path, row(code="")).municipality_code == "101"


def test_non_numeric_year_is_a_reject(tmp_path):
    assert reject_of(tmp_path, row(year="2020/21")).reason == "'2020/21' is not a year"


def test_unknown_population_group_is_a_reject(tmp_path):
    reject = reject_of(tmp_path, row(group="Vestlige indvandrere"))
    assert reject.reason == "unknown population group 'Vestlige indvandrere'"


def test_unknown_unit_is_a_reject(tmp_path):
    assert reject_of(tmp_path, row(unit="promille")).reason == "unknown unit 'promille'"


def test_a_cut_off_line_is_rejected_not_read_into_the_wrong_columns(tmp_path):
    # Without its last field the line may have lost part of its value too: it is not trusted.
    short = row("58,4").rsplit(";", 1)[0]
    result = parse(write_export(tmp_path, HEADER, short, row("60,1", year="2022")))
    assert [r.value for r in result.rows] == [60.1]
    rejects = [(r.source_line, r.reason) for r in result.rejects]
    assert rejects == [(2, "expected 9 fields, found 8")]
    assert result.extracted == 2


# --- files that cannot be read at all -----------------------------------------------------------


def test_missing_required_column_is_named(tmp_path):
    header = HEADER.replace(";Værdi", "")
    line = row().replace(";58,4", "")
    error = export_error(write_export(tmp_path, header, line))
    assert_located(error, line=1, column="Værdi")
    assert error.reason == "required column is missing"


def test_missing_column_is_located_to_the_header_line_below_a_title(tmp_path):
    header = HEADER.replace(";Befolkningsgruppe", "")
    error = export_error(write_export(tmp_path, "Integrationsbarometer 2024", "", header))
    assert_located(error, line=3, column="Befolkningsgruppe")


def test_empty_file(tmp_path):
    path = tmp_path / FILE_NAME
    path.write_bytes(b"")
    error = export_error(path)
    assert_located(error, line=1, column=None)
    assert error.reason == "the file is empty"


def test_windows_1252_export_is_decoded(tmp_path):
    # Older Excel saves Windows-1252: 'Område' and 'København' are not valid UTF-8 there.
    path = tmp_path / FILE_NAME
    path.write_bytes(f"{HEADER}\n{row()}\n".encode("cp1252"))
    [value] = parse(path).rows
    assert (value.area_name, value.municipality_name, value.value) == ("Arbejde", "København", 58.4)


def test_bytes_neither_utf8_nor_windows_1252_are_located_to_their_line(tmp_path):
    # 0x81 is undefined in Windows-1252 and a stray continuation byte in UTF-8.
    path = tmp_path / FILE_NAME
    path.write_bytes(f"{HEADER}\n{row()}\n".encode() + b"Arbejde;\x81\n")
    error = export_error(path)
    assert_located(error, line=3, column=None)
    assert error.reason == "neither UTF-8 nor Windows-1252 text"
