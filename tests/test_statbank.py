"""Real Danmarks Statistik tables, as StatBank gives them (orchestration/sources/statbank.py).

A table pulled for all areas carries regions, landsdele and Christiansø beside the country and
the municipalities: their lines are skipped and counted, never rejected. Origin labels come as
text, code or both and map to the barometer's groups only where the definition is the same.
Periods shorter than a year are rejected for the (annual) barometer indicators, never read as a
year. Every parse here keeps the count rule: extracted = loaded + skipped + rejected.
"""

import csv
import io
from datetime import date
from pathlib import Path

import pytest

from orchestration.sources.barometer import ParseResult, Reject, parse_export
from orchestration.sources.reference import load_reference

PROJECT_ROOT = Path(__file__).resolve().parents[1]
REFERENCE = load_reference(PROJECT_ROOT / "seeds" / "reference")
TODAY = date(2024, 6, 1)

DANISH = "Personer med dansk oprindelse"
NONWESTERN = "Indvandrere og efterkommere fra ikke-vestlige lande"
API_HEADER = ["OMRÅDE", "HERKOMST", "TID", "INDHOLD"]
YEARS = ("2022", "2023")

# A StatBank table pulled for all areas, in StatBank's order: (code, name); None = not a
# municipality. Nordfyn and Vesthimmerland are the registers' short names.
AREAS = [
    ("000", "Hele landet"),
    (None, "Region Hovedstaden"),
    (None, "Landsdel Byen København"),
    ("101", "København"),
    ("147", "Frederiksberg"),
    (None, "Landsdel Københavns omegn"),
    ("169", "Høje-Taastrup"),
    (None, "Landsdel Nordsjælland"),
    (None, "Landsdel Bornholm"),
    ("400", "Bornholm"),
    (None, "Christiansø"),
    (None, "Region Sjælland"),
    (None, "Landsdel Østsjælland"),
    (None, "Landsdel Vest- og Sydsjælland"),
    (None, "Region Syddanmark"),
    (None, "Landsdel Fyn"),
    ("480", "Nordfyn"),
    (None, "Landsdel Sydjylland"),
    (None, "Region Midtjylland"),
    (None, "Landsdel Østjylland"),
    (None, "Landsdel Vestjylland"),
    (None, "Region Nordjylland"),
    (None, "Landsdel Nordjylland"),
    ("820", "Vesthimmerland"),
]
# StatBank's code of each non-municipal area above.
AREA_CODES = {
    "Region Hovedstaden": "084", "Region Sjælland": "085", "Region Syddanmark": "083",
    "Region Midtjylland": "082", "Region Nordjylland": "081",
    "Landsdel Byen København": "01", "Landsdel Københavns omegn": "02",
    "Landsdel Nordsjælland": "03", "Landsdel Bornholm": "04", "Landsdel Østsjælland": "05",
    "Landsdel Vest- og Sydsjælland": "06", "Landsdel Fyn": "07", "Landsdel Sydjylland": "08",
    "Landsdel Østjylland": "09", "Landsdel Vestjylland": "10", "Landsdel Nordjylland": "11",
    "Christiansø": "411",
}  # fmt: skip
GROUPS = {"danish": DANISH, "nonwestern": NONWESTERN}
# Two groups and two years per area.
SKIPPED = {"region": 5 * 4, "landsdel": 11 * 4, "other": 1 * 4}
WARNINGS = [
    "skipped 20 values of areas that are not municipalities (region): 081 Region Nordjylland, "
    "082 Region Midtjylland, 083 Region Syddanmark, 084 Region Hovedstaden, 085 Region Sjælland",
    "skipped 44 values of areas that are not municipalities (landsdel): "
    "01 Landsdel Byen København, 02 Landsdel Københavns omegn, 03 Landsdel Nordsjælland, "
    "04 Landsdel Bornholm, 05 Landsdel Østsjælland, 06 Landsdel Vest- og Sydsjælland, "
    "07 Landsdel Fyn, 08 Landsdel Sydjylland, 09 Landsdel Østjylland, 10 Landsdel Vestjylland, "
    "11 Landsdel Nordjylland",
    "skipped 4 values of areas that are not municipalities (other): 411 Christiansø",
]


