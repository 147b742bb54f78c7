"""Shared fixtures: a prepared dbt manifest, isolated warehouse folders and one real refresh."""

import fcntl
import os
import shutil
import subprocess
from pathlib import Path

import duckdb
import pytest

from orchestration.cli import prepare
from orchestration.settings import (
    DBT_EXECUTABLE,
    DBT_PROJECT_DIR,
    PROJECT_ROOT,
    Settings,
)
from orchestration.transform.dbt_process import PARTIAL_PARSE, in_warehouse_folder

# Real loopback servers (webhook receiver, SMTP inbox) shared by the alert tests, and a real
# PostgreSQL server (tests/postgres.py) for the tests of the second engine.
pytest_plugins = ["loopback", "postgres"]

SAMPLE_EXPORTS = PROJECT_ROOT / "seeds" / "barometer"

# -- pytest-xdist (make test: -n auto --dist loadfile) -------------------------------------------
# Each test file is one unit of work for one worker, so its module fixtures are built once, and
# test_privacy's local accounts (one set on the machine) are made and removed by one worker.
# The files below share a unit: one PostgreSQL server and its night serve them all, kept in step
# by the tests in their order. Every worker has its own `published` night. Other --dist modes
# split files across workers: they build these fixtures twice and race on the accounts.
WORKER_GROUPS = {
    "tests/test_engine_parity.py": "postgres",
    "tests/test_postgres_engine.py": "postgres",
    "tests/test_postgres_night.py": "postgres",
    "tests/test_postgres_shared.py": "postgres",
}
# The dearest units first (their whole nights, by --durations), so that the workers end
# together; the rest follow in the order collected.
DEAREST_FIRST = [
    "postgres",
    "tests/test_case_nights.py",
    "tests/test_cases_end_to_end.py",
    "tests/test_report_command.py",
    "tests/test_generations.py",
    "tests/test_faults.py",
    "tests/test_alerting_end_to_end.py",
    "tests/test_extract_sources.py",
    "tests/test_erasure.py",
    "tests/test_privacy.py",
    "tests/test_report.py",
    "tests/test_backup.py",
]


def work_unit(nodeid: str) -> str:
    file = nodeid.split("::", 1)[0]
    return WORKER_GROUPS.get(file, file)


def pytest_xdist_make_scheduler(config, log):
    """--dist loadfile, with the groups above joined and the dearest units handed out first."""
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class Scheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return work_unit(nodeid)

    config.option.loadscopereorder = False  # units in the order collected, as sorted below
    return Scheduling(config, log)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """In a pytest-xdist worker: the dearest units first, each in its own order."""
    if os.environ.get("PYTEST_XDIST_WORKER"):
        rank = {unit: place for place, unit in enumerate(DEAREST_FIRST)}
        items.sort(key=lambda item: rank.get(work_unit(item.nodeid), len(rank)))


