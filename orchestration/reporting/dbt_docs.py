"""dbt's own documentation of the models as one static page that opens offline.

``dbt docs generate --static`` reads the warehouse for its catalogue, so the night's dbt process
runs it right after the build, in the build's own target folder
(orchestration/transform/dbt_process.py).
The page is published from there only after the night's marts are published, so a failed night
leaves the page of the last good night as it was.
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

from orchestration.transform.dbt_process import DOCS_PAGE

PAGE_NAME = "index.html"


class DbtDocsError(Exception):
    """The night's dbt process wrote no docs page."""


def publish_dbt_docs(target: Path, out_dir: Path) -> Path:
    """Publish the static page the night's dbt process wrote in ``target`` into ``out_dir``."""
    written = target / DOCS_PAGE
    if not written.exists():
        raise DbtDocsError(
            f"no dbt docs page in {target}: `dbt docs generate` failed in the dbt step of this "
            "night (its log says why), or that step has not run since the warehouse was created"
        )
    out_dir.mkdir(parents=True, exist_ok=True)
    page = out_dir / PAGE_NAME
    partial = out_dir / f".{PAGE_NAME}.{uuid.uuid4().hex}.tmp"
    try:
        shutil.copyfile(written, partial)
        os.replace(partial, page)
    finally:
        partial.unlink(missing_ok=True)
    return page
