"""Every way an export arrives, end to end: folder, download, drop folder; archive and rejects."""

import functools
import hashlib
import http.server
import shutil
import threading

import dagster as dg
import duckdb
import pytest
from conftest import refresh, use_folders

from orchestration.automation.sensors import barometer_drop_folder
from orchestration.settings import Settings

NONWESTERN = "Indvandrere og efterkommere med ikke-vestlig oprindelse"
EMPLOYMENT = "barometer_1_arbejde.csv"


def sha256(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def rows(path, sql: str) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql).fetchall()


def extract_metadata(result) -> dict:
    event = result.asset_materializations_for_node("barometer_extract")[0]
    return {key: value.value for key, value in event.metadata.items()}


class RecordingHandler(http.server.SimpleHTTPRequestHandler):
    """Serves a folder (with Last-Modified / If-Modified-Since) and records what it answered."""

    requests: list[tuple[str, str | None, int]]

    def send_response(self, code, message=None):
        self.requests.append((self.path, self.headers.get("If-Modified-Since"), code))
        super().send_response(code, message)

    def log_message(self, *args):
        pass


@pytest.fixture
def http_folder(tmp_path):
    """A real HTTP server on 127.0.0.1 serving a folder; yields (folder, base URL, requests)."""
    folder = tmp_path / "served"
    folder.mkdir()
    requests: list = []
    handler = type("Handler", (RecordingHandler,), {"requests": requests})
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(handler, directory=str(folder))
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield folder, f"http://127.0.0.1:{server.server_port}", requests
    server.shutdown()
    server.server_close()


def test_folder_download_and_drop_folder_in_one_night(
    published, tmp_path, monkeypatch, http_folder
):
    served, base_url, requests = http_folder
    source, drop = tmp_path / "source", tmp_path / "drop"
    shutil.copytree(published.source_dir, source)
    drop.mkdir()
    # The crime indicator comes by download instead of from the folder.
    shutil.move(source / "barometer_9_kriminalitet.csv", served / "barometer_9_kriminalitet.csv")
    # A colleague drops a corrected employment export: Copenhagen 2024 becomes 62,9.
    corrected = (
        (source / EMPLOYMENT)
        .read_text(encoding="utf-8")
        .replace(
            f"1.2;Beskæftigelsesfrekvens;101;København;2024;{NONWESTERN};62,5;",
            f"1.2;Beskæftigelsesfrekvens;101;København;2024;{NONWESTERN};62,9;",
        )
    )
    (drop / EMPLOYMENT).write_text(corrected, encoding="utf-8")
    monkeypatch.setenv("BAROMETER_DROP_DIR", str(drop))
    monkeypatch.setenv("BAROMETER_SOURCE_URL", f"{base_url}/barometer_9_kriminalitet.csv")
    settings = use_folders(monkeypatch, tmp_path / "warehouse", source)

    result = refresh(settings)

    assert result.success
    loads = dict(
        rows(settings.warehouse_path, "select source_file, source_uri from raw.barometer_loads")
    )
    assert loads["barometer_9_kriminalitet.csv"] == f"{base_url}/barometer_9_kriminalitet.csv"
    assert loads[EMPLOYMENT] == str(drop)
    assert len(loads) == 6
    assert rows(
        settings.serving_path,
        "select value from marts.fct_indicator_values where indicator_code = '1.2' "
        "and municipality_code = '101' and year = 2024 and population_group = 'nonwestern'",
    ) == [(62.9,)]
    # Everything else is exactly what the sample gives.
    keys_and_value = (
        "select indicator_code, municipality_code, year, population_group, value "
        "from marts.fct_indicator_values"
    )
    changed = set(rows(settings.serving_path, keys_and_value))
    original = set(rows(published.serving_path, keys_and_value))
    assert len(changed ^ original) == 2

    # The second night: the download answers 304 and no file is loaded twice.
    again = refresh(settings)
    assert again.success
    assert extract_metadata(again)["files_loaded"] == 0
    assert requests[-1][1] is not None and requests[-1][2] == 304


def test_every_loaded_file_is_archived_with_its_sha256(published):
    for load_id, source_file, digest, archive_path in rows(
        published.warehouse_path,
        "select load_id, source_file, source_sha256, archive_path from raw.barometer_loads",
    ):
        archived = published.landing_dir / load_id / source_file
        assert str(archived) == archive_path
        assert archived.read_bytes() == (published.source_dir / source_file).read_bytes()
        assert sha256(archived) == digest
        assert (archived.parent / f"{source_file}.sha256").read_text().split()[0] == digest


