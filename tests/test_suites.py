"""The expectation suites in expectations/ are valid GE suites that gate the right tables."""

import pandas as pd
import pytest

from orchestration.quality.suites import load_suites, reference_parameters
from orchestration.quality.validation import build_expectations, validate_frame
from orchestration.settings import EXPECTATIONS_DIR, REFERENCE_DIR

SUITES = load_suites(EXPECTATIONS_DIR)


def test_one_suite_for_the_raw_table_and_one_per_mart():
    assert sorted(s.table for s in SUITES) == [
        "marts.dim_indicator",
        "marts.dim_municipality",
        "marts.fct_case_outcomes",
        "marts.fct_goal_development",
        "marts.fct_indicator_values",
        "marts.fct_local_vs_national",
        "marts.fct_national_indicator_values",
        "marts.fct_peer_group_values",
        "marts.fct_scorecard",
        "marts.fct_target_gap",
        "raw.barometer_indicator_values",
        "raw.case_citizens",
        "raw.case_events",
    ]


@pytest.mark.parametrize("suite", SUITES, ids=lambda s: s.name)
def test_every_expectation_builds(suite):
    # GE would drop an unknown expectation with a log line; ours must all be real.
    assert len(build_expectations(suite)) == len(suite.definition["expectations"])


def test_reference_parameters_come_from_the_seeds():
    parameters = reference_parameters(REFERENCE_DIR)
    assert parameters["municipality_count"] == 99
    assert "101" in parameters["municipality_codes"] and "000" in parameters["municipality_codes"]
    assert parameters["indicator_count"] == 13 and parameters["area_count"] == 6


def test_a_failing_row_fails_and_is_sampled():
    suite = next(s for s in SUITES if s.table == "marts.dim_municipality")
    frame = pd.DataFrame(
        {
            "municipality_code": ["000", "101", "1O1"],
            "municipality_name": ["Hele landet", "København", "Typo"],
            "region_code": [None, "1084", "1084"],
            "region_name": [None, "Region Hovedstaden", "Region Hovedstaden"],
        }
    )
    result = validate_frame(frame, suite, reference_parameters(REFERENCE_DIR))
    failed = {(f.expectation, f.column) for f in result.failed}
    assert ("expect_column_values_to_match_regex", "municipality_code") in failed
    assert ("expect_table_row_count_to_equal", None) in failed
    regex = next(f for f in result.failed if f.expectation.endswith("match_regex"))
    assert regex.unexpected_count == 1
    assert regex.sample["municipality_code"].tolist() == ["1O1"]


def test_a_null_cell_dimension_fails_the_raw_case_gate():
    """In-set alone lets a null through; the gate must not, since a null sex or programme
    would fall out of every part of a margin and could be found by subtraction."""
    suite = next(s for s in SUITES if s.table == "raw.case_citizens")
    good = {
        "sex": "unknown", "programme": "unknown", "citizenship": "Syrien", "asylum_centre": None,
        "arrival_year": 2016, "source_file": "citizens_20250106.csv", "citizens": 3,
        "min_age_at_arrival": 20, "max_age_at_arrival": 40, "citizen_ids_are_pseudonyms": True,
    }  # fmt: skip
    parameters = reference_parameters(REFERENCE_DIR)
    assert validate_frame(pd.DataFrame([good]), suite, parameters).success
    for column in ("sex", "programme", "arrival_year"):
        frame = pd.DataFrame([good, {**good, column: None}])
        failed = {
            (f.expectation, f.column) for f in validate_frame(frame, suite, parameters).failed
        }
        assert failed == {("expect_column_values_to_not_be_null", column)}, column
