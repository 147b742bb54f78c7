"""The case data through the whole nightly refresh: no CPR number anywhere, idempotent loads,
incremental nights equal to one full rebuild, and small cells suppressed beyond recovery."""

import contextlib
import logging
import os
import shutil
import sys
import tempfile
from datetime import datetime
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from conftest import SAMPLE_EXPORTS, read_table, refresh, use_folders

from orchestration.raw import cases as raw_cases
from orchestration.settings import PROJECT_ROOT, REFERENCE_DIR
from orchestration.sources.cases import find_extracts, load_case_programmes, read_extract
from orchestration.sources.pseudonyms import key_fingerprint

SAMPLE_CASES = PROJECT_ROOT / "seeds" / "cases"
CASE_MARTS = ["fct_case_outcomes", "fct_local_vs_national"]
# Planted in the extracts: two valid CPR numbers (one written without its dash) and an invalid
# one (31 February), in the cpr columns and in free text.
PLANTED = ["311285-4321", "0303030303", "310285-9999"]
NEEDLES = sorted({form for cpr in PLANTED for form in (cpr, cpr.replace("-", ""),
                  f"{cpr.replace('-', '')[:6]}-{cpr.replace('-', '')[6:]}")})  # fmt: skip


def case_settings(monkeypatch, root: Path, cases: Path, barometer: Path | None = None):
    """Settings for a warehouse under ``root``; the barometer exports are copied there once."""
    if barometer is None:
        barometer = root / "barometer"
        shutil.copytree(SAMPLE_EXPORTS, barometer, dirs_exist_ok=True)
    monkeypatch.setenv("CASES_SOURCE_DIR", str(cases))
    return use_folders(monkeypatch, root / "warehouse", barometer)


