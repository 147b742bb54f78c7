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
        "marts.fct_indicator_values",
        "marts.fct_local_vs_national",
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
