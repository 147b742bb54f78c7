"""What the report shows, read from the published ``serving.duckdb`` only, read-only.

Every figure comes from a mart as published: the report computes no status, rank or verdict of
its own (those live in dbt), it only picks the municipality's rows and puts them side by side.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pandas as pd

# The Københavnermodellen case data is Copenhagen's own: no other municipality has outcomes.
CASE_DATA_MUNICIPALITY = "101"
CASE_BREAKDOWN_OUTCOME = "citizens"  # per programme: where small cells really get suppressed


class ReportError(Exception):
    """The report cannot be built from this file; the message says what to do."""


@dataclass(frozen=True)
class ReportData:
    municipality_code: str
    municipality_name: str
    published_at: datetime  # when the refresh that published the file did so
    publication: Publication
    data_year: int  # the latest barometer year in the marts
    cases_as_of: object | None  # the latest case extract night, a date
    indicators: pd.DataFrame  # dim_indicator, in the barometer's order
    scorecard: pd.DataFrame  # fct_scorecard, one row per indicator, with its peer group place
    goals: pd.DataFrame  # fct_goal_development, the latest year per goal
    series: pd.DataFrame  # indicator x year: value, suppressed, national, peer group average
    cases: pd.DataFrame  # fct_case_outcomes totals per arrival cohort and outcome
    case_breakdown: pd.DataFrame  # citizens per arrival cohort and programme
    twins: pd.DataFrame  # fct_local_vs_national
    labels: dict[tuple[str, str], tuple[str, str]]  # (dimension, code) -> (Danish, English)
    outcome_order: list[str]  # dim_outcome's order: cohort size first, then the milestones


def normalise_code(code: str) -> str:
    """``751``, ``0751`` and `` 101 `` name municipalities the way the marts do (3 digits)."""
    digits = code.strip()
    if not digits.isdigit() or len(digits.lstrip("0")) > 3:
        raise ReportError(f"{code!r} is not a municipality code (3 digits, like 101 or 751)")
    return digits.lstrip("0").rjust(3, "0")


@dataclass(frozen=True)
class Publication:
    """The newest row of ``marts.publication`` and, when there is one, the row before it."""

    published_at: datetime  # when the refresh that published the file did so, in UTC
    cases_as_of: object | None  # the latest case extract night, a date
    data_years: dict[str, int]  # indicator -> latest barometer year
    source_files: list[dict]
    previous: Publication | None = None


@dataclass(frozen=True)
class Published:
    """Everything the reports show, for every municipality, from one read of the serving file."""

    municipalities: pd.DataFrame  # municipality_code, municipality_name (not the country)
    publication: Publication
    data_year: int
    indicators: pd.DataFrame
    scorecard: pd.DataFrame
    peer_places: pd.DataFrame
    goals: pd.DataFrame
    series: pd.DataFrame
    cases: pd.DataFrame
    case_breakdown: pd.DataFrame
    twins: pd.DataFrame
    labels: dict[tuple[str, str], tuple[str, str]]
    outcome_order: list[str]


def load_report_data(serving_path: Path, municipality: str) -> ReportData:
    return report_data(read_published(serving_path), municipality)


def read_published(serving_path: Path) -> Published:
    if not serving_path.is_file():
        raise ReportError(
            f"{serving_path} does not exist: run `barometer refresh` (or `make refresh`) first"
        )
    # Read-only: the serving file may be open in BI tools, and is never written in place.
    with duckdb.connect(str(serving_path), read_only=True) as con:
        return Published(
            municipalities=_frame(con, _MUNICIPALITIES),
            publication=_publication(con, serving_path),
            data_year=con.execute("select max(year) from marts.fct_target_gap").fetchone()[0],
            indicators=_frame(con, _INDICATORS),
            scorecard=_frame(con, _SCORECARD),
            peer_places=_frame(con, _PEER_PLACES),
            goals=_frame(con, _GOALS),
            series=_frame(con, _SERIES),
            cases=_frame(con, _CASES),
            case_breakdown=_frame(con, _CASE_BREAKDOWN, [CASE_BREAKDOWN_OUTCOME]),
            twins=_frame(con, _TWINS),
            labels=_labels(con),
            outcome_order=[
                outcome
                for (outcome,) in con.execute(
                    "select outcome_code from marts.dim_outcome order by sort_order"
                ).fetchall()
            ],
        )


def report_data(published: Published, municipality: str) -> ReportData:
    """One municipality's rows of what was read."""
    code = normalise_code(municipality)
    names = published.municipalities
    name = names.loc[names["municipality_code"] == code, "municipality_name"]
    if name.empty:
        raise ReportError(
            f"municipality {code} is not among the published municipalities "
            "(marts.dim_municipality); 000, the whole country, has no report of its own"
        )
    has_cases = code == CASE_DATA_MUNICIPALITY

    def own(frame: pd.DataFrame) -> pd.DataFrame:
        return frame[frame["municipality_code"] == code].reset_index(drop=True)

    return ReportData(
        municipality_code=code,
        municipality_name=name.iloc[0],
        published_at=published.publication.published_at,
        publication=published.publication,
        data_year=published.data_year,
        cases_as_of=published.publication.cases_as_of,
        indicators=published.indicators,
        scorecard=own(published.scorecard).merge(
            own(published.peer_places).drop(columns="municipality_code"),
            on="indicator_code",
            how="left",
        ),
        goals=own(published.goals),
        series=own(published.series),
        cases=published.cases if has_cases else _empty(),
        case_breakdown=published.case_breakdown if has_cases else _empty(),
        twins=published.twins if has_cases else _empty(),
        labels=published.labels,
        outcome_order=published.outcome_order,
    )


