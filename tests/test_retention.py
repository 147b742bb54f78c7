"""Which citizens the retention period expires (orchestration/raw/erasure.py expired_citizens):
the same answer whether or not every row is recent enough to skip grouping by citizen."""

from datetime import date, datetime

import duckdb
import pytest

from orchestration.raw import cases as raw_cases
from orchestration.raw.erasure import expired_citizens

LOADED = datetime(2025, 1, 9, 2)


@pytest.fixture
def con(tmp_path):
    with duckdb.connect(str(tmp_path / "warehouse.duckdb")) as con:
        raw_cases.ensure_case_tables(con)
        yield con


def citizen(con, citizen_id, arrival):
    con.execute(
        f"insert into {raw_cases.CASE_CITIZENS} (citizen_id, arrival_date, extract_date, "
        "source_file, source_line, loaded_at) values (?, ?, ?, 'citizens_20250109.csv', 2, ?)",
        [citizen_id, arrival, date(2025, 1, 9), LOADED],
    )


def event(con, event_id, citizen_id, day, end=None):
    con.execute(
        f"insert into {raw_cases.CASE_EVENTS} (event_id, citizen_id, event_date, end_date, "
        "is_cancelled, extract_date, source_file, source_line, loaded_at) "
        "values (?, ?, ?, ?, false, ?, 'events_20250109.csv', 2, ?)",
        [event_id, citizen_id, day, end, date(2025, 1, 9), LOADED],
    )


def test_nobody_expires_when_every_row_is_recent(con):
    citizen(con, "a" * 32, date(2016, 3, 1))
    event(con, 1, "a" * 32, date(2016, 3, 5))
    event(con, 2, "b" * 32, date(2020, 1, 1))  # events only, no citizen row
    assert expired_citizens(con, 10) == []


def test_old_activity_expires_unless_the_citizen_has_recent_activity_too(con):
    citizen(con, "a" * 32, date(2010, 3, 1))  # arrived long ago, active since
    event(con, 1, "a" * 32, date(2010, 3, 5))
    event(con, 2, "a" * 32, date(2019, 1, 1))
    citizen(con, "b" * 32, date(2010, 3, 1))  # nothing since
    event(con, 3, "b" * 32, date(2011, 1, 1), end=date(2012, 1, 1))
    event(con, 4, "c" * 32, date(2012, 1, 1), end=date(2021, 1, 1))  # still running until 2021
    assert expired_citizens(con, 10) == ["b" * 32]


def test_a_citizen_without_any_date_expires(con):
    citizen(con, "a" * 32, date(2020, 3, 1))
    event(con, 1, "a" * 32, date(2020, 3, 5))
    event(con, 2, "d" * 32, None)  # a row without a date: no activity to keep them
    assert expired_citizens(con, 5) == ["d" * 32]
