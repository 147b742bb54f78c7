"""dbt's own documentation of the models as one static page that opens offline.

``dbt docs generate --static`` reads the warehouse for its catalogue, so it runs after the dbt
steps (DuckDB has one writer). It works in the nightly build's own target folder, whose partial
parse it reuses: the project's ``target/`` (the manifest the code location loads) is never
touched, and the published page is replaced only once dbt has succeeded.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from pathlib import Path

PAGE_NAME = "index.html"


class DbtDocsError(Exception):
    """dbt could not generate the docs; the message carries dbt's own last lines."""


def generate_dbt_docs(
    dbt_executable: Path, project_dir: Path, env: dict[str, str], out_dir: Path, target: Path
) -> Path:
    """The static page of ``dbt docs generate``, run in ``target``, published in ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    completed = subprocess.run(
        # --no-compile: the night's build has just compiled every node; the docs need the
        # descriptions, columns and lineage the parse gives, and the catalogue of the warehouse.
        [
            str(dbt_executable),
            *("docs", "generate", "--static", "--no-compile"),
            *("--target-path", str(target)),
        ],
        cwd=project_dir,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
    )
    if completed.returncode != 0:
        tail = "\n".join((completed.stdout + completed.stderr).strip().splitlines()[-10:])
        raise DbtDocsError(f"dbt docs generate failed (exit {completed.returncode}):\n{tail}")
    page = out_dir / PAGE_NAME
    partial = out_dir / f".{PAGE_NAME}.{uuid.uuid4().hex}.tmp"
    try:
        shutil.copyfile(target / "static_index.html", partial)
        os.replace(partial, page)
    finally:
        partial.unlink(missing_ok=True)
    return page
