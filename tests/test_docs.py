"""The README fits on a screen, every documentation link lands, and every variable is documented."""

import re
from pathlib import Path

import pytest

from orchestration import variables
from orchestration.settings import PROJECT_ROOT

README = PROJECT_ROOT / "README.md"
PAGES = sorted((PROJECT_ROOT / "docs").glob("*.md"))
CONFIGURATION = PROJECT_ROOT / "docs" / "configuration.md"
README_MAX_LINES = 150

FENCE = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)
INLINE_CODE = re.compile(r"`[^`\n]*`")
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")


def prose(path: Path) -> str:
    """The text outside code blocks, where a `#` line is a heading and `[x](y)` a link."""
    return FENCE.sub("", path.read_text(encoding="utf-8"))


def anchors(path: Path) -> set[str]:
    """The anchors GitHub gives a page's headings: lower case, punctuation dropped, spaces to
    hyphens, and -1, -2 ... after a repeated one."""
    found: set[str] = set()
    seen: dict[str, int] = {}
    for heading in re.findall(r"^#{1,6} +(.+?) *#*$", prose(path), re.MULTILINE):
        text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link keeps only its text
        slug = re.sub(r"[^\w\- ]", "", text.lower()).replace(" ", "-")
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        found.add(slug if count == 0 else f"{slug}-{count}")
    return found


def links(path: Path) -> list[str]:
    return LINK.findall(INLINE_CODE.sub("", prose(path)))


def broken_links(path: Path) -> list[str]:
    broken = []
    for target in links(path):
        if re.match(r"[a-z]+:", target):  # http(s), mailto: not this test's business
            continue
        file_part, _, anchor = target.partition("#")
        linked = (path.parent / file_part).resolve() if file_part else path
        if not linked.exists():
            broken.append(f"{target}: no such file")
        elif anchor and anchor not in anchors(linked):
            broken.append(f"{target}: no such heading in {linked.name}")
    return broken


@pytest.mark.parametrize("path", [README, *PAGES], ids=lambda path: path.name)
def test_every_link_points_at_an_existing_file_and_heading(path):
    assert links(path), f"{path.name} links nowhere"
    assert broken_links(path) == []


def test_the_link_check_finds_a_missing_file_and_a_missing_heading(tmp_path):
    page = tmp_path / "page.md"
    page.write_text(
        "# Faults and what you see\n\n```sh\n# a comment, not a heading\n```\n\n"
        "[ok](#faults-and-what-you-see) [gone](missing.md) [typo](#faults)\n"
        "[code](#a-comment-not-a-heading) `[not a link](nowhere.md)`\n",
        encoding="utf-8",
    )

    assert broken_links(page) == [
        "missing.md: no such file",
        "#faults: no such heading in page.md",
        "#a-comment-not-a-heading: no such heading in page.md",
    ]


def test_the_readme_fits_and_links_every_page_which_links_back():
    assert len(README.read_text(encoding="utf-8").splitlines()) <= README_MAX_LINES
    from_readme = {(README.parent / target.partition("#")[0]).resolve() for target in links(README)}
    for page in PAGES:
        assert page.resolve() in from_readme, f"the README does not link {page.name}"
        assert "../README.md" in links(page), f"{page.name} does not link back to the README"


def declared_variables() -> set[str]:
    """Every variable of every table in variables.py (SETTINGS_VARIABLES, ALERT_VARIABLES, ...)."""
    return {
        variable.name
        for table in vars(variables).values()
        if isinstance(table, tuple)
        for variable in table
        if isinstance(variable, variables.Variable)
    }


def documented_variables() -> set[str]:
    """Every variable named in the first cell of a row of the configuration page's tables."""
    rows = re.findall(r"^\| ([^|]+) \|", prose(CONFIGURATION), re.MULTILINE)
    return {
        name
        for cell in rows
        for name in re.findall(r"`([A-Z][A-Z0-9_]+)`", cell)
        if name.startswith(("BAROMETER_", "CASES_", "ALERT_", "DAGSTER_"))
    }


def test_every_variable_is_documented_in_the_configuration_page_and_no_other():
    declared = declared_variables()

    assert {"BAROMETER_WAREHOUSE_DIR", "ALERT_WEBHOOK_URL", "BAROMETER_PG_DSN"} <= declared
    assert documented_variables() == declared
