"""One night, one generation: the serving file, its Parquet copies, the report and the dbt docs
of a night are published together, by one atomic switch of a symlink.

Each night writes a whole generation folder, ``published/<published_at>/`` (``serving.duckdb``,
``parquet/``, ``report/``, ``docs/dbt/``), marked ``published/pending`` while it is built. Then
``os.replace`` turns ``published/current`` to it: the one moment a reader's view changes, from
every file of the last night to every file of this one. The paths BI tools and people open stay
where they were (``serving.duckdb``, ``parquet/``, ``report/``, ``docs/dbt/`` in the warehouse
folder) as fixed symlinks into ``published/current``. The previous generation is kept, so a
reader holding its files open keeps reading them; older ones are removed. Plain files, no DuckDB
and no Dagster.
"""

from __future__ import annotations

import html
import os
import re
import shutil
import uuid
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

PUBLISHED = "published"
CURRENT = "current"
PENDING = "pending"
# What a generation can hold, each at the same path in the generation and in the warehouse
# folder; each engine names the ones it publishes (Engine.generation_paths).
PUBLISHED_PATHS = ("serving.duckdb", "parquet", "report", "docs/dbt")
STAMP = "barometer:published_at"  # the <meta> that names the night of a page


class GenerationError(Exception):
    """There is no generation to publish; the message says why."""


def generation_name(published_at: datetime) -> str:
    """``20250312T020512123456Z``: sorts as the nights do, and is a valid folder name anywhere."""
    return f"{published_at:%Y%m%dT%H%M%S%f}Z"


def begin(warehouse_dir: Path, published_at: datetime) -> Path:
    """Create tonight's generation folder, unseen by readers, and mark it pending."""
    published = warehouse_dir / PUBLISHED
    folder = published / generation_name(published_at)
    folder.mkdir(parents=True)
    _link(published / PENDING, folder.name)
    return folder


def pending(warehouse_dir: Path) -> Path | None:
    """The generation being built tonight, if any."""
    link = warehouse_dir / PUBLISHED / PENDING
    return link.parent / os.readlink(link) if link.is_symlink() else None


def building(warehouse_dir: Path) -> Path:
    """Where tonight's files go: the pending generation, or (a step run on its own, with no
    serving step before it) the published one, whose files it rebuilds in place."""
    return pending(warehouse_dir) or warehouse_dir


def publish(
    warehouse_dir: Path,
    paths: tuple[str, ...] = PUBLISHED_PATHS,
    switched: Callable[[], None] | None = None,
) -> tuple[Path, list[Path]]:
    """Make the pending generation, which must hold ``paths``, the current one; returns it and
    the generations removed. ``switched`` is called right after the switch (the tests' kill
    point)."""
    folder = pending(warehouse_dir)
    if folder is None or not folder.is_dir():
        raise GenerationError(
            f"nothing to publish in {warehouse_dir / PUBLISHED}: the serving step did not run "
            "in this night, or failed"
        )
    missing = [p for p in paths if not (folder / p).exists()]
    if missing:
        raise GenerationError(f"the generation {folder} lacks {', '.join(missing)}")
    _sync_tree(folder)
    _link(warehouse_dir / PUBLISHED / CURRENT, folder.name)  # the moment readers see the night
    if switched is not None:
        switched()
    (warehouse_dir / PUBLISHED / PENDING).unlink()
    link_fixed_paths(warehouse_dir, paths)
    return folder, prune(warehouse_dir)


def current(warehouse_dir: Path) -> Path | None:
    link = warehouse_dir / PUBLISHED / CURRENT
    return link.parent / os.readlink(link) if link.is_symlink() else None


def link_fixed_paths(warehouse_dir: Path, paths: tuple[str, ...] = PUBLISHED_PATHS) -> None:
    """Point each fixed path at ``published/current``. A warehouse from before generations has
    plain files there: each is replaced once (a folder is moved aside first, as a rename
    cannot replace one)."""
    for relative in paths:
        path = warehouse_dir / relative
        target = os.path.relpath(warehouse_dir / PUBLISHED / CURRENT / relative, path.parent)
        if path.is_symlink() and os.readlink(path) == target:
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        aside = None
        if path.is_dir() and not path.is_symlink():
            aside = path.with_name(f".{path.name}.{uuid.uuid4().hex}.old")
            path.rename(aside)
        _link(path, target)
        if aside is not None:
            shutil.rmtree(aside)


def prune(warehouse_dir: Path) -> list[Path]:
    """Remove every generation but the current and the one before it (a reader may hold it
    open), and what a killed night left: its pending mark and its unpublished folder."""
    published = warehouse_dir / PUBLISHED
    if not published.is_dir():
        return []
    removed = []
    mark = published / PENDING
    if mark.is_symlink():
        mark.unlink()
        removed.append(mark)
    now = current(warehouse_dir)
    folders = sorted(p for p in published.iterdir() if p.is_dir() and not p.is_symlink())
    kept = {now} if now else set()
    if now is not None:
        older = [p for p in folders if p.name < now.name and not p.name.startswith(".")]
        kept |= set(older[-1:])
    for folder in folders:
        if folder not in kept:
            shutil.rmtree(folder)
            removed.append(folder)
    for link in published.glob(".*.tmp"):  # a symlink a killed switch left half-made
        link.unlink()
        removed.append(link)
    return removed


def stamp_page(page: Path, published_at: datetime | None) -> None:
    """Name the night in the page's head (``<meta name="barometer:published_at">``), so a page
    says which marts.publication row it belongs to. Rewritten whole, then renamed."""
    if published_at is None:
        return
    meta = f'<meta name="{STAMP}" content="{html.escape(str(published_at))}">'
    text = page.read_text(encoding="utf-8")
    text, found = re.subn(r"<head[^>]*>", lambda head: head[0] + meta, text, count=1)
    if not found:
        text = meta + text
    partial = page.with_name(f".{page.name}.{uuid.uuid4().hex}.tmp")
    try:
        partial.write_text(text, encoding="utf-8")
        os.replace(partial, page)
    finally:
        partial.unlink(missing_ok=True)


def _link(link: Path, target: str) -> None:
    """Point ``link`` at ``target`` atomically: made under another name, then renamed."""
    partial = link.with_name(f".{link.name}.{uuid.uuid4().hex}.tmp")
    os.symlink(target, partial)
    try:
        os.replace(partial, link)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    _sync(link.parent)


def _sync_tree(folder: Path) -> None:
    """Every file of the generation on disk before it is published: a power cut after the switch
    must not leave ``current`` pointing at files that were never written."""
    for path in sorted(folder.rglob("*"), reverse=True):
        _sync(path)
    _sync(folder)


def _sync(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