@pytest.fixture(scope="session", autouse=True)
def dbt_manifest(tmp_path_factory) -> Path:
    """dagster-dbt reads the manifest when the definitions load: parse once per test run, as
    ``barometer prepare`` does (a new warehouse's first night starts from its partial parse).

    Under pytest-xdist every worker has this session; the first to get here parses, under a
    lock on dbt's target folder, which the workers (and any other run of the suite in this
    checkout) share; the others find the run's mark and parse no more."""
    target = DBT_PROJECT_DIR / "target"
    target.mkdir(exist_ok=True)
    # The run's folder that all its workers share (pytest-N/, above each worker's own).
    run = os.environ.get("PYTEST_XDIST_TESTRUNUID")
    parsed = tmp_path_factory.getbasetemp().parent / f"dbt-parsed-{run}" if run else None
    with open(target / ".parse.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if parsed is None or not parsed.exists():
            assert prepare(Settings.from_env()) == 0, "barometer prepare: dbt parse failed"
            if parsed is not None:
                parsed.touch()
    return target / "manifest.json"


def use_folders(
    monkeypatch: pytest.MonkeyPatch, warehouse: Path, source: Path, **env: str
) -> Settings:
    """Point the settings at these folders (and ``env``); every variable is restored after."""
    monkeypatch.setenv("BAROMETER_WAREHOUSE_DIR", str(warehouse))
    monkeypatch.setenv("BAROMETER_SOURCE_DIR", str(source))
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    settings = Settings.from_env()
    for key, value in settings.subprocess_env().items():
        monkeypatch.setenv(key, value)
    return settings


def refresh(settings: Settings):
    """A real run of the nightly_refresh job, in process, like `barometer refresh`."""
    from orchestration.automation.run import run_nightly_refresh

    return run_nightly_refresh(settings)


def dbt(warehouse: Path, target: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    """dbt's command line on the DuckDB file ``warehouse``, as the night runs it: in the file's
    folder and from ``barometer prepare``'s partial parse (a parse of every file is about 3 s
    more), with a ``target`` folder of its own, so the prepared manifest stays. ``env`` adds
    variables to this process's."""
    target.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(DBT_PROJECT_DIR / "target" / PARTIAL_PARSE, target / PARTIAL_PARSE)
    folder, variables = in_warehouse_folder(
        DBT_PROJECT_DIR, {**os.environ, **env, "BAROMETER_DUCKDB_PATH": str(warehouse)}
    )
    return subprocess.run(
        [str(DBT_EXECUTABLE), *args],
        cwd=folder,
        env={**variables, "DBT_TARGET_PATH": str(target)},
        capture_output=True,
        text=True,
    )


def read_table(path: Path, table: str) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(f"select * from {table} order by all").fetchall()


@pytest.fixture(scope="session")
def published(tmp_path_factory) -> Settings:
    """One successful refresh of the sample exports, shared read-only by many tests."""
    root = tmp_path_factory.mktemp("published")
    shutil.copytree(SAMPLE_EXPORTS, root / "source")
    with pytest.MonkeyPatch.context() as monkeypatch:
        settings = use_folders(monkeypatch, root / "warehouse", root / "source")
        result = refresh(settings)
    assert result.success, "the sample data must refresh cleanly"
    return settings


@pytest.fixture
def published_copy(published: Settings, tmp_path, monkeypatch) -> Settings:
    """A private copy of the published warehouse and its sources, to break or refresh again
    (its links into published/current copied as links)."""
    shutil.copytree(published.warehouse_dir, tmp_path / "warehouse", symlinks=True)
    shutil.copytree(published.source_dir, tmp_path / "source")
    return use_folders(monkeypatch, tmp_path / "warehouse", tmp_path / "source")


def on_server(monkeypatch: pytest.MonkeyPatch, root: Path, dsn: str) -> Settings:
    """The folders under root as a night on the PostgreSQL server ``dsn``."""
    return use_folders(
        monkeypatch,
        root / "warehouse",
        root / "source",
        BAROMETER_ENGINE="postgres",
        BAROMETER_PG_DSN=dsn,
    )


@pytest.fixture(scope="session")
def postgres_night(published: Settings, postgres_server, tmp_path_factory) -> Settings:
    """The sample night through the nightly job on PostgreSQL, from a copy of the published
    DuckDB night (its raw store holds the same loads), shared by the server's tests."""
    root = tmp_path_factory.mktemp("postgres_night")
    shutil.copytree(published.warehouse_dir, root / "warehouse")
    shutil.copytree(published.source_dir, root / "source")
    # Without the DuckDB night's outputs and dbt state: whatever is found was the server's.
    for output in ("serving.duckdb", "parquet", "report", "docs", "dbt_state"):
        path = root / "warehouse" / output
        shutil.rmtree(path) if path.is_dir() else path.unlink()
    with pytest.MonkeyPatch.context() as monkeypatch:
        settings = on_server(monkeypatch, root, postgres_server.dsn)
        result = refresh(settings)
    assert result.success, "the sample night must refresh cleanly on PostgreSQL"
    return settings


@pytest.fixture
def postgres_night_copy(postgres_night: Settings, postgres_server, tmp_path, monkeypatch):
    """A private copy of the PostgreSQL night's folders; the server is shared."""
    shutil.copytree(postgres_night.warehouse_dir, tmp_path / "warehouse")
    shutil.copytree(postgres_night.source_dir, tmp_path / "source")
    return on_server(monkeypatch, tmp_path, postgres_server.dsn)
