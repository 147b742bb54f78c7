"""The report's charts, drawn once at build time as inline SVG (Vega-Lite through vl-convert).

A page then carries no charting library: it is light, opens at once and prints as it shows.
The SVG holds only lines and numbered axes; every word (the legend, the unit) is HTML beside it,
in both languages. Axis numbers are drawn in Danish, and a second, English drawing is kept only
when the numbers read differently (a decimal comma, a thousands dot).
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass, field

import pandas as pd
import vl_convert
from markupsafe import Markup

# Københavns Kommune's blue for the municipality; the rest recede, each line 3:1 against white.
COLOURS = {
    "municipality": "#0f4c81",
    "country": "#6b6b6b",
    "peers": "#a85300",
    "target": "#1e6b30",
    "projection": "#0f4c81",
    "local": ["#7b3294", "#b3261e", "#00796b"],
}
DASHES = {"projection": [2, 3], "target": [6, 4]}
# How far ahead a trend is drawn when it never reaches the target (or there is none).
PROJECTION_YEARS = 5
PROJECTION_LIMIT = 12
WIDTH, HEIGHT = 440, 220
SEPARATOR = re.compile(r"<text[^>]*>[^<]*[.,][^<]*</text>")


@dataclass
class Series:
    key: str
    colour: str
    da: str
    en: str
    dash: list[int] | None = None
    markers: bool = True
    points: list[tuple[float, float | None]] = field(default_factory=list)


@dataclass(frozen=True)
class Chart:
    svg_da: Markup
    svg_en: Markup | None  # None: the Danish drawing reads the same in English
    legend: list[Series]


def indicator_series(
    series: pd.DataFrame, scorecard: pd.Series, municipality_name: str
) -> list[Series]:
    """The municipality, the country and the peer group over the years, with target and trend;
    drawn from the back to the front, so the municipality's line stays on top."""
    years = series["year"].tolist()
    lines = []
    if series["peer_group_average"].notna().any():
        lines.append(
            Series(
                "peers",
                COLOURS["peers"],
                f"{scorecard['peer_group_name_da']} (gennemsnit)",
                f"{scorecard['peer_group_name_en']} (average)",
                points=_points(years, series["peer_group_average"]),
            )
        )
    lines.append(
        Series(
            "country",
            COLOURS["country"],
            "Hele landet",
            "Whole country",
            points=_points(years, series["national_value"]),
        )
    )
    lines.append(
        Series(
            "municipality",
            COLOURS["municipality"],
            municipality_name,
            municipality_name,
            points=_points(years, series["value"]),
        )
    )
    projection = _projection(scorecard)
    if projection is not None:
        lines.append(
            Series(
                "projection",
                COLOURS["projection"],
                "Fremskrivning (tendens over 5 år)",
                "Projection (5-year trend)",
                dash=DASHES["projection"],
                markers=False,
                points=list(zip(*projection, strict=True)),
            )
        )
    if _present(scorecard["target_value"]):
        target, target_year = float(scorecard["target_value"]), int(scorecard["target_year"])
        end = max(target_year, *(projection[0] if projection else years))
        lines.append(
            Series(
                "target",
                COLOURS["target"],
                f"Måltal: {_number(target, ',')} i {target_year}",
                f"Target: {_number(target, '.')} by {target_year}",
                dash=DASHES["target"],
                markers=False,
                points=[(min(years), target), (end, target), (target_year, target)],
            )
        )
    return lines


def twin_series(twins: pd.DataFrame, outcome_labels: dict[str, tuple[str, str]]) -> list[Series]:
    """Copenhagen's own case outcomes beside the barometer indicator they are the twin of."""
    lines = []
    for colour, (outcome, rows) in zip(
        COLOURS["local"], twins.groupby("local_outcome_code", sort=True), strict=False
    ):
        da, en = outcome_labels.get(outcome, (outcome, outcome))
        lines.append(
            Series(
                f"local-{outcome}",
                colour,
                f"Københavnermodellen: {da.lower()}",
                f"Copenhagen model: {en}",
                points=_points(rows["year"], rows["local_value"]),
            )
        )
    by_year = twins.drop_duplicates("year").sort_values("year")
    lines.append(
        Series(
            "municipality",
            COLOURS["municipality"],
            "København (barometeret)",
            "Copenhagen (barometer)",
            points=_points(by_year["year"], by_year["copenhagen_barometer_value"]),
        )
    )
    lines.append(
        Series(
            "country",
            COLOURS["country"],
            "Hele landet (barometeret)",
            "Whole country (barometer)",
            points=_points(by_year["year"], by_year["national_barometer_value"]),
        )
    )
    return lines


def draw(lines: list[Series]) -> Chart:
    spec = _spec(lines)
    danish = _svg(spec, "da-DK")
    english = _svg(spec, "en-US") if SEPARATOR.search(danish) else None
    # Drawn back to front; the legend reads front to back, the municipality first.
    legend = sorted(lines, key=lambda s: s.key != "municipality")
    return Chart(svg_da=danish, svg_en=english, legend=legend)


