"""A PostgreSQL server shared safely: one night at a time from any folder or machine, a
check-config that connects, faults in one line of our own, a swap that says what it waits for,
and a reader role that says what it reads.

All on the session's server and the night of ``postgres_night``; none changes what ``marts``
holds.
"""

import dataclasses
import os
import subprocess
import sys
import threading

import pytest
from test_postgres_night import contents

from orchestration.assets.publish import MART_TABLES
from orchestration.cli import main
from orchestration.engines.duckdb.warehouse import open_warehouse
from orchestration.engines.postgres import publish
from orchestration.engines.postgres.server import session
from orchestration.publish.publication import tonights_publication
from orchestration.publish.serving_metadata import DBT_MANIFEST, read_table_docs
from orchestration.settings import PROJECT_ROOT

PLAIN = "night_without_rights"  # a login that may neither create schemas nor roles


@pytest.fixture(scope="module")
def plain_role(postgres_server) -> str:
    with session(postgres_server.dsn, autocommit=True) as con:
        if not con.execute("select 1 from pg_roles where rolname = %s", [PLAIN]).fetchone():
            con.execute(f"create role {PLAIN} login")
    return dataclasses.replace(postgres_server, user=PLAIN).dsn


def test_a_second_refresh_stops_at_once_naming_the_holder(
    postgres_night_copy, postgres_server, capsys
):
    """Another night holds the server (from another folder, in another process): this refresh
    stops before the run, with one line naming that night's host, process and folder."""
    other = "/srv/another/warehouse"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from pathlib import Path; "
            "from orchestration.engines.postgres.server import night_lock\n"
            f"with night_lock({postgres_server.dsn!r}, Path({other!r})):\n"
            "    print('held', flush=True); sys.stdin.read()",
        ],
        cwd=PROJECT_ROOT,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline() == "held\n"
        before = contents(postgres_server.dsn)
        assert main(["refresh"]) == 1
    finally:
        holder.communicate("")
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith("barometer: Another refresh holds the PostgreSQL server")
    assert f":{holder.pid} {other}" in line and "stopped without touching the server" in line
    assert contents(postgres_server.dsn) == before


def test_an_unreachable_server_is_one_line(published_copy, monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("BAROMETER_ENGINE", "postgres")
    monkeypatch.setenv("BAROMETER_PG_DSN", f"host={tmp_path} dbname=warehouse user=barometer")
    assert main(["refresh"]) == 1
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith(f"barometer: The PostgreSQL server {tmp_path}:5432/warehouse does not")
    assert "nothing was changed" in line


def check_config(monkeypatch, capsys, dsn: str) -> tuple[int, dict[str, str]]:
    monkeypatch.setenv("BAROMETER_ENGINE", "postgres")
    monkeypatch.setenv("BAROMETER_PG_DSN", dsn)
    code = main(["check-config"])
    lines = capsys.readouterr().out.splitlines()
    after = next(i for i, line in enumerate(lines) if " settings, " in line)
    return code, dict(line.split(": ", 1) for line in lines[after + 1 :])


def test_check_config_connects(postgres_server, plain_role, monkeypatch, capsys, tmp_path):
    code, verdicts = check_config(monkeypatch, capsys, postgres_server.dsn)
    assert code == 0
    server = f"server {postgres_server.socket_dir}:5432/warehouse"
    assert verdicts[server].startswith("ok, it answers (PostgreSQL 1")
    assert verdicts["the role's rights"].startswith("ok")
    assert "reader group barometer_reader" in verdicts

    # A login the server refuses is not "ok" (the test server trusts every known user, so an
    # unknown user stands in for a wrong password: both are the server saying no).
    wrong = dataclasses.replace(postgres_server, user="no_such_user").dsn
    code, verdicts = check_config(monkeypatch, capsys, wrong)
    assert code == 2
    assert verdicts[server].startswith(f"The PostgreSQL server {server[7:]} refused the connection")

    code, verdicts = check_config(monkeypatch, capsys, plain_role)
    assert code == 2
    assert verdicts["the role's rights"].startswith(f"{PLAIN} may not create schemas")

    code, verdicts = check_config(monkeypatch, capsys, f"host={tmp_path} dbname=warehouse")
    assert code == 2 and "does not answer" in verdicts[f"server {tmp_path}:5432/warehouse"]


def test_create_reader_role_says_what_it_reads(
    postgres_night, postgres_server, plain_role, monkeypatch, capsys
):
    monkeypatch.setenv("BAROMETER_ENGINE", "postgres")
    monkeypatch.setenv("BAROMETER_PG_DSN", plain_role)
    assert main(["create-reader-role", "bi_someone"]) == 1
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith(f"barometer: {PLAIN} may not create roles on the server")

    monkeypatch.setenv("BAROMETER_PG_DSN", postgres_server.dsn)
    assert main(["create-reader-role", "bi_someone"]) == 0
    [line] = capsys.readouterr().out.splitlines()
    # The night before, kept until the next swap for queries that began before it, too.
    tables = len(MART_TABLES) + 1
    assert line.startswith(
        f"bi_someone: a login of barometer_reader; it reads schema marts: {tables} tables"
    )
    assert line.endswith(", nothing else") and "raw" not in line


def test_the_swap_logs_what_it_waits_for(postgres_night, postgres_server):
    """A reader holds a mart open in a long transaction: the swap keeps trying, says so every
    10 s naming the reader, and publishes once the reader lets go."""
    reader_dsn = postgres_server.dsn + " application_name=a_long_report"
    logged, first_log = [], threading.Event()

    def log(message: str) -> None:
        logged.append(message)
        first_log.set()

    def read_until_the_swap_has_waited():
        with session(reader_dsn) as con:
            con.execute("select count(*) from marts.fct_scorecard").fetchone()
            ready.set()
            first_log.wait()  # the lock is held until the swap has said it waits

    ready = threading.Event()
    reader = threading.Thread(target=read_until_the_swap_has_waited)
    reader.start()
    ready.wait()
    try:
        with open_warehouse(postgres_night.warehouse_path) as con:
            row = tonights_publication(
                con, PROJECT_ROOT, publish.previous_published_at(postgres_server.dsn)
            )
        docs = read_table_docs(DBT_MANIFEST, "marts")
        counts = publish.publish_marts(postgres_server.dsn, MART_TABLES, row, docs, log)
    finally:
        first_log.set()
        reader.join()
    assert counts["fct_scorecard"] > 0
    assert logged[0].startswith("The swap into marts has waited 10 s for readers' locks")
    assert "(held by pid " in logged[0] and "a_long_report" in logged[0]
