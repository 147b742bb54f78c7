"""Proof, on the published case marts alone, that no suppressed value and no hidden citizen can
be derived by subtraction. Pure pandas and numpy: knows neither Dagster nor dbt.

An attacker sees only what is published. In ``fct_case_outcomes`` every margin ('all') of a
dimension equals the sum of the cells that differ from it only there, for every breakdown (sex,
programme, age band and their combinations), per arrival cohort. Outcomes of one base group rest
on the same citizens, so a base published by one of them is known for all of them. For each
cohort and base group this module writes every such equation over the bases, with the
suppressed ones as unknowns, and asks linear algebra which unknowns are determined: an unknown
is determined exactly when its unit vector lies in the row space of the equations. Shares add
up the same way through their numerators (share × base), on the same unknowns, so a base that
cannot be derived leaves its numerator hidden too. An equation without unknowns must balance:
otherwise the difference is a citizen hidden from every part.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

DIMENSIONS = ("programme", "sex", "age_band")
MARGIN = "all"


@dataclass
class DisclosureReport:
    findings: list[str] = field(default_factory=list)
    cells: int = 0  # published and suppressed cells examined (per base group)
    suppressed_cells: int = 0
    equations: int = 0

    @property
    def safe(self) -> bool:
        return not self.findings

    def add(self, finding: str) -> None:
        self.findings.append(finding)


def find_disclosures(outcomes: pd.DataFrame, twins: pd.DataFrame | None = None) -> DisclosureReport:
    """Every way a suppressed base, or a citizen missing from all parts, can be derived.

    ``outcomes``: the rows of ``fct_case_outcomes``. ``twins``: the rows of
    ``fct_local_vs_national``, which must publish no local value the outcomes keep back.
    """
    report = DisclosureReport()
    old_enough = outcomes[~outcomes["is_cohort_too_young"].astype(bool)]
    for (year, group), rows in old_enough.groupby(["arrival_year", "base_group"], sort=True):
        _check_group(int(year), str(group), rows, report)
    if twins is not None:
        _check_twins(outcomes, twins, report)
    return report


def _check_group(year: int, group: str, rows: pd.DataFrame, report: DisclosureReport) -> None:
    where = f"{year} {group}"
    known: dict[tuple, int] = {}
    suppressed_in: dict[tuple, set[str]] = defaultdict(set)
    for row in rows.itertuples(index=False):
        cell = tuple(getattr(row, d) for d in DIMENSIONS)
        if row.is_suppressed:
            suppressed_in[cell].add(row.outcome_code)
            continue
        base = int(row.base_citizens)
        if known.setdefault(cell, base) != base:
            report.add(f"{where} {_name(cell)}: its outcomes publish different bases")
    for cell, codes in suppressed_in.items():
        if cell in known:
            report.add(
                f"{where} {_name(cell)}: suppressed in {', '.join(sorted(codes))} but its base "
                f"({known[cell]}) is published by another outcome of the group"
            )
    unknowns = sorted(set(suppressed_in) - set(known))
    cells = set(known) | set(suppressed_in)
    report.cells += len(cells)
    report.suppressed_cells += len(unknowns)

    position = {cell: i for i, cell in enumerate(unknowns)}
    equations = []
    for margin, parts in _equations(cells):
        report.equations += 1
        coefficients = np.zeros(len(unknowns))
        constant = 0
        for cell, sign in [(margin, 1), *((part, -1) for part in parts)]:
            if cell in position:
                coefficients[position[cell]] += sign
            else:
                constant += sign * known[cell]
        if coefficients.any():
            equations.append(coefficients)
        elif constant != 0:
            report.add(
                f"{where} {_name(margin)}: the total is {known[margin]} but its published parts "
                f"add up to {known[margin] - constant}: {abs(constant)} citizen(s) in no part"
            )
    for cell in _determined(np.array(equations), len(unknowns), unknowns):
        report.add(f"{where} {_name(cell)}: the suppressed base follows from the published cells")


def _equations(cells: set[tuple]):
    """Each margin with the cells that differ from it only in that dimension, and are present."""
    for d in range(len(DIMENSIONS)):
        children = defaultdict(list)
        for cell in cells:
            if cell[d] != MARGIN:
                children[cell[:d] + (MARGIN,) + cell[d + 1 :]].append(cell)
        for margin, parts in children.items():
            if margin in cells:
                yield margin, sorted(parts)


def _determined(matrix: np.ndarray, size: int, unknowns: list[tuple]) -> list[tuple]:
    """The unknowns whose unit vector lies in the row space of ``matrix`` (0/±1 entries)."""
    if size == 0 or matrix.size == 0:
        return []
    _, singular, right = np.linalg.svd(matrix)
    rank = int((singular > 1e-9 * max(matrix.shape)).sum())
    null_space = right[rank:]  # the directions the equations leave free
    free = np.linalg.norm(null_space, axis=0) if len(null_space) else np.zeros(size)
    return [cell for cell, norm in zip(unknowns, free, strict=True) if norm < 1e-9]


def _check_twins(outcomes: pd.DataFrame, twins: pd.DataFrame, report: DisclosureReport) -> None:
    totals = outcomes[
        (outcomes["programme"] == MARGIN)
        & (outcomes["sex"] == MARGIN)
        & (outcomes["age_band"] == MARGIN)
    ].set_index(["outcome_code", "arrival_year"])
    for row in twins.itertuples(index=False):
        if pd.isna(row.local_value):
            continue
        key = (row.local_outcome_code, row.arrival_year)
        if key not in totals.index or bool(totals.loc[key, "is_suppressed"]):
            report.add(
                f"fct_local_vs_national {row.year} {row.local_outcome_code}: publishes the "
                f"{row.arrival_year} cohort's value, which fct_case_outcomes does not"
            )
        elif totals.loc[key, "value"] != row.local_value:
            report.add(
                f"fct_local_vs_national {row.year} {row.local_outcome_code}: its value differs "
                "from the published outcome"
            )


def _name(cell: tuple) -> str:
    return "(" + ", ".join(f"{d}={v}" for d, v in zip(DIMENSIONS, cell, strict=True)) + ")"
