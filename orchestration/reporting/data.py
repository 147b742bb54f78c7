"""What the report shows, read from the published ``serving.duckdb`` only, read-only.

Every figure comes from a mart as published: the report computes no status, rank or verdict of
its own (those live in dbt), it only picks the municipality's rows and puts them side by side.
"""

from __future__ import annotations

from dataclasses import dataclass
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
    data_year: int  # the latest barometer year in the marts
    cases_as_of: object | None  # the latest case extract night, a date
    indicators: pd.DataFrame  # dim_indicator, in the barometer's order
    scorecard: pd.DataFrame  # fct_scorecard, one row per indicator
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


def load_report_data(serving_path: Path, municipality: str) -> ReportData:
    if not serving_path.is_file():
        raise ReportError(
            f"{serving_path} does not exist: run `barometer refresh` (or `make refresh`) first"
        )
    code = normalise_code(municipality)
    # Read-only: the serving file may be open in BI tools, and is never written in place.
    with duckdb.connect(str(serving_path), read_only=True) as con:
        municipality_row = con.execute(
            "select municipality_name from marts.dim_municipality "
            "where municipality_code = ? and not is_country",
            [code],
        ).fetchone()
        if municipality_row is None:
            raise ReportError(
                f"municipality {code} is not among the published municipalities "
                "(marts.dim_municipality); 000, the whole country, has no report of its own"
            )
        published_at, cases_as_of = _publication(con, serving_path)
        scorecard = _frame(con, _SCORECARD, [code])
        peer_group = scorecard["peer_group_code"].dropna()
        return ReportData(
            municipality_code=code,
            municipality_name=municipality_row[0],
            published_at=published_at,
            data_year=con.execute("select max(year) from marts.fct_target_gap").fetchone()[0],
            cases_as_of=cases_as_of,
            indicators=_frame(con, _INDICATORS),
            scorecard=scorecard,
            goals=_frame(con, _GOALS, [code]),
            series=_frame(con, _SERIES, [code, peer_group.iloc[0] if len(peer_group) else None]),
            cases=_frame(con, _CASES) if code == CASE_DATA_MUNICIPALITY else _empty(),
            case_breakdown=(
                _frame(con, _CASE_BREAKDOWN, [CASE_BREAKDOWN_OUTCOME])
                if code == CASE_DATA_MUNICIPALITY
                else _empty()
            ),
            twins=_frame(con, _TWINS) if code == CASE_DATA_MUNICIPALITY else _empty(),
            labels=_labels(con),
            outcome_order=[
                outcome
                for (outcome,) in con.execute(
                    "select outcome_code from marts.dim_outcome order by sort_order"
                ).fetchall()
            ],
        )


def _publication(con: duckdb.DuckDBPyConnection, serving_path: Path) -> tuple[datetime, object]:
    """When the file was published and its latest case night: from its newest publication row,
    or, in a file published before that table existed, from the file itself."""
    has_table = con.execute(
        "select count(*) from information_schema.tables "
        "where table_schema = 'marts' and table_name = 'publication'"
    ).fetchone()[0]
    if has_table:
        published_at, night = con.execute(_PUBLICATION).fetchone()
        return published_at.replace(tzinfo=UTC), night  # stored in UTC, without a zone
    night = con.execute("select max(as_of_date) from marts.fct_case_outcomes").fetchone()[0]
    return datetime.fromtimestamp(serving_path.stat().st_mtime, tz=UTC), night


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

# The newest publication row describes this file (orchestration/publish/publication.py writes it).
_PUBLICATION = """
select published_at, case_extract_night
from marts.publication
order by published_at desc
limit 1
"""

_INDICATORS = f"select * from marts.dim_indicator order by {_ORDER}"

_SCORECARD = """
select s.*, i.area_name_da, i.area_name_en, coalesce(v.is_suppressed, false) as is_suppressed
from marts.fct_scorecard as s
inner join marts.dim_indicator as i using (indicator_code, area_code)
left join marts.fct_indicator_values as v
    on v.indicator_code = s.indicator_code
    and v.municipality_code = s.municipality_code
    and v.year = s.year
    and v.population_group = i.main_population_group
where s.municipality_code = ?
order by cast(s.area_code as integer), cast(split_part(s.indicator_code, '.', 2) as integer)
"""

_GOALS = """
select *
from marts.fct_goal_development
where municipality_code = ?
qualify year = max(year) over (partition by area_code)
order by cast(area_code as integer)
"""

# The municipality's main population group beside the country and the municipality's peer group.
_SERIES = """
with own as (
    select g.indicator_code, g.year, g.value
    from marts.fct_target_gap as g
    where g.municipality_code = $1
),
suppressed as (
    select v.indicator_code, v.year, bool_or(v.is_suppressed) as is_suppressed
    from marts.fct_indicator_values as v
    inner join marts.dim_indicator as i
        on i.indicator_code = v.indicator_code and i.main_population_group = v.population_group
    where v.municipality_code = $1
    group by all
),
national as (
    select n.indicator_code, n.year, n.value as national_value
    from marts.fct_national_indicator_values as n
    inner join marts.dim_indicator as i
        on i.indicator_code = n.indicator_code and i.main_population_group = n.population_group
),
peers as (
    select indicator_code, year, average_value as peer_group_average
    from marts.fct_peer_group_values
    where peer_group_code = $2
)
select
    indicator_code,
    year,
    own.value,
    coalesce(suppressed.is_suppressed, false) as is_suppressed,
    national.national_value,
    peers.peer_group_average
from own
full join national using (indicator_code, year)
left join suppressed using (indicator_code, year)
left join peers using (indicator_code, year)
order by indicator_code, year
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
