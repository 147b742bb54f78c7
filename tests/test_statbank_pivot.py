"""The statbank.dk pivot (a table saved from the web page rather than the API): the same values,
read from a header of periods with the row variables carried down."""

import openpyxl
import pytest
from test_statbank import (
    AREAS,
    DANISH,
    GROUPS,
    REFERENCE,
    SKIPPED,
    WARNINGS,
    YEARS,
    as_rows,
    expected_rows,
    parse,
    value,
    without_file,
    write_csv,
)

from orchestration.sources.barometer import ExportFormatError, Reject, parse_export

# --- the statbank.dk pivot ----------------------------------------------------------------------

TITLE = "Beskæftigelsesfrekvens (ultimo november) efter område, herkomst og tid"


def pivot_table(variables: list, periods=YEARS, blank="") -> list[list]:
    """Title, header, then one line per area and origin; the area only on its group's first."""
    table = [[TITLE], [], [*variables, *periods]]
    for index, (_, name) in enumerate(AREAS):
        for group, label in GROUPS.items():
            area = name if group == "danish" else blank
            table.append([area, label, *(value(index, group, str(year)[:4]) for year in periods)])
    return table


@pytest.mark.parametrize(
    ("variables", "encoding"),
    [(["", ""], "cp1252"), (["OMRÅDE", "HERKOMST"], "utf-8-sig"), (["område", ""], "utf-8")],
    ids=["blank", "named", "one named"],
)
def test_pivot_csv_for_all_areas_reads_like_the_api_layout(tmp_path, variables, encoding):
    table = pivot_table(variables) + [[], ["Kilde: Danmarks Statistik"]]
    result = parse(write_csv(tmp_path / "pivot.csv", table, encoding))
    assert result.layout.startswith("statbank pivot csv ';'")
    assert as_rows(result) == expected_rows()
    assert (result.rejects, result.skipped, without_file(result)) == ([], SKIPPED, WARNINGS)


def test_pivot_xlsx_for_all_areas_reads_like_the_api_layout(tmp_path):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "RAS201"
    for row in pivot_table([None, None], periods=(2022, 2023), blank=None):
        sheet.append(row)
    # statbank.dk merges an area's cells down its group: only the first holds the name.
    for first in range(4, sheet.max_row + 1, 2):
        sheet.merge_cells(start_row=first, start_column=1, end_row=first + 1, end_column=1)
    workbook.save(tmp_path / "pivot.xlsx")
    result = parse(tmp_path / "pivot.xlsx")
    assert result.layout == "statbank pivot xlsx sheet 'RAS201'"
    assert as_rows(result) == expected_rows()
    assert (result.rejects, result.skipped, without_file(result)) == ([], SKIPPED, WARNINGS)


def test_pivot_source_lines_are_those_of_the_file(tmp_path):
    result = parse(write_csv(tmp_path / "pivot.csv", pivot_table(["", ""])))
    # Title on line 1, a blank line, the header on line 3, then two lines per area: København,
    # the fourth area, is on lines 10 and 11.
    lines = {(r.municipality_code, r.population_group): r.source_line for r in result.rows}
    assert (lines[("101", "danish")], lines[("101", "nonwestern")]) == (10, 11)


def test_pivot_of_quarters_rejects_each_value_naming_its_column(tmp_path):
    table = [[TITLE], ["", "", "2020K3", "2020K4"], ["København", DANISH, "79,0", "79,1"]]
    result = parse(write_csv(tmp_path / "pivot.csv", table))
    assert (result.rows, result.skipped, result.extracted) == ([], {}, 2)
    assert result.rejects == [
        Reject(
            3,
            f"København;{DANISH};79,0;79,1",
            f"indicator 1.2 is annual; quarter {quarter} is not a year (column '{quarter}')",
        )
        for quarter in ("2020K3", "2020K4")
    ]


def test_pivot_with_another_row_variable_warns_that_it_is_not_used(tmp_path):
    table = [
        [TITLE],
        ["OMRÅDE", "", "KØN", "2023"],
        ["København", DANISH, "Mænd", "80,0"],
        ["", "", "Kvinder", "78,0"],
    ]
    result = parse(write_csv(tmp_path / "pivot.csv", table))
    # Both sexes give København's value: the same key twice, so neither loads.
    assert result.rows == []
    assert [r.reason for r in result.rejects] == ["conflicting values on lines 3, 4"] * 2
    assert without_file(result) == ["column 'KØN' is not used"]


def test_pivot_without_an_origin_variable_names_the_missing_column(tmp_path):
    table = [[TITLE], ["", "2023"], ["København", "80,0"]]
    with pytest.raises(ExportFormatError) as caught:
        parse_export(write_csv(tmp_path / "pivot.csv", table), REFERENCE, indicator="1.2")
    error = caught.value
    assert (error.line, error.column, error.reason) == (2, "HERKOMST", "required column is missing")


def test_pivot_without_an_indicator_asks_for_one(tmp_path):
    table = [[TITLE], ["", "", "2023"], ["København", DANISH, "80,0"]]
    with pytest.raises(ExportFormatError) as caught:
        parse_export(write_csv(tmp_path / "pivot.csv", table), REFERENCE)
    assert (caught.value.line, caught.value.column) == (2, None)
    assert "--indicator" in caught.value.reason


def test_a_title_with_a_year_above_a_long_header_is_not_a_pivot(tmp_path):
    header = "Indikator nr.;Kommunenr.;År;Befolkningsgruppe;Værdi"
    path = tmp_path / "long.csv"
    path.write_text(
        f"Integrationsbarometeret;2023\n{header}\n1.2;101;2023;{DANISH};79,1\n", "utf-8"
    )
    result = parse(path, indicator=None)
    assert (result.layout, as_rows(result)) == (
        "long csv ';' utf-8",
        [("101", 2023, "danish", 79.1)],
    )
