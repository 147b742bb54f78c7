"""Faults an operator meets, with real processes and real files: each is named in one sentence,
and neither serving.duckdb nor the raw history is harmed."""

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import pytest
from conftest import read_table, refresh, use_folders

from orchestration.automation.alerting import alerts_for_run, failure_reason, send
from orchestration.automation.alerts import AlertConfig
from orchestration.cli import main
from orchestration.definitions import build_definitions

BIN = Path(sys.executable).parent
HOLDER = "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('ready', flush=True); "
HOLDER += "time.sleep(120)"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def barometer_refresh(settings, **popen) -> subprocess.Popen:
    env = {
        **os.environ,
        "BAROMETER_WAREHOUSE_DIR": str(settings.warehouse_dir),
        "BAROMETER_SOURCE_DIR": str(settings.source_dir),
    }
    env.pop("DAGSTER_HOME", None)
    return subprocess.Popen(
        [str(BIN / "barometer"), "refresh"], env=env, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, **popen,
    )  # fmt: skip


def finish(process: subprocess.Popen) -> tuple[int, str, str]:
    out, err = process.communicate(timeout=600)
    return process.returncode, out, err


def test_a_warehouse_held_open_by_another_process_is_named_with_what_to_do(published_copy):
    before = sha256(published_copy.warehouse_path), sha256(published_copy.serving_path)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(published_copy.warehouse_path)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout.readline() == "ready\n"
        code, out, err = finish(barometer_refresh(published_copy))
    finally:
        holder.kill()
        holder.wait()

    assert code == 1 and out == ""
    assert err.count("\n") == 1
    assert err.startswith(
        f"barometer: {published_copy.warehouse_path} is held open by process {holder.pid} (python"
    )
    assert "close that program or wait for it to end" in err
    assert (sha256(published_copy.warehouse_path), sha256(published_copy.serving_path)) == before


def test_a_file_whose_free_blocks_were_trimmed_is_not_called_damaged(tmp_path):
    """DuckDB trims free blocks off the end of its file and still counts them in its total: a
    few nights of tables replaced by smaller ones make such a file, which is healthy."""
    import duckdb

    from orchestration.engines.duckdb.warehouse import check_opens

    database = tmp_path / "trimmed.duckdb"

    def shorter_than_its_total() -> bool:
        with duckdb.connect(str(database), read_only=True) as con:
            block_size, total = con.execute(
                "select block_size, total_blocks from pragma_database_size()"
            ).fetchone()
        return database.stat().st_size < 3 * 4096 + total * block_size

    with duckdb.connect(str(database)) as con:
        con.execute("create table kept as select range as i, random() as r from range(2000000)")
    for night in range(30):
        rows = 2_000_000 if night % 2 else 100
        with duckdb.connect(str(database)) as con:
            con.execute(f"create or replace table mart as select random() as r from range({rows})")
            con.execute(f"create or replace table t{night % 3} as select * from range({rows})")
        if shorter_than_its_total():
            break
    assert shorter_than_its_total(), "DuckDB no longer trims: this test needs another recipe"

    check_opens(database)

    with duckdb.connect(str(database), read_only=True) as con:
        assert con.execute("select count(*) from kept").fetchone() == (2_000_000,)


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda f: os.truncate(f, f.stat().st_size // 2), id="cut to half"),
        pytest.param(lambda f: os.truncate(f, 0), id="empty"),
        pytest.param(lambda f: f.write_bytes(b"\0" * 8192 + f.read_bytes()[8192:]), id="header"),
    ],
)
def test_a_damaged_warehouse_is_reported_and_never_rebuilt(published_copy, damage):
    damage(published_copy.warehouse_path)
    before = sha256(published_copy.warehouse_path), sha256(published_copy.serving_path)

    code, out, err = finish(barometer_refresh(published_copy))

    assert code == 1 and out == ""
    assert err.count("\n") == 1
    assert err.startswith(f"barometer: {published_copy.warehouse_path} is damaged")
    assert "left exactly as it is; restore it from the last backup" in err
    assert (sha256(published_copy.warehouse_path), sha256(published_copy.serving_path)) == before


def lock_holder(settings) -> str:
    lock = settings.warehouse_dir / "refresh.lock"
    return lock.read_text().strip() if lock.exists() else ""