def value(index: int, group: str, year: str) -> str:
    """A distinct value per cell, written as StatBank writes it; Bornholm's non-Western 2022
    cell is too uncertain to publish."""
    if (AREAS[index][1], group, year) == ("Bornholm", "nonwestern", "2022"):
        return ".."
    number = 50 + index + (25 if group == "danish" else 0) + (0.4 if year == "2023" else 0.1)
    return f"{number:.1f}".replace(".", ",")


def expected_rows() -> list[tuple]:
    """(municipality, year, group, value) of every municipal cell, in file order."""
    rows = []
    for index, (code, _) in enumerate(AREAS):
        for group in GROUPS:
            for year in YEARS:
                text = value(index, group, year)
                number = None if text == ".." else float(text.replace(",", "."))
                if code:
                    rows.append((code, int(year), group, number))
    return rows


def api_table(area=lambda code, name: name) -> list[list[str]]:
    table = [API_HEADER]
    for index, (code, name) in enumerate(AREAS):
        for group, label in GROUPS.items():
            for year in YEARS:
                table.append([area(code, name), label, year, value(index, group, year)])
    return table


def write_csv(path: Path, table: list[list], encoding: str = "utf-8-sig") -> Path:
    text = io.StringIO()
    csv.writer(text, delimiter=";", lineterminator="\r\n").writerows(table)
    path.write_bytes(text.getvalue().encode(encoding))
    return path


def parse(path: Path, indicator: str = "1.2", **options) -> ParseResult:
    result = parse_export(path, REFERENCE, indicator=indicator, today=TODAY, **options)
    # The count rule: nothing read disappears.
    assert result.extracted == len(result.rows) + result.skipped_total + len(result.rejects)
    return result


def as_rows(result: ParseResult) -> list[tuple]:
    return [(r.municipality_code, r.year, r.population_group, r.value) for r in result.rows]


def without_file(result: ParseResult) -> list[str]:
    return [w.removeprefix(f"{result.source}: ") for w in result.warnings]


# --- regions, landsdele and Christiansø: skipped, counted, never rejected -----------------------


def test_table_for_all_areas_loads_the_municipalities_and_skips_the_rest(tmp_path):
    result = parse(write_csv(tmp_path / "ras.csv", api_table()))
    assert as_rows(result) == expected_rows()
    assert {r.municipality_code for r in result.rows} == {
        "000", "101", "147", "169", "400", "480", "820"
    }  # fmt: skip
    assert (result.rejects, result.skipped, without_file(result)) == ([], SKIPPED, WARNINGS)
    assert result.extracted == len(AREAS) * 4 == 28 + 68


@pytest.mark.parametrize(
    "written",
    [
        lambda code, name: f"{code or AREA_CODES[name]} {name}",  # 084 Region Hovedstaden
        lambda code, name: code or AREA_CODES[name],  # 084
        lambda code, name: (code or AREA_CODES[name]).lstrip("0") or "0",  # 84, 1
    ],
    ids=["code and name", "code", "code without zeros"],
)
def test_areas_by_code_are_skipped_alike(tmp_path, written):
    result = parse(write_csv(tmp_path / "ras.csv", api_table(written)))
    assert as_rows(result) == expected_rows()
    assert (result.rejects, result.skipped, without_file(result)) == ([], SKIPPED, WARNINGS)


