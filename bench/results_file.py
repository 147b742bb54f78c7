"""The benchmarks' shared way of writing bench/RESULTS.md: each script owns one section between
its own markers and replaces only that, so hand-written notes around it are kept."""

from __future__ import annotations

from pathlib import Path


def markers(script: str) -> tuple[str, str]:
    return f"<!-- {script}: begin -->", f"<!-- {script}: end -->"


def write_section(results: Path, script: str, body: str) -> None:
    """Replace ``script``'s section of ``results`` with ``body``, or append it the first time."""
    start, end = markers(script)
    section = f"{start}\n{body}\n{end}"
    previous = results.read_text() if results.exists() else ""
    if start in previous:
        text = (
            previous[: previous.index(start)] + section + previous[previous.index(end) + len(end) :]
        )
    else:
        text = previous.rstrip() + "\n\n" + section + "\n"
    results.write_text(text)
