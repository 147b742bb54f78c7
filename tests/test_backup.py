"""Backups of the raw layer and the landing archive, and a restore that gives back the same night.

The shared ``published`` night wrote its backup as its last step; the tests read it, make
more from copies, break them, and lose the warehouse file to restore it.
"""

import dataclasses
import hashlib
import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from conftest import read_table, refresh

from orchestration.assets.publish import MART_TABLES
from orchestration.raw.backup import (
    MANIFEST,
    BackupError,
    newest_backup,
    restore,
    write_backup,
)


def barometer(settings, *args: str) -> subprocess.CompletedProcess:
    """The ``barometer`` command in a process of its own, on these settings' folders."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BAROMETER_", "DAGSTER"))}
    env |= {
        "BAROMETER_WAREHOUSE_DIR": str(settings.warehouse_dir),
        "BAROMETER_SOURCE_DIR": str(settings.source_dir),
    }
    command = [str(Path(sys.executable).with_name("barometer")), *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)


def raw_counts(path: Path) -> dict[str, int]:
    with duckdb.connect(str(path), read_only=True) as con:
        tables = con.execute(
            "select table_name from duckdb_tables() where schema_name = 'raw'"
        ).fetchall()
        return {t: con.execute(f"select count(*) from raw.{t}").fetchone()[0] for (t,) in tables}


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_the_night_leaves_a_verified_private_backup_of_every_raw_table_and_landed_file(
    published,
):
    backup = newest_backup(published.backup_dir)
    assert backup is not None and backup.parent == published.backup_dir
    manifest = json.loads((backup / MANIFEST).read_text())
    assert manifest["verified"] and manifest["code_commit"]
    counts = raw_counts(published.warehouse_path)
    assert {t: e["rows"] for t, e in manifest["tables"].items()} == counts
    assert counts["case_events"] > 0 and counts["barometer_indicator_values"] > 0
    for entry in manifest["tables"].values():
        file = backup / entry["file"]
        assert sha256(file) == entry["sha256"]
        # Readable by any Parquet reader, not only by this warehouse's DuckDB.
        with duckdb.connect() as con:
            assert con.execute(f"select count(*) from '{file}'").fetchone()[0] == entry["rows"]
    landed = {
        p.relative_to(published.landing_dir).as_posix(): sha256(p)
        for p in published.landing_dir.rglob("*")
        if p.is_file()
    }
    assert {name: e["sha256"] for name, e in manifest["landing"].items()} == landed
    for path in [published.backup_dir, *published.backup_dir.rglob("*")]:
        assert stat.S_IMODE(path.stat().st_mode) in (0o600, 0o700), path
    assert list(published.backup_dir.glob(".*")) == []  # nothing half-written


def test_backups_are_pruned_to_the_kept_number_and_share_unchanged_landed_files(
    published_copy, tmp_path
):
    settings = dataclasses.replace(
        published_copy, backup_dir_setting=tmp_path / "backups", backup_keep=2
    )
    made = []
    for _ in range(3):
        (settings.backup_dir / ".killed-half-way.tmp").mkdir(parents=True)
        with duckdb.connect(str(settings.warehouse_path)) as con:
            made.append(write_backup(con, settings, None).path)
    kept = sorted(p for p in settings.backup_dir.iterdir())
    assert kept == made[1:]  # the oldest and the leftover of a killed backup are gone
    assert newest_backup(settings.backup_dir) == made[-1]
    [first, *_] = sorted((made[-1] / "landing").rglob("*.*"))
    twin = made[-2] / first.relative_to(made[-1])
    assert first.stat().st_ino == twin.stat().st_ino  # linked, not copied again


def test_a_backup_that_changed_since_it_was_verified_is_not_restored(published_copy, tmp_path):
    backup = tmp_path / "backup"
    shutil.copytree(newest_backup(published_copy.backup_dir) or "", backup)
    manifest = json.loads((backup / MANIFEST).read_text())
    damaged = backup / manifest["tables"]["case_events"]["file"]
    damaged.write_bytes(damaged.read_bytes()[:-100])
    published_copy.warehouse_path.unlink()
    with pytest.raises(BackupError, match="differs from its recorded sha256"):
        restore(published_copy, backup)
    assert not published_copy.warehouse_path.exists()


@pytest.fixture
def published_copy(published_copy, published):
    """The shared night's copy, with a copy of its backups in the copy's backup folder."""
    shutil.copytree(published.backup_dir, published_copy.backup_dir)
    return published_copy


def test_a_lost_warehouse_stops_the_night_and_a_restore_brings_back_the_same_marts(
    published_copy, published
):
    settings = published_copy
    serving = settings.serving_path.read_bytes()
    state = settings.dbt_state_dir
    shutil.copytree(state, state.with_name("state_kept"))
    settings.warehouse_path.unlink()

    stopped = barometer(settings, "refresh")
    assert stopped.returncode == 1
    [line] = stopped.stderr.strip().splitlines()
    assert "warehouse.duckdb is missing" in line and "barometer restore" in line
    assert str(newest_backup(settings.backup_dir)) in line
    assert settings.serving_path.read_bytes() == serving
    assert not settings.warehouse_path.exists()

    restored = barometer(settings, "restore")
    assert restored.returncode == 0, restored.stderr
    assert f"from {newest_backup(settings.backup_dir)}" in restored.stdout
    assert raw_counts(settings.warehouse_path) == raw_counts(published.warehouse_path)
    assert not state.exists()  # the models are rebuilt from the restored raw tables

    refused = barometer(settings, "restore")
    assert refused.returncode == 1
    [line] = refused.stderr.strip().splitlines()
    assert "restore refused" in line and "--force" in line

    # Even a state record that outlived its warehouse file cannot make dbt skip models the
    # restored file does not hold: it belongs to another file's identity.
    state.with_name("state_kept").rename(state)
    result = refresh(settings)
    assert result.success
    for table in MART_TABLES:
        assert read_table(settings.serving_path, f"marts.{table}") == read_table(
            published.serving_path, f"marts.{table}"
        ), table
