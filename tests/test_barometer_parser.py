"""Unit tests for the barometer export parser (orchestration/sources/barometer.py)."""

from pathlib import Path

import pytest

from orchestration.sources.barometer import (
    ExportFormatError,
    IndicatorValue,
    parse_barometer_file,
    parse_danish_number,
)

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


def parse_rows(tmp_path: Path, *rows: str, **options) -> list[IndicatorValue]:
    return parse_barometer_file(write_export(tmp_path, HEADER, *rows, **options))


def parse_one(tmp_path: Path, line: str) -> IndicatorValue:
    [value] = parse_rows(tmp_path, line)
    return value


def export_error(path: Path) -> ExportFormatError:
    with pytest.raises(ExportFormatError) as caught:
        parse_barometer_file(path)
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
        assert column in message


# --- typed values -------------------------------------------------------------------------------


def test_canonical_row_becomes_a_fully_typed_value(tmp_path):
    assert parse_rows(tmp_path, row("58,4")) == [
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


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("58,4", 58.4),
        ("1.234,5", 1234.5),
        ("1.234", 1234.0),
        ("12", 12.0),
        ("0,0", 0.0),
        ("-3,2", -3.2),
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


@pytest.mark.parametrize("marker", ["..", ".", "-", "x", "X", ""])
def test_suppression_marker_gives_no_value_and_keeps_the_marker(tmp_path, marker):
    value = parse_one(tmp_path, row(marker))
    assert value.value is None
    assert value.is_suppressed is True
    assert value.suppression_marker == marker


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        (NONWESTERN, "nonwestern"),
        (DANISH, "danish"),
        ("I alt", "all"),
        ("i alt", "all"),
        ("PERSONER MED DANSK OPRINDELSE", "danish"),
    ],
)
def test_population_group_label_maps_to_code(tmp_path, label, expected):
    assert parse_one(tmp_path, row(group=label)).population_group == expected


@pytest.mark.parametrize(
    ("label", "expected"),
    [("pct.", "pct"), ("Pct.", "pct"), ("pct.-point", "pp"), ("antal", "count")],
)
def test_unit_label_maps_to_code(tmp_path, label, expected):
    assert parse_one(tmp_path, row(unit=label)).unit == expected


@pytest.mark.parametrize(
    ("code", "expected"),
    [("101", "101"), ("0101", "101"), ("000", "000"), ("851", "851"), ("47", "047")],
)
def test_municipality_code_is_a_three_digit_string(tmp_path, code, expected):
    assert parse_one(tmp_path, row(code=code)).municipality_code == expected


def test_spaces_around_fields_are_trimmed(tmp_path):
    padded = ";".join(f"  {field} " for field in row("58,4", group="I alt").split(";"))
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
    assert (value.population_group, value.value, value.unit) == ("all", 58.4, "pct")


def test_header_case_and_column_order_do_not_matter(tmp_path):
    header = "ENHED; værdi ;BEFOLKNINGSGRUPPE;år;KOMMUNE;Kommunenr.;INDIKATOR;indikator nr.;OMRÅDE"
    line = "pct.;58,4;I alt;2020;København;101;Beskæftigelsesfrekvens;1.2;Arbejde"
    reordered = parse_barometer_file(write_export(tmp_path, header, line))
    canonical = parse_rows(tmp_path, row("58,4", group="I alt"))
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
    values = parse_rows(tmp_path, "", row("1,0"), "", "", row("2,0"), newline="\r\n")
    assert [v.source_line for v in values] == [3, 6]


def test_header_only_file_has_no_rows(tmp_path):
    assert parse_barometer_file(write_export(tmp_path, HEADER)) == []


# --- errors -------------------------------------------------------------------------------------


def test_unreadable_number_is_located_to_the_value_column(tmp_path):
    error = export_error(write_export(tmp_path, HEADER, row("58,4"), row("58,4x")))
    assert_located(error, line=3, column="Værdi")
    assert "'58,4x'" in str(error)


