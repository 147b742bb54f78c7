"""Build the report pages and put them in place atomically."""

from __future__ import annotations

import os
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from orchestration.reporting.data import read_published, report_data
from orchestration.reporting.page import ASSET_FILES, Assets, asset_text, render
from orchestration.reporting.site import index_page

PAGE_NAME = "index.html"
ASSETS_DIR = "assets"


@dataclass(frozen=True)
class ReportResult:
    path: Path
    municipality_code: str
    municipality_name: str
    size_bytes: int
    charts: int
    seconds: float


@dataclass(frozen=True)
class SiteResult:
    index: Path
    pages: int
    size_bytes: int  # every file of the site
    seconds: float


def build_report(serving_path: Path, municipality: str, out_dir: Path) -> ReportResult:
    """Read ``serving_path`` (read-only) and write ``out_dir/index.html``, one self-contained
    page (styles and script inline), which can be mailed or attached as it is."""
    started = time.monotonic()
    data = report_data(read_published(serving_path), municipality)
    html, charts = render(data)
    target = write_atomically(out_dir / PAGE_NAME, html)
    return ReportResult(
        path=target,
        municipality_code=data.municipality_code,
        municipality_name=data.municipality_name,
        size_bytes=target.stat().st_size,
        charts=charts,
        seconds=time.monotonic() - started,
    )


def build_site(serving_path: Path, out_dir: Path) -> SiteResult:
    """Every municipality's page under ``out_dir/<code>/index.html``, their styles and script
    once in ``out_dir/assets/``, and ``out_dir/index.html`` listing them all: one read of the
    serving file, every page rendered in this process."""
    started = time.monotonic()
    published = read_published(serving_path)
    for name in ASSET_FILES:
        write_atomically(out_dir / ASSETS_DIR / name, asset_text(name))
    shared = Assets(href=f"../{ASSETS_DIR}/", index=f"../{PAGE_NAME}")
    municipalities = published.municipalities
    for code in municipalities["municipality_code"]:
        html, _ = render(report_data(published, code), shared)
        write_atomically(out_dir / code / PAGE_NAME, html)
    index = write_atomically(out_dir / PAGE_NAME, index_page(published, ASSETS_DIR))
    return SiteResult(
        index=index,
        pages=len(municipalities),
        size_bytes=sum(f.stat().st_size for f in out_dir.rglob("*") if f.is_file()),
        seconds=time.monotonic() - started,
    )


def write_atomically(target: Path, text: str) -> Path:
    """Written under a temporary name and moved over the old file, so a reader (or a browser
    reloading) never sees half a page, and a failure leaves the old file as it was."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.parent / f".{target.name}.{uuid.uuid4().hex}.tmp"
    try:
        partial.write_text(text, encoding="utf-8")
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return target
