"""Deterministic synthetic extracts of Copenhagen's case system (docs/data.md §5), at any scale.

Writes one full initial extract pair (``citizens_/events_YYYYMMDD.csv``) and a few nightly delta
pairs with new events, late events dated in the past, corrections (a new event carrying
``erstatter_event_id``) and cancellations (``annulleret = 1``). Levels follow docs/data.md §5:
arrival waves in 2015-2016 and 2022 (Ukrainians under the special act), asylum-centre contact for
about 70 % of refugees from 2016, competence clarification within the first month, a first
company internship after about 4 weeks, work after 3 years for about half the men and a fifth of
the women, a Danish exam (PD2 or higher) within 5 years for about two thirds of the learners, and
about 85 volunteer organisations in Welcome House.

Citizens are generated in fixed chunks with numpy, each chunk's events are formatted and written
by DuckDB and appended to the files, so memory stays flat at any size (no Python object per
event) and the output depends only on the seed and the number of citizens. CPR numbers are
synthetic: a real birth date, a century digit that fits it, unique per citizen; one row in ten
writes them without the dash.
"""

from __future__ import annotations

import shutil
from datetime import date, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from orchestration.sample_data.case_files import EPOCH, sql_list, write_chunk
from orchestration.sample_data.vocabulary import (
    ASYLUM_CENTRES,
    CITIZEN_HEADER,
    CITIZENSHIP_WEIGHTS,
    DETAILS,
    EVENT_HEADER,
    EVENT_TYPES,
    VOLUNTEER_ORGANISATIONS,
)

CHUNK = 20_000  # citizens per chunk: part of the definition of the output, do not change
FIRST_NIGHT = date(2025, 1, 6)  # the full initial extract
PROGRAMME_CHANGE = date(2019, 7, 1)  # integrationsprogram -> selvforsørgelses- og hjemrejseprogram

# Arrivals assigned to Copenhagen per year (refugees, family-reunified and, from 2022,
# Ukrainians under the special act), relative; the last year runs to the last night only.
ARRIVALS = {
    2012: 420, 2013: 480, 2014: 620, 2015: 780, 2016: 590, 2017: 450, 2018: 330, 2019: 300,
    2020: 180, 2021: 240, 2022: 2300, 2023: 650, 2024: 520, 2025: 520,
}  # fmt: skip
UKRAINIAN_SHARE = {2022: 0.83, 2023: 0.45, 2024: 0.3, 2025: 0.25}
T = {name: code for code, name in enumerate(EVENT_TYPES)}
_DETAIL = {name: code for code, name in enumerate(DETAILS)}
_SLOTS = 64  # event ids: 10_000_000 + citizen * 64 + slot; slot 16 * night + slot: corrections
_SERIAL_ORIGIN = date(1900, 1, 1)
_OTHER_FIRST = np.array([*range(10), 14, 15])
_OTHER_LAST = np.array([*range(8), *range(12, 16)])
CORRECTED_PER_NIGHT = 0.0005  # share of the known events corrected (new id) in each delta
CANCELLED_PER_NIGHT = 0.0002  # share of the known events cancelled in each delta


def nights(deltas: int) -> list[date]:
    return [FIRST_NIGHT + timedelta(days=k) for k in range(deltas + 1)]


