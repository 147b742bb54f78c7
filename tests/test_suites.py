"""The expectation suites in expectations/ are valid GE suites that gate the right tables."""

import dataclasses
import json
import multiprocessing
import stat
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from orchestration.quality.data_docs import earlier_pass, write_suite_page
from orchestration.quality.suites import load_suites, reference_parameters
from orchestration.quality.validation import build_expectations, fingerprint, validate_frame
from orchestration.quality.validators import Validations
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
    write_suite_page(tmp_path, result, "run-1", passed)

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
    write_suite_page(tmp_path, result, "run-1", failed)

    assert earlier_pass(tmp_path, suite.name, failed) is None


def test_a_gate_validates_in_children_with_the_verdicts_pages_and_privacy_of_its_own(tmp_path):
    """Two suites side by side (quality/validators.py), in a fresh process like a night's:
    the same verdicts as GE in this process, each page written private, and GE never imported
    by the process that asked."""
    script = tmp_path / "gate.py"
    script.write_text(
        f"""
import json, sys
from pathlib import Path
import pandas as pd
sys.path.insert(0, {str(Path(__file__).parent)!r})
from test_suites import SUITES, municipalities
from orchestration.quality.suites import reference_parameters
from orchestration.quality.validation import fingerprint
from orchestration.quality.validators import Validations
from orchestration.settings import REFERENCE_DIR

if __name__ == "__main__":
    suite = next(s for s in SUITES if s.table == "marts.dim_municipality")
    parameters = reference_parameters(REFERENCE_DIR)
    docs = Path(sys.argv[1])
    verdicts = {{}}
    with Validations(parameters, docs, "run-1") as validations:
        started = [
            (name, validations.start(frame, suite, fingerprint(frame, suite, parameters)))
            for name, frame in (("good", municipalities()), ("short", municipalities().head(50)))
        ]
        for name, validation in started:
            result, page = validation.result()
            verdicts[name] = [result.success, [f.expectation for f in result.failed], str(page)]
    verdicts["ge_imported_here"] = "great_expectations" in sys.modules
    print(json.dumps(verdicts))
"""
    )
    done = subprocess.run(
        [sys.executable, str(script), str(tmp_path / "docs")],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
    )
    verdicts = json.loads(done.stdout.splitlines()[-1])

    suite = next(s for s in SUITES if s.table == "marts.dim_municipality")
    parameters = reference_parameters(REFERENCE_DIR)
    for name, frame in (("good", municipalities()), ("short", municipalities().head(50))):
        here = validate_frame(frame, suite, parameters)
        assert verdicts[name][:2] == [here.success, [f.expectation for f in here.failed]]
    assert verdicts["good"][0] and not verdicts["short"][0]
    page = Path(verdicts["short"][2])
    assert page.exists() and stat.S_IMODE(page.stat().st_mode) == 0o600
    assert verdicts["ge_imported_here"] is False
    assert done.stderr == ""


def test_what_a_validation_child_raises_is_raised_by_the_gate(tmp_path):
    suite = next(s for s in SUITES if s.table == "marts.dim_municipality")
    broken = dataclasses.replace(
        suite,
        definition={
            **suite.definition,
            "expectations": [{"type": "expect_column_values_to_be_purple", "kwargs": {}}],
        },
    )
    with Validations(reference_parameters(REFERENCE_DIR), tmp_path, "run-1") as validations:
        validation = validations.start(municipalities(), broken, "-")
        with pytest.raises(RuntimeError, match="expect_column_values_to_be_purple"):
            validation.result()


def test_validations_still_running_stop_with_their_gate(tmp_path):
    suite = next(s for s in SUITES if s.table == "marts.dim_municipality")
    big = pd.concat([municipalities()] * 20_000, ignore_index=True)  # seconds of GE's work
    with pytest.raises(KeyError), Validations({}, tmp_path, "run-1") as validations:
        validation = validations.start(big, suite, "-")
        raise KeyError("the gate failed reading the next batch")
    assert not [p for p in multiprocessing.active_children() if p.name.startswith("validate")]
    with pytest.raises(RuntimeError, match=r"stopped without a verdict \(exit code -9\)"):
        validation.result()
