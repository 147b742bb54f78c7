"""Incremental case nights against a full rebuild, and the nightly uniqueness tests.

A night rebuilds only the citizens it touched (int_citizens_changed). Each delta below touches
citizens in one of the ways a night can, and changes their milestones, so a night that missed
one would leave a stale row that `dbt build --full-refresh` of the same raw tables does not.
"""

import csv
import re
import shutil
from datetime import datetime

import dagster as dg
import duckdb
import pytest
from conftest import dbt, refresh
from test_cases_end_to_end import SAMPLE_CASES, case_settings

from orchestration.definitions import build_definitions
from orchestration.settings import DBT_PROJECT_DIR
from orchestration.sources.pseudonyms import pseudonym
from orchestration.transform.dbt_process import STATE_VARIABLES

NIGHT = "20250110"  # the night after the sample's last
NEWCOMER = "150585-4321"  # not in the sample; arrives in 2011, a cohort nobody else is in
CASE_TABLES = [
    ("intermediate.int_citizen_milestones", "* exclude (changed_at)"),
    ("intermediate.int_citizens_changed", "citizen_id"),
    ("intermediate.int_case_outcomes_aggregated", "*"),
    ("marts.fct_case_outcomes", "*"),
    ("marts.fct_local_vs_national", "*"),
]

# Built by the first night only: the nights after it brought no new export.
BAROMETER_TABLES = [("marts.fct_target_gap", "*"), ("marts.fct_scorecard", "*")]


def rows(path, table: str, columns: str = "*") -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(f"select {columns} from {table} order by all").fetchall()


def sample_citizens(key: str) -> dict[str, list[str]]:
    """The latest line of each sample citizen, by pseudonym (the test must write CPR numbers)."""
    latest = {}
    for path in sorted(SAMPLE_CASES.glob("citizens_*.csv")):
        with path.open(encoding="utf-8") as handle:
            for line in csv.reader(handle, delimiter=";"):
                if line[0] != "cpr":
                    latest[pseudonym(line[0], key)] = line
    return latest


def one_event_of(con, event_type: str) -> tuple:
    """A citizen whose only active event of this type is the one returned, and a citizen
    with none: moving the event between them changes both milestones."""
    event = con.execute(
        "select event_id, citizen_id, event_date from intermediate.int_case_events_resolved "
        "where is_active and event_type = ? and citizen_id in (select citizen_id "
        "  from intermediate.int_case_events_resolved where is_active and event_type = ? "
        "  group by citizen_id having count(*) = 1) "
        "order by event_id limit 1",
        [event_type, event_type],
    ).fetchone()
    without = con.execute(
        "select citizen_id from intermediate.int_citizens_current where citizen_id not in ("
        "  select citizen_id from intermediate.int_case_events_resolved where event_type = ?) "
        "order by citizen_id limit 1",
        [event_type],
    ).fetchone()[0]
    return event, without


def milestones(path, citizen_id: str) -> dict:
    with duckdb.connect(str(path), read_only=True) as con:
        cursor = con.execute(
            "select * from intermediate.int_citizen_milestones where citizen_id = ?", [citizen_id]
        )
        row = cursor.fetchone()
        return dict(zip([c[0] for c in cursor.description], row, strict=True))