def test_a_second_refresh_stops_while_the_first_runs_and_the_first_publishes(published_copy):
    first = barometer_refresh(published_copy)
    deadline = time.monotonic() + 60
    while lock_holder(published_copy) != str(first.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert lock_holder(published_copy) == str(first.pid)

    # The same refresh from the command line, and as a Dagster run of the job.
    code, out, err = finish(barometer_refresh(published_copy))
    job = build_definitions(published_copy).resolve_job_def("nightly_refresh")
    run = job.execute_in_process(raise_on_error=False)

    assert code == 1 and out == ""
    assert err.count("\n") == 1
    assert err.startswith(
        f"barometer: Another refresh is running on {published_copy.warehouse_dir}, in process "
        f"{first.pid} (python"
    )
    assert err.endswith(
        "barometer refresh): this one stopped without touching the warehouse; "
        "wait for that one to end\n"
    )
    assert not run.success
    failure = run.get_run_failure_event()
    assert "Another refresh is running" in str(failure.event_specific_data.error)
    assert finish(first)[0] == 0
    assert read_table(published_copy.serving_path, "marts.dim_indicator")


@pytest.fixture
def small_disk(published_copy, tmp_path):
    """The warehouse folder on its own small tmpfs: a disk that can really fill up (room for
    one warehouse with its report, docs and dbt target, as a real night needs)."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root (CI runs as root)")
    mount = tmp_path / "disk"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=512m", "tmpfs", str(mount)], check=True)
    shutil.copytree(published_copy.warehouse_dir, mount / "warehouse", symlinks=True)
    shutil.rmtree(published_copy.warehouse_dir)
    (published_copy.warehouse_dir).symlink_to(mount / "warehouse")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(mount: Path, leave_bytes: int, name: str = "ballast") -> Path:
    ballast = mount / name
    free = shutil.disk_usage(mount).free
    if free > leave_bytes:
        subprocess.run(["fallocate", "-l", str(free - leave_bytes), str(ballast)], check=True)
    return ballast


def raw_counts(settings) -> list:
    return [
        len(read_table(settings.warehouse_path, table))
        for table in ("raw.barometer_loads", "raw.barometer_indicator_values", "raw.case_loads")
    ]


def test_a_full_disk_during_the_load_fails_the_night_and_the_next_recovers(
    published_copy, small_disk
):
    export = published_copy.source_dir / "barometer_2_uddannelse.csv"
    export.write_bytes(export.read_bytes().replace(b";62,5;", b";62,9;"))  # a corrected export
    before = sha256(published_copy.serving_path), raw_counts(published_copy)
    ballast = fill(small_disk, leave_bytes=export.stat().st_size // 2)

    result = refresh(published_copy)

    assert not result.success
    [failure] = [e for e in result.all_events if e.is_step_failure]
    assert failure.step_key == "barometer_extract"
    message = failure.step_failure_data.error.message
    assert f"The disk holding {published_copy.warehouse_dir} is full" in message
    assert "free space there and run the refresh again" in message
    assert (sha256(published_copy.serving_path), raw_counts(published_copy)) == before

    ballast.unlink()
    assert refresh(published_copy).success
    loads, values, cases = raw_counts(published_copy)
    assert loads == before[1][0] + 1  # the corrected export, loaded once
    assert cases == before[1][2]


def test_a_full_disk_during_publish_keeps_serving_and_the_next_night_recovers(
    published_copy, small_disk, webhook, capsys
):
    serving_before, raw_before = sha256(published_copy.serving_path), raw_counts(published_copy)
    parquet_before = {p.name: sha256(p) for p in published_copy.parquet_dir.iterdir()}
    ballast = fill(small_disk, leave_bytes=published_copy.serving_path.stat().st_size // 3)

    message = step_on_a_full_disk(published_copy, "serving", webhook, capsys)

    assert message.startswith(f"The disk holding {published_copy.warehouse_dir} {FULL}")
    assert SAYS in message and "\n" not in message and "No space left on device" in message
    assert not (published_copy.warehouse_dir / "published" / "pending").exists()
    assert sha256(published_copy.serving_path) == serving_before
    assert {p.name: sha256(p) for p in published_copy.parquet_dir.iterdir()} == parquet_before
    assert sorted(p.name for p in published_copy.warehouse_dir.iterdir() if ".tmp" in p.name) == []
    assert raw_counts(published_copy) == raw_before

    ballast.unlink()
    (small_disk / "ballast_for_alerts").unlink(missing_ok=True)
    assert refresh(published_copy).success
    assert read_table(published_copy.serving_path, "marts.dim_indicator")


FULL = "is full ("
SAYS = "the night stopped and the published serving.duckdb is as it was; free space there"


def assert_alerted(message: str, webhook, err: str, settings) -> None:
    """The failure alert carries ``message`` to the webhook, and to standard error, since
    alerts.jsonl (on the full disk) could not be written."""
    [body] = webhook.bodies
    assert message.split(" (")[0] in json.dumps(body, ensure_ascii=False)
    assert f"not written to {settings.warehouse_dir / 'alerts.jsonl'}" in err
    assert "Nightly refresh failed" in err and message in err


def step_on_a_full_disk(settings, step: str, webhook, capsys) -> str:
    """Run one step on its own in the nightly job, then send its failure alert as
    `barometer refresh` does; the step's failure message, checked to be in the alert."""
    instance = dg.DagsterInstance.ephemeral()
    job = build_definitions(settings).resolve_job_def("nightly_refresh")
    run = job.execute_in_process(
        asset_selection=[dg.AssetKey(step)], raise_on_error=False, instance=instance
    )
    assert not run.success
    [failure] = [e for e in run.all_events if e.is_step_failure]
    config = AlertConfig(
        alerts_path=settings.warehouse_dir / "alerts.jsonl",
        webhook_url=webhook.url,
        webhook_format="slack",
        attempts=1,
    )
    capsys.readouterr()
    fill(settings.warehouse_dir.resolve().parent, leave_bytes=0, name="ballast_for_alerts")
    send(alerts_for_run(instance, run.dagster_run, config.ui_url), config, _Log())
    message = failure_reason(failure.step_failure_data.error)
    assert_alerted(message, webhook, capsys.readouterr().err, settings)
    return message


class _Log:
    def info(self, message: str) -> None:
        pass

    warning = info


def refresh_on_a_full_disk(settings, monkeypatch, webhook, capsys, **env) -> tuple[str, str]:
    """`barometer refresh` on a disk with no byte free: its one fault line, its stderr."""
    monkeypatch.setenv("ALERT_WEBHOOK_URL", webhook.url)
    monkeypatch.setenv("ALERT_WEBHOOK_FORMAT", "slack")
    use_folders(monkeypatch, settings.warehouse_dir, settings.source_dir, **env)
    capsys.readouterr()

    assert main(["refresh"]) == 1

    out, err = capsys.readouterr()
    lines = [line for line in out.splitlines() if line.startswith("Step '") and FULL in line]
    assert len(lines) == 1, out + err
    return lines[0], err


@pytest.fixture
def small_dbt_target(published_copy, small_disk):
    """dbt's target folder on a tmpfs too small for the manifest dbt writes: a disk that fills
    inside the dbt step, whatever dbt frees first by deleting its former files."""
    target = published_copy.dbt_target_dir
    shutil.rmtree(target)
    target.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(target)], check=True)
    try:
        yield target
    finally:
        subprocess.run(["umount", "-l", str(target)], check=False)


