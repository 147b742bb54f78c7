"""Numbers as Danish (and English) exports write them, and the markers for a missing value."""

from __future__ import annotations

import re

# Markers the barometer and Danmarks Statistik use for a suppressed or unavailable cell.
SUPPRESSION_MARKERS = frozenset({"..", ".", "-", "x", ""})

_PATTERNS = {
    # decimal comma, optional thousands dots in groups of three: 58,4  1.234,5  -0,3
    ",": re.compile(r"^[+-]?(\d{1,3}(\.\d{3})+|\d+)(,\d+)?$"),
    # decimal point, optional thousands commas: 58.4  1,234.5
    ".": re.compile(r"^[+-]?(\d{1,3}(,\d{3})+|\d+)(\.\d+)?$"),
}


_SPACED_THOUSANDS = re.compile(r"^[+-]?\d{1,3}([ \u00a0]\d{3})+([.,]\d+)?$")


def is_suppression_marker(text: str) -> bool:
    return text.strip().lower() in SUPPRESSION_MARKERS


def parse_number(text: str, decimal_mark: str = ",") -> float:
    """``58,4`` -> 58.4, ``1.234,5`` -> 1234.5, `` 58,4 % `` -> 58.4 (with ``decimal_mark=","``).

    Raises ValueError for anything that is not unambiguously a number in that convention.
    """
    cleaned = text.strip().removesuffix("%").strip()
    if _SPACED_THOUSANDS.match(cleaned):  # 1 234,5 with a (non-breaking) space between groups
        cleaned = re.sub(r"[ \u00a0]", "", cleaned)
    if not _PATTERNS[decimal_mark].match(cleaned):
        raise ValueError(f"'{text.strip()}' is not a number")
    thousands = "." if decimal_mark == "," else ","
    return float(cleaned.replace(thousands, "").replace(decimal_mark, "."))
