"""The report page as an A4 PDF, printed by Debian's Chromium through Playwright.

The page's own print styles decide the layout (every column, each chart whole, a footer on every
page naming the municipality, the data year and the publication time), so the PDF is what a
reader gets from the browser's Print as well. The browser is offline: the page needs nothing.
"""

from __future__ import annotations

import os
import re
import uuid
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]  # fmt: skip
PDF_NAME = "report.pdf"


class PdfUnavailable(Exception):
    """No browser to print with; the message says what to install."""


def write_pdf(page: Path, chromium: Path = CHROMIUM) -> Path:
    """Print ``page`` to ``report.pdf`` beside it (atomically, like the page)."""
    if not chromium.exists():
        raise PdfUnavailable(
            f"no Chromium at {chromium}, so no PDF: install it with `apt-get install chromium`"
        )
    from playwright.sync_api import sync_playwright

    target = page.parent / PDF_NAME
    partial = page.parent / f".{PDF_NAME}.{uuid.uuid4().hex}.tmp"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS)
            context = browser.new_context(offline=True)
            context.route(re.compile(r"^(?!file:)"), lambda route: route.abort())
            tab = context.new_page()
            tab.goto(page.resolve().as_uri(), wait_until="load")
            tab.pdf(path=str(partial), prefer_css_page_size=True, print_background=True)
            browser.close()
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return target
