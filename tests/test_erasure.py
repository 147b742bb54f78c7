"""Erasure and retention of citizens (GDPR): gone from every table, and from the next night's
published counts, through re-sent extracts and a restore from an older backup.

One night serves the erasure, the re-sent extract and the retention together: a citizen erased
by `barometer erase-citizens`, an extract that sends them again, and a retention period short
enough that the sample's oldest citizens expire.
"""

import csv
import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from conftest import use_folders

from orchestration.engines.duckdb.warehouse import refresh_lock
from orchestration.raw import erasure
from orchestration.settings import PROJECT_ROOT, Settings
from orchestration.sources.pseudonyms import pseudonym
from orchestration.transform.dbt_process import NIGHT_FILE, REBUILD_FILE

SAMPLE_CASES = PROJECT_ROOT / "seeds" / "cases"
NIGHT = "20250110"  # the night after the sample's last
RETENTION_YEARS = 11  # the sample's data is of 2025-01-09: activity before 2014-01-09 expires
CUTOFF = "2014-01-09"
BAROMETER = [sys.executable, "-m", "orchestration.cli"]


def barometer(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    """The real command, in a process of its own, with this test's environment."""
    return subprocess.run(
        [*BAROMETER, *args], input=stdin, capture_output=True, text=True, cwd=PROJECT_ROOT
    )


def where_found(path: Path, *texts: str) -> dict[str, list[str]]:
    """For each text, every table.column of every schema (views too) whose value contains it.
    Each table or view is read once for all the texts (a view is computed again each time)."""
    found: dict[str, list[str]] = {text: [] for text in texts}
    with duckdb.connect(str(path), read_only=True) as con:
        columns = con.execute(
            "select table_schema, table_name, column_name from information_schema.columns "
            "where table_catalog = current_database() order by all"
        ).fetchall()
        tables: dict[tuple[str, str], list[str]] = {}
        for schema, table, column in columns:
            tables.setdefault((schema, table), []).append(column)
        for (schema, table), names in tables.items():
            hits = ", ".join(
                f'coalesce(bool_or(contains(t."{name}"::varchar, n.text)), false)' for name in names
            )
            rows = con.execute(
                f'select n.text, {hits} from "{schema}"."{table}" as t, '
                "unnest(?::varchar[]) as n(text) group by n.text",
                [list(texts)],
            ).fetchall()
            for text, *contained in rows:
                for name, hit in zip(names, contained, strict=True):
                    if hit:
                        found[text].append(f"{schema}.{table}.{name}")
    return found


def cohort_sizes(serving: Path) -> dict[int, int]:
    """Citizens per arrival cohort as published: large, unsuppressed totals."""
    with duckdb.connect(str(serving), read_only=True) as con:
        rows = con.execute(
            "select arrival_year, value::integer from marts.fct_case_outcomes "
            "where outcome_code = 'citizens' and programme = 'all' and sex = 'all' "
            "and age_band = 'all' and not is_suppressed"
        ).fetchall()
    return dict(rows)


def sample_lines(kind: str, cpr_digits: str) -> list[str]:
    """The sample's lines of one citizen (``cpr_digits``: 10 digits), in either CPR form."""
    lines = []
    for path in sorted(SAMPLE_CASES.glob(f"{kind}_*.csv")):
        column = 0 if kind == "citizens" else 1
        for line in path.read_text(encoding="utf-8").splitlines()[1:]:
            if line.split(";")[column].replace("-", "") == cpr_digits:
                lines.append(line)
    return lines


@pytest.fixture
def cases_copy(published_copy: Settings, tmp_path, monkeypatch) -> Settings:
    """The session night's copy, with its case extracts in a folder a test may add to."""
    shutil.copytree(SAMPLE_CASES, tmp_path / "cases")
    return use_folders(
        monkeypatch,
        published_copy.warehouse_dir,
        published_copy.source_dir,
        CASES_SOURCE_DIR=str(tmp_path / "cases"),
        BAROMETER_CASE_RETENTION_YEARS=str(RETENTION_YEARS),
    )


def a_recent_citizen(settings: Settings) -> tuple[str, str, int]:
    """CPR number, pseudonym and arrival year of a sample citizen of a large 2024 cohort."""
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        cohort = {
            row[0]
            for row in con.execute(
                "select citizen_id from intermediate.int_citizens_current "
                "where year(arrival_date) = 2024"
            ).fetchall()
        }
    first = SAMPLE_CASES / "citizens_20250106.csv"
    with first.open(encoding="utf-8") as handle:
        for line in csv.reader(handle, delimiter=";"):
            if line[0] != "cpr" and pseudonym(line[0], settings.pseudonym_key) in cohort:
                return line[0], pseudonym(line[0], settings.pseudonym_key), 2024
    raise AssertionError("no 2024 citizen in the sample")


def expiring(settings: Settings) -> dict[str, int | None]:
    """Citizens whose last activity is before the cutoff, with their arrival year (None for
    one without a citizen record): computed here, not by the code under test."""
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        rows = con.execute(
            f"""
            with activity as (
                select citizen_id, event_date as day from raw.case_events
                union all select citizen_id, end_date from raw.case_events
                union all select citizen_id, arrival_date from raw.case_citizens
            ),
            last as (select citizen_id, max(day) as day from activity group by citizen_id)
            select last.citizen_id, year(current.arrival_date)
            from last left join intermediate.int_citizens_current as current using (citizen_id)
            where last.day < date '{CUTOFF}'
            """
        ).fetchall()
    return dict(rows)


def test_an_erased_citizen_and_the_expired_ones_are_gone_after_one_night(cases_copy):
    settings = cases_copy
    cpr, erased, year = a_recent_citizen(settings)
    expired = expiring(settings)
    assert len(expired) > 10 and erased not in expired
    before = cohort_sizes(settings.serving_path)
    cpr_file = settings.warehouse_dir.parent / "erase.txt"
    cpr_file.write_text(f"# request 2026-17\n{cpr}\n\n{cpr.replace('-', '')}\n")

    erasing = barometer("erase-citizens", "--cpr-file", str(cpr_file))
    assert erasing.returncode == 0, erasing.stderr
    assert "Erased 1 citizen(s) (1 held in the warehouse)" in erasing.stdout
    # Gone at once from every table, raw and built; recorded by pseudonym only.
    assert where_found(settings.warehouse_path, erased)[erased] == [
        "raw.erased_citizens.citizen_id"
    ]
    record = settings.warehouse_dir / erasure.RECORD_NAME
    assert stat.S_IMODE(record.stat().st_mode) == 0o600
    assert erased in record.read_text()
    # No source is fresher now: the next night learns from the state what to rebuild.
    rebuild = settings.dbt_state_dir / REBUILD_FILE
    assert "int_citizen_milestones" in rebuild.read_text().split()

    # The case system sends the citizen again, and nobody else.
    digits = cpr.replace("-", "")
    for kind in ("citizens", "events"):
        lines = sample_lines(kind, digits)
        header = (SAMPLE_CASES / f"{kind}_20250106.csv").read_text().splitlines()[0]
        resent = settings.cases_source_dir / f"{kind}_{NIGHT}.csv"
        resent.write_text("\n".join([header, *lines]) + "\n", encoding="utf-8")

    night = barometer("refresh")
    assert night.returncode == 0, night.stdout[-3000:] + night.stderr[-3000:]
    # A build of what changed, not of everything; its success cleared the list.
    assert json.loads((settings.dbt_target_dir / NIGHT_FILE).read_text())["changed_only"]
    assert not rebuild.exists()
    for output in (erasing.stdout, erasing.stderr, night.stdout, night.stderr):
        assert cpr not in output and digits not in output
    assert cpr not in record.read_text() and digits not in record.read_text()

    # The re-sent rows were not loaded: rejects by file and line, with the reason.
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        rejects = con.execute(
            "select source_file, count(*) from raw.case_rejects where reason = 'erased citizen' "
            "group by all order by all"
        ).fetchall()
        loads = con.execute(
            f"select source_file, rows_loaded, rows_rejected from raw.case_loads "
            f"where source_file like '%{NIGHT}%' order by all"
        ).fetchall()
        recorded = dict(
            con.execute(
                "select citizen_id, reason from raw.erased_citizens order by all"
            ).fetchall()
        )
    sent = {kind: len(sample_lines(kind, digits)) for kind in ("citizens", "events")}
    assert rejects == [(f"citizens_{NIGHT}.csv", sent["citizens"]),
                       (f"events_{NIGHT}.csv", sent["events"])]  # fmt: skip
    assert loads == [(f"citizens_{NIGHT}.csv", 0, sent["citizens"]),
                     (f"events_{NIGHT}.csv", 0, sent["events"])]  # fmt: skip
    assert recorded == {erased: "erasure", **dict.fromkeys(expired, "retention")}

    # Gone from every table, and from the published counts: the erased citizen from their
    # cohort, the expired ones from theirs (the sizes are large, never suppressed).
    citizens = [erased, *expired]
    in_warehouse = where_found(settings.warehouse_path, *citizens)
    in_serving = where_found(settings.serving_path, *citizens)
    for citizen in citizens:
        assert in_warehouse[citizen] == ["raw.erased_citizens.citizen_id"], citizen
        assert in_serving[citizen] == [], citizen
    after = cohort_sizes(settings.serving_path)
    lost = {year: 1}
    for arrival in expired.values():
        if arrival is not None:
            lost[arrival] = lost.get(arrival, 0) + 1
    assert after == {
        cohort: size - lost.get(cohort, 0)
        for cohort, size in before.items()
        if size - lost.get(cohort, 0) > 0
    }
    assert after[year] == before[year] - 1


def test_a_restore_from_before_an_erasure_erases_again(published_copy, tmp_path):
    settings = published_copy
    cpr, erased, _ = a_recent_citizen(settings)
    backup = tmp_path / "backup.duckdb"
    shutil.copyfile(settings.warehouse_path, backup)
    erasing = barometer("erase-citizens", "--cpr-file", "-", stdin=f"{cpr}\n")
    assert erasing.returncode == 0, erasing.stderr
    assert where_found(settings.warehouse_path, erased)[erased] == [
        "raw.erased_citizens.citizen_id"
    ]

    shutil.copyfile(backup, settings.warehouse_path)  # the restore of the older backup
    assert "raw.case_events.citizen_id" in where_found(settings.warehouse_path, erased)[erased]
    with duckdb.connect(str(settings.warehouse_path)) as con:
        assert erasure.reapply_erasures(con, settings) == 1
        assert erasure.reapply_erasures(con, settings) == 0  # once is enough
    assert where_found(settings.warehouse_path, erased)[erased] == [
        "raw.erased_citizens.citizen_id"
    ]
    # Recorded once in the file, as at the erasure: the re-application adds nothing to it.
    assert (settings.warehouse_dir / erasure.RECORD_NAME).read_text().count(erased) == 1


def test_a_malformed_cpr_file_names_its_line_and_erases_nothing(published_copy, tmp_path):
    settings = published_copy
    cpr, erased, _ = a_recent_citizen(settings)
    bad = "3113991234"  # CPR-shaped, but 31 November 1999 is no date
    cpr_file = tmp_path / "erase.txt"
    cpr_file.write_text(f"{cpr}\n\n{bad}\n")
    erasing = barometer("erase-citizens", "--cpr-file", str(cpr_file))
    assert erasing.returncode == 2
    assert erasing.stderr.strip() == (
        f"barometer: {cpr_file}, line 3: not a CPR number: the first six digits are not a "
        "date; nothing was erased"
    )
    assert bad not in erasing.stderr + erasing.stdout and cpr not in erasing.stderr
    assert "raw.case_events.citizen_id" in where_found(settings.warehouse_path, erased)[erased]
    assert not (settings.warehouse_dir / erasure.RECORD_NAME).exists()


def test_an_erasure_never_runs_during_a_night(published_copy, tmp_path):
    settings = published_copy
    cpr, erased, _ = a_recent_citizen(settings)
    with refresh_lock(settings.warehouse_dir):  # a night holds the warehouse
        erasing = barometer("erase-citizens", "--cpr-file", "-", stdin=f"{cpr}\n")
    assert erasing.returncode == 1
    assert f"Another refresh is running on {settings.warehouse_dir}" in erasing.stderr
    assert f"process {os.getpid()}" in erasing.stderr
    assert "raw.case_events.citizen_id" in where_found(settings.warehouse_path, erased)[erased]