def test_country_and_98_municipalities_and_christianso_reject_nothing(tmp_path):
    # Christiansø alone was 1 % of such a file: the whole raw gate's allowance.
    municipalities = sorted(REFERENCE.municipality_names.items())
    table = [API_HEADER]
    for name in [name for _, name in municipalities] + ["Christiansø"]:
        table += [[name, DANISH, "2023", "80,0"], [name, NONWESTERN, "2023", "60,0"]]
    result = parse(write_csv(tmp_path / "ras.csv", table))
    assert (len(result.rows), result.rejects, result.skipped) == (99 * 2, [], {"other": 2})
    assert result.extracted == 200


def test_a_region_line_in_a_wide_export_skips_each_of_its_years(tmp_path):
    header = "Indikator nr.;Kommunenr.;Kommune;Befolkningsgruppe;2022;2023"
    lines = [
        f"1.2;084;Region Hovedstaden;{DANISH};80,1;80,4",
        f"1.2;101;København;{DANISH};78,6;79,1",
    ]
    path = tmp_path / "wide.csv"
    path.write_text("\n".join([header, *lines]) + "\n", encoding="utf-8")
    result = parse(path, indicator=None)
    assert as_rows(result) == [("101", 2022, "danish", 78.6), ("101", 2023, "danish", 79.1)]
    assert (result.rejects, result.skipped, result.extracted) == ([], {"region": 2}, 4)
    assert without_file(result) == [
        "skipped 2 values of areas that are not municipalities (region): 084 Region Hovedstaden"
    ]


def test_an_unknown_area_is_still_a_reject(tmp_path):
    table = [
        API_HEADER,
        ["Region Atlantis", DANISH, "2023", "1,0"],
        ["København", DANISH, "2023", "79,1"],
    ]
    result = parse(write_csv(tmp_path / "ras.csv", table))
    assert as_rows(result) == [("101", 2023, "danish", 79.1)]
    assert result.rejects == [
        Reject(2, f"Region Atlantis;{DANISH};2023;1,0", "unknown municipality 'Region Atlantis'")
    ]
    assert result.skipped == {}


@pytest.mark.parametrize(
    ("written", "code"),
    [
        ("Nordfyn", "480"),
        ("Nordfyns Kommune", "480"),
        ("Vesthimmerland", "820"),
        ("Vesthimmerlands Kommune", "820"),
    ],
)
def test_register_short_names_name_their_municipality(tmp_path, written, code):
    result = parse(write_csv(tmp_path / "ras.csv", [API_HEADER, [written, DANISH, "2023", "1,0"]]))
    assert (as_rows(result), result.rejects) == ([(code, 2023, "danish", 1.0)], [])


# --- origin groups ------------------------------------------------------------------------------

NOT_THE_BAROMETERS = "is not a barometer population group"
EVERY_ORIGIN = (
    "without their descendants; the barometer's group is non-Western immigrants and descendants"
)


@pytest.mark.parametrize(
    ("indicator", "label", "group"),
    [
        ("1.2", "Personer med dansk oprindelse", "danish"),
        ("1.2", "1 Personer med dansk oprindelse", "danish"),  # FOLK1-style codes
        ("1.2", "5 Personer med dansk oprindelse", "danish"),  # education and register tables
        ("1.2", "5", "danish"),  # codes only
        ("1.2", "Persons of Danish origin", "danish"),
        ("1.2", "Indvandrere og efterkommere fra ikke-vestlige lande", "nonwestern"),
        ("1.2", "Indvandrere og efterkommere med ikke-vestlig oprindelse", "nonwestern"),
        ("8.1", "I alt", "all"),
        ("8.1", "TOT I alt", "all"),
        ("8.1", "TOT", "all"),
    ],
)
def test_origin_labels_of_the_barometers_groups(tmp_path, indicator, label, group):
    path = write_csv(tmp_path / "t.csv", [API_HEADER, ["København", label, "2023", "3"]])
    result = parse(path, indicator=indicator)
    assert ([r.population_group for r in result.rows], result.rejects) == ([group], [])


