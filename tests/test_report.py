"""The analysts' report and the stack's docs: built every successful night, kept on failed ones.

The browser test opens the page in Debian's real Chromium with the network cut off, so "opens
offline" is what a person would see, not a string search.
"""

import hashlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import dagster as dg
import duckdb
from test_quality_gate import as_fractions, rewrite

from orchestration.automation.alerting import alerts_for_run
from orchestration.quality.checks import DATA_DOCS
from orchestration.reporting import build_report
from orchestration.settings import PROJECT_ROOT, Settings

CHROMIUM = Path("/usr/bin/chromium")
# The README's picture of the report is refreshed on request, so a test run leaves the tree
# clean: BAROMETER_SCREENSHOT=docs/report.png make test.
SCREENSHOT = os.environ.get("BAROMETER_SCREENSHOT")
INDICATORS = 13
TWIN_INDICATORS = 2  # 1.2 and 3.3 have a case-data twin (seeds/reference/local_outcome_twins.csv)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def scorecard_value(settings: Settings, municipality: str, indicator: str) -> float:
    with duckdb.connect(str(settings.serving_path), read_only=True) as con:
        return con.execute(
            "select value from marts.fct_scorecard "
            "where municipality_code = ? and indicator_code = ?",
            [municipality, indicator],
        ).fetchone()[0]


def test_a_successful_night_writes_the_report_and_both_docs(published):
    page = published.report_dir / "index.html"
    html = page.read_text(encoding="utf-8")
    assert "København (101)" in html
    # Self-contained: no script, style or image is fetched from anywhere.
    assert not re.search(r"""<(script|link|img)[^>]+(src|href)=["']?(https?:)?//""", html)
    dbt_docs = (published.dbt_docs_dir / "index.html").read_text(encoding="utf-8")
    assert "fct_scorecard" in dbt_docs and "catalog" in dbt_docs
    quality = (published.quality_docs_dir / "index.html").read_text(encoding="utf-8")
    assert "marts_fct_target_gap.html" in quality and "FAILED" not in quality


def test_the_report_renders_offline_in_chromium(published, tmp_path):
    from playwright.sync_api import sync_playwright

    assert CHROMIUM.exists(), "make test installs Debian's chromium (apt-get install chromium)"
    page_path = published.report_dir / "index.html"
    errors, requests = [], []
    with sync_playwright() as playwright:
        # Playwright gives the browser a fresh profile of its own (a new temporary folder).
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync"],
        )  # fmt: skip
        context = browser.new_context(offline=True, viewport={"width": 1400, "height": 2300})

        # Anything but the file itself would be a request the page should never make.
        def refuse(route):
            requests.append(route.request.url)
            route.abort()

        context.route(re.compile(r"^(?!file:)"), refuse)
        page = context.new_page()
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(page_path.as_uri(), wait_until="load")
        page.wait_for_function(
            f"document.querySelectorAll('.js-plotly-plot .main-svg').length >= "
            f"{INDICATORS + TWIN_INDICATORS}"
        )
        charts = page.locator(".js-plotly-plot").count()
        drawn = page.locator(".js-plotly-plot .scatterlayer .trace").count()
        shown = page.locator("#scorecard tr[data-indicator='1.2'] td.value").inner_text()
        screenshot = PROJECT_ROOT / SCREENSHOT if SCREENSHOT else tmp_path / "report.png"
        page.screenshot(path=str(screenshot))
        page.click("#language")
        english_title = page.locator("h1").inner_text()
        browser.close()
    assert errors == []
    assert requests == []
    assert charts == INDICATORS + TWIN_INDICATORS
    assert drawn >= 3 * charts  # municipality, country and at least one more line each
    assert float(shown.replace(",", ".")) == scorecard_value(published, "101", "1.2")
    assert english_title.startswith("Integration barometer")
    assert screenshot.stat().st_size > 50_000  # drawn, not blank


def test_suppressed_cells_are_shown_as_suppressed(published, tmp_path):
    # Ærø: too few pupils for 3.1 and too few young men for 9.1 in every year.
    result = build_report(published.serving_path, "0492", tmp_path)
    html = result.path.read_text(encoding="utf-8")
    assert result.municipality_name == "Ærø" and result.charts == INDICATORS
    for indicator in ("3.1", "9.1"):
        row = re.search(rf"<tr data-indicator=\"{re.escape(indicator)}\">.*?</tr>", html, re.S)
        value_cell = re.search(r'<td class="num value"[^>]*>(.*?)</td>', row.group(0), re.S)
        assert 'class="suppressed"' in value_cell.group(1)
        assert "undertrykt" in value_cell.group(1) and "0,0" not in value_cell.group(1)
    assert "Sagsdata fra Københavnermodellen findes kun for København" in html