@pytest.fixture(scope="module")
def nights(published, tmp_path_factory):
    """The sample, then a night of crafted changes, then a night with no delta at all.

    The sample's night is the session's ``published`` one (the same exports and extracts),
    copied: the extracts are copied with their times, so the copy finds them loaded."""
    root = tmp_path_factory.mktemp("nights")
    cases = root / "cases"
    shutil.copytree(SAMPLE_CASES, cases)
    shutil.copytree(published.warehouse_dir, root / "warehouse", symlinks=True)
    with pytest.MonkeyPatch.context() as monkeypatch:
        settings = case_settings(monkeypatch, root, cases)
        key = settings.pseudonym_key
        people = sample_citizens(key)
        with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
            clarified, unclarified = one_event_of(con, "kompetenceafklaring")
            intern, no_intern = one_event_of(con, "virksomhedspraktik")
            moved = con.execute(
                "select citizen_id, arrival_date from intermediate.int_citizens_current "
                "where programme = 'integrationsprogram' and year(arrival_date) >= 2017 "
                "and birth_year < year(arrival_date) - 1 "
                "and citizen_id not in (?, ?, ?, ?) order by citizen_id limit 1",
                [clarified[1], unclarified, intern[1], no_intern],
            ).fetchone()
        # A citizen record changed without any event: arrival a year earlier (another cohort).
        record = list(people[moved[0]])
        record[6] = moved[1].replace(year=moved[1].year - 1, day=1).isoformat()
        newcomer = [NEWCOMER, "Ny", "Borger", "1985-05-15", "K", "Syrien", "2011-05-02",
                    "integrationsprogram", ""]  # fmt: skip
        write(cases / f"citizens_{NIGHT}.csv", [record, newcomer])
        write(
            cases / f"events_{NIGHT}.csv",
            [
                # The same event, now of another citizen: both citizens' milestones change.
                [clarified[0], people[unclarified][0], "kompetenceafklaring",
                 clarified[2].isoformat(), "", "", "", "0"],
                # A correction (a new id) that names another citizen than the event it replaces.
                ["99000101", people[no_intern][0], "virksomhedspraktik", intern[2].isoformat(),
                 "", "", str(intern[0]), "0"],
                ["99000102", NEWCOMER, "visitation", "2011-05-10", "", "", "", "0"],
            ],
        )  # fmt: skip
        delta_night = refresh(settings)
        assert delta_night.success
        after_delta = {t: rows(settings.warehouse_path, t) for t, _ in CASE_TABLES}
        quiet_night = refresh(settings)
        assert quiet_night.success  # no new file: nothing changes
    touched = {
        "clarified": clarified, "unclarified": unclarified, "intern": intern,
        "no_intern": no_intern, "moved": moved, "newcomer": pseudonym(NEWCOMER, key),
        "rebuilt": {"delta": dbt_rebuilt(delta_night), "quiet": dbt_rebuilt(quiet_night)},
    }  # fmt: skip
    return settings, touched, after_delta


def dbt_rebuilt(result) -> dict[tuple, bool]:
    """Whether the night's dbt step rebuilt each of its assets (schema, name)."""
    return {
        tuple(m.asset_key.path): m.metadata["dbt_rebuilt"].value
        for m in result.asset_materializations_for_node("dbt_warehouse")
    }


def copy_of(settings, tmp_path, monkeypatch):
    """A copy of the nights' warehouse folder (its dbt state and Data Docs with it), on the
    same case extracts, for a test to change without touching the other tests' nights."""
    shutil.copytree(settings.warehouse_dir, tmp_path / "warehouse")
    return case_settings(monkeypatch, tmp_path, settings.cases_source_dir)


def load_duplicate_event(path, loaded_at: datetime) -> None:
    """A loader fault: a second row of an event id already loaded and read downstream."""
    with duckdb.connect(str(path)) as con:
        con.execute(
            "insert into raw.case_events select * replace (?::timestamp as loaded_at) "
            "from raw.case_events order by event_id limit 1",
            [loaded_at],
        )


def write(path, lines: list[list[str]]) -> None:
    header = (
        "cpr;fornavn;efternavn;foedselsdato;koen;statsborgerskab;ankomstdato;program;asylcenter"
        if path.name.startswith("citizens")
        else "event_id;cpr;haendelse;dato;slutdato;detalje;erstatter_event_id;annulleret"
    )
    path.write_text("\n".join([header, *(";".join(map(str, x)) for x in lines)]) + "\n")


