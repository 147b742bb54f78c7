"""A night with nothing new since the last good one starts no run, and anything new starts one
(automation/nothing_new.py): the command line, the 02:00 schedule and the freshness checks."""

import json
import shutil
from pathlib import Path

import dagster as dg
import pytest
from conftest import use_folders

from orchestration.automation import nothing_new as record
from orchestration.automation.freshness import WATCHED
from orchestration.automation.schedules import nightly_refresh_schedule
from orchestration.cli import main
from orchestration.publish.generation import current
from orchestration.settings import Settings


def folders(monkeypatch: pytest.MonkeyPatch, root: Path, **env: str) -> Settings:
    """The warehouse, exports and case extracts under ``root``."""
    return use_folders(monkeypatch, root / "warehouse", root / "source",
                       CASES_SOURCE_DIR=str(root / "cases"), **env)  # fmt: skip


@pytest.fixture
def night(published: Settings, tmp_path, monkeypatch) -> Settings:
    """A private copy of the published night (its case extracts with their times, its backups),
    to change one thing in. The record names the folders it was made for (a moved warehouse
    runs its next night in full), so the copy's is made again for the copy: the same run, its
    backup as copied."""
    shutil.copytree(published.warehouse_dir, tmp_path / "warehouse", symlinks=True)
    shutil.copytree(published.backup_dir, tmp_path / "warehouse-backups")
    shutil.copytree(published.source_dir, tmp_path / "source")
    shutil.copytree(published.cases_source_dir, tmp_path / "cases")
    settings = folders(monkeypatch, tmp_path)
    remember_again(settings)
    return settings


def remember_again(settings: Settings) -> record.GoodNight:
    """The record of the same good night, made for ``settings``."""
    made = json.loads((settings.warehouse_dir / record.RECORD).read_text())
    backup = settings.backup_dir / Path(made["backup"]).name
    record.remember(settings, made["run_id"], backup)
    found = record.nothing_new(settings)
    assert found is not None and found.run_id == made["run_id"]
    return found


def test_a_good_night_leaves_the_record_the_next_night_compares_with(published):
    settings = published
    found = record.nothing_new(settings)
    assert found is not None
    assert Path(found.backup).parent == settings.backup_dir
    assert oct((settings.warehouse_dir / record.RECORD).stat().st_mode & 0o777) == "0o600"


def test_a_night_with_nothing_new_starts_no_run_and_says_so(night, capsys):
    """Nothing written: no generation, backup, log or run; the console says why."""
    before = sorted(str(p) for p in night.warehouse_dir.parent.rglob("*"))
    generation = current(night.warehouse_dir)

    assert main(["refresh"]) == 0

    out = capsys.readouterr().out
    assert "nothing new since the night that ended" in out and "no run was started" in out
    assert "`barometer refresh --force`" in out
    assert len(out.splitlines()) <= 3
    assert current(night.warehouse_dir) == generation
    assert sorted(str(p) for p in night.warehouse_dir.parent.rglob("*")) == before


def test_the_freshness_checks_learn_that_the_night_looked(night, tmp_path, monkeypatch):
    """With a Dagster instance, both watched assets get an observation: current as of now."""
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    last = record.nothing_new(Settings.from_env())
    assert last is not None

    assert main(["refresh"]) == 0

    with dg.DagsterInstance.get() as instance:
        for key in WATCHED:
            [seen] = instance.fetch_observations(key, limit=5).records
            metadata = seen.asset_observation.metadata
            assert metadata["nothing_new_since_run"].value == last.run_id
            assert abs(metadata["dagster/last_updated_timestamp"].value - seen.timestamp) < 60


def test_the_schedule_skips_a_night_with_nothing_new_and_says_why(night):
    # Closed in order, as the daemon does: the context opens an instance of its own.
    with (
        dg.instance_for_test() as instance,
        dg.build_schedule_context(instance=instance, resources={"settings": night}) as context,
    ):
        skipped = nightly_refresh_schedule(context)
        assert isinstance(skipped, dg.SkipReason)
        assert "nothing new since the night that ended" in skipped.skip_message
        # The skipped tick tells the freshness checks, as the command line does.
        assert all(instance.fetch_observations(key, limit=1).records for key in WATCHED)


def test_the_schedule_runs_a_night_with_something_new(night):
    (night.cases_source_dir / "events_20990101.csv").write_text("new\n")
    with (
        dg.instance_for_test() as instance,
        dg.build_schedule_context(instance=instance, resources={"settings": night}) as context,
    ):
        assert isinstance(nightly_refresh_schedule(context), dg.RunRequest)


