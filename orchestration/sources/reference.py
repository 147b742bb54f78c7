"""Lookups in the reference data (seeds/reference/): municipalities, other areas, indicators and
origin groups, by code or name.

Exports name a municipality by code (``101``, ``0101``, ``101 København``) or by name in any
case and spacing, official or old (``Københavns Kommune``, ``Århus``); an area that is not a
municipality (``084 Region Hovedstaden``, ``Landsdel Fyn``, ``411 Christiansø``) likewise; an
indicator by its barometer number (``1.2``) or its Danish or English name; an origin group by
its label, StatBank's code or both (``1 Personer med dansk oprindelse``).
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
    comparison_population_group: str  # empty when the indicator has no comparison group

    @property
    def population_groups(self) -> tuple[str, ...]:
        """The groups the barometer publishes the indicator for."""
        return tuple(filter(None, (self.main_population_group, self.comparison_population_group)))


@dataclass(frozen=True)
class Area:
    """A StatBank area that is not a municipality: a region, a landsdel or Christiansø."""

    code: str
    name: str
    kind: str


@dataclass(frozen=True)
class OriginGroup:
    label: str
    population_group: str | None  # None: not a group the barometer publishes
    not_the_barometer_group_because: str


def normalise_name(text: str) -> str:
    """Case, spacing and hyphens do not matter: ``Høje-Taastrup`` = ``høje  taastrup``."""
    return " ".join(text.replace("-", " ").lower().split())


def _names(row: dict, name_column: str) -> list[str]:
    return [row[name_column], *filter(None, (row.get("aliases") or "").split("|"))]


class Reference:
    def __init__(
        self,
        municipalities: list[dict],
        indicators: list[dict],
        areas: list[dict],
        origin_groups: list[dict],
    ):
        self.municipality_names = {
            m["municipality_code"]: m["municipality_name"] for m in municipalities
        }
        self._municipality_by_name = {
            normalise_name(name): m["municipality_code"]
            for m in municipalities
            for name in _names(m, "municipality_name")
        }
        self.indicators = {
            i["indicator_code"]: Indicator(
                i["indicator_code"],
                i["indicator_name_da"],
                i["unit"],
                i["main_population_group"],
                i["comparison_population_group"],
            )  # fmt: skip
            for i in indicators
        }
        self._indicator_by_name = {}
        for i in indicators:
            for name in (i["indicator_name_da"], i["indicator_name_en"]):
                self._indicator_by_name[normalise_name(name)] = i["indicator_code"]
        # Area codes are compared as numbers: StatBank writes landsdel 1 as '01' or '1'.
        self._area_by_code = {
            int(a["area_code"]): Area(a["area_code"], a["area_name"], a["kind"]) for a in areas
        }
        self._area_by_name = {
            normalise_name(name): self._area_by_code[int(a["area_code"])]
            for a in areas
            for name in _names(a, "area_name")
        }
        self._origin_by_name, self._origin_by_code = {}, {}
        for o in origin_groups:
            group = OriginGroup(
                o["origin_label"], o["population_group"] or None,
                o["not_the_barometer_group_because"],
            )  # fmt: skip
            for name in _names(o, "origin_label"):
                self._origin_by_name[normalise_name(name)] = group
            for code in filter(None, o["statbank_codes"].split("|")):
                self._origin_by_code[code.lower()] = group

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

    def area(self, text: str) -> Area | None:
        """The non-municipal area a code or name stands for; ask only once no municipality does."""
        text = text.strip()
        match = _CODE_FIRST.match(text)
        if match:
            return self._area_by_code.get(int(match.group(1)))
        return self._area_by_name.get(normalise_name(text))

    def indicator(self, text: str) -> Indicator | None:
        text = text.strip()
        code = (
            text if text in self.indicators else self._indicator_by_name.get(normalise_name(text))
        )
        return self.indicators.get(code) if code else None

    def origin_group(self, text: str) -> OriginGroup | None:
        """The origin group of a label, a StatBank code, or a code and label (the label decides:
        codes differ between StatBank tables)."""
        name = normalise_name(text)
        if name in self._origin_by_name:
            return self._origin_by_name[name]
        code, _, label = name.partition(" ")
        if label:
            is_code = code in self._origin_by_code or code.isdigit()
            return self._origin_by_name.get(label) if is_code else None
        return self._origin_by_code.get(code)


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
        *(
            _read_csv(reference_dir / f"{name}.csv")
            for name in ("municipalities", "indicators", "areas", "origin_groups")
        )
    )


def _read_csv(path: Path) -> list[dict]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))
