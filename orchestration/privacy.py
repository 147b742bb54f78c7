"""Who may read the warehouse folder: its owner, and for the published files one named group.

Pseudonymised case data is personal data. The process umask makes everything the night writes
(DuckDB, dbt, Great Expectations, the report, Parquet) private to its owner, child processes
included; ``secure_warehouse`` fixes the folder of an older warehouse once a night, and
``open_to_readers`` gives the files BI tools read to ``BAROMETER_READER_GROUP`` after each
publication: read for that group, never anything for everyone else.
"""

from __future__ import annotations

import grp
import os
import stat
from collections.abc import Iterable
from pathlib import Path

PRIVATE_UMASK = 0o077  # new files 0600, new folders 0700
PRIVATE_FILE, PRIVATE_FOLDER = 0o600, 0o700
READER_FILE, READER_FOLDER = 0o640, 0o750
# The warehouse folder for the group: enter it (to reach the published files by name), not list
# it, nor read anything else in it.
READER_ROOT = 0o710


def make_umask_private() -> None:
    """Called once where a process starts (the CLI, the code location): its files are private."""
    os.umask(PRIVATE_UMASK)


def reader_paths(warehouse_dir: Path) -> list[Path]:
    """What BI tools and analysts open: the serving file, its Parquet copies, the pages, and the
    generations these name (publish/generation.py)."""
    names = ("serving.duckdb", "parquet", "report", "docs", "published")
    return [warehouse_dir / name for name in names]


def secure_warehouse(warehouse_dir: Path, reader_group: str | None) -> None:
    """Every file and folder under the warehouse folder private to its owner, except what
    ``reader_paths`` names, which the reader group (if any) may read."""
    if not warehouse_dir.exists():
        return
    shared = set(reader_paths(warehouse_dir)) if reader_group else set()
    for folder, folders, files in os.walk(warehouse_dir):
        for name in folders + files:
            path = Path(folder, name)
            if not (shared & {path, *path.parents}):
                _set_mode(path, PRIVATE_FILE, PRIVATE_FOLDER)
    open_to_readers(warehouse_dir, reader_group, shared)


def open_to_readers(
    warehouse_dir: Path, reader_group: str | None, paths: Iterable[Path] | None = None
) -> None:
    """The published ``paths`` (all of ``reader_paths`` by default) readable by the group, and
    the warehouse folder enterable by it; without a group, everything stays the owner's."""
    if reader_group is None:
        _set_mode(warehouse_dir, PRIVATE_FILE, PRIVATE_FOLDER)
        for path in paths or reader_paths(warehouse_dir):
            _tree(path, PRIVATE_FILE, PRIVATE_FOLDER)
        return
    gid = grp.getgrnam(reader_group).gr_gid
    _set_mode(warehouse_dir, READER_FILE, READER_ROOT, gid)
    for path in paths or reader_paths(warehouse_dir):
        _tree(path, READER_FILE, READER_FOLDER, gid)


def make_private(path: Path) -> None:
    """``path`` and everything under it readable by its owner only (backups)."""
    _tree(path, PRIVATE_FILE, PRIVATE_FOLDER)


def _tree(path: Path, file_mode: int, folder_mode: int, gid: int = -1) -> None:
    _set_mode(path, file_mode, folder_mode, gid)
    if path.is_dir() and not path.is_symlink():
        for folder, folders, files in os.walk(path):
            for name in folders + files:
                _set_mode(Path(folder, name), file_mode, folder_mode, gid)


def _set_mode(path: Path, file_mode: int, folder_mode: int, gid: int = -1) -> None:
    try:
        found = path.lstat()
    except FileNotFoundError:  # removed meanwhile (a temporary file), or never published
        return
    if stat.S_ISLNK(found.st_mode):  # a link's own mode means nothing; its target is elsewhere
        return
    mode = folder_mode if stat.S_ISDIR(found.st_mode) else file_mode
    if gid != -1 and found.st_gid != gid:
        os.chown(path, -1, gid)
    if stat.S_IMODE(found.st_mode) != mode:
        os.chmod(path, mode)
