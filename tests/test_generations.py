"""One night, one generation: a night killed at any step leaves readers one whole night, and
the next night removes its leftovers and publishes what an undisturbed night would have."""

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
from conftest import read_table, refresh, use_folders

from orchestration.assets.publish import MART_TABLES
from orchestration.publish.generation import PENDING, PUBLISHED, STAMP

BIN = Path(sys.executable).parent
# Every step of the night, in its order (settings.kill_point); killed one after the other on
# the same warehouse, then one good night: 8 killed nights + 1 good one in a single test, as a
# good night after each would double the time of the slowest test of the suite.
KILL_POINTS = [
    "extract",
    "raw_quality",
    "dbt",
    "marts_quality",
    "serving",
    "report",
    "publish:before_swap",
    "publish:after_swap",
]


def night(settings, kill_at: str | None = None) -> subprocess.CompletedProcess:
    """``barometer refresh`` in a process group of its own: a kill point kills the group."""
    env = {
        **os.environ,
        "BAROMETER_WAREHOUSE_DIR": str(settings.warehouse_dir),
        "BAROMETER_SOURCE_DIR": str(settings.source_dir),
    }
    env.pop("DAGSTER_HOME", None)
    if kill_at:
        env["BAROMETER_TEST_KILL_AT"] = kill_at
    return subprocess.run(
        [str(BIN / "barometer"), "refresh"], env=env, capture_output=True, text=True,
        start_new_session=True, timeout=900,
    )  # fmt: skip


def correct_an_export(settings) -> None:
    export = settings.source_dir / "barometer_2_uddannelse.csv"
    export.write_bytes(export.read_bytes().replace(b";62,5;", b";62,9;"))


def nights_seen(settings) -> set[str]:
    """The night each output a reader opens belongs to, through the paths readers use."""
    [(serving,)] = read_table(
        settings.serving_path, "(select max(published_at) from marts.publication)"
    )
    seen = {str(serving)}
    for parquet in settings.parquet_dir.glob("*.parquet"):
        seen.add(pq.read_schema(parquet).metadata[b"published_at"].decode())
    for page in (settings.report_dir / "index.html", settings.dbt_docs_dir / "index.html"):
        head = page.read_text(encoding="utf-8")[:20_000]
        seen.add(re.search(f'<meta name="{STAMP}" content="([^"]+)">', head)[1])
    return seen


def raw_counts(settings) -> list[int]:
    tables = ("raw.barometer_loads", "raw.barometer_indicator_values", "raw.case_loads")
    return [len(read_table(settings.warehouse_path, table)) for table in tables]


def published_tables(settings) -> dict[str, list[tuple]]:
    """Every mart in serving.duckdb and in its Parquet copy, without the load ids (named after
    the moment of the load); the publication rows differ by date and are left out."""
    tables = {}
    with duckdb.connect() as con:
        con.execute(f"attach '{settings.serving_path}' as serving (read_only)")
        for table in MART_TABLES:
            path = settings.parquet_dir / f"{table}.parquet"
            for name, relation in [(table, f"serving.marts.{table}"), (path.name, f"'{path}'")]:
                names = [c[0] for c in con.execute(f"select * from {relation} limit 0").description]
                kept = ", ".join(f'"{n}"' for n in names if n != "source_load_id")
                tables[name] = con.execute(f"select {kept} from {relation} order by all").fetchall()
    return tables


def leftovers(settings) -> list[str]:
    found = [str(p) for p in settings.warehouse_dir.rglob(".*.tmp*")]
    published = settings.warehouse_dir / PUBLISHED
    found += [str(p) for p in published.iterdir() if p.name == PENDING]
    folders = [p for p in published.iterdir() if p.is_dir() and not p.is_symlink()]
    if len(folders) > 2:
        found.append(f"{len(folders)} generations")
    loads = {
        load_id for (load_id, *_) in read_table(settings.warehouse_path, "raw.barometer_loads")
    }
    found += [str(p) for p in (settings.warehouse_dir / "landing").iterdir() if p.name not in loads]
    return found


def test_a_night_killed_at_any_step_shows_one_night_and_the_next_publishes_as_undisturbed(
    published_copy, tmp_path, monkeypatch
):
    undisturbed_root = tmp_path / "undisturbed"
    undisturbed_root.mkdir()
    # Copied before the copy is touched, so both start from the same night.
    subprocess.run(
        ["cp", "-a", str(published_copy.warehouse_dir), str(undisturbed_root)], check=True
    )
    subprocess.run(["cp", "-a", str(published_copy.source_dir), str(undisturbed_root)], check=True)
    killed = published_copy
    correct_an_export(killed)
    undisturbed = use_folders(
        monkeypatch, undisturbed_root / "warehouse", undisturbed_root / "source"
    )
    correct_an_export(undisturbed)
    assert refresh(undisturbed).success

    first = nights_seen(killed)
    assert len(first) == 1
    for point in KILL_POINTS:
        ended = night(killed, kill_at=point)
        assert ended.returncode == -signal.SIGKILL, (point, ended.stderr[-2000:])
        seen = nights_seen(killed)
        assert len(seen) == 1, (point, seen)  # one whole night, whichever it is
        assert seen == first or point == "publish:after_swap", point

    good = night(killed)

    assert good.returncode == 0, good.stdout[-3000:] + good.stderr[-3000:]
    # Said in the night's full log, whose path the first line names.
    log = Path(good.stdout.splitlines()[0].rsplit("full log: ", 1)[1].rstrip(")"))
    assert "Removed what a killed night left" in log.read_text(encoding="utf-8")
    assert leftovers(killed) == []
    assert len(nights_seen(killed)) == 1 and nights_seen(killed) != first
    assert raw_counts(killed) == raw_counts(undisturbed)
    assert published_tables(killed) == published_tables(undisturbed)
    # The history travels with the file: the first night, the killed-after-switch one, tonight.
    assert len(read_table(killed.serving_path, "marts.publication")) == 3
