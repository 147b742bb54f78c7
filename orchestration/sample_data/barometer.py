"""Deterministic synthetic Integrationsbarometer exports.

The real barometer is published as one semicolon-separated file per area, with a row per
indicator, municipality, year and population group. The files written here keep that layout
and realistic levels (national and Copenhagen series follow published orders of magnitude) so
the pipeline can be built and tested without the real data. Every other municipality is the
national series plus a stable offset derived from its code and a little year-to-year noise.

All randomness is seeded from fixed strings, so repeated runs give byte-identical files.
"""

import csv
import hashlib
import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

SEED = "integrationsbarometer-sample-v1"
LAST_YEAR = 2024
NATIONAL = "000"
COPENHAGEN = "101"

HEADER = [
    "Område", "Indikator nr.", "Indikator", "Kommunenr.", "Kommune",
    "År", "Befolkningsgruppe", "Værdi", "Enhed",
]  # fmt: skip
GROUP_LABELS = {
    "nonwestern": "Indvandrere og efterkommere med ikke-vestlig oprindelse",
    "danish": "Personer med dansk oprindelse",
    "all": "I alt",
}
UNIT_LABELS = {"pct": "pct.", "pp": "pct.-point", "count": "antal"}
SUPPRESSED = ".."

# Gap indicators are not modelled on their own: they are (minuend - subtrahend) of another
# indicator's two groups, computed before rounding as the barometer does.
GAPS = {
    "1.1": ("1.2", "danish", "nonwestern"),
    "7.1": ("7.2", "nonwestern", "danish"),
}

# Anchor values per (indicator, group); years between anchors are interpolated linearly.
# Every series has anchors for 2012 and 2024, so no extrapolation is needed. The national values
# the barometer publishes (docs/data.md §1, V) come out exactly once rounded half away from
# zero, gaps included: tests/test_sample_data.py lists them.
# fmt: off
NATIONAL_LEVELS: dict[tuple[str, str], dict[int, float]] = {
    # 2012: 51.4 and 77.6 give the published gap of 26 (78.0 and 51.0 gave 27).
    ("1.2", "nonwestern"): {
        2012: 51.4, 2013: 51.6, 2014: 52.0, 2015: 53.3, 2016: 54.9, 2017: 56.6, 2018: 58.2,
        2019: 59.3, 2020: 60.0, 2021: 61.4, 2022: 62.6, 2023: 63.0, 2024: 63.5,
    },
    ("1.2", "danish"): {
        2012: 77.6, 2014: 78.2, 2016: 79.0, 2018: 79.9, 2019: 80.3, 2020: 80.0, 2021: 80.8,
        2022: 81.4, 2023: 81.3, 2024: 81.5,
    },
    # 2020-2021: exams cancelled or eased during COVID-19, hence the spike.
    ("2.1", "nonwestern"): {
        2012: 82.0, 2013: 84.6, 2014: 86.9, 2015: 89.0, 2016: 88.3, 2017: 89.1, 2018: 88.7,
        2019: 89.5, 2020: 92.1, 2021: 95.0, 2022: 90.3, 2023: 89.7, 2024: 90.1,
    },
    ("2.1", "danish"): {
        2012: 94.1, 2013: 94.8, 2015: 95.9, 2017: 96.0, 2019: 96.2, 2020: 96.8, 2021: 97.3,
        2022: 96.3, 2024: 96.1,
    },
    ("2.2", "nonwestern"): {
        2012: 56.0, 2015: 58.0, 2017: 60.4, 2019: 63.9, 2021: 68.0, 2022: 68.7, 2023: 69.4,
        2024: 70.0,
    },
    ("2.2", "danish"): {2012: 75.4, 2015: 76.3, 2018: 77.6, 2021: 79.5, 2024: 79.8},
    ("2.3", "nonwestern"): {
        2012: 26.0, 2015: 29.0, 2018: 34.6, 2021: 41.0, 2022: 42.1, 2023: 43.1, 2024: 44.0,
    },
    ("2.3", "danish"): {2012: 45.2, 2015: 47.1, 2018: 49.3, 2021: 51.2, 2024: 51.9},
    ("3.1", "nonwestern"): {
        2012: 89.0, 2013: 90.7, 2014: 91.8, 2015: 93.0, 2016: 92.4, 2017: 92.1, 2018: 92.6,
        2019: 92.3, 2020: 93.4, 2021: 92.8, 2022: 91.0, 2023: 90.6, 2024: 90.9,
    },
    ("3.3", "nonwestern"): {
        2012: 67.0, 2013: 69.4, 2015: 72.0, 2016: 71.1, 2017: 69.8, 2018: 68.0, 2019: 66.1,
        2020: 63.2, 2021: 62.8, 2022: 62.0, 2023: 62.6, 2024: 63.0,
    },
    ("7.2", "nonwestern"): {
        2012: 40.0, 2013: 39.8, 2014: 39.1, 2015: 38.3, 2016: 37.0, 2017: 35.3, 2018: 33.6,
        2019: 32.1, 2020: 31.6, 2021: 30.0, 2022: 28.4, 2023: 28.0, 2024: 27.5,
    },
    ("7.2", "danish"): {
        2012: 21.0, 2014: 20.6, 2016: 19.7, 2018: 18.4, 2019: 17.9, 2020: 18.1, 2021: 17.2,
        2022: 16.3, 2023: 16.0, 2024: 15.9,
    },
    ("9.1", "nonwestern"): {
        2012: 5.8, 2013: 5.4, 2014: 5.0, 2016: 4.8, 2018: 4.6, 2020: 4.4, 2022: 4.2, 2024: 4.0,
    },
    ("9.1", "danish"): {2012: 2.0, 2014: 1.9, 2016: 1.8, 2020: 1.7, 2024: 1.6},
}