def test_non_numeric_municipality_code(tmp_path):
    error = export_error(write_export(tmp_path, HEADER, row(code="1O1")))
    assert_located(error, line=2, column="Kommunenr.")
    assert "'1O1' is not a municipality code" in str(error)


@pytest.mark.parametrize("code", ["1010", "01010", "", "-101"])
def test_out_of_range_or_missing_municipality_code(tmp_path, code):
    error = export_error(write_export(tmp_path, HEADER, row(code=code)))
    assert_located(error, line=2, column="Kommunenr.")


def test_non_numeric_year(tmp_path):
    error = export_error(write_export(tmp_path, HEADER, row(year="2020/21")))
    assert_located(error, line=2, column="År")


def test_unknown_population_group(tmp_path):
    error = export_error(write_export(tmp_path, HEADER, row(group="Vestlige indvandrere")))
    assert_located(error, line=2, column="Befolkningsgruppe")
    assert "unknown population group 'Vestlige indvandrere'" in str(error)


def test_unknown_unit(tmp_path):
    error = export_error(write_export(tmp_path, HEADER, row(unit="promille")))
    assert_located(error, line=2, column="Enhed")
    assert "'promille'" in str(error)


def test_row_with_a_missing_field(tmp_path):
    short = row().rsplit(";", 1)[0]
    error = export_error(write_export(tmp_path, HEADER, row(), "", short))
    # Which field is missing cannot be known, so no column is named.
    assert_located(error, line=4, column=None)
    assert "expected 9 fields, found 8" in str(error)


def test_row_with_an_extra_field(tmp_path):
    error = export_error(write_export(tmp_path, HEADER, row() + ";ekstra"))
    assert_located(error, line=2, column=None)
    assert "expected 9 fields, found 10" in str(error)


def test_missing_required_column_is_named(tmp_path):
    header = HEADER.replace(";Værdi", "")
    line = row().replace(";58,4", "")
    error = export_error(write_export(tmp_path, header, line))
    assert_located(error, line=1, column="Værdi")
    assert "required column is missing" in str(error)


def test_empty_file(tmp_path):
    path = tmp_path / FILE_NAME
    path.write_bytes(b"")
    error = export_error(path)
    assert_located(error, line=1, column=None)
    assert "empty" in str(error)


def test_non_utf8_bytes(tmp_path):
    # A Latin-1 export, as an older Excel would save it: 'Område' is already undecodable.
    path = tmp_path / FILE_NAME
    path.write_bytes(f"{HEADER}\n{row()}\n".encode("latin-1"))
    error = export_error(path)
    assert_located(error, line=1, column=None)
    assert "not UTF-8" in str(error)


def test_non_utf8_bytes_are_located_to_their_line(tmp_path):
    path = tmp_path / FILE_NAME
    path.write_bytes(f"{HEADER}\n{row()}\n".encode() + row().encode("latin-1") + b"\n")
    assert export_error(path).line == 3


def test_unicode_digit_in_municipality_code_is_an_export_error(tmp_path):
    error = export_error(write_export(tmp_path, HEADER, row(code="10²")))
    assert_located(error, line=2, column="Kommunenr.")


# --- parse_danish_number ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("58,4", 58.4),
        ("1.234,5", 1234.5),
        ("1.234.567", 1234567.0),
        ("1234,5", 1234.5),
        ("12", 12.0),
        ("-3,2", -3.2),
        ("+1,0", 1.0),
        (" 7,25 ", 7.25),
    ],
)
def test_parse_danish_number_accepts(text, expected):
    assert parse_danish_number(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "1,2,3",
        "12.34",  # '.' separates thousands, so it needs groups of three: ambiguous, rejected
        "1.2345",
        "1.23,4",
        "abc",
        "58,4x",
        "",
        ",5",
        "1 234,5",
        "--1",
        "..",
    ],
)
def test_parse_danish_number_rejects(text):
    with pytest.raises(ValueError, match="is not a number with a decimal comma"):
        parse_danish_number(text)