def _publication(con: duckdb.DuckDBPyConnection, serving_path: Path) -> Publication:
    """When the file was published and from what: its two newest publication rows, or, in a
    file published before that table existed, the file itself."""
    has_table = con.execute(
        "select count(*) from information_schema.tables "
        "where table_schema = 'marts' and table_name = 'publication'"
    ).fetchone()[0]
    if not has_table:
        night = con.execute("select max(as_of_date) from marts.fct_case_outcomes").fetchone()[0]
        published_at = datetime.fromtimestamp(serving_path.stat().st_mtime, tz=UTC)
        return Publication(published_at, night, {}, [])
    rows = [
        Publication(
            published_at=published_at.replace(tzinfo=UTC),  # stored in UTC, without a zone
            cases_as_of=night,
            data_years=json.loads(years or "{}"),
            source_files=json.loads(files or "[]"),
        )
        for published_at, night, years, files in con.execute(_PUBLICATIONS).fetchall()
    ]
    return replace(rows[0], previous=rows[1] if len(rows) > 1 else None)


def _frame(con: duckdb.DuckDBPyConnection, sql: str, parameters=None) -> pd.DataFrame:
    return con.execute(sql, parameters or []).df()


def _empty() -> pd.DataFrame:
    return pd.DataFrame()


def _labels(con: duckdb.DuckDBPyConnection) -> dict[tuple[str, str], tuple[str, str]]:
    """Danish and English names of every code the marts use (status, development, outcome…)."""
    rows = con.execute(
        " union all ".join(
            f"select '{dimension}', {key}, label_da, label_en from marts.dim_{dimension}"
            for dimension, key in _LABEL_DIMENSIONS
        )
    ).fetchall()
    return {(dimension, code): (da, en) for dimension, code, da, en in rows}


# Label dimensions (dbt's label_dimension macro) and the column that holds their code.
_LABEL_DIMENSIONS = [
    ("status", "status"),
    ("development", "development"),
    ("outcome", "outcome_code"),
    ("programme", "programme"),
    ("unit", "unit"),
    ("target_kind", "target_kind"),
    ("direction", "direction"),
]

# The barometer's own order: by goal, then by indicator number within it (1.2 before 1.10).
_ORDER = "cast(area_code as integer), cast(split_part(indicator_code, '.', 2) as integer)"

