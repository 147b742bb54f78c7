"""How heavy the report page is and how long it takes to open offline (not a test).

Opens each page REPEATS times in Debian's Chromium (a fresh profile each time, the network cut
off) and prints its size and the median time from navigation start to the end of the load
event, which is when every inline script (and so every chart) has run.

    python bench/report_open.py warehouse/report/index.html [more pages]
"""

from __future__ import annotations

import argparse
import re
import statistics
from pathlib import Path

from playwright.sync_api import sync_playwright

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]  # fmt: skip
REPEATS = 7
LOAD_MS = "performance.getEntriesByType('navigation')[0].loadEventEnd"


def open_times(page_path: Path) -> list[float]:
    times = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        for _ in range(REPEATS):
            context = browser.new_context(offline=True, viewport={"width": 1400, "height": 900})
            context.route(re.compile(r"^(?!file:)"), lambda route: route.abort())
            page = context.new_page()
            page.goto(page_path.resolve().as_uri(), wait_until="load")
            times.append(page.evaluate(LOAD_MS))
            context.close()
        browser.close()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("pages", type=Path, nargs="+")
    args = parser.parse_args()
    print("| page | MB | median ms to load | runs ms |")
    print("|---|---:|---:|---|")
    for page in args.pages:
        times = open_times(page)
        size = sum(f.stat().st_size for f in [page, *page.parent.glob("*.css")])
        runs = ", ".join(f"{t:.0f}" for t in times)
        print(f"| {page} | {size / 1e6:.2f} | {statistics.median(times):.0f} | {runs} |")


if __name__ == "__main__":
    main()
