"""The synthetic case extracts written to disk: each chunk's citizens and events formatted by DuckDB
(CPR numbers, names, dates, codes as words) and appended to the night's files."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import numpy as np

from orchestration.sample_data.vocabulary import (
    ASYLUM_CENTRES,
    CITIZENSHIPS,
    FIRST_NAMES,
    LAST_NAMES,
    PROGRAMMES,
)

EPOCH = date(1970, 1, 1)  # the generator's day numbers count from here


def write_chunk(con, people, events, all_nights, paths, parts: Path) -> None:
    rng_dash = (people["citizen"].to_numpy() * 2654435761) % 10  # deterministic, no RNG state
    people = people.assign(dash_mod=rng_dash)
    first = (all_nights[0] - EPOCH).days
    last = (all_nights[-1] - EPOCH).days
    people["night"] = np.where(
        people["arrival"] <= first,
        0,
        np.where(people["arrival"] <= last, people["arrival"] - first, -1),
    )
    con.register("people", people)
    con.register("events", events)
    try:
        con.execute("""
            create or replace temp table cpr as
            select citizen,
                   strftime(date '1970-01-01' + (birth)::integer, '%d%m%y') as ddmmyy,
                   (case when year(date '1970-01-01' + (birth)::integer) < 2000
                         then [0, 1, 2, 3][cpr_serial // 1000 + 1]
                         else [4, 5, 6, 7, 8, 9][cpr_serial // 1000 + 1] end)::varchar
                   || lpad(((cpr_serial % 1000) * 389 + (birth + 100000) % 1000) % 1000 || '',
                           3, '0') as serial4
            from people
        """)
        for k, night in enumerate(all_nights):
            # Citizens: new arrivals of the night, and in a delta a few corrected records.
            copy_rows(
                con,
                f"""
                select case when (p.dash_mod + {k}) % 10 = 0 then c.ddmmyy || c.serial4
                            else c.ddmmyy || '-' || c.serial4 end as cpr,
                       {sql_list(sum(FIRST_NAMES.values(), []))}[
                           p.first_name + 1 + (case when p.male then 0 else 16 end)],
                       {sql_list(LAST_NAMES)}[p.last_name + 1],
                       strftime(date '1970-01-01' + (p.birth)::integer, '%Y-%m-%d'),
                       case when p.male then 'M' else 'K' end,
                       {sql_list(CITIZENSHIPS)}[p.citizenship + 1],
                       strftime(date '1970-01-01' + (p.arrival)::integer, '%Y-%m-%d'),
                       {sql_list(PROGRAMMES)}[p.programme + 1
                           + (case when p.night < {k} and p.programme = 0 and p.year >= 2019
                                   then 1 else 0 end)],
                       case when p.centre >= 0 then {sql_list(ASYLUM_CENTRES)}[
                           (p.centre + (case when p.night < {k} then 1 else 0 end))
                           % {len(ASYLUM_CENTRES)} + 1] end
                from people as p join cpr as c using (citizen)
                where p.night = {k} or ({k} > 0 and p.night between 0 and {k - 1}
                                        and (p.citizen * 2654435761 + {k} * 40503) % 400 = 0)
                order by p.citizen
            """,
                paths["citizens", night],
                parts,
            )
            copy_rows(
                con,
                f"""
                select e.event_id,
                       case when (p.dash_mod + e.slot + {k}) % 10 = 0 then c.ddmmyy || c.serial4
                            else c.ddmmyy || '-' || c.serial4 end as cpr,
                       event_type(e.type),
                       strftime(date '1970-01-01' + (e.date)::integer, '%Y-%m-%d'),
                       case when e."end" >= 0 and e."end" <= {last}
                            then strftime(date '1970-01-01' + (e."end")::integer, '%Y-%m-%d') end,
                       case when e.detail >= 0 then detail_text(e.detail) end,
                       case when e.replaces >= 0 then e.replaces end,
                       e.cancelled
                from events as e
                join people as p using (citizen)
                join cpr as c using (citizen)
                where e.night = {k}
                order by e.event_id, e.cancelled
            """,
                paths["events", night],
                parts,
            )
    finally:
        con.unregister("people")
        con.unregister("events")


def copy_rows(con, query: str, target: Path, parts: Path) -> None:
    part = parts / "part.csv"
    con.execute(f"copy ({query}) to '{part}' (header false, delimiter ';', quote '\"')").fetchall()
    with target.open("ab") as out, part.open("rb") as source:
        shutil.copyfileobj(source, out)


def sql_list(items: list[str]) -> str:
    return "[" + ", ".join("'" + item.replace("'", "''") + "'" for item in items) + "]"
