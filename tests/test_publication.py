"""marts.publication: one row per published night (orchestration/publish/publication.py)."""

import json
import subprocess
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb

from orchestration.publish.publication import (
    PUBLICATION_DOC,
    git_commit,
    previous_published_at,
    tonights_publication,
    write_publication,
)
from orchestration.raw.cases import ensure_case_tables
from orchestration.raw.store import ensure_raw_tables
from orchestration.settings import PROJECT_ROOT

FIRST_NIGHT = datetime(2026, 11, 30, 2, 0)
SECOND_NIGHT = datetime(2026, 12, 1, 2, 0)


def warehouse(path: Path) -> duckdb.DuckDBPyConnection:
    """Raw tables as a refresh leaves them: a superseded barometer load and two case nights."""
    con = duckdb.connect(str(path))
    ensure_raw_tables(con)
    ensure_case_tables(con)
    loads = [
        ("L1", "arbejde.csv", "aa11", 2023, "1.2"),  # superseded by L2: not current
        ("L2", "arbejde.csv", "bb22", 2024, "1.2"),
        ("L3", "bolig.csv", "cc33", 2024, "8.1"),
        ("L4", "kriminalitet.csv", "dd44", 2022, "9.1"),
    ]
    for load_id, file, sha256, year, indicator in loads:
        con.execute(
            "insert into raw.barometer_loads (load_id, source_file, source_uri, source_sha256, "
            "loaded_at, layout, rows_extracted, rows_loaded, rows_rejected, archive_path) "
            "values (?, ?, ?, ?, ?, 'long', 2, 2, 0, 'x')",
            [load_id, file, f"file://{file}", sha256, FIRST_NIGHT],
        )
        for y in (year - 1, year):
            con.execute(
                "insert into raw.barometer_indicator_values (load_id, source_file, "
                "source_sha256, loaded_at, source_line, indicator_code, municipality_code, year, "
                "population_group, value, is_suppressed, unit) "
                "values (?, ?, ?, ?, 1, ?, '101', ?, 'nonwestern', 1.0, false, 'pct')",
                [load_id, file, sha256, FIRST_NIGHT, indicator, y],
            )
    con.execute(
        "insert into raw.barometer_current_loads (source_file, load_id) values "
        "('arbejde.csv', 'L2'), ('bolig.csv', 'L3'), ('kriminalitet.csv', 'L4')"
    )
    for file, kind, night, sha256, loaded_at in [
        ("citizens_20261129.csv", "citizens", date(2026, 11, 29), "c1", FIRST_NIGHT),
        ("events_20261129.csv", "events", date(2026, 11, 29), "e1", FIRST_NIGHT),
        ("events_20261130.csv", "events", date(2026, 11, 30), "e2", SECOND_NIGHT),
    ]:
        con.execute(
            "insert into raw.case_loads (source_file, source_kind, extract_date, source_sha256, "
            "line_count, records, rows_loaded, rows_rejected, values_masked, key_fingerprint, "
            "file_size, file_mtime_ns, loaded_at) values (?, ?, ?, ?, 1, 1, 1, 0, 0, 'k', 1, 1, ?)",
            [file, kind, night, sha256, loaded_at],
        )
    return con


def publish(con, serving: Path, row: dict) -> int:
    """Write the publication table into a new serving file and swap it in, as publishing does."""
    new = serving.with_name("new.duckdb")
    con.execute(f"attach '{new}' as serving_new (storage_version 'v1.4.0')")
    con.execute("create schema serving_new.marts")
    rows = write_publication(con, "serving_new.marts", serving, row)
    con.execute("detach serving_new")
    new.replace(serving)
    return rows


def read(path: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_code_commit_is_head_of_the_project_checkout(tmp_path):
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()
    assert git_commit(PROJECT_ROOT) == head
    assert git_commit(tmp_path) is None  # not a checkout
    # A copy of the code inside another repository must not report that repository's commit.
    assert git_commit(PROJECT_ROOT / "docs") is None


def test_first_publication_holds_years_night_and_every_source_file(tmp_path):
    con = warehouse(tmp_path / "warehouse.duckdb")
    row = tonights_publication(con, PROJECT_ROOT, previous_published_at=None)
    assert json.loads(row["barometer_data_years"]) == {"1.2": 2024, "8.1": 2024, "9.1": 2022}
    assert row["case_extract_night"] == date(2026, 11, 30)
    assert row["code_commit"] == git_commit(PROJECT_ROOT)
    # Naive UTC, as every timestamp in the warehouse.
    assert abs(datetime.now(UTC).replace(tzinfo=None) - row["published_at"]) < timedelta(minutes=1)
    assert json.loads(row["source_files"]) == [
        {"kind": "barometer", "file": "arbejde.csv", "sha256": "bb22", "load_id": "L2"},
        {"kind": "barometer", "file": "bolig.csv", "sha256": "cc33", "load_id": "L3"},
        {"kind": "barometer", "file": "kriminalitet.csv", "sha256": "dd44", "load_id": "L4"},
        {"kind": "citizens", "file": "citizens_20261129.csv", "sha256": "c1",
         "extract_night": "2026-11-29"},
        {"kind": "events", "file": "events_20261129.csv", "sha256": "e1",
         "extract_night": "2026-11-29"},
        {"kind": "events", "file": "events_20261130.csv", "sha256": "e2",
         "extract_night": "2026-11-30"},
    ]  # fmt: skip


def test_later_publication_lists_only_case_extracts_loaded_since_the_previous_one(tmp_path):
    con = warehouse(tmp_path / "warehouse.duckdb")
    row = tonights_publication(con, PROJECT_ROOT, previous_published_at=FIRST_NIGHT)
    files = [(f["kind"], f["file"]) for f in json.loads(row["source_files"])]
    assert files == [
        ("barometer", "arbejde.csv"),
        ("barometer", "bolig.csv"),
        ("barometer", "kriminalitet.csv"),
        ("events", "events_20261130.csv"),
    ]


def test_each_publication_keeps_the_previous_rows_and_adds_its_own(tmp_path):
    con = warehouse(tmp_path / "warehouse.duckdb")
    serving = tmp_path / "serving.duckdb"
    assert previous_published_at(con, serving) is None
    first = tonights_publication(con, PROJECT_ROOT, previous_published_at(con, serving))
    assert publish(con, serving, first) == 1
    assert previous_published_at(con, serving) == first["published_at"]

    second = tonights_publication(con, PROJECT_ROOT, previous_published_at(con, serving))
    assert publish(con, serving, second) == 2
    rows = read(
        serving,
        "select published_at, case_extract_night, source_files from marts.publication "
        "order by published_at",
    )
    assert [r[0] for r in rows] == [first["published_at"], second["published_at"]]
    assert [len(json.loads(r[2])) for r in rows] == [6, 3]  # no case extract is new the 2nd time
    assert read(serving, "select comment from duckdb_tables()") == [(PUBLICATION_DOC.comment(),)]
    assert read(
        serving,
        "select constraint_column_names from duckdb_constraints() "
        "where constraint_type = 'PRIMARY KEY'",
    ) == [(["published_at"],)]
    described = read(serving, "select count(*) from duckdb_columns() where comment <> ''")
    assert described == [(5,)]


def test_a_previous_file_without_publication_table_starts_the_history(tmp_path):
    con = warehouse(tmp_path / "warehouse.duckdb")
    serving = tmp_path / "serving.duckdb"
    duckdb.connect(str(serving)).execute("create schema marts").close()
    assert previous_published_at(con, serving) is None
    assert publish(con, serving, tonights_publication(con, PROJECT_ROOT, None)) == 1