def test_the_night_changed_every_citizen_it_touched(nights):
    settings, touched, _ = nights
    path = settings.warehouse_path
    clarified, intern = touched["clarified"], touched["intern"]
    assert milestones(path, clarified[1])["competence_clarification_date"] is None
    assert milestones(path, touched["unclarified"])["competence_clarification_date"] is not None
    assert milestones(path, intern[1])["first_internship_date"] is None
    assert milestones(path, touched["no_intern"])["first_internship_date"] is not None
    assert milestones(path, touched["moved"][0])["arrival_year"] == touched["moved"][1].year - 1
    assert milestones(path, touched["newcomer"])["arrival_year"] == 2011
    cohorts = {r[0] for r in rows(settings.serving_path, "marts.fct_case_outcomes", "arrival_year")}
    assert 2011 in cohorts


def test_a_night_without_a_delta_changes_nothing(nights):
    settings, _, after_delta = nights
    for table, _ in CASE_TABLES:
        assert rows(settings.warehouse_path, table) == after_delta[table], table


def test_the_nights_equal_a_full_rebuild(nights, tmp_path, monkeypatch):
    settings, _, _ = nights
    rebuilt = copy_of(settings, tmp_path, monkeypatch)
    full = ["build", "--full-refresh", "--exclude-resource-type", "unit_test"]
    result = dbt(rebuilt.warehouse_path, tmp_path / "target", *full)
    assert result.returncode == 0, result.stdout[-3000:]
    for table, columns in [*CASE_TABLES, *BAROMETER_TABLES]:
        assert rows(rebuilt.warehouse_path, table, columns) == rows(
            settings.warehouse_path, table, columns
        ), table


# --- what a night rebuilds: what changed since the last night, by dbt's own state ----------------

TARGET_GAP = ("marts", "fct_target_gap")
CASE_OUTCOMES = ("marts", "fct_case_outcomes")


def test_a_case_night_rebuilds_what_the_cases_feed_and_records_the_rest_as_it_is(nights):
    settings, touched, _ = nights
    delta, quiet = touched["rebuilt"]["delta"], touched["rebuilt"]["quiet"]
    dbt_assets = build_definitions(settings).get_assets_def(dg.AssetKey(list(TARGET_GAP))).keys
    # What was rebuilt is materialized, and every mart each night, rebuilt or not, so that
    # nothing downstream (gates, publishing) waits; a model left as it was that only dbt reads
    # keeps its last materialization.
    marts = {tuple(key.path) for key in dbt_assets if key.path[0] == "marts"}
    assert set(quiet) == marts and marts < set(delta) <= {tuple(key.path) for key in dbt_assets}
    assert set(delta) == marts | {key for key, rebuilt in delta.items() if rebuilt}
    assert delta[CASE_OUTCOMES] and delta[("intermediate", "int_case_events_resolved")]
    assert not delta[TARGET_GAP] and ("reference", "municipalities") not in delta
    assert not any(quiet.values())  # no new file at all: nothing to rebuild


def test_a_changed_export_rebuilds_the_barometer_models_and_not_the_case_ones(
    nights, tmp_path, monkeypatch
):
    settings, _, _ = nights
    copy = copy_of(settings, tmp_path, monkeypatch)
    export = copy.source_dir / "barometer_1_arbejde.csv"
    lines = export.read_text(encoding="utf-8").splitlines()
    at = next(i for i, line in enumerate(lines) if ";101;" in line)
    fields = lines[at].split(";")
    revised = round(float(fields[7].replace(",", ".")) + 0.1, 1)  # a revision for Copenhagen
    fields[7] = str(revised).replace(".", ",")
    lines[at] = ";".join(fields)
    export.write_text("\n".join(lines) + "\n", encoding="utf-8")

    result = refresh(copy)

    assert result.success
    rebuilt = dbt_rebuilt(result)
    assert rebuilt[TARGET_GAP] and not rebuilt[CASE_OUTCOMES]
    before = rows(settings.warehouse_path, "marts.fct_indicator_values", "value")
    after = rows(copy.warehouse_path, "marts.fct_indicator_values", "value")
    assert (revised,) in after and after != before