def write_case_extracts(out: Path, citizens: int, seed: int = 2016, deltas: int = 3) -> list[Path]:
    """Write the initial extract pair and ``deltas`` nightly delta pairs into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    all_nights = nights(deltas)
    paths = {}
    for night in all_nights:
        for kind, header in (("citizens", CITIZEN_HEADER), ("events", EVENT_HEADER)):
            path = out / f"{kind}_{night:%Y%m%d}.csv"
            path.write_text(header + "\n", encoding="utf-8")
            paths[kind, night] = path
    serials = np.zeros((date(2030, 1, 1) - _SERIAL_ORIGIN).days, dtype=np.int32)
    parts = out / ".parts"
    parts.mkdir(exist_ok=True)
    con = duckdb.connect()
    con.execute(f"create macro event_type(c) as {sql_list(EVENT_TYPES)}[c + 1]")
    con.execute(f"create macro detail_text(c) as {sql_list(DETAILS)}[c + 1]")
    try:
        for start in range(0, citizens, CHUNK):
            size = min(CHUNK, citizens - start)
            rng = np.random.default_rng([seed, start // CHUNK])
            people = _citizens(rng, start, size, all_nights, serials)
            events = _events(rng, people, all_nights)
            write_chunk(con, people, events, all_nights, paths, parts)
    finally:
        con.close()
        shutil.rmtree(parts, ignore_errors=True)
    return [paths[kind, night] for night in all_nights for kind in ("citizens", "events")]


# --- citizens -----------------------------------------------------------------------------------


def _citizens(rng, start: int, n: int, all_nights: list[date], serials: np.ndarray) -> pd.DataFrame:
    last = all_nights[-1]
    years = np.array(list(ARRIVALS))
    weights = np.array(
        [w * (((last - date(y, 1, 1)).days + 1) / 365 if y == last.year else 1.0)
         for y, w in ARRIVALS.items()]
    )  # fmt: skip
    pick = rng.choice(len(years), size=n, p=weights / weights.sum())
    year = years[pick]
    year_start = np.array([(date(y, 1, 1) - EPOCH).days for y in years])[pick]
    year_days = np.array([(min(date(y, 12, 31), last) - date(y, 1, 1)).days + 1 for y in years])[
        pick
    ]
    ukraine_share = np.array([UKRAINIAN_SHARE.get(y, 0.0) for y in years])[pick]
    ukrainian = rng.random(n) < ukraine_share
    # Ukrainians came from March 2022.
    offset = np.where(
        ukrainian & (year == 2022),
        59 + (rng.random(n) * (year_days - 59)),
        rng.random(n) * year_days,
    ).astype(np.int32)
    arrival = year_start + offset
    refugee = ~ukrainian & (rng.random(n) < 0.65)  # the others are family-reunified
    male_share = np.where(ukrainian, 0.28, np.where(refugee, 0.62, 0.30))
    male = rng.random(n) < male_share
    age = np.minimum(18 + rng.gamma(2.2, 6.0, n), 64.9)
    birth = (arrival - age * 365.25 - rng.random(n) * 30).astype(np.int32)
    programme = np.where(
        ukrainian, 2, np.where(arrival >= (PROGRAMME_CHANGE - EPOCH).days, 1, 0)
    ).astype(np.int8)
    citizenship = np.where(ukrainian, 7, rng.choice(7, size=n, p=CITIZENSHIP_WEIGHTS)).astype(
        np.int8
    )
    centre = np.where(refugee, rng.integers(0, len(ASYLUM_CENTRES), n), -1).astype(np.int8)
    return pd.DataFrame(
        {
            "citizen": np.arange(start, start + n, dtype=np.int64),
            "cpr_serial": _cpr_serials(birth, serials),
            "birth": birth,
            "male": male,
            "arrival": arrival.astype(np.int32),
            "year": year.astype(np.int32),
            "ukrainian": ukrainian,
            "refugee": refugee,
            "age": age,
            "programme": programme,
            "citizenship": citizenship,
            "centre": centre,
            # Names fit the origin: indices 10-13 (first) and 8-11 (last) are Ukrainian.
            "first_name": np.where(
                ukrainian, 10 + rng.integers(0, 4, n), rng.choice(_OTHER_FIRST, n)
            ).astype(np.int8),
            "last_name": np.where(
                ukrainian, 8 + rng.integers(0, 4, n), rng.choice(_OTHER_LAST, n)
            ).astype(np.int8),
        }
    )


def _cpr_serials(birth: np.ndarray, serials: np.ndarray) -> np.ndarray:
    """A serial per citizen, unique per birth date across all chunks (the last 4 CPR digits)."""
    birth = birth - (_SERIAL_ORIGIN - EPOCH).days
    order = np.argsort(birth, kind="stable")
    sorted_birth = birth[order]
    first = np.searchsorted(sorted_birth, sorted_birth, side="left")
    rank = np.empty_like(order)
    rank[order] = np.arange(len(birth)) - first
    serial = serials[birth] + rank
    np.add.at(serials, birth, 1)
    return serial.astype(np.int32)


# --- events -------------------------------------------------------------------------------------


def _events(rng, people: pd.DataFrame, all_nights: list[date]) -> pd.DataFrame:
    n = len(people)
    arrival = people["arrival"].to_numpy()
    year = people["year"].to_numpy()
    male = people["male"].to_numpy()
    ukrainian = people["ukrainian"].to_numpy()
    refugee = people["refugee"].to_numpy()
    age = people["age"].to_numpy()
    columns = {k: [] for k in ("citizen", "slot", "type", "date", "end", "detail")}

    def add(mask, slot, kind, when, end=None, detail=None):
        idx = np.flatnonzero(mask)
        columns["citizen"].append(idx)
        columns["slot"].append(np.full(len(idx), slot, dtype=np.int16))
        columns["type"].append(np.full(len(idx), T[kind], dtype=np.int8))
        columns["date"].append(np.asarray(when)[idx].astype(np.int32))
        columns["end"].append(
            np.full(len(idx), -1, np.int32)
            if end is None
            else np.asarray(end)[idx].astype(np.int32)
        )
        columns["detail"].append(
            np.full(len(idx), -1, np.int16)
            if detail is None
            else np.asarray(detail)[idx].astype(np.int16)
        )

    def days(low, high):
        return rng.integers(low, high, n)

    model_year = year >= 2016  # Københavnermodellen began in 2016
    add(
        refugee & (rng.random(n) < np.where(model_year, 0.72, 0.05)),
        0,
        "asylcenter_samtale",
        arrival - days(7, 60),
    )
    add(np.ones(n, bool), 1, "visitation", arrival + days(1, 10))
    clarified = arrival + 7 + rng.gamma(2.0, 6.5, n).astype(np.int32)
    add(rng.random(n) < 0.95, 2, "kompetenceafklaring", clarified)
    # First company internship: median about 4 weeks; most within 91 days.
    internship = arrival + np.exp(rng.normal(np.log(30), 0.55, n)).astype(np.int32)
    has_internship = rng.random(n) < np.where(ukrainian, 0.65, 0.9)
    add(has_internship, 3, "virksomhedspraktik", internship, internship + days(28, 92))
    second = internship + days(120, 300)
    add(
        has_internship & (rng.random(n) < 0.4),
        4,
        "virksomhedspraktik",
        second,
        second + days(28, 92),
    )
    wage = arrival + days(180, 900)
    add(rng.random(n) < 0.18, 5, "loentilskud", wage, wage + 180)
    igu = arrival + days(120, 700)
    add(refugee & (age < 40) & (rng.random(n) < 0.08), 6, "igu", igu, igu + 730)
    # Work: about half the men and a fifth of the women within 3 years; faster for Ukrainians.
    cohort = np.clip(0.7 + (year - 2014) * 0.12, 0.7, 1.0)
    within_3y = np.where(ukrainian, np.where(male, 0.68, 0.55), np.where(male, 0.6, 0.2)) * cohort
    draw = rng.random(n)
    median = np.where(ukrainian, 150, 420)
    job_days = np.where(
        draw < within_3y,
        np.minimum(np.exp(rng.normal(np.log(median), 0.6, n)), 1094),
        np.where(draw < within_3y + 0.15, 1095 + rng.integers(0, 1500, n), -1),
    ).astype(np.int32)
    add(job_days >= 0, 7, "ordinaert_job", arrival + job_days)
    add(rng.random(n) < 0.08, 8, "uddannelse", arrival + days(200, 1500))
    # Danish education and the Prøve i Dansk, held in June and December.
    learner = rng.random(n) < np.where(ukrainian, 0.8, 0.93)
    module = rng.choice(3, size=n, p=[0.15, 0.5, 0.35])
    start = arrival + days(10, 75)
    add(learner, 9, "danskuddannelse_start", start, detail=module + _DETAIL["DU1"])
    pass_pd2 = np.array([0.3, 0.68, 0.85])[module]
    outcome = rng.random(n)
    # The exam passed (0 PD1, 1 PD2, 2 PD3, 3 Studieprøven; -1 none): DU3 learners reach PD3 or
    # Studieprøven, DU2 mostly PD2, DU1 PD2 at best; some pass only PD1, which does not count.
    du3_exam = np.where(rng.random(n) < 0.3, 3, 2)
    du2_exam = np.where(rng.random(n) < 0.1, 2, 1)
    passed = np.where(module == 2, du3_exam, np.where(module == 1, du2_exam, 1))
    exam = np.where(outcome < pass_pd2, passed, np.where(outcome < pass_pd2 + 0.2, 0, -1))
    wait = rng.random(n) * np.where(outcome < pass_pd2, 3.6, 4.5) * 365 + 250
    exam_day = _exam_session(start + wait.astype(np.int32), rng)
    add(learner & (exam >= 0), 10, "danskproeve_bestaaet", exam_day, detail=exam + _DETAIL["PD1"])
    # Self-support follows work for most; a few get there otherwise.
    self_support = np.where(
        (job_days >= 0) & (rng.random(n) < 0.8), arrival + job_days + days(30, 300),
        np.where(rng.random(n) < 0.05, arrival + days(300, 2000), -1),
    )  # fmt: skip
    add(self_support >= 0, 11, "selvforsoergende", self_support)
    # Welcome House: volunteer organisations, the big ones more often.
    welcome = rng.random(n) < np.where(model_year, 0.38, 0.1)
    popularity = 1 / np.arange(1, len(VOLUNTEER_ORGANISATIONS) + 1) ** 0.8
    for slot in range(3):
        organisation = rng.choice(
            len(VOLUNTEER_ORGANISATIONS), size=n, p=popularity / popularity.sum()
        )
        when = np.maximum(arrival + days(14, 730), (date(2016, 1, 1) - EPOCH).days)
        add(
            welcome & (rng.random(n) < (1.0, 0.5, 0.25)[slot]),
            12 + slot,
            "welcome_house",
            when,
            detail=organisation + _DETAIL[VOLUNTEER_ORGANISATIONS[0]],
        )
    add(rng.random(n) < 0.06, 15, "fraflytning", arrival + days(200, 2500))

    events = pd.DataFrame({k: np.concatenate(v) for k, v in columns.items()})
    last = (all_nights[-1] - EPOCH).days
    events = events[events["date"] <= last]
    events.loc[events["end"] > last, "end"] = -1  # an internship still running has no end yet
    citizen_index = events["citizen"].to_numpy()
    events["citizen"] = people["citizen"].to_numpy()[citizen_index]
    events["event_id"] = 10_000_000 + events["citizen"] * _SLOTS + events["slot"]
    # Most events reach the extract within 2 days; one in ten is late, up to two months.
    lag = np.where(rng.random(len(events)) < 0.9, rng.integers(0, 3, len(events)),
                   rng.integers(3, 61, len(events)))  # fmt: skip
    known = np.maximum(events["date"].to_numpy() + lag, arrival[citizen_index])
    events["night"] = _night_of(known, all_nights)
    events["replaces"] = -1
    events["cancelled"] = 0
    events = events[events["night"] >= 0]
    return _with_corrections(rng, events, all_nights)


def _exam_session(day: np.ndarray, rng) -> np.ndarray:
    """Move a day to the next Prøve i Dansk session: the first weeks of June or of December."""
    as_date = (day.astype("int64")).astype("datetime64[D]")
    month_start = as_date.astype("datetime64[M]")
    month = month_start.astype("int64") % 12 + 1
    year_start = as_date.astype("datetime64[Y]").astype("datetime64[M]")
    session = np.where(
        month <= 5, year_start + 5, np.where(month <= 11, year_start + 11, year_start + 17)
    )
    return session.astype("datetime64[D]").astype("int64") + rng.integers(0, 20, len(day))


def _night_of(known: np.ndarray, all_nights: list[date]) -> np.ndarray:
    """0 for the initial extract, k for the k-th delta, -1 when not yet known on the last night."""
    first = (all_nights[0] - EPOCH).days
    last = (all_nights[-1] - EPOCH).days
    return np.where(known <= first, 0, np.where(known <= last, known - first, -1)).astype(np.int8)


def _with_corrections(rng, events: pd.DataFrame, all_nights: list[date]) -> pd.DataFrame:
    """Each delta corrects (a new id with erstatter_event_id) or cancels a few known events.

    One draw per event decides whether and on which night it is touched, so no event is
    corrected twice and no correction id repeats.
    """
    rate = CORRECTED_PER_NIGHT + CANCELLED_PER_NIGHT
    draw = rng.random(len(events))
    shift = rng.integers(-10, 11, len(events))
    extra = []
    for k in range(1, len(all_nights)):
        night = (all_nights[k] - EPOCH).days
        local = draw - (k - 1) * rate
        touched = (events["night"].to_numpy() < k) & (local >= 0) & (local < rate)
        corrected = events[touched & (local < CORRECTED_PER_NIGHT)].copy()
        corrected["replaces"] = corrected["event_id"]
        corrected["event_id"] = (
            10_000_000 + corrected["citizen"] * _SLOTS + 16 * k + corrected["slot"]
        )
        moved = corrected["date"] + shift[touched & (local < CORRECTED_PER_NIGHT)]
        corrected["date"] = np.minimum(moved, night)
        corrected["night"] = k
        cancelled = events[touched & (local >= CORRECTED_PER_NIGHT)].copy()
        cancelled["cancelled"] = 1
        cancelled["night"] = k
        extra += [corrected, cancelled]
    return pd.concat([events, *extra], ignore_index=True)
