"""One small barometer content, written in every shape an export takes, must read the same.

Each variant (tests/export_variants.py) writes the content into tmp_path and must parse to
exactly the canonical rows with no rejects and no warnings.
"""

import pytest
from export_variants import (
    CELLS,
    REFERENCE,
    STATBANK,
    TITLES,
    VARIANTS,
    as_tuple,
    by_key,
    canonical,
    long_windows_1252,
    parse_variant,
    statbank,
)

from orchestration.sources.barometer import parse_export

# --- every variant reads the same ---------------------------------------------------------------


@pytest.mark.parametrize("name", VARIANTS)
def test_variant_reads_exactly_the_canonical_rows(name, tmp_path):
    result = parse_variant(name, tmp_path)
    indicators = ("1.2",) if VARIANTS[name][1] == STATBANK else ("1.1", "1.2")
    assert (result.rejects, result.warnings, result.skipped) == ([], [], {})
    # A list compared as a set would hide a value read twice.
    assert len(result.rows) == result.extracted == len(canonical(indicators))
    assert {as_tuple(row) for row in result.rows} == canonical(indicators)
    assert result.layout == VARIANTS[name][2]


@pytest.mark.parametrize("name", VARIANTS)
def test_variant_reads_exact_values(name, tmp_path):
    values = by_key(parse_variant(name, tmp_path))
    assert values[("1.2", "101", 2023, "nonwestern")] == (58.4, False, None)
    assert values[("1.2", "000", 2022, "danish")] == (80.2, False, None)
    assert values[("1.2", "169", 2022, "nonwestern")] == (52.0, False, None)
    assert values[("1.2", "492", 2022, "nonwestern")] == (None, True, "..")
    if VARIANTS[name][1] != STATBANK:
        assert values[("1.1", "492", 2022, "nonwestern")] == (-1.5, False, None)
        assert values[("1.1", "000", 2023, "nonwestern")] == (24.6, False, None)


@pytest.mark.parametrize(
    "name",
    ["long ; utf-8", "long utf-8 BOM", "long windows-1252", "xlsx first sheet", "wide csv"],
)
def test_danish_letters_come_out_right(name, tmp_path):
    rows = parse_variant(name, tmp_path).rows
    # Spelled out rather than taken from MUNICIPALITIES, so a mangled letter cannot cancel out.
    assert {(r.municipality_code, r.municipality_name) for r in rows} == {
        ("000", "Hele landet"),
        ("101", "København"),
        ("169", "Høje-Taastrup"),
        ("492", "Ærø"),
    }
    assert {r.indicator_name for r in rows} == {"Beskæftigelsesgab", "Beskæftigelsesfrekvens"}
    assert {r.area_name for r in rows} == {"Arbejde"}


def test_windows_1252_variant_is_not_utf8(tmp_path):
    # Guards the fixture: the æ, ø and å must be single Windows-1252 bytes.
    data = long_windows_1252(tmp_path).read_bytes()
    assert "Høje-Taastrup;Ærø".encode("cp1252")[:5] in data
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")


def test_source_lines_count_the_title_rows(tmp_path):
    # Line numbers are those of the file (or sheet), so a reject can be found in it.
    result = parse_variant("xlsx named sheet", tmp_path)
    header_row = len(TITLES) + 1
    lines = sorted(row.source_line for row in result.rows)
    assert lines == list(range(header_row + 1, header_row + 1 + len(CELLS)))


def test_wide_variant_keeps_the_line_of_each_series(tmp_path):
    result = parse_variant("wide csv", tmp_path)
    lines = {row.key: row.source_line for row in result.rows}
    # Both years of a series come from one line: Ærø's 1.2 nonwestern series is line 12.
    assert lines[("1.2", "492", 2022, "nonwestern")] == lines[("1.2", "492", 2023, "nonwestern")]
    assert lines[("1.2", "492", 2022, "nonwestern")] == 12


@pytest.mark.parametrize("name", ["statbank pivot csv", "statbank pivot xlsx"])
def test_statbank_pivot_reads_the_same_rows_as_the_api_layout(name, tmp_path):
    api = parse_variant("statbank", tmp_path)
    pivot = parse_variant(name, tmp_path)
    assert sorted(map(as_tuple, pivot.rows)) == sorted(map(as_tuple, api.rows))
    # Carried down: the area of a group's second line is the one written above it.
    assert {(r.municipality_code, r.municipality_name) for r in pivot.rows} == {
        ("000", "Hele landet"),
        ("101", "København"),
        ("169", "Høje-Taastrup"),
        ("492", "Ærø"),
    }


def test_statbank_reads_every_indicator_it_is_named_for(tmp_path):
    # The same StatBank file as another indicator: values and keys follow the named indicator.
    path = statbank(tmp_path)
    as_1_2 = parse_export(path, REFERENCE, indicator="1.2")
    as_7_2 = parse_export(path, REFERENCE, indicator="Andel på offentlig forsørgelse")
    assert {row.indicator_code for row in as_7_2.rows} == {"7.2"}
    assert [(r.municipality_code, r.year, r.value) for r in as_7_2.rows] == [
        (r.municipality_code, r.year, r.value) for r in as_1_2.rows
    ]
