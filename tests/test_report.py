"""The analysts' report and the stack's docs: built every successful night, kept on failed ones.

The browser test opens the page in Debian's real Chromium with the network cut off, so "opens
offline" is what a person would see, not a string search.
"""

import hashlib
import json
import os
import re
import shutil
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


def launch(playwright):
    """Debian's Chromium; Playwright gives it a fresh profile of its own (a temporary folder)."""
    assert CHROMIUM.exists(), "make test installs Debian's chromium (apt-get install chromium)"
    return playwright.chromium.launch(
        executable_path=str(CHROMIUM),
        args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
              "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    )  # fmt: skip


def offline_page(browser, width: int, requests: list[str], height: int = 900):
    """A tab with the network cut off; anything but a file is recorded as a request and refused."""
    context = browser.new_context(offline=True, viewport={"width": width, "height": height})

    def refuse(route):
        requests.append(route.request.url)
        route.abort()

    context.route(re.compile(r"^(?!file:)"), refuse)
    return context.new_page()


# The lines drawn in each chart, as shown (one SVG path per line).
CHART_LINES = """[...document.querySelectorAll('figure.chart')].map(f =>
    [...f.querySelectorAll('svg.marks .mark-line path')].filter(p => p.checkVisibility()).length)"""


def test_the_report_renders_offline_in_chromium(published, tmp_path):
    from playwright.sync_api import sync_playwright

    page_path = published.report_dir / "index.html"
    errors, requests = [], []
    with sync_playwright() as playwright:
        browser = launch(playwright)
        page = offline_page(browser, 1400, requests, height=2300)
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(page_path.as_uri(), wait_until="load")
        lines = page.evaluate(CHART_LINES)
        shown = page.locator("#scorecard tr[data-indicator='1.2'] td.value").inner_text()
        screenshot = PROJECT_ROOT / SCREENSHOT if SCREENSHOT else tmp_path / "report.png"
        page.screenshot(path=str(screenshot))
        page.click("#language")
        english_title = page.locator("h1").inner_text()
        english_legend = page.locator("figure.chart[data-indicator='1.2'] .legend").inner_text()
        browser.close()
    assert errors == []
    assert requests == []
    assert len(lines) == INDICATORS + TWIN_INDICATORS
    assert min(lines) >= 3  # municipality, country and at least one more line each
    assert float(shown.replace(",", ".")) == scorecard_value(published, "101", "1.2")
    assert english_title.startswith("Integration barometer")
    assert "Whole country" in english_legend and "Hele landet" not in english_legend
    assert screenshot.stat().st_size > 50_000  # drawn, not blank


def test_the_page_is_light(published):
    page = published.report_dir / "index.html"
    html = page.read_text(encoding="utf-8")
    assert page.stat().st_size <= 1_500_000
    # Nothing beside the page either: styles, script and charts are all in it.
    assert not re.search(r"<(script|link|img)[^>]+(src|href)=", html)


WCAG_21_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}


def test_the_page_meets_wcag_21_aa_in_both_languages(published, tmp_path):
    """Copenhagen, and Ærø with its suppressed cells: axe-core finds nothing in either language,
    the page reflows on a phone, and the language switch is a button a keyboard reaches."""
    from axe_playwright_python.sync_playwright import Axe
    from playwright.sync_api import sync_playwright

    pages = [
        published.report_dir / "index.html",
        build_report(published.serving_path, "492", tmp_path).path,
    ]
    found, widths, switch, requests = {}, {}, {}, []
    with sync_playwright() as playwright:
        browser = launch(playwright)
        for path in pages:
            page = offline_page(browser, 1280, requests)
            page.goto(path.as_uri(), wait_until="load")
            for language in ("da", "en"):
                assert page.evaluate("document.documentElement.lang") == language
                results = Axe().run(page, options=WCAG_21_AA)
                found[(path, language)] = results.generate_report()
                if language == "da":
                    page.keyboard.press("Tab")  # the skip link
                    page.keyboard.press("Tab")
                    switch[path] = page.evaluate(
                        "[document.activeElement.tagName, document.activeElement.id,"
                        " [...document.activeElement.children].filter(e => e.checkVisibility())"
                        "   .map(e => [e.lang, e.textContent])]"
                    )
                    page.keyboard.press("Enter")
            for width in (320, 390):
                page.set_viewport_size({"width": width, "height": 800})
                widths[(path, width)] = page.evaluate(
                    "document.documentElement.scrollWidth <= innerWidth"
                )
        browser.close()
    assert requests == []
    for key, report in found.items():
        assert report.startswith("Found 0 accessibility violations"), (key, report)
    assert all(widths.values()), widths
    for path in pages:
        assert switch[path] == ["BUTTON", "language", [["en", "English"]]]


def test_every_chart_has_its_figures_as_a_table(published):
    html = (published.report_dir / "index.html").read_text(encoding="utf-8")
    figures = re.findall(r"<figure class=\"chart\".*?</figure>", html, re.S)
    assert len(figures) == INDICATORS + TWIN_INDICATORS
    for figure in figures:
        assert 'aria-hidden="true"' in re.search(r"<svg[^>]*class=\"marks\"[^>]*>", figure).group(0)
        assert re.search(r"<table>\s*<caption>", figure)
    # The table of 1.2 holds Copenhagen's published value of its latest year.
    chart = next(f for f in figures if 'data-indicator="1.2"' in f)
    latest = str(scorecard_value(published, "101", "1.2")).replace(".", ",")
    assert re.search(r'<th scope="row">2024</th><td class="num"><span lang="da">' + latest, chart)


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


def test_the_message_says_first_what_a_manager_needs(published):
    html = (published.report_dir / "index.html").read_text(encoding="utf-8")
    message = re.search(r'<section id="message".*?</section>', html, re.S).group(0)
    assert html.index('id="message"') < html.index('id="scorecard"')
    with duckdb.connect(str(published.serving_path), read_only=True) as con:
        positive, judged = con.execute(
            "select count(*) filter (where development = 'positive'), count(development) "
            "from marts.fct_scorecard where municipality_code = '101'"
        ).fetchone()
        met = con.execute(
            "select list(indicator_code order by indicator_code) from marts.fct_scorecard "
            "where municipality_code = '101' and status = 'met'"
        ).fetchone()[0]
    assert f"{positive} af {judged} indikatorer har udviklet sig positivt" in message
    assert f"{positive} of {judged} indicators developed positively" in message
    assert met and f"opfyldt: {met[0]} " in message
    # A target is a "måltal", a goal of the barometer a "mål".
    assert "indikatorer har et måltal" in message and re.search(r"af sine \d+ mål \(", message)
    assert "Første offentliggørelse" in message and "First publication" in message


def test_the_message_tells_what_changed_since_the_previous_publication(published, tmp_path):
    serving = tmp_path / "serving.duckdb"
    shutil.copyfile(published.serving_path, serving)
    with duckdb.connect(str(serving)) as con:
        # The night before: 1.2 a year behind, and another version of the first export.
        con.execute(
            "insert into marts.publication select published_at - interval 1 day, code_commit, "
            "json_merge_patch(barometer_data_years, '{\"1.2\": 2023}'), "
            'case_extract_night, replace(source_files, \'"sha256": "\', \'"sha256": "0\') '
            "from marts.publication"
        )
    html = build_report(serving, "101", tmp_path / "report").path.read_text(encoding="utf-8")
    assert "nye tal for 2024 for 1.2" in html and "new figures for 2024 for 1.2" in html
    assert "reviderede eksporter: barometer_1_arbejde.csv" in html
    assert "Første offentliggørelse" not in html