@pytest.mark.parametrize(
    ("step", "env", "disk"),
    [
        # A changed parameter: every suite is validated again and writes its Data Docs.
        pytest.param(
            "raw_quality", {"BAROMETER_MAX_REJECT_SHARE": "0.02"}, "small_disk", id="gate"
        ),
        pytest.param("dbt_warehouse", {}, "small_dbt_target", id="dbt"),
    ],
)
def test_a_full_disk_in_a_gate_or_dbt_is_one_line_and_the_alert_reaches_its_channels(
    published_copy, small_disk, webhook, capsys, monkeypatch, request, step, env, disk
):
    request.getfixturevalue(disk)
    serving_before = sha256(published_copy.serving_path)
    fill(small_disk, leave_bytes=0)

    line, err = refresh_on_a_full_disk(published_copy, monkeypatch, webhook, capsys, **env)

    assert line.startswith(
        f"Step '{step}' failed: The disk holding {published_copy.warehouse_dir} {FULL}"
    )
    assert line.endswith(SAYS + " and run the refresh again")
    assert "Traceback" not in line and "JSONDecodeError" not in line
    assert_alerted(line.split("failed: ", 1)[1], webhook, err, published_copy)
    assert sha256(published_copy.serving_path) == serving_before


def test_a_full_disk_while_the_report_is_built_is_one_line_and_alerted(
    published_copy, small_disk, webhook, capsys
):
    page_before = sha256(published_copy.report_dir / "index.html")
    fill(small_disk, leave_bytes=0)

    message = step_on_a_full_disk(published_copy, "report", webhook, capsys)

    assert message.startswith(f"The disk holding {published_copy.warehouse_dir} {FULL}")
    assert SAYS in message and "\n" not in message and "No space left on device" in message
    assert sha256(published_copy.report_dir / "index.html") == page_before
