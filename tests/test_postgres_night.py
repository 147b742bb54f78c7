"""Write-audit-publish on PostgreSQL: a failed, a killed and a concurrent night, seen from the
server's ``marts`` schema and from a BI login of the read-only group.

All share one server and the night of ``postgres_night``; each works on its own copy of that
night's folders and leaves ``marts`` as a whole night.
"""

import dataclasses
import os
import signal
import subprocess
import sys
import threading
import time

import psycopg2
import pytest
from conftest import refresh
from test_quality_gate import as_fractions, rewrite

from orchestration.assets.publish import MART_TABLES
from orchestration.cli import main
from orchestration.engines.postgres.publish import PREVIOUS, STAGING
from orchestration.engines.postgres.server import session
from orchestration.settings import PROJECT_ROOT

READER = "bi_reader"
# One statement, so one snapshot: every mart's row count and the transaction that wrote it
# (xmin), and the publication count. A mix of two nights would be a tuple of neither.
SNAPSHOT = "select " + ", ".join(
    [
        *(
            f"(select array[count(*), min(xmin::text::bigint)] from marts.{table})"
            for table in MART_TABLES
        ),
        "(select count(*) from marts.publication)",
    ]
)


def snapshot(dsn: str) -> tuple:
    with session(dsn, autocommit=True) as con:
        return tuple(
            tuple(value) if isinstance(value, list) else value
            for value in con.execute(SNAPSHOT).fetchone()
        )


def contents(dsn: str) -> dict[str, str]:
    """Every published table's rows, as a digest: 'exactly as it was'."""
    with session(dsn) as con:
        return {
            table: con.execute(
                f"select md5(string_agg(t::text, '|' order by t::text)) from marts.{table} as t"
            ).fetchone()[0]
            for table in [*MART_TABLES, "publication"]
        }


def test_a_broken_export_stops_at_the_gate_on_the_server(postgres_night_copy, postgres_server):
    before = contents(postgres_server.dsn)
    rewrite(postgres_night_copy.source_dir / "barometer_1_arbejde.csv", as_fractions)
    # Stopped at the raw store's gate: the server's raw copy is not touched either.
    result = refresh(postgres_night_copy)

    assert not result.success
    failed = [e for e in result.get_asset_check_evaluations() if not e.passed]
    assert [e.asset_key.to_user_string() for e in failed] == ["raw/barometer_indicator_values"]
    assert "expect_column_values_to_be_between on value" in failed[0].description
    materialized = {m.asset_key.to_user_string() for m in result.get_asset_materialization_events()}
    assert all(key.startswith("raw/") for key in materialized)
    assert contents(postgres_server.dsn) == before


def test_a_refresh_killed_in_dbt_leaves_marts_as_they_were(postgres_night_copy, postgres_server):
    before = contents(postgres_server.dsn)
    with subprocess.Popen(
        # -v: dbt's lines on the console too, to find the moment to kill it.
        [sys.executable, "-m", "orchestration.cli", "refresh", "-v"],
        cwd=PROJECT_ROOT,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own process group: the dbt child dies with it
    ) as refresh_process:
        for line in refresh_process.stdout:
            # Half-way through the build: the marts are being written to the staging schema.
            if " 150 of " in line:
                os.killpg(refresh_process.pid, signal.SIGKILL)
                break
        refresh_process.wait()
    assert refresh_process.returncode == -signal.SIGKILL
    assert contents(postgres_server.dsn) == before


def test_a_reader_sees_whole_nights_during_a_refresh(postgres_night_copy, postgres_server):
    assert main(["create-reader-role", READER]) == 0
    reader_dsn = dataclasses.replace(postgres_server, user=READER).dsn
    before = snapshot(reader_dsn)
    seen, errors, done = [], [], threading.Event()

    def read_in_a_loop():
        while not done.is_set():
            try:
                seen.append(snapshot(reader_dsn))
            except psycopg2.Error as error:
                errors.append(error)
            time.sleep(0.01)

    reader = threading.Thread(target=read_in_a_loop)
    reader.start()
    try:
        result = refresh(postgres_night_copy)
    finally:
        time.sleep(0.5)
        done.set()
        reader.join()
    assert result.success
    after = snapshot(reader_dsn)
    assert errors == []
    assert after != before and after[-1] == before[-1] + 1
    assert set(seen) <= {before, after} and seen[0] == before and seen[-1] == after
    assert len(seen) > 100
    # The group's grants came back with the new marts, and reach nothing else.
    with session(reader_dsn) as con, pytest.raises(psycopg2.errors.InsufficientPrivilege):
        con.execute("select count(*) from raw.barometer_loads")
    with session(postgres_server.dsn) as con:
        schemas = {name for (name,) in con.execute("select nspname from pg_namespace")}
    assert {"marts", PREVIOUS} <= schemas and STAGING not in schemas
    with session(postgres_server.dsn) as con:  # the night before, kept until the next
        assert con.execute(f"select count(*) from {PREVIOUS}.publication").fetchone() == (
            before[-1],
        )
