"""Every page under warehouse/docs/ opens offline, in Debian's real Chromium: the quality pages
with their styling, icons and filters, dbt's page with its models; nothing asks the network."""

import base64
import hashlib
import os
import re
from pathlib import Path

import pytest

from orchestration.quality.docs_static import FOLDER, PACKAGED, VENDORED

CHROMIUM = Path("/usr/bin/chromium")
# GE's own template of the scripts it loads, with the Subresource Integrity hashes it expects.
GE_SCRIPTS = "great_expectations/render/view/templates/js_script_imports.j2"

# Rows of succeeded expectations that the "Failed Only" filter hides (GE's own class names).
SUCCEEDED_SHOWN = (
    "[...document.querySelectorAll('.hide-succeeded-validation-target-child')]"
    ".filter(element => element.offsetParent).length"
)
STYLED = """() => ({
    grid: getComputedStyle(document.querySelector('.row')).display,
    iconFont: document.fonts.check('900 16px "Font Awesome 6 Free"'),
    icons: [...document.querySelectorAll('i.fas')].filter(i => i.offsetParent)
        .map(i => i.getBoundingClientRect().width),
    searchBoxes: document.querySelectorAll('.bootstrap-table .search input').length,
})"""


def test_the_vendored_scripts_are_the_bytes_great_expectations_names():
    import great_expectations

    template = (Path(great_expectations.__file__).parent.parent / GE_SCRIPTS).read_text()
    pinned = dict(re.findall(r'<script src="([^"]+)" integrity="(sha384-[^"]+)"', template))
    assert len(pinned) == 2  # popper.js and bootstrap.js
    for url, integrity in pinned.items():
        digest = hashlib.sha384((PACKAGED / VENDORED[url]).read_bytes()).digest()
        assert f"sha384-{base64.b64encode(digest).decode()}" == integrity


def test_every_docs_page_opens_offline_styled_and_working(published):
    from playwright.sync_api import sync_playwright

    assert CHROMIUM.exists(), "make test installs Debian's chromium (apt-get install chromium)"
    docs = published.warehouse_dir / "docs"
    quality = published.quality_docs_dir
    # docs/dbt is a link into the night's generation: walk through it.
    found = [Path(top, name) for top, _, names in os.walk(docs, followlinks=True) for name in names]
    pages = sorted(
        p for p in found if p.suffix == ".html" and FOLDER not in p.relative_to(docs).parts
    )
    suite_pages = [p for p in pages if p.parent == quality and p.name != "index.html"]
    assert len(suite_pages) >= 10 and published.dbt_docs_dir / "index.html" in pages
    outside, seen = [], {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync"],
        )  # fmt: skip
        context = browser.new_context(offline=True)

        def refuse(route):
            outside.append(route.request.url)
            route.abort()

        context.route(re.compile(r"^(?!file:)"), refuse)
        for path in pages:
            page = context.new_page()
            errors, console = [], []
            page.on("pageerror", lambda error, errors=errors: errors.append(str(error)))
            page.on(
                "console",
                lambda m, console=console: console.append(m.text) if m.type == "error" else None,
            )
            page.goto(path.as_uri(), wait_until="load")
            name = str(path.relative_to(docs))
            if path in suite_pages:
                seen[name] = suite_page(page)
            elif path.parent == published.dbt_docs_dir:
                # dbt's page draws its model tree from the catalogue inlined in it.
                model = page.locator(".ng-binding", has_text="fct_scorecard").first
                model.wait_for(state="attached")
            # dbt's own templates ask for a few files that do not exist (icons named by an
            # unrendered template): console errors there, never a request off the machine.
            seen.setdefault(name, {})["errors"] = errors + (
                console if path.parent == quality else []
            )
            page.close()
        browser.close()
    assert outside == []
    assert {name: s["errors"] for name, s in seen.items() if s["errors"]} == {}
    for name, state in seen.items():
        if name.startswith("quality/") and name != "quality/index.html":
            assert state["grid"] == "flex", name  # Bootstrap's grid applies
            assert state["iconFont"] and state["icons"], name
            assert min(state["icons"]) > 0, name  # the pass/fail icons are drawn
            assert state["shown"] > 0 and state["filtered"] == 0, name


def suite_page(page) -> dict:
    """The page's styling, then its "Failed Only" filter at work (every suite passed here)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    page.evaluate("document.fonts.ready")
    state = page.evaluate(STYLED)
    state["shown"] = page.evaluate(f"() => {SUCCEEDED_SHOWN}")
    page.get_by_text("Failed Only").click()
    try:  # jQuery fades the rows out in 0.4 s
        page.wait_for_function(f"() => {SUCCEEDED_SHOWN} === 0", timeout=5000)
    except PlaywrightTimeout:
        pass  # the count it stopped at is asserted, with the page's name
    state["filtered"] = page.evaluate(f"() => {SUCCEEDED_SHOWN}")
    page.get_by_text("Show All").click()
    page.wait_for_function(f"() => {SUCCEEDED_SHOWN} === {state['shown']}", timeout=5000)
    return state


@pytest.mark.parametrize("url", sorted(VENDORED))
def test_every_vendored_url_has_its_copy_and_licence(url):
    copy = PACKAGED / VENDORED[url]
    assert copy.is_file()
    licence = [p for p in (copy.parent, copy.parent.parent) if list(p.glob("LICENSE*"))]
    assert licence or b"MIT License" in copy.read_bytes()[:300]
