"""The report as an HTML page that opens offline: data and SVG charts inline, styles and the
language switch inline too, or shared beside the pages of every municipality.

Danish first, English one click away: every text is written in both languages (``bi``) and the
page's ``lang`` attribute decides which shows, so the switch needs no server and no reload.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

import jinja2
import pandas as pd
from markupsafe import Markup, escape

from orchestration.reporting import charts
from orchestration.reporting.data import ReportData
from orchestration.reporting.summary import summary

TEMPLATE_DIR = Path(__file__).parent
COPENHAGEN_TIME = ZoneInfo("Europe/Copenhagen")
STATUS_CLASSES = {
    "met": "good",
    "on_track": "good",
    "off_track": "bad",
    "missed": "bad",
    "no_target": "neutral",
    "insufficient_data": "neutral",
}
DEVELOPMENT_CLASSES = {"positive": "good", "negative": "bad", "unchanged": "neutral"}


def bi(da: str, en: str) -> Markup:
    """One text in both languages; CSS shows the one the page is set to."""
    if da == en:
        return escape(da)
    return Markup('<span lang="da">{}</span><span lang="en">{}</span>').format(da, en)


def number(value, unit: str | None) -> Markup:
    """Danish (decimal comma) and English renderings of a published number."""
    if value is None or pd.isna(value):
        return Markup('<span class="missing">–</span>')
    value = float(value)
    whole = unit in ("count", "days") and value.is_integer()
    text = f"{value:,.0f}" if whole else f"{value:,.1f}"
    danish = text.replace(",", "\0").replace(".", ",").replace("\0", ".")
    return bi(danish, text)


def cell(value, unit: str | None, suppressed=False, too_young=False) -> Markup:
    """A table cell's content: a suppressed value says so, it is never shown as 0 or blank."""
    if _true(suppressed):
        return Markup('<span class="suppressed" title="{}">{}</span>').format(
            "Undertrykt: for få personer / suppressed: too few persons",
            bi("undertrykt", "suppressed"),
        )
    if _true(too_young):
        return Markup('<span class="too-young">{}</span>').format(bi("for tidligt", "too early"))
    return number(value, unit)


def present(value) -> bool:
    return value is not None and not pd.isna(value)


def _true(flag) -> bool:
    return present(flag) and bool(flag)


class Labels:
    """The marts' code labels as bilingual text; an unknown code shows as itself."""

    def __init__(self, labels: dict[tuple[str, str], tuple[str, str]]):
        self._labels = labels

    def pair(self, dimension: str, code) -> tuple[str, str]:
        if code is None or pd.isna(code):
            return ("–", "–")
        return self._labels.get((dimension, str(code)), (str(code), str(code)))

    def __call__(self, dimension: str, code) -> Markup:
        return bi(*self.pair(dimension, code))


@dataclass(frozen=True)
class Assets:
    """Where the page finds its styles and script: inline (``href`` None) or a shared folder."""

    href: str | None = None  # e.g. "../assets/", relative to the page
    index: str | None = None  # the list of every municipality's page, relative to the page


ASSET_FILES = ("report.css", "report.js")


def asset_text(name: str) -> str:
    return (TEMPLATE_DIR / name).read_text(encoding="utf-8")


@cache
def environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATE_DIR),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render(data: ReportData, assets: Assets = Assets()) -> tuple[str, int]:
    """The page's HTML and the number of charts in it."""
    labels = Labels(data.labels)
    indicator_charts = []
    for indicator in data.indicators.itertuples():
        rows = data.series[data.series["indicator_code"] == indicator.indicator_code]
        card = data.scorecard[data.scorecard["indicator_code"] == indicator.indicator_code]
        if rows.empty or card.empty:
            continue
        lines = charts.indicator_series(rows, card.iloc[0], data.municipality_name)
        suppressed = set(rows.loc[rows["is_suppressed"], "year"])
        indicator_charts.append(
            _chart(
                f"chart-{indicator.indicator_code}",
                indicator.indicator_code,
                lines,
                indicator.unit,
                suppressed,
            )  # fmt: skip
            | {"indicator": indicator, "suppressed_years": year_ranges(sorted(suppressed))}
        )
    twin_charts = []
    outcome_labels = {code: pair for (dim, code), pair in data.labels.items() if dim == "outcome"}
    if not data.twins.empty:
        for code, rows in data.twins.groupby("indicator_code", sort=True):
            lines = charts.twin_series(rows, outcome_labels)
            twin_charts.append(
                _chart(f"twin-{code}", code, lines, "pct", set())
                | {
                    "indicator_code": code,
                    "name": rows["indicator_name_en"].iloc[0],
                    "indicator": _indicator(data, code),
                    "suppressed_years": "",
                }
            )
    published = local_time(data.published_at)
    html = (
        environment()
        .get_template("report.html.j2")
        .render(
            data=data,
            labels=labels,
            bi=bi,
            number=number,
            cell=cell,
            present=present,
            status_class=STATUS_CLASSES,
            development_class=DEVELOPMENT_CLASSES,
            message=summary(data),
            indicator_charts=indicator_charts,
            twin_charts=twin_charts,
            case_table=_case_table(data),
            case_breakdown=_case_breakdown(data),
            published=published,
            footer=_footer(data, published),
            assets=assets.href,
            index=assets.index,
            css=Markup(asset_text("report.css")),
            js=Markup(asset_text("report.js")),
        )
    )
    return html, len(indicator_charts) + len(twin_charts)


