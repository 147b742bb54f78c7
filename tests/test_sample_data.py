"""The sample barometer exports: reproducible byte for byte, and realistic where it matters."""

import csv
from collections import Counter
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest

from orchestration.sample_data.barometer import write_barometer_exports
from orchestration.sources.barometer import IndicatorValue, ParseResult, parse_export
from orchestration.sources.reference import load_reference

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SEEDS = PROJECT_ROOT / "seeds" / "barometer"
REFERENCE = PROJECT_ROOT / "seeds" / "reference"
HOUSING_YEARS = range(2018, 2025)

# docs/data.md §1: the national values the barometer publishes (V), by indicator and group.
PUBLISHED = {
    ("1.1", "nonwestern"): {2012: 26, 2014: 26, 2020: 20},
    ("1.2", "nonwestern"): {2014: 52, 2020: 60},
    ("1.2", "danish"): {2014: 78},  # the 2014 gap: 78 vs 52
    ("2.1", "nonwestern"): {2015: 89, 2021: 95},
    ("2.2", "nonwestern"): {2015: 58, 2021: 68},
    ("2.3", "nonwestern"): {2012: 26, 2015: 29, 2021: 41},
    ("3.1", "nonwestern"): {2012: 89, 2015: 93, 2022: 91},
    ("3.3", "nonwestern"): {2015: 72, 2022: 62},
    ("8.1", "all"): dict(zip(HOUSING_YEARS, (29, 28, 15, 12, 10, 12, 8), strict=True)),
    ("8.2", "all"): dict(zip(HOUSING_YEARS, (15, 15, 13, 10, 9, 8, 7), strict=True)),
    ("8.3", "all"): dict(zip(HOUSING_YEARS, (43, 40, 25, 20, 17, 19, 12), strict=True)),
    ("9.1", "nonwestern"): {2014: 5},
    ("9.1", "danish"): {2014: 2},
}
# Published too, but before 2012, the sample's first year (docs/data.md §1: years 2012-2024).
BEFORE_THE_SAMPLE = {("9.1", "nonwestern"): {2010: 6}}
# The barometer's development between published years, on rounded values, and its verdict.
DEVELOPMENTS = [
    ("1.1", 2012, 2020, -6, "positive"),  # a falling gap is progress
    ("1.1", 2012, 2014, 0, "unchanged"),
    ("1.2", 2014, 2020, 8, "positive"),
    ("2.1", 2015, 2021, 6, "positive"),
    ("2.2", 2015, 2021, 10, "positive"),
    ("2.3", 2012, 2021, 15, "positive"),
    ("3.1", 2012, 2022, 2, "positive"),
    ("3.1", 2015, 2022, -2, "negative"),
    ("3.3", 2015, 2022, -10, "negative"),
    ("8.1", 2018, 2024, -21, "positive"),
    ("8.2", 2018, 2024, -8, "positive"),
    ("8.3", 2018, 2024, -31, "positive"),
]


def series(
    rows: list[IndicatorValue], indicator: str, municipality: str, group: str
) -> dict[int, float | None]:
    return {
        r.year: r.value
        for r in rows
        if (r.indicator_code, r.municipality_code, r.population_group)
        == (indicator, municipality, group)
    }


