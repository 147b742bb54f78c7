"""Faults an operator meets, with real processes and real files: each is named in one sentence,
and neither serving.duckdb nor the raw history is harmed."""

import hashlib
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import pytest
from conftest import read_table, refresh

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


def fill(mount: Path, leave_bytes: int) -> Path:
    ballast = mount / "ballast"
    free = shutil.disk_usage(mount).free
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
    published_copy, small_disk
):
    serving_before, raw_before = sha256(published_copy.serving_path), raw_counts(published_copy)
    parquet_before = {p.name: sha256(p) for p in published_copy.parquet_dir.iterdir()}
    ballast = fill(small_disk, leave_bytes=published_copy.serving_path.stat().st_size // 3)
    job = build_definitions(published_copy).resolve_job_def("nightly_refresh")

    publish = job.execute_in_process(asset_selection=[dg.AssetKey("serving")], raise_on_error=False)

    assert not publish.success
    [failure] = [e for e in publish.all_events if e.is_step_failure]
    assert f"The disk holding {published_copy.warehouse_dir} is full" in (
        failure.step_failure_data.error.message
    )
    assert sha256(published_copy.serving_path) == serving_before
    assert {p.name: sha256(p) for p in published_copy.parquet_dir.iterdir()} == parquet_before
    assert sorted(p.name for p in published_copy.warehouse_dir.iterdir() if ".tmp" in p.name) == []
    assert raw_counts(published_copy) == raw_before

    ballast.unlink()
    assert refresh(published_copy).success
    assert read_table(published_copy.serving_path, "marts.dim_indicator")
