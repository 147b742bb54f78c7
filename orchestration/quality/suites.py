"""Expectation suites: Great Expectations JSON files in ``expectations/``, reviewed like code.

Each file is a GE suite (``name``, ``expectations``) whose ``meta`` says which warehouse table it
gates (``asset_key``) and, optionally, which query builds the batch (``batch_query``, default: the
whole table) and which columns identify a failing row in samples (``sample_columns``). Values
that belong to reference data (municipality codes, the indicator list) are written as
``{"$PARAMETER": "..."}`` and filled from ``seeds/reference/`` at validation time.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path


@dataclass(frozen=True)
class Suite:
    name: str
    asset_key: tuple[str, ...]
    description: str
    batch_query: str
    sample_columns: tuple[str, ...]  # what a failing row is shown with, beside the failing column
    definition: dict  # the GE suite as stored

    @property
    def table(self) -> str:
        return ".".join(self.asset_key)


def load_suite(path: Path, read_schema: str | None = None) -> Suite:
    """``read_schema``: read the gated table from this schema instead of its asset key's (the
    staged marts on PostgreSQL); only for suites that read the whole table."""
    definition = json.loads(path.read_text(encoding="utf-8"))
    meta = definition.get("meta", {})
    asset_key = tuple(meta["asset_key"])
    if read_schema and meta.get("batch_query"):
        raise ValueError(f"{path.name}: a batch_query cannot be read from {read_schema}")
    table = ".".join((read_schema, *asset_key[1:]) if read_schema else asset_key)
    return Suite(
        name=definition["name"],
        asset_key=asset_key,
        description=meta.get("description", ""),
        batch_query=meta.get("batch_query") or f"select * from {table}",
        sample_columns=tuple(meta.get("sample_columns", ())),
        definition=definition,
    )


def load_suites(
    expectations_dir: Path, prefix: str = "", read_schema: str | None = None
) -> list[Suite]:
    return [load_suite(p, read_schema) for p in sorted(expectations_dir.glob(f"{prefix}*.json"))]


def reference_parameters(reference_dir: Path, today: date | None = None) -> dict:
    """Suite parameters taken from the reference data, the one place these facts live."""
    municipalities = _read_csv(reference_dir / "municipalities.csv")
    indicators = _read_csv(reference_dir / "indicators.csv")
    programmes = _read_csv(reference_dir / "case_programmes.csv")
    return {
        "municipality_codes": sorted(row["municipality_code"] for row in municipalities),
        "municipality_count": len(municipalities),
        # The 98 municipalities without the country (kept apart in the municipal facts).
        "local_municipality_codes": sorted(
            row["municipality_code"] for row in municipalities if row["is_country"] != "true"
        ),
        "indicator_codes": sorted(row["indicator_code"] for row in indicators),
        "indicator_count": len(indicators),
        "area_count": len({row["area_code"] for row in indicators}),
        "max_year": (today or date.today()).year + 1,
        "case_programmes": sorted(row["programme"] for row in programmes),
    }


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))
