"""Which export files a night should consider: the source folder, downloads and the drop folder.

Free of Dagster. Files are identified by name: the same name from a later place (a download, a
file a colleague dropped) supersedes the earlier one, as a newer version of the same export.
A file of the source or drop folder larger than ``max_file_bytes`` stops the night before it is
read (downloads have their own limit); a symbolic link in the drop folder is ignored with a
warning, so a folder others may write to cannot make the night read any file it can reach.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from orchestration.sources.download import download
from orchestration.sources.errors import ExportFormatError

EXPORT_SUFFIXES = (".csv", ".xlsx")
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Found:
    path: Path
    source_uri: str  # the folder or URL the file came from


def export_files(folder: Path) -> list[Path]:
    """Export files in a folder, in name order; hidden and temporary files are ignored."""
    if not folder.is_dir():
        return []
    return sorted(
        p
        for p in folder.iterdir()
        if p.is_file()
        and p.suffix.lower() in EXPORT_SUFFIXES
        and not p.name.startswith((".", "~$"))
    )


def dropped_files(folder: Path, warn: Callable[[str], None] = log.warning) -> list[Path]:
    """Export files in the drop folder; a symbolic link is ignored, and ``warn`` names it."""
    files = []
    for path in export_files(folder):
        if path.is_symlink():
            warn(f"{path} is a symbolic link: ignored (the drop folder takes files, not links)")
        else:
            files.append(path)
    return files


def find_exports(
    source_dir: Path,
    drop_dir: Path | None,
    urls: tuple[str, ...],
    downloads_dir: Path,
    *,
    max_bytes: int,
    timeout: float,
    max_file_bytes: int,
    warn: Callable[[str], None] = log.warning,
) -> list[Found]:
    """Every export to consider, later places first superseding earlier ones by file name.

    ``max_bytes`` limits a download, ``max_file_bytes`` a file of the source or drop folder.
    """
    in_folder = [Found(p, str(source_dir)) for p in export_files(source_dir)]
    dropped = []
    if drop_dir is not None:
        dropped = [Found(p, str(drop_dir)) for p in dropped_files(drop_dir, warn)]
    for item in in_folder + dropped:
        size = item.path.stat().st_size
        if size > max_file_bytes:
            raise ExportFormatError(
                item.path.name, None, None,
                f"{size:,} bytes in {item.source_uri}, more than BAROMETER_FILE_MAX_BYTES "
                f"allows ({max_file_bytes:,})",
            )  # fmt: skip
    found = list(in_folder)
    for url in urls:
        fetched = download(
            url,
            downloads_dir,
            downloads_dir / "downloads.json",
            max_bytes=max_bytes,
            timeout=timeout,
        )
        if fetched.path is not None:
            found.append(Found(fetched.path, url))
    found += dropped
    by_name: dict[str, Found] = {}
    for item in found:
        if item.path.name in by_name:
            log.info("%s from %s supersedes the one from %s", item.path.name, item.source_uri,
                     by_name[item.path.name].source_uri)  # fmt: skip
        by_name[item.path.name] = item
    return list(by_name.values())