def test_a_new_small_cell_threshold_rebuilds_everything(nights, tmp_path, monkeypatch):
    settings, _, _ = nights
    monkeypatch.setenv("BAROMETER_MIN_CELL", str(settings.min_cell + 5))
    copy = copy_of(settings, tmp_path, monkeypatch)

    result = refresh(copy)

    assert result.success
    assert all(dbt_rebuilt(result).values())
    suppressed = "count(*) filter (where is_suppressed)"
    assert rows(copy.warehouse_path, "marts.fct_case_outcomes", suppressed) > rows(
        settings.warehouse_path, "marts.fct_case_outcomes", suppressed
    )


def test_a_failed_night_leaves_the_last_record_for_the_next(nights, tmp_path, monkeypatch):
    settings, _, _ = nights
    copy = copy_of(settings, tmp_path, monkeypatch)
    recorded = (copy.dbt_state_dir / "sources.json").read_bytes()
    # The raw gate sees one new row; dbt's uniqueness test sees the duplicate.
    load_duplicate_event(copy.warehouse_path, datetime(2030, 1, 1))

    result = refresh(copy)

    assert not result.success
    failed = [e.step_key for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    assert failed == ["dbt_warehouse"]  # dbt ran, and its test failed
    # The next night compares with the last good one, so it rebuilds (and tests) all of this.
    assert (copy.dbt_state_dir / "sources.json").read_bytes() == recorded


def test_every_variable_the_models_read_is_kept_with_the_state():
    read = {
        name
        for path in [
            *DBT_PROJECT_DIR.glob("models/**/*.sql"),
            *DBT_PROJECT_DIR.glob("macros/**/*.sql"),
        ]
        for name in re.findall(r"env_var\(\s*'(\w+)'", path.read_text(encoding="utf-8"))
    }
    assert read and read <= set(STATE_VARIABLES)


# --- uniqueness tests that read only the night's keys -------------------------------------------


def test_a_duplicate_fails_the_night_and_every_night_after_until_it_is_gone(
    nights, tmp_path, monkeypatch
):
    settings, _, _ = nights
    copy = copy_of(settings, tmp_path, monkeypatch)
    load_duplicate_event(copy.warehouse_path, datetime(2030, 1, 1))
    for night in range(2):  # the night of the fault, and the next one
        if night:
            # The next night loads a new event (no duplicate): the old one is still checked.
            with duckdb.connect(str(copy.warehouse_path)) as con:
                con.execute(
                    "insert into raw.case_events select * replace "
                    "(99000201 as event_id, ?::timestamp as loaded_at) "
                    "from raw.case_events order by event_id limit 1",
                    [datetime(2030, 1, 2)],
                )
        build = ["build", "--exclude-resource-type", "unit_test"]
        result = dbt(copy.warehouse_path, tmp_path / "target", *build)
        assert result.returncode != 0, night
        assert "FAIL 1 unique_since_consumed_stg_cases__events" in result.stdout, night
        # dbt skipped the consumer: its watermark still leaves the duplicate unread.
        assert "SKIP relation intermediate.int_case_events_resolved" in result.stdout, night


def test_without_its_consumer_the_uniqueness_test_checks_every_row(nights, tmp_path, monkeypatch):
    settings, _, _ = nights
    copy = copy_of(settings, tmp_path, monkeypatch)
    with duckdb.connect(str(copy.warehouse_path)) as con:
        # An old duplicate (read long ago) is not the test's to find while the consumer
        # stands; without the consumer every key is checked.
        con.execute(
            "insert into intermediate.int_case_events_resolved select * "
            "from intermediate.int_case_events_resolved order by event_id limit 1"
        )
        con.execute("drop table intermediate.int_citizens_changed")
    selection = "int_case_events_resolved,test_name:unique_since_consumed"
    result = dbt(copy.warehouse_path, tmp_path / "target", "test", "--select", selection)
    assert result.returncode != 0
    assert "FAIL 1 unique_since_consumed_int_case_events_resolved" in result.stdout