@contextlib.contextmanager
def captured_output():
    """Everything written to file descriptors 1 and 2 meanwhile, as text (like capfd)."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = {fd: os.dup(fd) for fd in (1, 2)}
    streams = (sys.stdout, sys.stderr)
    with tempfile.TemporaryFile() as sink:
        for fd in (1, 2):
            os.dup2(sink.fileno(), fd)
        # pytest hands Python's sys.stdout/sys.stderr its own files: point them at the sink too.
        stream = open(os.dup(sink.fileno()), "w", encoding="utf-8", buffering=1)  # noqa: SIM115
        sys.stdout = sys.stderr = stream
        text = []
        try:
            yield text
        finally:
            stream.flush()
            sys.stdout, sys.stderr = streams
            stream.close()
            for fd, copy in saved.items():
                os.dup2(copy, fd)
                os.close(copy)
            sink.seek(0)
            text.append(sink.read().decode("utf-8", "replace"))


def plant(cases: Path) -> None:
    with (cases / "citizens_20250106.csv").open("a", encoding="utf-8") as handle:
        handle.write(
            "311285-4321;Planted;Person;1985-12-31;K;Syrien;2016-03-01;integrationsprogram;"
            "Center Sandholm\n"
            "0303030303;Another;Planted;2003-03-03;M;Eritrea;2016-04-01;integrationsprogram;\n"
            "310285-9999;Invalid;Planted;1985-02-28;M;Irak;2016-04-01;integrationsprogram;\n"
        )
    with (cases / "events_20250107.csv").open("a", encoding="utf-8") as handle:
        handle.write(
            "99000001;311285-4321;visitation;2016-03-05;;;;0\n"
            "99000002;3112854321;welcome_house;2016-05-01;;Røde Kors København;;0\n"
            "99000003;030303-0303;kompetenceafklaring;2016-04-20;;ring 311285-4321 op;;0\n"
            "99000004;310285-9999;visitation;2016-04-05;;;;0\n"
        )


@pytest.fixture(scope="module")
def planted_run(tmp_path_factory):
    """One refresh of the sample with planted CPR numbers, its logs captured."""
    root = tmp_path_factory.mktemp("planted")
    shutil.copytree(SAMPLE_CASES, root / "cases")
    plant(root / "cases")
    handler = _ListHandler()
    logging.getLogger().addHandler(handler)
    with pytest.MonkeyPatch.context() as monkeypatch, captured_output() as output:
        settings = case_settings(monkeypatch, root, root / "cases")
        result = refresh(settings)
    logging.getLogger().removeHandler(handler)
    assert result.success
    events = "\n".join(str(event.message) for event in result.all_events)
    return settings, result, "\n".join([handler.text(), events, *output])


class _ListHandler(logging.Handler):
    def __init__(self):
        super().__init__(level=logging.DEBUG)
        self.records = []

    def emit(self, record):
        self.records.append(self.format(record))

    def text(self) -> str:
        return "\n".join(self.records)


def database_hits(path: Path) -> list[str]:
    """Every table or view, every row cast to text, searched for every form of the CPRs."""
    hits = []
    with duckdb.connect(str(path), read_only=True) as con:
        relations = con.execute(
            "select table_schema, table_name from information_schema.tables"
        ).fetchall()
        for schema, name in relations:
            for needle in NEEDLES:
                found = con.execute(
                    f'select count(*) from "{schema}"."{name}" as t where contains(t::varchar, ?)',
                    [needle],
                ).fetchone()[0]
                if found:
                    hits.append(f"{schema}.{name}: {needle}")
    assert len(relations) >= 6  # at least the published marts were searched
    return hits


def test_no_cpr_number_reaches_a_table_a_file_or_a_log(planted_run, capfd):
    settings, _, logs = planted_run
    assert database_hits(settings.warehouse_path) == []
    assert database_hits(settings.serving_path) == []
    files = [p for p in settings.warehouse_dir.rglob("*") if p.is_file()]
    assert any(p.suffix == ".parquet" for p in files)
    for path in files:
        data = path.read_bytes()
        assert not [n for n in NEEDLES if n.encode() in data], path
    captured = capfd.readouterr()
    for text in (logs, captured.out, captured.err):
        assert not [n for n in NEEDLES if n in text]
    assert "Loaded" in logs and "development default key" in logs  # the logs were captured


def test_the_invalid_cpr_is_rejected_by_file_and_line(planted_run):
    settings, _, logs = planted_run
    rejects = read_table(settings.warehouse_path, "raw.case_rejects")
    lines = {(r[0], r[3]) for r in rejects}
    assert ("citizens_20250106.csv", "cpr: not a valid CPR number") in lines
    assert ("events_20250107.csv", "cpr: not a valid CPR number") in lines
    assert "Rejected events_20250107.csv, line" in logs
    # The free-text CPR was masked, and the planted citizens were loaded under pseudonyms.
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        assert con.execute(
            "select detail from raw.case_events where event_id = 99000003"
        ).fetchall() == [("ring [cpr fjernet] op",)]
        assert con.execute(
            "select count(*) from raw.case_events where event_id in (99000001, 99000002)"
        ).fetchone() == (2,)


def test_case_files_are_described_not_archived(planted_run):
    settings, _, _ = planted_run
    loads = read_table(settings.warehouse_path, "raw.case_loads")
    assert len(loads) == 8
    names = {row[0] for row in loads}
    assert not [p for p in settings.warehouse_dir.rglob("*") if p.name in names]


def test_a_second_run_of_the_same_nights_changes_nothing(planted_run, tmp_path, monkeypatch):
    settings, _, _ = planted_run
    shutil.copytree(settings.warehouse_dir, tmp_path / "warehouse")
    copy = case_settings(monkeypatch, tmp_path, settings.cases_source_dir, settings.source_dir)
    tables = ["raw.case_citizens", "raw.case_events", "raw.case_loads", "raw.case_rejects"]
    before = {t: read_table(copy.warehouse_path, t) for t in tables}
    # One file touched: its name, size and time no longer match, so it is hashed again and
    # skipped by its sha256; the others are skipped by their unchanged stamp alone.
    touched = copy.cases_source_dir / "events_20250108.csv"
    os.utime(touched, ns=(touched.stat().st_atime_ns, touched.stat().st_mtime_ns + 10**9))

    result = refresh(copy)

    assert result.success
    extract = result.asset_materializations_for_node("case_extracts")
    assert {m.metadata["files_loaded"].value for m in extract} == {0}
    assert {t: read_table(copy.warehouse_path, t) for t in tables} == before
    for mart in CASE_MARTS:
        assert read_table(copy.serving_path, f"marts.{mart}") == read_table(
            settings.serving_path, f"marts.{mart}"
        )
    # Even a forced re-load of a night's file (same rows, a later load time) changes no row.
    without_time = "select * exclude (loaded_at) from raw.case_events order by all"
    with duckdb.connect(str(copy.warehouse_path)) as con:
        events_before = con.execute(without_time).fetchall()
        last = find_extracts(copy.cases_source_dir)[-1]
        programmes = load_case_programmes(REFERENCE_DIR)
        with read_extract(last, copy.pseudonym_key, programmes) as parsed:
            raw_cases.load_extract(
                con, parsed, datetime(2030, 1, 1), key_fingerprint(copy.pseudonym_key)
            )
        assert con.execute(without_time).fetchall() == events_before


@pytest.fixture(scope="module")
def night_by_night(tmp_path_factory):
    """The committed sample loaded as it arrives: the initial extract, then one delta a night."""
    root = tmp_path_factory.mktemp("nightly")
    cases = root / "cases"
    cases.mkdir()
    extracts = sorted(SAMPLE_CASES.glob("*.csv"), key=lambda p: p.stem.split("_")[1])
    nights = sorted({p.stem.split("_")[1] for p in extracts})
    with pytest.MonkeyPatch.context() as monkeypatch:
        settings = case_settings(monkeypatch, root, cases)
        for night in nights:
            for path in extracts:
                if path.stem.endswith(night):
                    shutil.copy(path, cases / path.name)
            assert refresh(settings).success, night
    return settings


def test_loading_night_by_night_equals_one_full_rebuild(night_by_night, published):
    # `published` loaded every extract of the sample in one refresh.
    for mart in CASE_MARTS:
        assert read_table(night_by_night.serving_path, f"marts.{mart}") == read_table(
            published.serving_path, f"marts.{mart}"
        ), mart
    for table, keep in [
        ("raw.case_events", "* exclude (loaded_at)"),
        ("raw.case_citizens", "* exclude (loaded_at)"),
        # loaded_at, changed_at and previous_citizen_id are lineage: when, not what.
        (
            "intermediate.int_case_events_resolved",
            "* exclude (loaded_at, changed_at, previous_citizen_id)",
        ),
        ("intermediate.int_citizens_current", "* exclude (loaded_at)"),
        ("intermediate.int_citizens_changed", "citizen_id"),
        ("intermediate.int_citizen_milestones", "* exclude (changed_at)"),
    ]:
        sql = f"select {keep} from {table} order by all"
        with duckdb.connect(str(night_by_night.warehouse_path), read_only=True) as nightly:
            incremental = nightly.execute(sql).fetchall()
        with duckdb.connect(str(published.warehouse_path), read_only=True) as full:
            rebuilt = full.execute(sql).fetchall()
        assert incremental == rebuilt, table
    with duckdb.connect(str(published.warehouse_path), read_only=True) as con:
        inactive = con.execute(
            "select count(*) filter (where is_replaced), count(*) filter (where is_cancelled) "
            "from intermediate.int_case_events_resolved"
        ).fetchone()
    assert inactive[0] > 0 and inactive[1] > 0  # the deltas did correct and cancel


# --- small cells --------------------------------------------------------------------------------


def cells(settings) -> list[dict]:
    """Published cells beside their true (unpublished) bases."""
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        con.execute(f"attach '{settings.serving_path}' as serving (read_only)")
        frame = con.execute(
            "select published.*, truth.base_citizens as true_base "
            "from serving.marts.fct_case_outcomes as published "
            "join intermediate.int_case_outcomes_aggregated as truth "
            "using (arrival_year, programme, sex, age_band, outcome_code)"
        ).df()
    return frame.to_dict("records")


def test_no_published_cell_rests_on_fewer_than_min_cell_citizens(published):
    rows = cells(published)
    assert {r["min_cell"] for r in rows} == {published.min_cell}  # 5 unless configured
    for r in rows:
        if 0 < r["true_base"] < published.min_cell and not r["is_cohort_too_young"]:
            assert r["is_suppressed"] and r["suppression_reason"] == "primary", r
        if r["is_suppressed"]:
            assert pd.isna(r["value"]) and pd.isna(r["base_citizens"]), r
        elif not r["is_cohort_too_young"]:
            assert r["base_citizens"] == r["true_base"]
    reasons = {r["suppression_reason"] for r in rows}
    assert {"primary", "secondary"} <= reasons  # the sample exercises both
