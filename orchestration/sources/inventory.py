"""Which export files a night should consider: the source folder, downloads and the drop folder.

Free of Dagster. Files are identified by name: the same name from a later place (a download, a
file a colleague dropped) supersedes the earlier one, as a newer version of the same export.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from orchestration.sources.download import download

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


def find_exports(
    source_dir: Path,
    drop_dir: Path | None,
    urls: tuple[str, ...],
    downloads_dir: Path,
    *,
    max_bytes: int,
    timeout: float,
) -> list[Found]:
    """Every export to consider, later places first superseding earlier ones by file name."""
    found = [Found(p, str(source_dir)) for p in export_files(source_dir)]
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
    if drop_dir is not None:
        found += [Found(p, str(drop_dir)) for p in export_files(drop_dir)]
    by_name: dict[str, Found] = {}
    for item in found:
        if item.path.name in by_name:
            log.info("%s from %s supersedes the one from %s", item.path.name, item.source_uri,
                     by_name[item.path.name].source_uri)  # fmt: skip
        by_name[item.path.name] = item
    return list(by_name.values())