def _spec(lines: list[Series]) -> dict:
    rows = [
        {"series": line.key, "order": order, "year": year, "value": value}
        for order, line in enumerate(lines)
        for year, value in (line.points[:2] if line.key == "target" else line.points)
    ]
    marked = [
        {"series": line.key, "year": year, "value": value}
        for line in lines
        if line.markers
        for year, value in line.points
        if value is not None
    ]
    stars = [
        {"series": "target", "year": year, "value": value}
        for line in lines
        if line.key == "target"
        for year, value in line.points[2:]
    ]
    colour = {
        "field": "series",
        "type": "nominal",
        "legend": None,
        "scale": {"domain": [s.key for s in lines], "range": [s.colour for s in lines]},
    }
    x = {
        "field": "year",
        "type": "quantitative",
        "title": None,
        "scale": {"zero": False, "nice": False},
        "axis": {"format": "d", "tickMinStep": 1, "labelFlush": True},
    }
    y = {"field": "value", "type": "quantitative", "title": None, "scale": {"zero": True}}
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "width": WIDTH,
        "height": HEIGHT,
        "background": None,
        "config": {
            "aria": False,  # the page gives the chart its name and its data as a table
            "view": {"stroke": None},
            "axis": {"labelFontSize": 12, "labelColor": "#333", "gridColor": "#e3e7ec"},
        },
        "layer": [
            {
                "data": {"values": rows},
                # A suppressed year (null) breaks the line: never a line through zero.
                "mark": {"type": "line", "strokeWidth": 2.5, "invalid": "break-paths-show-domains"},
                "encoding": {
                    "x": x,
                    "y": y,
                    "color": colour,
                    "order": {"field": "order"},
                    "detail": {"field": "series"},
                    "strokeDash": {
                        "field": "series",
                        "type": "nominal",
                        "legend": None,
                        "scale": {
                            "domain": [s.key for s in lines],
                            "range": [s.dash or [1, 0] for s in lines],
                        },
                    },
                },
            },
            {
                "data": {"values": marked},
                "mark": {"type": "circle", "size": 28, "opacity": 1},
                "encoding": {"x": x, "y": y, "color": colour},
            },
            {
                "data": {"values": stars},
                "mark": {"type": "point", "shape": "diamond", "size": 110, "filled": True},
                "encoding": {"x": x, "y": y, "color": colour},
            },
        ],
    }


def _svg(spec: dict, locale: str) -> Markup:
    # No base URL is allowed: the data is inline, and a chart must never reach the network.
    svg = vl_convert.vega_to_svg(_vega(spec), allowed_base_urls=[], format_locale=locale)
    # Scaled by the page (the viewBox keeps the proportions), hidden from screen readers, which
    # read the chart's caption and its table instead.
    return Markup(
        re.sub(
            r'^<svg([^>]*?) width="[\d.]+" height="[\d.]+"',
            r'<svg\1 aria-hidden="true" focusable="false"',
            svg,
            count=1,
        )
    )


def _vega(spec: dict) -> dict:
    """The Vega of a Vega-Lite ``spec``, compiled once per shape of chart (the spec without its
    rows: the lines a chart has), then given each layer's rows. Compiling is about half of a
    drawing, and the 98 pages of ``report --all`` draw some 1,300 charts of a few shapes."""
    rows = {f"layer_{i}": layer["data"]["values"] for i, layer in enumerate(spec["layer"])}
    shape = {**spec, "layer": [{**layer, "data": {"name": name}} for name, layer in
                               zip(rows, spec["layer"], strict=True)]}  # fmt: skip
    vega = _compiled(json.dumps(shape, sort_keys=True))
    data = [{**d, "values": rows[d["name"]]} if d["name"] in rows else d for d in vega["data"]]
    return {**vega, "data": data}


@functools.lru_cache(maxsize=256)
def _compiled(shape: str) -> dict:
    return vl_convert.vegalite_to_vega(json.loads(shape))


def _points(years, values) -> list[tuple[float, float | None]]:
    return [
        (int(year), None if not _present(value) else float(value))
        for year, value in zip(years, values, strict=True)
    ]


def _projection(scorecard: pd.Series) -> tuple[list[float], list[float]] | None:
    """The latest value carried forward at the mart's 5-year trend, up to the year it reaches
    the target (or a few years, when it never does): a straight dotted line. None when the
    target is met already or there is no trend."""
    if scorecard["status"] == "met" or not (
        _present(scorecard["trend_per_year"]) and _present(scorecard["value"])
    ):
        return None
    start, value = int(scorecard["year"]), float(scorecard["value"])
    slope = float(scorecard["trend_per_year"])
    horizon = start + PROJECTION_YEARS
    for candidate in (scorecard["projected_year_reaching_target"], scorecard["target_year"]):
        if _present(candidate):
            horizon = max(horizon, int(candidate))
    horizon = min(horizon, start + PROJECTION_LIMIT)
    end = value + slope * (horizon - start)
    if scorecard["unit"] != "pp" and end < 0:
        # A share or a count cannot fall below zero: the line stops where it gets there.
        horizon, end = start + value / -slope, 0.0
    return [start, horizon], [value, end]


def _present(value) -> bool:
    return value is not None and not pd.isna(value)


def _number(value: float, decimal: str) -> str:
    return f"{value:g}".replace(".", decimal)
