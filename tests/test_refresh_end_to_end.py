"""The whole nightly job on the sample exports: raw -> checks -> dbt -> checks -> serving."""

import json
import re

import duckdb
import pytest
from conftest import read_table, refresh

from orchestration.assets.publish import MART_TABLES

MARTS = sorted([*MART_TABLES, "publication"])


def query(settings, sql: str) -> list[tuple]:
    with duckdb.connect(str(settings.serving_path), read_only=True) as con:
        return con.execute(sql).fetchall()


def copenhagen_gap(settings, indicator: str, year: int) -> dict:
    with duckdb.connect(str(settings.serving_path), read_only=True) as con:
        frame = con.execute(
            "select * from marts.fct_target_gap "
            "where municipality_code = '101' and indicator_code = ? and year = ?",
            [indicator, year],
        ).df()
    assert len(frame) == 1
    return frame.iloc[0].to_dict()


def test_published_file_holds_the_catalogue_and_every_municipality(published):
    assert query(
        published, "select count(*), count(distinct area_code) from marts.dim_indicator"
    ) == [(13, 6)]
    assert query(published, "select count(*) from marts.dim_municipality") == [(99,)]
    # The country is kept apart from the 98 municipalities of the facts.
    assert query(
        published, "select count(distinct municipality_code) from marts.fct_indicator_values"
    ) == [(98,)]
    assert query(
        published,
        "select municipality_name, is_country from marts.dim_municipality "
        "where municipality_code in ('000', '101') order by 1",
    ) == [("Hele landet", True), ("København", False)]
    tables = query(published, "select table_name from information_schema.tables order by 1")
    assert [t for (t,) in tables] == MARTS
    assert sorted(p.name for p in published.parquet_dir.glob("*.parquet")) == [
        f"{t}.parquet" for t in MARTS
    ]


def test_copenhagen_employment_rate_against_the_2020_target(published):
    # 2020-2024 values 57.9, 59.6, 61.3, 62.0, 62.5: slope = sum(x*y)/sum(x^2) with x centred
    # on 2022 = (-2*57.9 - 59.6 + 62.0 + 2*62.5) / 10 = 1.16 a year. 2.5 short of 65 ->
    # 2024 + ceil(2.5 / 1.16) = 2027, after the target year 2020: off track.
    row = copenhagen_gap(published, "1.2", 2024)
    assert row["value"] == 62.5
    assert row["national_value"] == 63.5
    assert (row["target_value"], row["target_year"], row["target_kind"]) == (65, 2020, "political")
    assert row["gap_to_target"] == pytest.approx(2.5)
    assert row["trend_per_year"] == pytest.approx(1.16)
    assert row["projected_year_reaching_target"] == 2027
    # 2024 is past the target year 2020 and 65 was not reached: missed, not merely off track.
    assert row["status"] == "missed"
    assert copenhagen_gap(published, "1.2", 2019)["status"] == "off_track"
    # Baseline 2012 was 49.0: 63 > 49 on rounded values, higher is better.
    assert (row["baseline_year"], row["baseline_value"], row["development"]) == (
        2012,
        49.0,
        "positive",
    )


def test_copenhagen_employment_gap_against_municipal_parity(published):
    # 2020-2024 gaps 23.8, 22.8, 21.6, 21.0, 20.6: slope (-47.6 - 22.8 + 21.0 + 41.2) / 10 =
    # -0.82 pp a year; 20.6 pp from parity -> 2024 + ceil(25.1) = 2050, after 2030: off track.
    row = copenhagen_gap(published, "1.1", 2024)
    assert (row["value"], row["target_value"], row["target_kind"]) == (20.6, 0, "municipal")
    assert row["gap_to_target"] == pytest.approx(20.6)
    assert row["trend_per_year"] == pytest.approx(-0.82)
    assert row["projected_year_reaching_target"] == 2050
    assert row["status"] == "off_track"
    assert row["development"] == "positive"  # 21 < 31: a falling gap is progress


def test_copenhagen_has_no_parallel_societies_left(published):
    row = copenhagen_gap(published, "8.1", 2024)
    assert (row["value"], row["gap_to_target"], row["status"]) == (0, 0, "met")
    assert (row["baseline_year"], row["baseline_value"]) == (2018, 7)
    assert copenhagen_gap(published, "8.1", 2021)["status"] == "on_track"
    assert copenhagen_gap(published, "2.3", 2024)["status"] == "no_target"


