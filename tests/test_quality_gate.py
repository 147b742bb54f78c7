"""Realistic broken exports stop the night at the raw check and leave serving.duckdb untouched."""

import hashlib

import pytest
from conftest import refresh

from orchestration.cli import main


def sha256(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def rewrite(path, change) -> None:
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join(change(lines)) + "\n", encoding="utf-8")


def truncate(lines):
    # A download cut off at 70 %: the employment rate (1.2) loses its last municipalities.
    return lines[: int(len(lines) * 0.7)]


def as_fractions(lines):
    # Indicator 1.2 delivered as fractions: 58,4 -> 0,584.
    def scale(line):
        cells = line.split(";")
        if cells[1] == "1.2" and cells[7] != "..":
            cells[7] = f"{float(cells[7].replace(',', '.')) / 100:.3f}".replace(".", ",")
        return ";".join(cells)

    return [lines[0]] + [scale(line) for line in lines[1:]]


def out_of_range(lines):
    # One employment rate of 158,4 %.
    cells = lines[100].split(";")
    cells[7] = "158,4"
    return lines[:100] + [";".join(cells)] + lines[101:]


def unknown_municipality(lines):
    # A code-list mix-up: Ærø (492) delivered under 499, a code that does not exist. Its 39
    # lines are rejected, more than the 1 % a night tolerates.
    return [line.replace(";492;", ";499;") for line in lines]


@pytest.mark.parametrize(
    ("break_export", "expectation", "column"),
    [
        (truncate, "expect_column_values_to_be_between", "municipalities_reporting"),
        (as_fractions, "expect_column_values_to_be_between", "value"),
        (out_of_range, "expect_column_values_to_be_between", "value"),
        (unknown_municipality, "expect_column_values_to_be_between", "reject_share"),
    ],
    ids=["truncated", "fractions", "out_of_range", "unknown_municipality"],
)
def test_broken_export_fails_at_the_gate(published_copy, break_export, expectation, column):
    serving_before = sha256(published_copy.serving_path)
    rewrite(published_copy.source_dir / "barometer_1_arbejde.csv", break_export)

    result = refresh(published_copy)

    assert not result.success
    failed = [e for e in result.get_asset_check_evaluations() if not e.passed]
    assert [e.asset_key.to_user_string() for e in failed] == ["raw/barometer_indicator_values"]
    assert f"{expectation} on {column}" in failed[0].description
    assert "failing_rows_sample" in failed[0].metadata
    # Nothing downstream ran: the published file is byte-identical.
    materialized = {m.asset_key.to_user_string() for m in result.get_asset_materialization_events()}
    assert all(key.startswith("raw/") for key in materialized)
    assert sha256(published_copy.serving_path) == serving_before


def test_refresh_command_says_what_failed(published_copy, capsys):
    rewrite(published_copy.source_dir / "barometer_1_arbejde.csv", as_fractions)

    assert main(["refresh"]) == 1

    out = capsys.readouterr().out
    assert "Nightly refresh FAILED" in out
    assert "Check 'great_expectations' on raw/barometer_indicator_values failed" in out
    assert "expect_column_values_to_be_between on value" in out
    assert "was left as it was" in out


def test_unreadable_export_names_file_line_and_column(published_copy):
    # A re-exported file whose group column was renamed: no row can be placed, so the whole
    # file fails, named to its header line and the missing column; its bytes are archived.
    serving_before = sha256(published_copy.serving_path)
    rewrite(
        published_copy.source_dir / "barometer_1_arbejde.csv",
        lambda lines: [lines[0].replace("Befolkningsgruppe", "Gruppe")] + lines[1:],
    )

    result = refresh(published_copy)

    assert not result.success
    failure = next(e for e in result.all_events if e.is_step_failure)
    message = failure.step_failure_data.error.message
    assert "barometer_1_arbejde.csv, line 1, column 'Befolkningsgruppe'" in message
    assert "required column is missing" in message
    kept = published_copy.landing_dir.glob("*/barometer_1_arbejde.csv")
    broken = sha256(published_copy.source_dir / "barometer_1_arbejde.csv")
    assert broken in {sha256(path) for path in kept}
    assert sha256(published_copy.serving_path) == serving_before