def _new_case_extract(settings: Settings) -> None:
    (settings.cases_source_dir / "events_20990101.csv").write_text("new\n")


def _touched_case_extract(settings: Settings) -> None:
    path = sorted(settings.cases_source_dir.glob("events_*.csv"))[-1]
    path.write_bytes(path.read_bytes() + b"\n")


def _changed_export(settings: Settings) -> None:
    export = settings.source_dir / "barometer_2_uddannelse.csv"
    export.write_bytes(export.read_bytes().replace(b";62,5;", b";62,9;"))


def _new_export(settings: Settings) -> None:
    shutil.copy(
        settings.source_dir / "barometer_2_uddannelse.csv",
        settings.source_dir / "barometer_7_ny.csv",
    )


def _export_gone(settings: Settings) -> None:
    (settings.source_dir / "barometer_2_uddannelse.csv").unlink()


def _published_link_gone(settings: Settings) -> None:
    settings.serving_path.unlink()


def _quality_docs_gone(settings: Settings) -> None:
    shutil.rmtree(settings.quality_docs_dir)


def _backup_gone(settings: Settings) -> None:
    shutil.rmtree(record.nothing_new(settings).backup)


def _dbt_record_gone(settings: Settings) -> None:
    shutil.rmtree(settings.dbt_state_dir)


def _erased_between_nights(settings: Settings) -> None:
    """What `barometer erase-citizens` leaves for the next night (raw/erasure.py)."""
    from orchestration.transform.dbt_process import rebuild_downstream

    rebuild_downstream(settings.dbt_state_dir, ["int_citizens_current"])


def _night_started(settings: Settings) -> None:
    """What a night does first (engines/duckdb/resource.py): it ends well, or leaves none."""
    record.forget(settings.warehouse_dir)


@pytest.mark.parametrize(
    "change",
    [
        _new_case_extract,
        _touched_case_extract,
        _changed_export,
        _new_export,
        _export_gone,
        _published_link_gone,
        _quality_docs_gone,
        _backup_gone,
        _dbt_record_gone,
        _erased_between_nights,
        _night_started,
    ],
)
def test_anything_new_or_missing_makes_a_night_run(night, change):
    change(night)
    assert record.nothing_new(night) is None


def test_an_export_dropped_makes_a_night_run(night, tmp_path, monkeypatch):
    drop = tmp_path / "drop"
    drop.mkdir()
    settings = folders(monkeypatch, night.warehouse_dir.parent, BAROMETER_DROP_DIR=str(drop))
    remember_again(settings)
    shutil.copy(night.source_dir / "barometer_2_uddannelse.csv", drop / "barometer_7_ny.csv")
    assert record.nothing_new(settings) is None


@pytest.mark.parametrize(
    "variable, value",
    [("BAROMETER_MIN_CELL", "6"), ("BAROMETER_REPORT_ALL", "true"), ("BAROMETER_BACKUP_KEEP", "3")],
)
def test_a_changed_setting_makes_a_night_run(night, monkeypatch, variable, value):
    settings = folders(monkeypatch, night.warehouse_dir.parent, **{variable: value})
    assert record.nothing_new(settings) is None


def test_a_download_source_always_makes_a_night_run(night, monkeypatch):
    url = "http://127.0.0.1:9/export.csv"
    settings = folders(monkeypatch, night.warehouse_dir.parent, BAROMETER_SOURCE_URL=url)
    assert record.nothing_new(settings) is None


def test_changed_code_makes_a_night_run(night, tmp_path, monkeypatch):
    """The record holds a digest of the package, the suites and the lock: measured here on a
    copy of the package, as the checkout itself is shared by the tests."""
    code = tmp_path / "orchestration"
    shutil.copytree(record.CODE[0], code, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(record, "CODE", (code, *record.CODE[1:]))
    remember_again(night)
    (code / "cli.py").write_text((code / "cli.py").read_text() + "\n# changed\n")
    assert record.nothing_new(night) is None


def test_a_failed_night_leaves_no_good_night_behind(night):
    """A night that fails after its start has removed the record: the next one runs in full."""
    shutil.rmtree(night.source_dir)
    night.source_dir.mkdir()
    assert main(["refresh"]) == 1  # no export at all: the extract fails
    assert not (night.warehouse_dir / record.RECORD).exists()


def test_force_runs_the_whole_night_though_nothing_is_new(night, capsys):
    last = record.nothing_new(night)
    assert main(["refresh", "--force"]) == 0
    assert "Nightly refresh succeeded" in capsys.readouterr().out
    ran = record.nothing_new(night)
    assert ran is not None and ran.run_id != last.run_id