def test_a_few_odd_lines_are_rejected_and_the_night_goes_on(published_copy):
    export = published_copy.source_dir / EMPLOYMENT
    odd = [
        f"Arbejde;1.2;Beskæftigelsesfrekvens;999;Ukendt;2015;{NONWESTERN};55,0;pct.",
        f"Arbejde;4.7;Ukendt indikator;101;København;2015;{NONWESTERN};55,0;pct.",
        f"Arbejde;1.2;Beskæftigelsesfrekvens;101;København;1999;{NONWESTERN};45,0;pct.",
        f"Arbejde;1.2;Beskæftigelsesfrekvens;147;Frederiksberg;2015;{NONWESTERN};5x,0;pct.",
    ]
    lines = export.read_text(encoding="utf-8").splitlines()
    export.write_text("\n".join(lines + odd) + "\n", encoding="utf-8")

    result = refresh(published_copy)

    assert result.success
    metadata = extract_metadata(result)
    assert (metadata["rows_extracted"], metadata["rows_loaded"], metadata["rows_rejected"]) == (
        len(lines) - 1 + 4, len(lines) - 1, 4,
    )  # fmt: skip
    rejects = rows(
        published_copy.warehouse_path,
        "select source_file, source_line, raw_text, reason from raw.barometer_rejects "
        "order by source_line",
    )
    first = len(lines) + 1
    assert [(f, n, t) for f, n, t, _ in rejects] == [
        (EMPLOYMENT, first + i, text) for i, text in enumerate(odd)
    ]
    reasons = [reason for *_, reason in rejects]
    assert reasons[0] == "unknown municipality '999'"
    assert reasons[1] == "unknown indicator '4.7'"
    assert reasons[2].startswith("year 1999 is outside 2000-")
    assert reasons[3].startswith("unreadable number")


def test_regions_landsdele_and_christianso_are_skipped_not_rejected(published_copy):
    # 17 areas x 3 lines: as rejects, 51 of some 3,900 values would be over the 1 % allowed.
    export = published_copy.source_dir / EMPLOYMENT
    areas = [("084", "Region Hovedstaden"), ("01", "Landsdel Byen København")]
    areas += [(f"08{n}", "") for n in (1, 2, 3, 5)] + [(f"{n:02d}", "") for n in range(2, 12)]
    areas += [("411", "Christiansø")]
    extra = [
        f"Arbejde;1.2;Beskæftigelsesfrekvens;{code};{name};{year};{NONWESTERN};55,0;pct."
        for code, name in areas
        for year in (2021, 2022, 2023)
    ]
    lines = export.read_text(encoding="utf-8").splitlines()
    export.write_text("\n".join(lines + extra) + "\n", encoding="utf-8")

    result = refresh(published_copy)

    assert result.success
    metadata = extract_metadata(result)
    assert (metadata["rows_extracted"], metadata["rows_loaded"], metadata["rows_rejected"]) == (
        len(lines) - 1 + 51, len(lines) - 1, 0,
    )  # fmt: skip
    assert metadata["rows_skipped"] == 51
    assert metadata["rows_skipped_by_reason"] == {"landsdel": 33, "other": 3, "region": 15}
    assert rows(
        published_copy.warehouse_path,
        "select rows_extracted, rows_loaded, rows_skipped, rows_rejected from raw.barometer_loads "
        f"where source_file = '{EMPLOYMENT}' order by loaded_at desc limit 1",
    ) == [(len(lines) - 1 + 51, len(lines) - 1, 51, 0)]


def test_a_mostly_broken_file_stops_at_the_gate(published_copy):
    serving_before = sha256(published_copy.serving_path)
    export = published_copy.source_dir / EMPLOYMENT
    lines = export.read_text(encoding="utf-8").splitlines()
    # Every tenth line has a broken number: 10 % rejected, far above the 1 % allowed.
    broken = [lines[0]] + [
        line.replace(";pct.", "x;pct.") if n % 10 == 0 else line for n, line in enumerate(lines[1:])
    ]
    export.write_text("\n".join(broken) + "\n", encoding="utf-8")

    result = refresh(published_copy)

    assert not result.success
    failed = [e for e in result.get_asset_check_evaluations() if not e.passed]
    assert "expect_column_values_to_be_between on reject_share" in failed[0].description
    assert sha256(published_copy.serving_path) == serving_before


def test_a_missing_download_fails_the_extract_naming_url_and_status(
    published_copy, monkeypatch, http_folder
):
    _, base_url, requests = http_folder
    monkeypatch.setenv("BAROMETER_SOURCE_URL", f"{base_url}/gone.csv")
    serving_before = sha256(published_copy.serving_path)

    result = refresh(Settings.from_env())

    assert not result.success
    failure = next(e for e in result.all_events if e.is_step_failure)
    assert f"{base_url}/gone.csv: HTTP 404" in failure.step_failure_data.error.message
    assert [code for *_, code in requests] == [404]  # a 4xx is not retried
    assert sha256(published_copy.serving_path) == serving_before


def test_drop_folder_sensor_starts_a_refresh_for_new_or_changed_files(tmp_path, monkeypatch):
    drop = tmp_path / "drop"
    drop.mkdir()
    monkeypatch.setenv("BAROMETER_DROP_DIR", str(drop))
    settings = use_folders(monkeypatch, tmp_path / "warehouse", tmp_path / "source")

    def tick(cursor):
        context = dg.build_sensor_context(cursor=cursor, resources={"settings": settings})
        return barometer_drop_folder(context), context.cursor

    outcome, cursor = tick(None)
    assert isinstance(outcome, dg.SkipReason)
    (drop / EMPLOYMENT).write_text("Område;Indikator nr.\n", encoding="utf-8")
    outcome, cursor = tick(cursor)
    assert isinstance(outcome, dg.RunRequest) and outcome.tags["barometer/files"] == EMPLOYMENT
    outcome, cursor = tick(cursor)
    assert isinstance(outcome, dg.SkipReason) and "same sha256" in outcome.skip_message
    (drop / EMPLOYMENT).write_text("Område;Indikator nr.;Kommune\n", encoding="utf-8")
    outcome, cursor = tick(cursor)
    assert isinstance(outcome, dg.RunRequest)
