"""What changed for Copenhagen between the published marts and the ones about to replace them.

Analysts care more about "employment went off track" than about pipeline errors: compare the new
marts (schema ``marts`` of the warehouse) with the previously published serving file, and list
each indicator whose latest status changed and each value that is new or revised and moves more
than a threshold year on year. Knows DuckDB, not Dagster.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

COPENHAGEN = "101"

_STATUS_CHANGES = """
with latest_new as (
    select indicator_code, year, status from marts.fct_target_gap
    where municipality_code = $municipality
    qualify year = max(year) over (partition by indicator_code)
),
latest_old as (
    select indicator_code, year, status from previous.marts.fct_target_gap
    where municipality_code = $municipality
    qualify year = max(year) over (partition by indicator_code)
)
select
    'status' as change,
    n.indicator_code,
    i.indicator_name_en as indicator_name,
    n.year,
    o.status as before,
    n.status as after
from latest_new as n
inner join latest_old as o on o.indicator_code = n.indicator_code
inner join marts.dim_indicator as i on i.indicator_code = n.indicator_code
where n.status is distinct from o.status
order by n.indicator_code
"""

_VALUE_MOVES = """
with new_values as (
    select
        indicator_code, year, value,
        lag(value) over (partition by indicator_code order by year) as previous_year_value,
        lag(year) over (partition by indicator_code order by year) as previous_year
    from marts.fct_target_gap
    where municipality_code = $municipality
)
select
    'value' as change,
    n.indicator_code,
    i.indicator_name_en as indicator_name,
    n.year,
    n.previous_year_value as before,
    n.value as after
from new_values as n
left join previous.marts.fct_target_gap as o
    on o.municipality_code = $municipality
    and o.indicator_code = n.indicator_code
    and o.year = n.year
inner join marts.dim_indicator as i on i.indicator_code = n.indicator_code
where n.previous_year = n.year - 1
    and abs(n.value - n.previous_year_value) > $threshold
    and (o.value is null or o.value <> n.value)  -- only values new or revised tonight
order by n.indicator_code, n.year
"""


def copenhagen_changes(
    con: duckdb.DuckDBPyConnection, previous_serving: Path, threshold_points: float
) -> list[dict]:
    """Changes against the previous publication; none when nothing was published before."""
    if not previous_serving.exists():
        return []
    con.execute(f"attach '{previous_serving}' as previous (read_only)")
    try:
        changes = []
        for sql, parameters in [
            (_STATUS_CHANGES, {"municipality": COPENHAGEN}),
            (_VALUE_MOVES, {"municipality": COPENHAGEN, "threshold": threshold_points}),
        ]:
            frame = con.execute(sql, parameters).df()
            changes += frame.astype(object).where(frame.notna(), None).to_dict("records")
        return changes
    finally:
        con.execute("detach previous")
