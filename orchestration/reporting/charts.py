"""The report's charts as Plotly figures: every trace carries its Danish and English name.

``meta`` holds both names, so the page's language switch renames traces and axes in the browser
(``page.py``); the figure itself starts in Danish.
"""

from __future__ import annotations

import math

import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio

# Københavns Kommune's blue for the municipality; the rest recede.
COLOURS = {
    "municipality": "#0f4c81",
    "country": "#7a7a7a",
    "peers": "#e08a1e",
    "target": "#2e8540",
    "projection": "#0f4c81",
    "local": ["#8e44ad", "#c0392b", "#16a085"],
}
# How far ahead a trend is drawn when it never reaches the target (or there is none).
PROJECTION_YEARS = 5
PROJECTION_LIMIT = 12
PLOT_CONFIG = {"displaylogo": False, "responsive": True, "modeBarButtonsToRemove": ["lasso2d"]}
DANISH_SEPARATORS = ",."  # decimal comma, thousands dot
ENGLISH_SEPARATORS = ".,"


def _named(trace: go.Scatter, da: str, en: str) -> go.Scatter:
    trace.name = da
    trace.meta = {"da": da, "en": en}
    return trace


def _line(x, y, colour: str, *, dash: str = "solid", markers: bool = True) -> go.Scatter:
    return go.Scatter(
        x=list(x),
        y=[None if v is None or (isinstance(v, float) and math.isnan(v)) else v for v in y],
        mode="lines+markers" if markers else "lines",
        line={"color": colour, "dash": dash, "width": 2.5 if dash == "solid" else 2},
        marker={"size": 5},
        connectgaps=False,  # a suppressed year stays a gap, never a line through zero
        hovertemplate="%{x}: %{y}<extra>%{fullData.name}</extra>",
    )


def _layout(figure: go.Figure, unit: tuple[str, str]) -> go.Figure:
    figure.update_layout(
        template="plotly_white",
        height=330,
        margin={"l": 50, "r": 10, "t": 10, "b": 10},
        legend={"orientation": "h", "yanchor": "top", "y": -0.12, "x": 0},
        separators=DANISH_SEPARATORS,
        meta={"yaxis": {"da": unit[0], "en": unit[1]}},
        yaxis={"title": {"text": unit[0]}, "rangemode": "tozero"},
        xaxis={"tickformat": "d", "dtick": 2},
        hovermode="closest",
    )
    return figure


def indicator_figure(
    series: pd.DataFrame,
    scorecard: pd.Series,
    municipality_name: str,
    unit: tuple[str, str],
) -> go.Figure:
    """The municipality, the country and the peer group over the years, with target and trend."""
    figure = go.Figure()
    years = series["year"].tolist()
    # Drawn from the back to the front: the peer group, the country, then the municipality,
    # so lines that run close by stay visible; legendrank keeps the municipality first.
    if series["peer_group_average"].notna().any():
        figure.add_trace(
            _named(
                _line(years, series["peer_group_average"], COLOURS["peers"]),
                f"{scorecard['peer_group_name_da']} (gennemsnit)",
                f"{scorecard['peer_group_name_en']} (average)",
            )
        )
    figure.add_trace(
        _named(
            _line(years, series["national_value"], COLOURS["country"]),
            "Hele landet",
            "Whole country",
        )
    )
    figure.add_trace(
        _named(
            _line(years, series["value"], COLOURS["municipality"]),
            municipality_name,
            municipality_name,
        )
    )
    figure.data[-1].legendrank = 1
    projection = _projection(scorecard)
    if projection is not None:
        figure.add_trace(
            _named(
                _line(*projection, COLOURS["projection"], dash="dot", markers=False),
                "Fremskrivning (tendens over 5 år)",
                "Projection (5-year trend)",
            )
        )
    if _present(scorecard["target_value"]):
        target, target_year = float(scorecard["target_value"]), int(scorecard["target_year"])
        end = max(target_year, *(projection[0] if projection else years))
        figure.add_trace(
            _named(
                go.Scatter(
                    x=[min(years), end],
                    y=[target, target],
                    mode="lines",
                    line={"color": COLOURS["target"], "dash": "dash", "width": 1.5},
                    hoverinfo="skip",
                ),
                f"Mål: {_number(target, ',')} i {target_year}",
                f"Target: {_number(target, '.')} by {target_year}",
            )
        )
        figure.add_trace(
            go.Scatter(
                x=[target_year],
                y=[target],
                mode="markers",
                marker={"color": COLOURS["target"], "size": 11, "symbol": "star"},
                showlegend=False,
                hovertemplate="%{x}: %{y}<extra></extra>",
            )
        )
    return _layout(figure, unit)


def _projection(scorecard: pd.Series) -> tuple[list[int], list[float]] | None:
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


def twin_figure(
    twins: pd.DataFrame, outcome_labels: dict[str, tuple[str, str]], unit: tuple[str, str]
) -> go.Figure:
    """Copenhagen's own case outcomes beside the barometer indicator they are the twin of."""
    figure = go.Figure()
    for colour, (outcome, rows) in zip(
        COLOURS["local"], twins.groupby("local_outcome_code", sort=True), strict=False
    ):
        da, en = outcome_labels.get(outcome, (outcome, outcome))
        figure.add_trace(
            _named(
                _line(rows["year"], rows["local_value"], colour),
                f"Københavnermodellen: {da.lower()}",
                f"Copenhagen model: {en}",
            )
        )
    by_year = twins.drop_duplicates("year").sort_values("year")
    figure.add_trace(
        _named(
            _line(by_year["year"], by_year["copenhagen_barometer_value"], COLOURS["municipality"]),
            "København (barometeret)",
            "Copenhagen (barometer)",
        )
    )
    figure.add_trace(
        _named(
            _line(by_year["year"], by_year["national_barometer_value"], COLOURS["country"]),
            "Hele landet (barometeret)",
            "Whole country (barometer)",
        )
    )
    return _layout(figure, unit)


def figure_html(figure: go.Figure, div_id: str) -> str:
    """The chart's div and its Plotly.newPlot call; plotly.js itself is inlined once per page."""
    return pio.to_html(
        figure, full_html=False, include_plotlyjs=False, div_id=div_id, config=PLOT_CONFIG
    )


def _present(value) -> bool:
    return value is not None and not pd.isna(value)


def _number(value: float, decimal: str) -> str:
    text = f"{value:g}"
    return text.replace(".", decimal)