def rounded(value: float) -> int:
    """As the barometer rounds: half away from zero (Danish statistics' rule, not Python's)."""
    return int(Decimal(str(value)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def direction(indicator: str) -> str:
    with (REFERENCE / "indicators.csv").open(encoding="utf-8", newline="") as handle:
        return {i["indicator_code"]: i["direction"] for i in csv.DictReader(handle)}[indicator]


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> list[Path]:
    """Generated once per module: the files are a few MB and every test only reads them."""
    return write_barometer_exports(tmp_path_factory.mktemp("barometer"), REFERENCE)


@pytest.fixture(scope="module")
def results(generated) -> list[ParseResult]:
    reference = load_reference(REFERENCE)
    return [parse_export(path, reference) for path in generated]


@pytest.fixture(scope="module")
def rows(results) -> list[IndicatorValue]:
    return [value for result in results for value in result.rows]


def test_generated_files_match_the_committed_seeds_byte_for_byte(generated):
    committed = sorted(SEEDS.glob("*.csv"))
    assert [p.name for p in generated] == [p.name for p in committed]
    for new, old in zip(generated, committed, strict=True):
        # Compare bytes, not parsed rows: line ends and number formatting are part of the format.
        assert new.read_bytes() == old.read_bytes(), f"{new.name} differs from the seed"


def test_generated_files_parse_without_errors(results, rows):
    # Clean sample data: every value loads, none is rejected and every column is used.
    assert [(r.layout, r.rejects, r.warnings) for r in results] == [
        ("long csv ';' utf-8", [], [])
    ] * len(results)
    assert len(rows) > 20_000
    assert {r.unit for r in rows} == {"pct", "pp", "count"}


def test_every_indicator_and_year_covers_all_99_municipalities(rows):
    with (REFERENCE / "municipalities.csv").open(encoding="utf-8", newline="") as handle:
        reference_codes = {m["municipality_code"] for m in csv.DictReader(handle)}
    assert len(reference_codes) == 99  # 98 municipalities plus the national total, 000
    codes = {}
    for r in rows:
        codes.setdefault((r.indicator_code, r.year, r.population_group), set()).add(
            r.municipality_code
        )
    assert {key: len(found) for key, found in codes.items()} == dict.fromkeys(codes, 99)
    assert all(found == reference_codes for found in codes.values())


def test_no_row_is_duplicated(rows):
    keys = Counter(
        (r.indicator_code, r.municipality_code, r.year, r.population_group) for r in rows
    )
    assert keys.most_common(1)[0][1] == 1


def test_copenhagen_employment_rate_rises_from_about_49_to_about_62(rows):
    employment = series(rows, "1.2", "101", "nonwestern")
    assert employment[2012] == pytest.approx(49, abs=1)
    assert employment[2023] == pytest.approx(62, abs=1)
    assert employment[2023] - employment[2012] > 10


def test_copenhagen_parallel_societies_fall_to_zero(rows):
    copenhagen = series(rows, "8.1", "101", "all")
    assert [copenhagen[year] for year in HOUSING_YEARS] == [7, 6, 3, 3, 1, 0, 0]


def test_national_parallel_societies_match_the_published_counts(rows):
    national = series(rows, "8.1", "000", "all")
    assert [national[year] for year in HOUSING_YEARS] == [29, 28, 15, 12, 10, 12, 8]


def test_municipal_parallel_societies_add_up_to_the_national_count(rows):
    housing = [r for r in rows if r.indicator_code == "8.1"]
    assert {r.year for r in housing} == set(HOUSING_YEARS)
    for year in HOUSING_YEARS:
        national = [r.value for r in housing if r.year == year and r.municipality_code == "000"]
        municipal = [r.value for r in housing if r.year == year and r.municipality_code != "000"]
        assert len(municipal) == 98
        assert sum(municipal) == national[0], f"8.1 does not add up in {year}"


def test_national_values_match_what_the_barometer_publishes(rows):
    generated = {
        (indicator, group): {
            year: rounded(series(rows, indicator, "000", group)[year]) for year in published
        }
        for (indicator, group), published in PUBLISHED.items()
    }
    assert generated == PUBLISHED


@pytest.mark.parametrize(("indicator", "start", "end", "change", "verdict"), DEVELOPMENTS)
def test_national_development_matches_the_barometers_verdict(
    rows, indicator, start, end, change, verdict
):
    group = next(group for code, group in PUBLISHED if code == indicator)
    national = series(rows, indicator, "000", group)
    difference = rounded(national[end]) - rounded(national[start])
    if difference == 0:
        found = "unchanged"
    elif (difference > 0) == (direction(indicator) == "higher_is_better"):
        found = "positive"
    else:
        found = "negative"
    assert (difference, found) == (change, verdict)


def test_values_published_before_the_sample_years_are_not_generated(rows):
    # If the sample is ever extended back, these must move into PUBLISHED and match.
    for (indicator, group), published in BEFORE_THE_SAMPLE.items():
        first_year = min(series(rows, indicator, "000", group))
        assert first_year == 2012
        assert all(year < first_year for year in published)