COPENHAGEN_LEVELS: dict[tuple[str, str], dict[int, float]] = {
    ("1.2", "nonwestern"): {
        2012: 49.0, 2013: 49.4, 2014: 50.3, 2015: 51.6, 2016: 53.2, 2017: 55.1, 2018: 56.8,
        2019: 58.3, 2020: 57.9, 2021: 59.6, 2022: 61.3, 2023: 62.0, 2024: 62.5,
    },
    ("1.2", "danish"): {
        2012: 80.0, 2014: 80.3, 2016: 81.0, 2018: 81.8, 2019: 82.2, 2020: 81.7, 2021: 82.4,
        2022: 82.9, 2023: 83.0, 2024: 83.1,
    },
    ("2.1", "nonwestern"): {
        2012: 79.6, 2013: 82.3, 2014: 84.5, 2015: 86.4, 2016: 86.0, 2017: 87.1, 2018: 86.5,
        2019: 87.6, 2020: 90.3, 2021: 93.1, 2022: 88.0, 2023: 87.4, 2024: 88.2,
    },
    ("2.1", "danish"): {
        2012: 95.0, 2015: 96.4, 2019: 96.8, 2020: 97.3, 2021: 97.8, 2022: 96.9, 2024: 96.7,
    },
    ("2.2", "nonwestern"): {
        2012: 66.0, 2014: 66.4, 2016: 67.5, 2018: 68.4, 2020: 70.2, 2021: 71.3, 2022: 71.0,
        2024: 72.0,
    },
    ("2.2", "danish"): {2012: 80.2, 2015: 81.0, 2018: 82.1, 2021: 83.5, 2024: 83.2},
    ("2.3", "nonwestern"): {2012: 42.0, 2015: 44.1, 2018: 46.2, 2021: 48.6, 2024: 50.0},
    ("2.3", "danish"): {2012: 61.0, 2015: 62.6, 2018: 64.1, 2021: 65.5, 2024: 66.2},
    ("3.1", "nonwestern"): {
        2012: 88.0, 2014: 90.1, 2015: 91.4, 2017: 90.6, 2019: 91.0, 2020: 91.9, 2021: 91.2,
        2022: 89.4, 2024: 89.9,
    },
    ("3.3", "nonwestern"): {
        2012: 63.0, 2013: 64.6, 2015: 66.0, 2016: 65.1, 2018: 63.0, 2020: 60.2, 2022: 58.0,
        2023: 58.7, 2024: 59.3,
    },
    ("7.2", "nonwestern"): {
        2012: 32.0, 2014: 31.7, 2016: 31.1, 2018: 30.1, 2019: 29.6, 2020: 29.9, 2021: 29.0,
        2022: 28.1, 2023: 27.6, 2024: 27.2,
    },
    ("7.2", "danish"): {
        2012: 16.2, 2014: 16.0, 2016: 15.7, 2018: 15.3, 2019: 15.0, 2020: 15.5, 2021: 15.1,
        2022: 14.8, 2023: 14.6, 2024: 14.5,
    },
    ("9.1", "nonwestern"): {
        2012: 6.0, 2013: 5.7, 2014: 5.5, 2016: 5.2, 2018: 4.9, 2020: 4.6, 2022: 4.3, 2024: 4.1,
    },
    ("9.1", "danish"): {2012: 2.3, 2016: 2.1, 2020: 1.9, 2024: 1.8},
}

