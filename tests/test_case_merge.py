"""Merging case extracts into the raw tables (orchestration/raw/cases.py): the latest version
of a key wins, whether the versions come from one file or from several loads."""

from datetime import datetime

import duckdb
import pytest

from orchestration.raw import cases as raw_cases
from orchestration.settings import REFERENCE_DIR
from orchestration.sources.cases import (
    CaseExtractError,
    describe_extract,
    load_case_programmes,
    read_extract,
)

KEY = "test-key"
PROGRAMMES = load_case_programmes(REFERENCE_DIR)
HEADER = "event_id;cpr;haendelse;dato;slutdato;detalje;erstatter_event_id;annulleret"


def load(con, folder, name, lines, loaded_at):
    path = folder / name
    path.write_text("\n".join([HEADER, *lines]) + "\n", encoding="utf-8")
    with read_extract(describe_extract(path), KEY, PROGRAMMES) as parsed:
        return raw_cases.load_extract(con, parsed, loaded_at, "fingerprint")


def events(con):
    return con.execute(
        "select event_id, event_type, source_file, source_line from raw.case_events order by 1"
    ).fetchall()


@pytest.fixture
def con(tmp_path):
    with duckdb.connect(str(tmp_path / "warehouse.duckdb")) as con:
        raw_cases.ensure_case_tables(con)
        yield con


def test_an_event_twice_in_one_file_keeps_its_later_line(con, tmp_path):
    load(con, tmp_path, "events_20250106.csv", [
        "1;010190-1234;visitation;2016-03-01;;;;0",
        "2;010190-1234;virksomhedspraktik;2016-03-20;;;;0",
        "1;010190-1234;kompetenceafklaring;2016-03-02;;;;0",
    ], datetime(2025, 1, 6, 2))  # fmt: skip
    assert events(con) == [
        (1, "kompetenceafklaring", "events_20250106.csv", 4),
        (2, "virksomhedspraktik", "events_20250106.csv", 3),
    ]


def test_a_later_extract_replaces_an_event_and_an_older_one_loaded_late_does_not(con, tmp_path):
    load(con, tmp_path, "events_20250106.csv", [
        "1;010190-1234;visitation;2016-03-01;;;;0",
        "2;010190-1234;virksomhedspraktik;2016-03-20;;;;0",
    ], datetime(2025, 1, 6, 2))  # fmt: skip
    load(con, tmp_path, "events_20250108.csv", [
        "2;010190-1234;loentilskud;2016-03-21;;;;0",
    ], datetime(2025, 1, 8, 2))  # fmt: skip
    load(con, tmp_path, "events_20250107.csv", [
        "1;010190-1234;igu;2016-03-05;;;;0",
        "2;010190-1234;ordinaert_job;2016-03-22;;;;0",
    ], datetime(2025, 1, 9, 2))  # fmt: skip
    assert events(con) == [
        (1, "igu", "events_20250107.csv", 2),
        (2, "loentilskud", "events_20250108.csv", 2),
    ]


def test_rejected_records_are_left_out_and_a_file_changed_while_read_is_refused(con, tmp_path):
    load(con, tmp_path, "events_20250106.csv", [
        "1;010190-1234;visitation;2016-03-01;;;;0",
        "2;not-a-cpr;visitation;2016-03-01;;;;0",
        "3;010190-1234;visitation;not a date;;;;0",
        "4;010190-1234;igu;2016-04-01;;;;0",
    ], datetime(2025, 1, 6, 2))  # fmt: skip
    assert [row[0] for row in events(con)] == [1, 4]
    path = tmp_path / "events_20250107.csv"
    path.write_text(f"{HEADER}\n5;010190-1234;visitation;2016-03-01;;;;0\n", encoding="utf-8")
    with read_extract(describe_extract(path), KEY, PROGRAMMES) as parsed:
        path.write_text(  # rewritten between the first pass and the rows
            f"{HEADER}\n5;010190-1234;visitation;2016-03-01;;;;0\n6;010190-1234;igu;x;;;;0\n",
            encoding="utf-8",
        )
        with pytest.raises(CaseExtractError, match="changed while it was read"):
            raw_cases.load_extract(con, parsed, datetime(2025, 1, 7, 2), "fingerprint")


def test_a_run_of_several_nights_newest_first_merges_as_night_by_night(tmp_path):
    # The case_extracts asset loads a run's extracts newest night first, in one transaction, so
    # that no row is inserted that a later night replaces: the tables are the same.
    nights = {
        "events_20250106.csv": [
            "1;010190-1234;visitation;2016-03-01;;;;0",
            "2;010190-1234;virksomhedspraktik;2016-03-20;;;;0",
            "3;010190-1234;igu;2016-04-01;;;;0",
            "3;010190-1234;loentilskud;2016-04-02;;;;0",
            "4;not-a-cpr;visitation;2016-03-01;;;;0",
        ],
        "events_20250107.csv": ["2;010190-1234;ordinaert_job;2016-03-22;;;;0"],
        "events_20250108.csv": [
            "1;010190-1234;kompetenceafklaring;2016-03-02;;;;0",
            "5;010190-1234;uddannelse;2016-05-01;;;;0",
        ],
    }
    for name, lines in nights.items():
        (tmp_path / name).write_text("\n".join([HEADER, *lines]) + "\n", encoding="utf-8")
    extracts = [describe_extract(tmp_path / name) for name in nights]
    assert [e.name for e in raw_cases.newest_first(extracts)] == list(reversed(nights))

    def merged(database, runs):
        with duckdb.connect(str(tmp_path / database)) as con:
            raw_cases.ensure_case_tables(con)
            for night, run in enumerate(runs):
                con.execute("begin transaction")
                for extract in run:
                    with read_extract(extract, KEY, PROGRAMMES) as parsed:
                        raw_cases.load_extract(con, parsed, datetime(2025, 1, 6 + night), "x")
                con.execute("commit")
            loads = con.execute(
                "select source_file, records, rows_loaded, rows_rejected from raw.case_loads "
                "order by 1"
            ).fetchall()
            return events(con), loads

    night_by_night = merged("nightly.duckdb", [[extract] for extract in extracts])
    one_run = merged("one_run.duckdb", [raw_cases.newest_first(extracts)])
    assert one_run == night_by_night
    assert night_by_night[0] == [
        (1, "kompetenceafklaring", "events_20250108.csv", 2),
        (2, "ordinaert_job", "events_20250107.csv", 2),
        (3, "loentilskud", "events_20250106.csv", 5),
        (5, "uddannelse", "events_20250108.csv", 3),
    ]
    assert night_by_night[1] == [
        ("events_20250106.csv", 5, 4, 1),
        ("events_20250107.csv", 1, 1, 0),
        ("events_20250108.csv", 2, 2, 0),
    ]
