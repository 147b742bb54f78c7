"""The Data Docs pages' CSS, JavaScript and fonts, copied beside the pages so they open offline.

GE's page templates load Bootstrap, jQuery, bootstrap-table and Font Awesome from five CDNs and
a logo from S3 with a timestamp (GE's analytics). ``static/`` holds the same files at the
versions the templates name, with their licences (``static/README.md`` lists them).
``install`` copies them beside the pages; ``offline`` points a rendered page at the copies and
drops what no page uses: vega (no suite renders a graph), bootstrap-datepicker (no date
filter), the logo and a favicon GE never writes.
"""

from __future__ import annotations

import filecmp
import re
import shutil
from pathlib import Path

PACKAGED = Path(__file__).with_name("static")
FOLDER = "static"  # docs/quality/static/: relative to the pages, which sit beside it

# Each URL the templates load, and its copy under static/.
VENDORED = {
    "https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css": (
        "bootstrap/bootstrap.min.css"
    ),
    "https://stackpath.bootstrapcdn.com/bootstrap/4.3.1/js/bootstrap.min.js": (
        "bootstrap/bootstrap.min.js"
    ),
    "https://cdn.jsdelivr.net/npm/@forevolve/bootstrap-dark@1.1.0/dist/css/"
    "bootstrap-prefers-dark.css": "bootstrap-dark/bootstrap-prefers-dark.min.css",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.css": (
        "bootstrap-table/bootstrap-table.min.css"
    ),
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.js": (
        "bootstrap-table/bootstrap-table.min.js"
    ),
    # 1.19.0's stylesheet, byte for byte the one of 1.19.1.
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/"
    "bootstrap-table-filter-control.css": "bootstrap-table/bootstrap-table-filter-control.css",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/extensions/filter-control/"
    "bootstrap-table-filter-control.min.js": (
        "bootstrap-table/bootstrap-table-filter-control.min.js"
    ),
    "https://code.jquery.com/jquery-3.7.1.min.js": "jquery/jquery.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/popper.js/1.12.9/umd/popper.min.js": (
        "popper/popper.min.js"
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/font-awesome/6.6.0/css/all.min.css": (
        "fontawesome/css/all.min.css"
    ),
}

REWRITES = (
    (re.compile(r'<script src="https://cdn\.jsdelivr\.net/npm/vega[^"]*"></script>\n?'), ""),
    (re.compile(r"<(?:script|link)[^>]*bootstrap-datepicker[^>]*>(?:</script>)?\n?"), ""),
    (re.compile(r'<link rel="shortcut icon"[^>]*>\n?'), ""),
    (re.compile(r"<img[^>]*great-expectations-web-assets[^>]*>"), "Great Expectations"),
    # A file:// page is an origin of its own: an integrity check or CORS mode would refuse the
    # copies (which are the very bytes these hashes name; tests/test_quality_docs.py checks).
    (re.compile(r'\s+integrity="sha384-[^"]*" crossorigin="anonymous"'), ""),
    # GE's "Home" assumes its own site layout; ours is index.html beside the page.
    (re.compile(r'href="(?:\.\./)+index\.html"'), 'href="index.html"'),
)


def offline(page: str) -> str:
    """A rendered page that loads its CSS, JavaScript and fonts from ``static/`` beside it."""
    for url, copy in VENDORED.items():
        page = page.replace(url, f"{FOLDER}/{copy}")
    for pattern, replacement in REWRITES:
        page = pattern.sub(replacement, page)
    return page


def install(docs_dir: Path) -> None:
    """Copy the vendored files beside the pages: those missing or changed, so mostly none."""
    for source in PACKAGED.rglob("*"):
        target = docs_dir / FOLDER / source.relative_to(PACKAGED)
        if source.is_file() and not (target.exists() and filecmp.cmp(source, target)):
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)  # keeps the time, so the next comparison is a stat