# Housing-area counts (8.x) from the first list year (2018) to LAST_YEAR.
HOUSING_NATIONAL = {
    "8.1": (29, 28, 15, 12, 10, 12, 8),
    "8.2": (15, 15, 13, 10, 9, 8, 7),
    "8.3": (43, 40, 25, 20, 17, 19, 12),
}
HOUSING_COPENHAGEN = {
    "8.1": (7, 6, 3, 3, 1, 0, 0),
    "8.2": (2, 2, 2, 2, 1, 0, 0),
    "8.3": (7, 6, 3, 4, 1, 0, 0),
}
# One entry per housing area outside Copenhagen, most persistent first (Gellerup, Vollsmose and
# Bispehaven lead). Each year the first n areas are on a list, n being the national count minus
# Copenhagen's. Because 8.2 <= 8.1 <= 8.3 nationally, this keeps the lists nested within every
# municipality, makes municipal counts add up exactly and lets them fall as the national count
# falls.
HOUSING_AREAS = (
    "751", "461", "751", "183", "169", "330", "316", "621", "561", "217", "153", "330", "461",
    "376", "165", "851", "163", "630", "615", "479", "159", "751",
    "730", "813", "791", "740", "370", "540", "607", "450", "259", "167", "175", "253", "461",
    "851",
)
# fmt: on


@dataclass(frozen=True)
class Variation:
    """How far a municipality may sit from the national level, and its plausible band."""

    spread: float  # typical largest stable offset from the national level
    noise: float  # standard deviation of the year-to-year shock
    low: float
    high: float


VARIATION = {
    ("1.2", "nonwestern"): Variation(6.0, 1.2, 30.0, 80.0),
    ("1.2", "danish"): Variation(3.0, 0.5, 65.0, 92.0),
    ("2.1", "nonwestern"): Variation(3.0, 2.0, 60.0, 99.5),
    ("2.1", "danish"): Variation(1.2, 0.6, 60.0, 99.5),
    ("2.2", "nonwestern"): Variation(7.0, 3.0, 35.0, 90.0),
    ("2.2", "danish"): Variation(4.0, 1.0, 35.0, 90.0),
    ("2.3", "nonwestern"): Variation(8.0, 3.0, 10.0, 70.0),
    ("2.3", "danish"): Variation(9.0, 1.0, 10.0, 70.0),
    ("3.1", "nonwestern"): Variation(3.0, 2.0, 65.0, 99.5),
    ("3.3", "nonwestern"): Variation(8.0, 4.0, 35.0, 90.0),
    ("7.2", "nonwestern"): Variation(6.0, 1.0, 15.0, 60.0),
    ("7.2", "danish"): Variation(3.5, 0.4, 8.0, 30.0),
    ("9.1", "nonwestern"): Variation(1.2, 0.6, 0.5, 15.0),
    ("9.1", "danish"): Variation(0.4, 0.15, 0.2, 6.0),
}

