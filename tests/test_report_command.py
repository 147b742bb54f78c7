"""``barometer report``: one municipality's page, its PDF and the site of every municipality,
all read from the published file alone."""

import re
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from test_report import launch, offline_page, sha256

from orchestration.settings import Settings


def test_report_command_builds_from_the_published_file(published, tmp_path):
    serving_before = sha256(published.serving_path)
    completed = run_barometer(published, "report", "--municipality", "751", "--out", str(tmp_path))
    assert completed.returncode == 0, completed.stderr
    assert str(tmp_path / "index.html") in completed.stdout
    assert "Aarhus (751)" in (tmp_path / "index.html").read_text(encoding="utf-8")
    assert sha256(published.serving_path) == serving_before


def test_report_municipality_is_read_as_three_digits():
    # Refused values are tested with every other variable's in test_settings.py.
    assert Settings.from_env({"BAROMETER_REPORT_MUNICIPALITY": "0751"}).report_municipality == "751"
    assert Settings.from_env({}).report_municipality == "101"
    assert Settings.from_env({"BAROMETER_REPORT_ALL": "true"}).report_all is True
    assert Settings.from_env({}).report_all is False


def test_report_pdf_is_a4_with_every_column_and_cohort(published, tmp_path):
    from pypdf import PdfReader

    completed = run_barometer(published, "report", "--pdf", "--out", str(tmp_path))
    assert completed.returncode == 0, completed.stderr
    pdf = tmp_path / "report.pdf"
    assert str(pdf) in completed.stdout
    reader = PdfReader(pdf)
    assert len(reader.pages) >= 2
    for page in reader.pages:  # A4 portrait: 210 x 297 mm in points
        assert (round(float(page.mediabox.width)), round(float(page.mediabox.height))) == (595, 842)
    pages = [page.extract_text() for page in reader.pages]
    text = " ".join(" ".join(pages).split())
    for header in ("Indikator", "År", "København", "Hele landet", "Sammenligningsgruppe",
                   "Placering", "Måltal", "Afstand til måltal", "Status",
                   "Udvikling siden basisår"):  # fmt: skip
        assert header in text, header
    cohorts = column(published, "select distinct arrival_year from marts.fct_case_outcomes")
    table = text[text.index("Alle ankomne, pr. årgang") :]
    assert all(str(cohort) in table for cohort in cohorts)
    assert "English" not in text
    footer = "København (101) · data til og med"
    assert all(footer in " ".join(p.split()) for p in pages)


def test_report_pdf_says_so_without_a_chromium(published, tmp_path):
    from orchestration.reporting.pdf import PdfUnavailable, write_pdf

    with pytest.raises(PdfUnavailable, match="no Chromium at .*apt-get install chromium"):
        write_pdf(published.report_dir / "index.html", chromium=tmp_path / "no-chromium")
    assert not (published.report_dir / "report.pdf").exists()


def test_report_all_writes_a_site_of_every_municipality(published, tmp_path):
    from playwright.sync_api import sync_playwright

    completed = run_barometer(published, "report", "--all", "--out", str(tmp_path))
    assert completed.returncode == 0, completed.stderr
    codes = column(
        published, "select municipality_code from marts.dim_municipality where not is_country"
    )
    assert sorted(p.parent.name for p in tmp_path.glob("*/index.html")) == sorted(codes)
    assert sorted(p.name for p in (tmp_path / "assets").iterdir()) == ["report.css", "report.js"]
    aarhus = (tmp_path / "751" / "index.html").read_text(encoding="utf-8")
    assert "Aarhus (751)" in aarhus and 'href="../assets/report.css"' in aarhus
    assert "<style>" in aarhus and ":root" not in aarhus  # the shared styles are not repeated
    index = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert sorted(re.findall(r'<a href="(\d{3})/index.html">', index)) == sorted(codes)
    requests = []
    with sync_playwright() as playwright:
        browser = launch(playwright)
        page = offline_page(browser, 390, requests)
        page.goto((tmp_path / "index.html").as_uri(), wait_until="load")
        page.fill("#filter", "aarh")
        by_name = page.locator("#municipalities li:visible").all_inner_texts()
        page.fill("#filter", "101")
        by_code = page.locator("#municipalities li:visible").all_inner_texts()
        page.locator("#municipalities li:visible a").click()
        page.wait_for_load_state("load")
        title = page.locator("h1").inner_text()
        browser.close()
    assert requests == []
    assert by_name == ["Aarhus (751)"] and by_code == ["København (101)"]
    assert title.endswith("København (101)")


def column(settings: Settings, sql: str) -> list:
    with duckdb.connect(str(settings.serving_path), read_only=True) as con:
        return [value for (value,) in con.execute(sql).fetchall()]


def run_barometer(settings: Settings, *args: str) -> subprocess.CompletedProcess:
    barometer = str(Path(sys.executable).with_name("barometer"))
    return subprocess.run(
        [barometer, *args],
        env={"BAROMETER_WAREHOUSE_DIR": str(settings.warehouse_dir), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    )
