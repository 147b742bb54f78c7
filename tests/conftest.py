"""Shared fixtures: a prepared dbt manifest, isolated warehouse folders and one real refresh."""

import shutil
import subprocess
from pathlib import Path

import duckdb
import pytest

from orchestration.settings import (
    DBT_EXECUTABLE,
    DBT_PROJECT_DIR,
    PROJECT_ROOT,
    Settings,
)

# Real loopback servers (webhook receiver, SMTP inbox) shared by the alert tests, and a real
# PostgreSQL server (tests/postgres.py) for the tests of the second engine.
pytest_plugins = ["loopback", "postgres"]

SAMPLE_EXPORTS = PROJECT_ROOT / "seeds" / "barometer"


@pytest.fixture(scope="session", autouse=True)
def dbt_manifest() -> Path:
    """dagster-dbt reads the manifest when the definitions load: parse once per session."""
    subprocess.run([str(DBT_EXECUTABLE), "parse", "--quiet"], cwd=DBT_PROJECT_DIR, check=True)
    return DBT_PROJECT_DIR / "target" / "manifest.json"


def use_folders(monkeypatch: pytest.MonkeyPatch, warehouse: Path, source: Path) -> Settings:
    """Point the settings at these folders; every variable is restored after the test."""
    monkeypatch.setenv("BAROMETER_WAREHOUSE_DIR", str(warehouse))
    monkeypatch.setenv("BAROMETER_SOURCE_DIR", str(source))
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    settings = Settings.from_env()
    for key, value in settings.subprocess_env().items():
        monkeypatch.setenv(key, value)
    return settings


def refresh(settings: Settings):
    """A real run of the nightly_refresh job, in process, like `barometer refresh`."""
    from orchestration.automation.run import run_nightly_refresh

    return run_nightly_refresh(settings)


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
    """A private copy of the published warehouse and its sources, to break or refresh again."""
    shutil.copytree(published.warehouse_dir, tmp_path / "warehouse")
    shutil.copytree(published.source_dir, tmp_path / "source")
    return use_folders(monkeypatch, tmp_path / "warehouse", tmp_path / "source")