# Municipalities known to do better (+1) or worse (-1) than the national level across the board.
STANDING = {
    "147": 1.0, "157": 1.0, "173": 1.0, "223": 1.0, "230": 1.0,
    "153": -1.0, "165": -1.0, "169": -1.0, "183": -1.0, "360": -1.0,
}  # fmt: skip

# Suppression applies to the non-Western group only: its cohorts are what gets too small.
# Læsø, Fanø, Samsø and Ærø: suppressed every year.
TINY = {"825", "563", "741", "492"}
TINY_INDICATORS = {"2.1", "3.1", "3.3", "9.1"}
# Langeland, Lemvig, Struer and Odder: suppressed in odd years.
ODD_YEARS = {"482", "665", "671", "727"}
ODD_YEAR_INDICATORS = {"3.1", "9.1"}
# Rural municipalities with few non-Western residents: a share of cohort-based cells suppressed.
SMALL_COHORT = {
    "155", "306", "336", "350", "420", "430", "440", "480", "530", "550", "706",
    "707", "710", "766", "773", "779", "787", "810", "820", "840", "849",
}  # fmt: skip
SMALL_COHORT_INDICATORS = {"2.1", "2.2", "2.3", "3.1", "3.3", "9.1"}
SMALL_COHORT_SHARE = 0.35
# Small populations give noisier rates.
SMALL_NOISE_FACTOR = 1.5


def write_barometer_exports(out_dir: Path, reference_dir: Path) -> list[Path]:
    """Write one barometer export per area into out_dir and return the paths written.

    Indicators and municipalities are read from reference_dir (indicators.csv and
    municipalities.csv), so the files cover exactly what the reference data declares.
    """
    indicators = sorted(_read_csv(reference_dir / "indicators.csv"), key=_indicator_sort_key)
    municipalities = sorted(
        _read_csv(reference_dir / "municipalities.csv"), key=lambda m: m["municipality_code"]
    )
    directions = {i["indicator_code"]: i["direction"] for i in indicators}

    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for area_code in sorted({i["area_code"] for i in indicators}, key=int):
        area = [i for i in indicators if i["area_code"] == area_code]
        path = out_dir / f"barometer_{area_code}_{_slug(area[0]['area_name_da'])}.csv"
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle, delimiter=";", lineterminator="\n")
            writer.writerow(HEADER)
            for indicator in area:
                for municipality in municipalities:
                    writer.writerows(_rows(indicator, municipality, directions))
        paths.append(path)
    return paths


def _rows(
    indicator: dict[str, str], municipality: dict[str, str], directions: dict[str, str]
) -> Iterator[list[str]]:
    """Export rows for one indicator and municipality, ordered by year, then group."""
    code = indicator["indicator_code"]
    municipality_code = municipality["municipality_code"]
    unit = indicator["unit"]
    years = range(int(indicator["baseline_year"]), LAST_YEAR + 1)
    groups = [indicator["main_population_group"]]
    if indicator["comparison_population_group"]:
        groups.append(indicator["comparison_population_group"])
    values = {g: _values(code, g, municipality_code, years, directions) for g in groups}

    for year in years:
        for group in groups:
            if _suppressed(code, municipality_code, year, group):
                value = SUPPRESSED
            elif unit == "count":
                value = str(values[group][year])
            else:
                value = f"{values[group][year]:.1f}".replace(".", ",")
            yield [
                indicator["area_name_da"], code, indicator["indicator_name_da"],
                municipality_code, municipality["municipality_name"], str(year),
                GROUP_LABELS[group], value, UNIT_LABELS[unit],
            ]  # fmt: skip


def _values(
    indicator: str, group: str, municipality: str, years: range, directions: dict[str, str]
) -> dict[int, float]:
    """Unrounded values by year for one indicator, group and municipality."""
    if indicator in HOUSING_NATIONAL:
        return _housing_counts(indicator, municipality, years)
    if indicator in GAPS:
        component, minuend, subtrahend = GAPS[indicator]
        direction = directions[component]
        high = _rates(component, minuend, municipality, years, direction)
        low = _rates(component, subtrahend, municipality, years, direction)
        return {year: high[year] - low[year] for year in years}
    return _rates(indicator, group, municipality, years, directions[indicator])


