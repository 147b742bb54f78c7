"""Great Expectations Data Docs of the night's validations, passed and failed.

Each suite's latest validation is rendered by GE's own renderers to ``<suite>.html``; a small
summary beside it (``<suite>.json``) lets ``index.html`` list every suite, failed first, with
the run that validated it. The pages load their CSS, JavaScript and fonts from ``static/``
beside them (``docs_static.py``), so they open offline. Written when the check runs, so a
failed night leaves its evidence and a suite that did not run tonight keeps its last page,
dated. The summary keeps the validation's fingerprint (``validation.fingerprint``): a passed
verdict on the same rows, suite and parameters holds again, and its page with it
(``earlier_pass``).
"""

from __future__ import annotations

import functools
import html
import json
import os
import uuid
from datetime import UTC, datetime
from pathlib import Path

from orchestration.quality import docs_static
from orchestration.quality.validation import SuiteResult

INDEX = "index.html"


def earlier_pass(docs_dir: Path, suite: str, fingerprint: str) -> dict | None:
    """The summary of the suite's latest validation, if it passed with this fingerprint."""
    path = docs_dir / f"{suite}.json"
    if not path.exists() or not (docs_dir / f"{suite}.html").exists():
        return None
    summary = json.loads(path.read_text(encoding="utf-8"))
    return summary if summary["success"] and summary.get("fingerprint") == fingerprint else None


def write_suite_page(docs_dir: Path, result: SuiteResult, run_id: str, fingerprint: str) -> Path:
    """Write the suite's page and its summary; returns the page. Suites are validated side by
    side (quality/validators.py), so the index and the static files are another step's:
    ``write_index``."""
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.render.renderer import ValidationResultsPageRenderer

    docs_dir.mkdir(parents=True, exist_ok=True)
    page = docs_dir / f"{result.suite}.html"
    validated_at = datetime.now(UTC)
    # The page's "Run Name" and "Run Time": the Dagster run that validated, not GE's __none__.
    result.validation.meta["run_id"] = RunIdentifier(run_name=run_id, run_time=validated_at)
    document = ValidationResultsPageRenderer().render(result.validation)
    _write(page, docs_static.offline(_page_view().render(document)))
    summary = {
        "suite": result.suite,
        "success": result.success,
        "rows": result.rows,
        "evaluated": result.evaluated,
        "failed": len(result.failed),
        "run_id": run_id,
        "validated_at": validated_at.isoformat(timespec="seconds"),
        "fingerprint": fingerprint,
    }
    _write(docs_dir / f"{result.suite}.json", json.dumps(summary, indent=2))
    return page


def write_index(docs_dir: Path) -> None:
    """The static files the pages load, and the index of every suite's latest validation."""
    docs_static.install(docs_dir)
    _write(docs_dir / INDEX, _index(docs_dir))


@functools.cache
def _page_view():
    """One view per process: its Jinja environment compiles GE's templates once, not per page."""
    from great_expectations.render.view import DefaultJinjaPageView

    return DefaultJinjaPageView()


def _index(docs_dir: Path) -> str:
    summaries = sorted(
        (json.loads(p.read_text(encoding="utf-8")) for p in docs_dir.glob("*.json")),
        key=lambda s: (s["success"], s["suite"]),
    )
    rows = "\n".join(
        "<tr class='{cls}'><td><a href='{page}'>{suite}</a></td><td>{verdict}</td>"
        "<td>{failed} / {evaluated}</td><td>{rows}</td><td>{at}</td><td>{run}</td></tr>".format(
            cls="passed" if s["success"] else "failed",
            page=html.escape(f"{s['suite']}.html"),
            suite=html.escape(s["suite"]),
            verdict="passed" if s["success"] else "FAILED",
            failed=s["failed"],
            evaluated=s["evaluated"],
            rows=s["rows"],
            at=html.escape(s["validated_at"]),
            run=html.escape(s["run_id"]),
        )
        for s in summaries
    )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Data quality: Great Expectations</title>
<style>
body {{ font: 15px/1.4 system-ui, sans-serif; margin: 24px; color: #1d1d1d; }}
table {{ border-collapse: collapse; }} th, td {{ padding: 4px 10px; border-bottom: 1px solid #ddd;
text-align: left; }} tr.failed td {{ background: #fbe6e4; }} tr.passed td:nth-child(2) {{
color: #2e8540; }}
</style></head><body>
<h1>Data quality: the latest validation of each suite</h1>
<p>Great Expectations suites of <code>expectations/</code>, run as blocking Dagster checks.
A suite that did not run in the latest night (its layer was not reached) keeps its last
validation: compare the dates. So does a suite whose rows, expectations and parameters were
the same as at a validation that passed: that verdict holds, and the night says so.</p>
<table><tr><th>suite</th><th>result</th><th>failed / expectations</th><th>rows</th>
<th>validated (UTC)</th><th>run</th></tr>
{rows}
</table></body></html>
"""


def _write(path: Path, text: str) -> None:
    """Replace atomically: a reader never sees half a page."""
    partial = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        partial.write_text(text, encoding="utf-8")
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
