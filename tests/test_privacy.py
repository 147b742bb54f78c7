"""Who can read the warehouse folder, tried as another local account (a real user and group).

Without ``BAROMETER_READER_GROUP`` no other account reads anything under the warehouse folder;
with it, the group reads the published files (serving.duckdb, parquet/, report/, docs/) and
nothing else: not warehouse.duckdb, landing/, dbt's state or the alerts.
"""

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from orchestration.privacy import reader_paths, secure_warehouse
from orchestration.settings import PROJECT_ROOT

READER, GROUP = "bw_safety_reader", "bw_safety_readers"
OUTSIDER = "bw_safety_outsider"
# Run as the other user: which of the given paths it could read (files) or list (folders).
PROBE = """
import json, os, sys
readable = []
for path in json.load(sys.stdin):
    try:
        if os.path.isdir(path):
            os.listdir(path)
        else:
            open(path, "rb").read(1)
        readable.append(path)
    except OSError:
        pass
print(json.dumps(readable))
"""


def _run(*command: str) -> None:
    subprocess.run(command, check=True, capture_output=True)


@pytest.fixture(scope="session")
def accounts():
    """A reader in the group and an outsider in none, removed at the end."""
    _run("groupadd", "-f", GROUP)
    for user in (READER, OUTSIDER):
        subprocess.run(["userdel", user], capture_output=True)
        _run("useradd", "--no-create-home", "--shell", "/usr/sbin/nologin", user)
    _run("usermod", "-a", "-G", GROUP, READER)
    yield
    for user in (READER, OUTSIDER):
        subprocess.run(["userdel", user], capture_output=True)
    subprocess.run(["groupdel", GROUP], capture_output=True)


def reachable(folder: Path) -> None:
    """Let others pass through the test's own temporary folders (pytest makes them 0700), so
    that only the warehouse folder's own modes decide."""
    for parent in folder.parents:
        if parent == Path("/tmp") or parent == Path("/"):
            break
        os.chmod(parent, parent.stat().st_mode | 0o011)


def everything(folder: Path) -> list[str]:
    return sorted(str(p) for p in [folder, *folder.rglob("*")] if not p.is_symlink())


def readable_by(user: str, paths: list[str]) -> list[str]:
    result = subprocess.run(
        ["runuser", "-u", user, "--", "/usr/bin/python3", "-c", PROBE],
        input=json.dumps(paths),
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout)


def test_without_a_group_no_other_account_reads_anything(published, accounts):
    reachable(published.warehouse_dir)
    paths = everything(published.warehouse_dir) + everything(published.backup_dir)
    assert len(paths) > 50
    assert readable_by(OUTSIDER, paths) == []
    assert readable_by(READER, paths) == []


def test_an_older_warehouse_is_made_private_then_opened_to_the_group_only(published_copy, accounts):
    folder = published_copy.warehouse_dir
    for path in [folder, *folder.rglob("*")]:  # as an older night left it: 0755 and 0644
        os.chmod(path, 0o755 if path.is_dir() else 0o644)
    secure_warehouse(folder, None)
    modes = {stat.S_IMODE(p.stat().st_mode) for p in [folder, *folder.rglob("*")]}
    assert modes == {0o600, 0o700}
    secure_warehouse(folder, GROUP)
    reachable(folder)
    assert_only_published_files_are_shared(folder)


def test_a_night_under_umask_000_writes_private_files_and_shares_the_published_ones(
    tmp_path, accounts
):
    """One real `barometer refresh` in a process of its own, started with umask 000."""
    shutil.copytree(PROJECT_ROOT / "seeds" / "barometer", tmp_path / "source")
    folder = tmp_path / "warehouse"
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("BAROMETER_", "DAGSTER_HOME"))
    }
    env |= {
        "BAROMETER_WAREHOUSE_DIR": str(folder),
        "BAROMETER_SOURCE_DIR": str(tmp_path / "source"),
        "BAROMETER_READER_GROUP": GROUP,
    }
    barometer = Path(sys.executable).with_name("barometer")
    night = subprocess.run(
        ["sh", "-c", f"umask 000 && exec {barometer} refresh"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert night.returncode == 0, night.stderr[-2000:]
    reachable(folder)
    assert_only_published_files_are_shared(folder)
    backups = tmp_path / "warehouse-backups"
    assert {stat.S_IMODE(p.stat().st_mode) for p in [backups, *backups.rglob("*")]} == {
        0o600,
        0o700,
    }
    assert readable_by(READER, everything(backups)) == []


def assert_only_published_files_are_shared(folder: Path) -> None:
    shared = reader_paths(folder)
    published = [p for p in everything(folder) if any(Path(p).is_relative_to(s) for s in shared)]
    private = sorted(set(everything(folder)) - set(published) - {str(folder)})
    for name in ("warehouse.duckdb", "landing", "dbt_state", "dbt_target"):
        assert str(folder / name) in private
    # The fixed paths are links into the night's generation (publish/generation.py).
    for name in ("serving.duckdb", "report/index.html"):
        assert str((folder / name).resolve()) in published, name
    assert any(p.endswith(".parquet") for p in published)
    # The group enters the warehouse folder (to reach the files by name) but cannot list it.
    assert stat.S_IMODE(folder.stat().st_mode) == 0o710
    assert readable_by(READER, [str(folder), *published, *private]) == published
    assert readable_by(OUTSIDER, [str(folder), *published, *private]) == []
    # ... and opens them by the names BI tools use, through the links.
    names = [str(folder / "serving.duckdb"), str(folder / "report" / "index.html")]
    assert readable_by(READER, names) == names
    for path in map(Path, published):
        assert path.stat().st_mode & 0o007 == 0, path  # never anything for everyone
    for path in map(Path, private):
        assert stat.S_IMODE(path.stat().st_mode) in (0o600, 0o700), path