@pytest.mark.parametrize(
    ("indicator", "label", "reason"),
    [
        (
            "1.2", "4 Indvandrere",
            f"'4 Indvandrere' {NOT_THE_BAROMETERS}: immigrants of every origin, {EVERY_ORIGIN}",
        ),
        (
            "1.2", "21 Indvandrere i alt",
            f"'21 Indvandrere i alt' {NOT_THE_BAROMETERS}: immigrants of every origin, "
            f"{EVERY_ORIGIN}",
        ),
        (
            "1.2", "3 Efterkommere",
            f"'3 Efterkommere' {NOT_THE_BAROMETERS}: descendants of every origin, without "
            "immigrants; the barometer's group is non-Western immigrants and descendants",
        ),
        (
            "1.2", "Indvandrere fra ikke-vestlige lande",
            f"'Indvandrere fra ikke-vestlige lande' {NOT_THE_BAROMETERS}: immigrants only; "
            "the barometer's non-Western group also counts their descendants",
        ),
        (
            "1.2", "25",
            f"'25' {NOT_THE_BAROMETERS}: immigrants only; the barometer's non-Western group "
            "also counts their descendants",
        ),
        (
            "1.2", "35 Efterkommere fra ikke-vestlige lande",
            f"'35 Efterkommere fra ikke-vestlige lande' {NOT_THE_BAROMETERS}: descendants only; "
            "the barometer's non-Western group also counts immigrants",
        ),
        (
            "1.2", "24 Indvandrere fra vestlige lande",
            f"'24 Indvandrere fra vestlige lande' {NOT_THE_BAROMETERS}: Western origin; "
            "the barometer's group is of non-Western origin",
        ),
        (
            "1.2", "TOT I alt",
            "indicator 1.2 is not published for 'TOT I alt' (all), only for nonwestern, danish",
        ),
        (
            "1.1", "Personer med dansk oprindelse",
            "indicator 1.1 is not published for 'Personer med dansk oprindelse' (danish), "
            "only for nonwestern",
        ),
        (
            "8.1", "Personer med dansk oprindelse",
            "indicator 8.1 is not published for 'Personer med dansk oprindelse' (danish), "
            "only for all",
        ),
        ("1.2", "9 Vestlige indvandrere", "unknown population group '9 Vestlige indvandrere'"),
    ],
)  # fmt: skip
def test_origin_labels_of_other_groups_are_rejected_saying_why(tmp_path, indicator, label, reason):
    lines = [API_HEADER, ["København", label, "2023", "3"], ["Aarhus", DANISH, "2023", "80,0"]]
    result = parse(write_csv(tmp_path / "t.csv", lines), indicator=indicator)
    expected = [("751", 2023, "danish", 80.0)] if indicator == "1.2" else []
    assert len(result.rows) == len(expected)
    assert result.rejects[0] == Reject(2, f"København;{label};2023;3", reason)


# --- periods ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("period", "kind"),
    [("2020K4", "quarter"), ("2020Q4", "quarter"), ("2020M11", "month"), ("2020H2", "half-year")],
)
def test_a_shorter_period_of_an_annual_indicator_is_rejected_not_taken_as_a_year(
    tmp_path, period, kind
):
    lines = [
        API_HEADER,
        ["København", DANISH, period, "79,1"],
        ["København", DANISH, "2020", "80,0"],
    ]
    result = parse(write_csv(tmp_path / "t.csv", lines))
    assert as_rows(result) == [("101", 2020, "danish", 80.0)]
    assert result.rejects == [
        Reject(
            2,
            f"København;{DANISH};{period};79,1",
            f"indicator 1.2 is annual; {kind} {period} is not a year",
        )
    ]


@pytest.mark.parametrize("period", ["2020K5", "2020M13", "2020M1", "K4"])
def test_a_malformed_period_is_not_a_year(tmp_path, period):
    result = parse(write_csv(tmp_path / "t.csv", [API_HEADER, ["København", DANISH, period, "1"]]))
    assert [r.reason for r in result.rejects] == [f"'{period}' is not a year"]
