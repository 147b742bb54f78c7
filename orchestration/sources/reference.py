"""Lookups in the reference data (seeds/reference/): municipalities and indicators by code or name.

Exports name a municipality by code (``101``, ``0101``, ``101 København``) or by name in any
case and spacing, official or old (``Københavns Kommune``, ``Århus``); an indicator by its
barometer number (``1.2``) or its Danish or English name.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

_CODE_FIRST = re.compile(r"^0*(\d{1,3})(?:\s+\S.*)?$")


@dataclass(frozen=True)
class Indicator:
    code: str
    name_da: str
    unit: str
    main_population_group: str


def normalise_name(text: str) -> str:
    """Case, spacing and hyphens do not matter: ``Høje-Taastrup`` = ``høje  taastrup``."""
    return " ".join(text.replace("-", " ").lower().split())


class Reference:
    def __init__(self, municipalities: list[dict], indicators: list[dict]):
        self.municipality_names = {
            m["municipality_code"]: m["municipality_name"] for m in municipalities
        }
        self._municipality_by_name = {}
        for m in municipalities:
            for name in [m["municipality_name"], *filter(None, m.get("aliases", "").split("|"))]:
                self._municipality_by_name[normalise_name(name)] = m["municipality_code"]
        self.indicators = {
            i["indicator_code"]: Indicator(
                i["indicator_code"], i["indicator_name_da"], i["unit"], i["main_population_group"]
            )
            for i in indicators
        }
        self._indicator_by_name = {}
        for i in indicators:
            for name in (i["indicator_name_da"], i["indicator_name_en"]):
                self._indicator_by_name[normalise_name(name)] = i["indicator_code"]

    def municipality_code(self, text: str) -> str | None:
        """The 3-digit code for a code or name, or None when it names no municipality."""
        text = text.strip()
        match = _CODE_FIRST.match(text)
        if match:
            code = f"{int(match.group(1)):03d}"
            return code if code in self.municipality_names else None
        name = normalise_name(text)
        for candidate in _name_variants(name):
            if candidate in self._municipality_by_name:
                return self._municipality_by_name[candidate]
        return None

    def indicator(self, text: str) -> Indicator | None:
        text = text.strip()
        code = (
            text if text in self.indicators else self._indicator_by_name.get(normalise_name(text))
        )
        return self.indicators.get(code) if code else None


def _name_variants(name: str) -> list[str]:
    """``københavns kommune`` -> ``københavns``, ``københavn``: the genitive before Kommune."""
    variants = [name]
    for suffix in (" regionskommune", " kommune"):
        if name.endswith(suffix):
            stem = name.removesuffix(suffix)
            variants += [stem, stem.removesuffix("s")]
    return variants


def load_reference(reference_dir: Path) -> Reference:
    return Reference(
        _read_csv(reference_dir / "municipalities.csv"), _read_csv(reference_dir / "indicators.csv")
    )


def _read_csv(path: Path) -> list[dict]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))