def test_a_second_refresh_of_the_same_input_changes_nothing(published, published_copy):
    raw_before = read_table(published_copy.warehouse_path, "raw.barometer_indicator_values")
    result = refresh(published_copy)
    assert result.success
    extract = result.asset_materializations_for_node("barometer_extract")[0]
    assert extract.metadata["files_loaded"].value == 0
    assert read_table(published_copy.warehouse_path, "raw.barometer_indicator_values") == raw_before
    # Nothing changed since the last night: dbt did not even run, and said so on every mart
    # that the gates and publishing read.
    dbt_events = {
        m.asset_key.path[1]: m.metadata
        for m in result.asset_materializations_for_node("dbt_warehouse")
    }
    assert set(dbt_events) == set(MART_TABLES)
    assert not any(m["dbt_rebuilt"].value for m in dbt_events.values())
    assert all("dbt did not run tonight" in m["dbt_note"].value for m in dbt_events.values())
    assert not any("dagster/row_count" in m for m in dbt_events.values())
    assert not [e for e in result.all_events if e.event_type_value == "ASSET_OBSERVATION"]
    # The same batches as the night before: every suite's passed verdict of that night holds.
    evaluations = result.get_asset_check_evaluations()
    suites = [e for e in evaluations if e.check_name == "great_expectations"]
    assert len(suites) == 13 and all(e.passed for e in suites)
    first_night = {e.metadata["verdict_of_run"].value for e in suites}
    summary = published.quality_docs_dir / "raw_barometer_indicator_values.json"
    assert first_night == {json.loads(summary.read_text(encoding="utf-8"))["run_id"]}
    for table in MART_TABLES:
        assert read_table(published_copy.serving_path, f"marts.{table}") == read_table(
            published.serving_path, f"marts.{table}"
        ), table
    # Only the publication history grows: tonight's row beside the first, for the same data.
    # (Not the same commit: in a shared checkout someone may commit between the two refreshes.)
    [first] = read_table(published.serving_path, "marts.publication")
    [kept, tonight] = read_table(published_copy.serving_path, "marts.publication")
    assert kept == first
    assert tonight[2:4] == first[2:4]  # barometer_data_years, case_extract_night


def test_summing_a_count_over_the_municipalities_gives_the_country(published):
    """A BI tool's default SUM over the municipal facts must equal the national total."""
    rows = query(
        published,
        "select v.indicator_code, v.year, sum(v.value), any_value(n.value) "
        "from marts.fct_indicator_values as v "
        "join marts.fct_national_indicator_values as n "
        "using (indicator_code, year, population_group) "
        "where v.unit = 'count' group by all order by all",
    )
    assert {indicator for indicator, *_ in rows} == {"8.1", "8.2", "8.3"}
    assert [(i, y, total) for i, y, total, _ in rows] == [(i, y, n) for i, y, _, n in rows]
    assert ("8.1", 2024, 8.0, 8.0) in rows  # not 16: the country is not counted twice


def test_the_scorecard_answers_how_copenhagen_is_doing(published):
    with duckdb.connect(str(published.serving_path), read_only=True) as con:
        card = con.execute(
            "select * from marts.fct_scorecard where municipality_code = '101' "
            "order by indicator_code"
        ).df()
        latest = con.execute(
            "select value from marts.fct_target_gap where municipality_code = '101' "
            "and indicator_code = '1.2' and is_latest_year"
        ).fetchall()
    assert len(card) == 13 and set(card["year"]) == {2024}
    employment = card.set_index("indicator_code").loc["1.2"]
    assert [(employment["value"],)] == latest
    assert (employment["value_rounded"], employment["status"]) == (63.0, "missed")
    assert employment["peer_group_code"] == "large_cities"
    assert 1 <= employment["rank_among_municipalities"] <= employment["municipalities_ranked"]
    gap = card.set_index("indicator_code").loc["1.1"]
    # The gap is the difference of its component rates (1.2 Danish origin minus non-Western).
    assert gap["component_comparison_value"] - gap["component_main_value"] == pytest.approx(
        gap["value"], abs=0.11
    )


def test_the_refresh_command_ends_with_the_report_and_the_docs(published_copy, capsys):
    """What a newcomer sees of `make refresh`: a line per step, the checks, where to look; the
    full log in a file."""
    from orchestration.cli import main

    assert main(["refresh"]) == 0

    out = capsys.readouterr().out
    print(out)  # shown by pytest -s: what `make refresh` prints
    lines = out.splitlines()
    assert len(lines) <= 40, out
    assert "\x1b" not in out
    [log] = published_copy.logs_dir.glob("refresh-*.log")
    assert lines[0].endswith(f"(full log: {log})")
    log_text = log.read_text(encoding="utf-8")
    assert "dbt" in log_text and "STEP_SUCCESS" in log_text and "\x1b" not in log_text
    assert oct(log.stat().st_mode & 0o777) == "0o600"
    assert "  Build the models and run their tests (dbt) ... done in " in out
    assert "  Write tonight's marts for publishing ... done in " in out
    assert "  Switch readers to tonight's marts and pages, all at once ... done in " in out
    assert "Warning: The backups in " in out  # beside the warehouse, on its disk
    assert "Nightly refresh succeeded" in out
    assert re.search(
        r"^Quality checks: \d+ passed, 0 failed \(13 on the same rows as an earlier run, "
        r"whose verdict holds\)\.$",
        out,
        re.M,
    )
    # The copy of last night's warehouse has nothing new: dbt rebuilt nothing.
    assert re.search(
        r"^dbt: no model changed since the last night; their \d{3} tests passed then\.$", out, re.M
    )
    assert re.search(
        rf"^Published {published_copy.serving_path}: 22 tables, [\d,]+ rows", out, re.M
    )
    assert "  fct_target_gap" not in out and "marts.fct_target_gap: " in log_text
    for line in (
        f"Report: {published_copy.report_dir / 'index.html'}",
        f"dbt docs: {published_copy.dbt_docs_dir / 'index.html'}",
        f"Data quality docs: {published_copy.quality_docs_dir / 'index.html'}",
    ):
        assert line in out
