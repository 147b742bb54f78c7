"""Build the report page and put it in place atomically."""

from __future__ import annotations

import os
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from orchestration.reporting.data import load_report_data
from orchestration.reporting.page import render

PAGE_NAME = "index.html"


@dataclass(frozen=True)
class ReportResult:
    path: Path
    municipality_code: str
    municipality_name: str
    size_bytes: int
    charts: int
    seconds: float


def build_report(serving_path: Path, municipality: str, out_dir: Path) -> ReportResult:
    """Read ``serving_path`` (read-only) and write ``out_dir/index.html``.

    The page is written under a temporary name and moved over the old one, so a reader (or a
    browser reloading) never sees half a page, and a failure leaves the old page as it was.
    """
    started = time.monotonic()
    data = load_report_data(serving_path, municipality)
    html, charts = render(data)
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / PAGE_NAME
    partial = out_dir / f".{PAGE_NAME}.{uuid.uuid4().hex}.tmp"
    try:
        partial.write_text(html, encoding="utf-8")
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return ReportResult(
        path=target,
        municipality_code=data.municipality_code,
        municipality_name=data.municipality_name,
        size_bytes=target.stat().st_size,
        charts=charts,
        seconds=time.monotonic() - started,
    )