# The newest publication row describes this file; the one before tells what changed since.
_PUBLICATIONS = """
select published_at, case_extract_night, barometer_data_years, source_files
from marts.publication
order by published_at desc
limit 2
"""

_MUNICIPALITIES = """
select municipality_code, municipality_name
from marts.dim_municipality
where not is_country
order by municipality_name
"""

_INDICATORS = f"select * from marts.dim_indicator order by {_ORDER}"

_SCORECARD = f"""
select s.*, i.area_name_da, i.area_name_en, coalesce(v.is_suppressed, false) as is_suppressed
from marts.fct_scorecard as s
inner join marts.dim_indicator as i using (indicator_code, area_code)
left join marts.fct_indicator_values as v
    on v.indicator_code = s.indicator_code
    and v.municipality_code = s.municipality_code
    and v.year = s.year
    and v.population_group = i.main_population_group
order by s.municipality_code, {_ORDER.replace("area_code", "s.area_code")}
"""

# A municipality's place within its own peer group, read off the published national rank.
_PEER_PLACES = """
select
    municipality_code,
    indicator_code,
    rank() over (
        partition by peer_group_code, indicator_code order by rank_among_municipalities
    ) as peer_group_rank,
    count(*) over (partition by peer_group_code, indicator_code) as peer_group_ranked
from marts.fct_scorecard
where peer_group_code is not null and rank_among_municipalities is not null
"""

_GOALS = """
select *
from marts.fct_goal_development
qualify year = max(year) over (partition by municipality_code, area_code)
order by municipality_code, cast(area_code as integer)
"""

# Each municipality's main population group beside the country and its own peer group, in
# every year either has a value.
_SERIES = """
with own as (
    select g.indicator_code, g.municipality_code, g.year, g.value
    from marts.fct_target_gap as g
),
suppressed as (
    select v.indicator_code, v.municipality_code, v.year, bool_or(v.is_suppressed) as is_suppressed
    from marts.fct_indicator_values as v
    inner join marts.dim_indicator as i
        on i.indicator_code = v.indicator_code and i.main_population_group = v.population_group
    group by all
),
national as (
    select n.indicator_code, n.year, n.value as national_value
    from marts.fct_national_indicator_values as n
    inner join marts.dim_indicator as i
        on i.indicator_code = n.indicator_code and i.main_population_group = n.population_group
),
municipalities as (
    select municipality_code, any_value(peer_group_code) as peer_group_code
    from marts.fct_scorecard
    group by municipality_code
),
frame as (
    select m.municipality_code, n.indicator_code, n.year
    from municipalities as m cross join national as n
    union
    select municipality_code, indicator_code, year from own
),
peers as (
    select peer_group_code, indicator_code, year, average_value as peer_group_average
    from marts.fct_peer_group_values
)
select
    frame.municipality_code,
    frame.indicator_code,
    frame.year,
    own.value,
    coalesce(suppressed.is_suppressed, false) as is_suppressed,
    national.national_value,
    peers.peer_group_average
from frame
inner join municipalities using (municipality_code)
left join own using (municipality_code, indicator_code, year)
left join suppressed using (municipality_code, indicator_code, year)
left join national using (indicator_code, year)
left join peers using (peer_group_code, indicator_code, year)
order by frame.municipality_code, frame.indicator_code, frame.year
"""

_CASES = """
select arrival_year, outcome_code, unit, value, is_suppressed, is_cohort_too_young
from marts.fct_case_outcomes
where programme = 'all' and sex = 'all' and age_band = 'all'
order by arrival_year, outcome_code
"""

_CASE_BREAKDOWN = """
select arrival_year, programme, value, is_suppressed, is_cohort_too_young
from marts.fct_case_outcomes
where outcome_code = ? and sex = 'all' and age_band = 'all'
order by arrival_year, programme
"""

_TWINS = """
select *
from marts.fct_local_vs_national
order by indicator_code, local_outcome_code, year
"""