def _chart(chart_id: str, code: str, lines, unit: str, suppressed: set) -> dict:
    """A drawn chart and the table of its figures: the observed lines, one row per year."""
    drawing = charts.draw(lines)
    observed = [line for line in drawing.legend if line.markers]  # the municipality first
    years = sorted({year for line in observed for year, _ in line.points})
    values = {(line.key, year): value for line in observed for year, value in line.points}
    rows = [
        (
            year,
            [
                cell(
                    values.get((line.key, year)),
                    unit,
                    line.key == "municipality" and year in suppressed,
                )
                for line in observed
            ],
        )
        for year in years
    ]
    target = next((line for line in lines if line.key == "target"), None)
    return {
        "id": chart_id,
        "code": code,
        "drawing": drawing,
        "table": {"lines": observed, "rows": rows},
        "target": target,
    }


def _footer(data: ReportData, published: str) -> dict[str, str]:
    """The printed pages' footer, a CSS string inside a style element: escaped for CSS."""
    name = f"{data.municipality_name} ({data.municipality_code})"
    texts = {
        "da": f"Integrationsbarometer: {name} · data til og med {data.data_year} · "
        f"offentliggjort {published}",
        "en": f"Integration barometer: {name} · data up to {data.data_year} · "
        f"published {published}",
    }
    return {lang: Markup(re.sub(r'[\\"<>&]', _css_escape, text)) for lang, text in texts.items()}


def _css_escape(match: re.Match) -> str:
    return f"\\{ord(match.group(0)):x} "


def year_ranges(years: list[int]) -> str:
    """``2012–2015, 2018``: runs of consecutive years, as a reader would write them."""
    runs: list[list[int]] = []
    for year in sorted(years):
        if runs and year == runs[-1][-1] + 1:
            runs[-1].append(year)
        else:
            runs.append([year])
    return ", ".join(f"{r[0]}–{r[-1]}" if len(r) > 1 else str(r[0]) for r in runs)


def _indicator(data: ReportData, code: str):
    rows = data.indicators[data.indicators["indicator_code"] == code]
    return rows.iloc[0] if len(rows) else None


def local_time(moment: datetime) -> str:
    return moment.astimezone(COPENHAGEN_TIME).strftime("%Y-%m-%d %H:%M")


def _case_table(data: ReportData) -> dict | None:
    """Outcomes down, arrival cohorts across: the Københavnermodellen in one table."""
    if data.cases.empty:
        return None
    order = {code: i for i, code in enumerate(data.outcome_order)}
    outcomes = sorted(data.cases["outcome_code"].unique(), key=lambda c: order.get(c, len(order)))
    units = dict(zip(data.cases["outcome_code"], data.cases["unit"], strict=False))
    cells = {(r.arrival_year, r.outcome_code): r for r in data.cases.itertuples()}
    return {
        "outcomes": outcomes,
        "units": units,
        "cohorts": sorted(data.cases["arrival_year"].unique()),
        "cells": cells,
    }


def _case_breakdown(data: ReportData) -> dict | None:
    if data.case_breakdown.empty:
        return None
    programmes = [p for p in data.case_breakdown["programme"].unique() if p != "all"] + ["all"]
    cells = {(r.arrival_year, r.programme): r for r in data.case_breakdown.itertuples()}
    return {
        "programmes": programmes,
        "cohorts": sorted(data.case_breakdown["arrival_year"].unique()),
        "cells": cells,
    }
