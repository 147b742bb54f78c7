"""The page's first lines: what a manager needs, in a few sentences, Danish and English.

Counts only what the marts decided (development, status, the published rank) and what the
publication rows record; it judges nothing itself. "Mål" means two things in Danish: a goal of
the barometer (an area such as work) is a "mål", a number to reach is a "måltal".
"""

from __future__ import annotations

import pandas as pd

from orchestration.reporting.data import Publication, ReportData

Sentence = tuple[str, str]  # (Danish, English)

TARGET_GROUPS = [  # status, Danish, English: the order a reader wants them in
    ("met", "opfyldt", "met"),
    ("on_track", "på rette vej", "on track"),
    ("off_track", "ikke på rette vej", "off track"),
    ("missed", "ikke nået", "missed"),
]


def summary(data: ReportData) -> list[Sentence]:
    return [
        _development(data.scorecard),
        _goals(data.goals),
        _targets(data.scorecard),
        _peers(data),
        _changes(data.publication),
    ]


def _development(scorecard: pd.DataFrame) -> Sentence:
    judged = scorecard["development"].dropna()
    positive = int((judged == "positive").sum())
    negative = int((judged == "negative").sum())
    return (
        f"{positive} af {len(judged)} indikatorer har udviklet sig positivt siden basisåret "
        f"({negative} negativt, {len(judged) - positive - negative} uændret).",
        f"{positive} of {len(judged)} indicators developed positively since the baseline year "
        f"({negative} negatively, {len(judged) - positive - negative} unchanged).",
    )


def _goals(goals: pd.DataFrame) -> Sentence:
    positive = goals.loc[goals["development"] == "positive"]
    names_da = _join([str(n).lower() for n in positive["area_name_da"]], "og")
    names_en = _join([str(n).lower() for n in positive["area_name_en"]], "and")
    return (
        f"Barometeret vurderer udviklingen positiv for {len(positive)} af sine {len(goals)} mål"
        + (f" ({names_da})." if len(positive) else "."),
        f"The barometer judges development positive for {len(positive)} of its {len(goals)} goals"
        + (f" ({names_en})." if len(positive) else "."),
    )


def _targets(scorecard: pd.DataFrame) -> Sentence:
    with_target = scorecard[scorecard["target_value"].notna()]
    if with_target.empty:
        return (
            "Ingen indikator har et måltal for kommunen.",
            "No indicator has a target for the municipality.",
        )
    parts_da, parts_en = [], []
    for status, da, en in TARGET_GROUPS:
        rows = with_target[with_target["status"] == status]
        if len(rows):
            parts_da.append(f"{da}: {_indicators(rows, 'da')}")
            parts_en.append(f"{en}: {_indicators(rows, 'en')}")
    unjudged = len(with_target) - sum(
        (with_target["status"] == s).sum() for s, _, _ in TARGET_GROUPS
    )
    if unjudged:
        parts_da.append(f"for få data: {unjudged}")
        parts_en.append(f"insufficient data: {unjudged}")
    return (
        f"{len(with_target)} af {len(scorecard)} indikatorer har et måltal; "
        + "; ".join(parts_da)
        + ".",
        f"{len(with_target)} of {len(scorecard)} indicators have a target; "
        + "; ".join(parts_en)
        + ".",
    )


def _peers(data: ReportData) -> Sentence:
    card = data.scorecard
    name = data.municipality_name
    grouped = card[card["peer_group_rank"].notna()]
    if grouped.empty:
        ranked = card[card["rank_among_municipalities"].notna()]
        better = int(
            (ranked["rank_among_municipalities"] <= ranked["municipalities_ranked"] / 2).sum()
        )
        return (
            f"Kommunen hører ikke til en sammenligningsgruppe; blandt alle kommuner ligger {name} "
            f"i den bedste halvdel på {better} af {len(ranked)} indikatorer.",
            f"The municipality belongs to no peer group; among all municipalities {name} is in "
            f"the better half on {better} of {len(ranked)} indicators.",
        )
    better = int((grouped["peer_group_rank"] <= grouped["peer_group_ranked"] / 2).sum())
    best = grouped.sort_values(["peer_group_rank", "indicator_code"]).iloc[0]
    group_da, group_en = best["peer_group_name_da"], best["peer_group_name_en"]
    size = int(grouped["peer_group_ranked"].max())
    place = f"{int(best['peer_group_rank'])}"
    return (
        f"I sammenligningsgruppen {group_da} ({size} kommuner) ligger {name} i den bedste "
        f"halvdel på {better} af {len(grouped)} indikatorer; bedst placeret på "
        f"{best['indicator_code']} {best['indicator_name_da']} (nr. {place} af "
        f"{int(best['peer_group_ranked'])}).",
        f"In its peer group, {group_en} ({size} municipalities), {name} is in the better half on "
        f"{better} of {len(grouped)} indicators; its best place is on {best['indicator_code']} "
        f"{best['indicator_name_en']} (no. {place} of {int(best['peer_group_ranked'])}).",
    )


def _changes(publication: Publication) -> Sentence:
    previous = publication.previous
    if previous is None:
        return (
            "Første offentliggørelse: der er ingen tidligere at sammenligne med.",
            "First publication: there is no earlier one to compare with.",
        )
    when = previous.published_at.strftime("%Y-%m-%d")
    new_years = sorted(
        (year, code)
        for code, year in publication.data_years.items()
        if year > previous.data_years.get(code, 0)
    )
    before = {f["file"]: f["sha256"] for f in previous.source_files if f["kind"] == "barometer"}
    revised = sorted(
        f["file"]
        for f in publication.source_files
        if f["kind"] == "barometer" and before.get(f["file"], f["sha256"]) != f["sha256"]
    )
    da, en = [], []
    for year in sorted({y for y, _ in new_years}):
        codes = [c for y, c in new_years if y == year]
        da.append(f"nye tal for {year} for {_join(codes, 'og')}")
        en.append(f"new figures for {year} for {_join(codes, 'and')}")
    if revised:
        da.append(f"reviderede eksporter: {_join(revised, 'og')}")
        en.append(f"revised exports: {_join(revised, 'and')}")
    if publication.cases_as_of != previous.cases_as_of and publication.cases_as_of:
        da.append(f"sagsdata nu til og med {publication.cases_as_of}")
        en.append(f"case data now up to {publication.cases_as_of}")
    if not da:
        return (
            f"Ingen nye tal siden forrige offentliggørelse ({when}).",
            f"No new figures since the previous publication ({when}).",
        )
    return (
        f"Siden forrige offentliggørelse ({when}): {'; '.join(da)}.",
        f"Since the previous publication ({when}): {'; '.join(en)}.",
    )


def _indicators(rows: pd.DataFrame, language: str) -> str:
    names = [
        f"{r.indicator_code} {getattr(r, f'indicator_name_{language}')}" for r in rows.itertuples()
    ]
    return _join(names, "og" if language == "da" else "and")


def _join(items: list[str], word: str) -> str:
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {word} {items[-1]}"
