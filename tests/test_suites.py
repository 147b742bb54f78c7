"""The expectation suites in expectations/ are valid GE suites that gate the right tables."""

import pandas as pd
import pytest

from orchestration.quality.data_docs import earlier_pass, write_data_docs
from orchestration.quality.suites import load_suites, reference_parameters
from orchestration.quality.validation import build_expectations, fingerprint, validate_frame
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


# --- a passed verdict holds for the same rows, suite and parameters, and for nothing else ------


def municipalities() -> pd.DataFrame:
    rows = [("000", "Hele landet", None, None)] + [
        (code, f"Kommune {code}", "1084", "Region Hovedstaden")
        for code in reference_parameters(REFERENCE_DIR)["local_municipality_codes"]
    ]
    return pd.DataFrame(
        rows, columns=["municipality_code", "municipality_name", "region_code", "region_name"]
    )


def test_a_verdict_is_found_again_only_for_the_same_rows_suite_and_parameters(tmp_path):
    suite = next(s for s in SUITES if s.table == "marts.dim_municipality")
    parameters = reference_parameters(REFERENCE_DIR)
    frame = municipalities()
    result = validate_frame(frame, suite, parameters)
    assert result.success
    passed = fingerprint(frame, suite, parameters)
    write_data_docs(tmp_path, result, "run-1", passed)

    assert earlier_pass(tmp_path, suite.name, fingerprint(frame.copy(), suite, parameters))
    # No suite reads the order of the rows (aggregated batches come in any order).
    assert earlier_pass(tmp_path, suite.name, fingerprint(frame.iloc[::-1], suite, parameters))
    one_value = frame.copy()
    one_value.loc[5, "municipality_name"] = "Kommune X"
    next_year = {**parameters, "max_year": parameters["max_year"] + 1}
    other_suite = next(s for s in SUITES if s.table == "marts.dim_indicator")
    for changed in (
        fingerprint(one_value, suite, parameters),
        fingerprint(pd.concat([frame, frame.tail(1)]), suite, parameters),  # a row twice
        fingerprint(frame.astype({"region_code": "category"}), suite, parameters),
        fingerprint(frame, suite, next_year),
        fingerprint(frame, other_suite, parameters),
    ):
        assert changed != passed
        assert earlier_pass(tmp_path, suite.name, changed) is None


def test_a_failed_verdict_is_never_found_again(tmp_path):
    suite = next(s for s in SUITES if s.table == "marts.dim_municipality")
    parameters = reference_parameters(REFERENCE_DIR)
    frame = municipalities().head(50)  # too few rows: the row count expectation fails
    result = validate_frame(frame, suite, parameters)
    assert not result.success
    failed = fingerprint(frame, suite, parameters)
    write_data_docs(tmp_path, result, "run-1", failed)

    assert earlier_pass(tmp_path, suite.name, failed) is None
