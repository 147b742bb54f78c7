"""The whole nightly job on the sample exports: raw -> checks -> dbt -> checks -> serving."""

import duckdb
import pytest
from conftest import read_table, refresh

MARTS = [
    "dim_indicator",
    "dim_municipality",
    "fct_case_outcomes",
    "fct_indicator_values",
    "fct_local_vs_national",
    "fct_target_gap",
]


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
    assert query(
        published, "select count(distinct municipality_code) from marts.fct_indicator_values"
    ) == [(99,)]
    assert query(
        published,
        "select municipality_name from marts.dim_municipality "
        "where municipality_code in ('000', '101') order by 1",
    ) == [("Hele landet",), ("København",)]
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
    assert row["status"] == "off_track"
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
    for table in MARTS:
        assert read_table(published_copy.serving_path, f"marts.{table}") == read_table(
            published.serving_path, f"marts.{table}"
        ), table