def test_suppressed_case_cells_are_shown_as_suppressed(published):
    html = (published.report_dir / "index.html").read_text(encoding="utf-8")
    table = re.search(r'<table id="case-programmes">.*?</table>', html, re.S).group(0)
    with duckdb.connect(str(published.serving_path), read_only=True) as con:
        suppressed = con.execute(
            "select count(*) from marts.fct_case_outcomes where outcome_code = 'citizens' "
            "and sex = 'all' and age_band = 'all' and is_suppressed"
        ).fetchone()[0]
    assert suppressed > 0
    assert table.count('class="suppressed"') == suppressed


def test_a_failed_night_leaves_the_report_and_keeps_its_quality_docs(published_copy):
    page = published_copy.report_dir / "index.html"
    before = sha256(page), page.stat().st_mtime_ns
    dbt_docs_before = sha256(published_copy.dbt_docs_dir / "index.html")
    rewrite(published_copy.source_dir / "barometer_1_arbejde.csv", as_fractions)
    instance = dg.DagsterInstance.ephemeral()
    result = refresh_with(published_copy, instance)
    assert not result.success
    assert (sha256(page), page.stat().st_mtime_ns) == before
    assert sha256(published_copy.dbt_docs_dir / "index.html") == dbt_docs_before
    failed = [e for e in result.get_asset_check_evaluations() if not e.passed]
    docs = Path(failed[0].metadata[DATA_DOCS].value)
    assert docs == published_copy.quality_docs_dir / "raw_barometer_indicator_values.html"
    assert "FAILED" in (published_copy.quality_docs_dir / "index.html").read_text()
    page_text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", docs.read_text(encoding="utf-8")))
    assert "Status: Failed" in page_text and "Unsuccessful Expectations" in page_text
    alert = alerts_for_run(instance, result.dagster_run, "http://127.0.0.1:3000")[0]
    assert alert.facts["data docs"] == str(docs)


def refresh_with(settings: Settings, instance: dg.DagsterInstance):
    from orchestration.automation.run import run_nightly_refresh

    return run_nightly_refresh(settings, instance)


def test_report_command_builds_from_the_published_file(published, tmp_path):
    serving_before = sha256(published.serving_path)
    barometer = str(Path(sys.executable).with_name("barometer"))
    completed = subprocess.run(
        [barometer, "report", "--municipality", "751", "--out", str(tmp_path)],
        env={"BAROMETER_WAREHOUSE_DIR": str(published.warehouse_dir), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert str(tmp_path / "index.html") in completed.stdout
    assert "Aarhus (751)" in (tmp_path / "index.html").read_text(encoding="utf-8")
    assert sha256(published.serving_path) == serving_before


def test_report_municipality_is_read_as_three_digits():
    # Refused values are tested with every other variable's in test_settings.py.
    assert Settings.from_env({"BAROMETER_REPORT_MUNICIPALITY": "0751"}).report_municipality == "751"
    assert Settings.from_env({}).report_municipality == "101"


def test_report_and_dbt_docs_follow_the_publication():
    from orchestration.definitions import build_definitions

    graph = build_definitions(Settings.from_env()).resolve_asset_graph()
    for key in (dg.AssetKey("report"), dg.AssetKey(["docs", "dbt"])):
        assert graph.get(key).parent_keys == {dg.AssetKey("serving")}
        assert graph.get(key).group_name == "publish"


def test_every_model_and_mart_column_has_a_description(dbt_manifest):
    """dbt docs and the Dagster UI show what the YAML says: nothing may be left blank."""
    manifest = json.loads(dbt_manifest.read_text(encoding="utf-8"))
    missing = []
    for node in manifest["nodes"].values():
        if node["resource_type"] != "model":
            continue
        if not node["description"].strip():
            missing.append(node["name"])
        if node["original_file_path"].startswith("models/marts/"):
            missing += [
                f"{node['name']}.{name}"
                for name, column in node["columns"].items()
                if not column["description"].strip()
            ]
    assert missing == []


def test_every_mart_column_is_described_and_typed_in_dagster():
    from orchestration.definitions import build_definitions

    defs = build_definitions(Settings.from_env())
    marts = [s for s in defs.resolve_all_asset_specs() if s.key.path[0] == "marts"]
    assert marts
    undescribed = []
    for spec in marts:
        schema = spec.metadata.get("dagster/column_schema")
        assert schema is not None and schema.columns, spec.key
        undescribed += [
            f"{spec.key.to_user_string()}.{column.name}"
            for column in schema.columns
            if not (column.description or "").strip() or column.type in ("", "?")
        ]
    assert undescribed == []