def _rates(
    indicator: str, group: str, municipality: str, years: range, direction: str
) -> dict[int, float]:
    """A rate series: fixed anchors for the country and Copenhagen, derived for the rest."""
    key = (indicator, group)
    if municipality == NATIONAL:
        return {year: _interpolate(NATIONAL_LEVELS[key], year) for year in years}
    if municipality == COPENHAGEN:
        return {year: _interpolate(COPENHAGEN_LEVELS[key], year) for year in years}

    variation = VARIATION[key]
    # A shared standing makes a municipality consistently good or bad across indicators; the
    # indicator-specific part keeps its profile from being uniform.
    standing = STANDING.get(municipality, 0.0) + 0.5 * _signed_hash("standing", municipality)
    specific = 0.3 * _signed_hash("offset", indicator, group, municipality)
    sign = 1.0 if direction == "higher_is_better" else -1.0
    offset = sign * variation.spread * (standing + specific)

    noise = variation.noise
    if municipality in TINY | ODD_YEARS | SMALL_COHORT:
        noise *= SMALL_NOISE_FACTOR
    # One generator per series, so a series does not change when others are added or reordered.
    rng = random.Random(f"{SEED}:{indicator}:{group}:{municipality}")
    shock = 0.0
    series = {}
    for year in years:
        # Half of last year's shock carries over, as real municipal rates drift rather than jump.
        shock = 0.5 * shock + rng.gauss(0.0, noise)
        value = _interpolate(NATIONAL_LEVELS[key], year) + offset + shock
        series[year] = min(max(value, variation.low), variation.high)
    return series


def _housing_counts(indicator: str, municipality: str, years: range) -> dict[int, int]:
    """Number of listed housing areas in the municipality, by year."""
    national = dict(zip(years, HOUSING_NATIONAL[indicator], strict=True))
    copenhagen = dict(zip(years, HOUSING_COPENHAGEN[indicator], strict=True))
    if municipality == NATIONAL:
        return national
    if municipality == COPENHAGEN:
        return copenhagen
    counts = {}
    for year in years:
        listed = national[year] - copenhagen[year]
        if not 0 <= listed <= len(HOUSING_AREAS):
            raise ValueError(f"{indicator} {year}: {listed} areas outside Copenhagen")
        counts[year] = HOUSING_AREAS[:listed].count(municipality)
    return counts


def _suppressed(indicator: str, municipality: str, year: int, group: str) -> bool:
    """Whether the cell is published as '..' (too few persons behind it)."""
    if group != "nonwestern":
        return False
    if municipality in TINY and indicator in TINY_INDICATORS:
        return True
    if municipality in ODD_YEARS and indicator in ODD_YEAR_INDICATORS and year % 2 == 1:
        return True
    return (
        municipality in SMALL_COHORT
        and indicator in SMALL_COHORT_INDICATORS
        and _unit_hash("suppress", indicator, municipality, str(year)) < SMALL_COHORT_SHARE
    )


def _interpolate(anchors: dict[int, float], year: int) -> float:
    if year in anchors:
        return anchors[year]
    before = max(y for y in anchors if y < year)
    after = min(y for y in anchors if y > year)
    share = (year - before) / (after - before)
    return anchors[before] + share * (anchors[after] - anchors[before])


def _unit_hash(*parts: str) -> float:
    """A stable number in [0, 1); hashlib rather than hash(), which is salted per process."""
    digest = hashlib.sha256(":".join((SEED, *parts)).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def _signed_hash(*parts: str) -> float:
    """A stable number in [-1, 1)."""
    return 2.0 * _unit_hash(*parts) - 1.0


def _slug(name: str) -> str:
    """File-name form of a Danish area name: 'Udsatte boligområder' -> 'udsatte_boligomraader'."""
    return name.lower().translate(str.maketrans({"æ": "ae", "ø": "oe", "å": "aa", " ": "_"}))


def _indicator_sort_key(indicator: dict[str, str]) -> tuple[int, ...]:
    return tuple(int(part) for part in indicator["indicator_code"].split("."))


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))
