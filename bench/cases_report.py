"""The Markdown of ``bench/cases.py``'s results: per size, the runs with their spread, the
ratios against issue 22's targets, the stages, the last night by Dagster step, and the case
extract's growth against the data's."""

from __future__ import annotations

import os
import platform
import statistics

# Targets of issue 22, by the size they are stated for: night ÷ full, full ÷ floor, peak GiB.
TARGETS = {
    1_000_000: {"night": 0.15, "floor": 2.0},
    10_000_000: {"night": 0.10, "floor": 1.5},
    30_000_000: {"floor": 1.5, "memory": 2.0},
}


def _spread(values: list[float], digits: int = 1) -> str:
    return (
        f"{statistics.median(values):.{digits}f} "
        f"({min(values):.{digits}f}–{max(values):.{digits}f})"
    )


def _targets(size: int) -> dict:
    return TARGETS[min(TARGETS, key=lambda stated: abs(stated - size))]


def report(results: list[dict]) -> str:
    machine = (
        f"{os.cpu_count()} cores, {memory_gib():.0f} GiB RAM, {platform.platform()}, "
        f"Python {platform.python_version()}"
    )
    lines = [
        "## Case pipeline: full refresh, a night and the plain-SQL floor, interleaved (issue 22)",
        "",
        f"`make bench` (`bench/cases.py`) on {machine}, shared with other sessions. Per size,",
        "after a warm-up full refresh, rounds of three runs interleaved in one process tree:",
        "a full refresh (`barometer refresh` on a copy of the empty prepared warehouse, the",
        "initial extract and every delta but the last), a night (`barometer refresh` on a copy",
        "of the warehouse the warm-up left, with the last delta) and the floor (the same parsing",
        "SQL and the SQL dbt compiles for the case models in one DuckDB process, then the mart",
        "copied to a serving file; no orchestration, checks, tests, report or backup; DuckDB's",
        "memory limited as the night's, `BAROMETER_DUCKDB_MEMORY_LIMIT`). Each",
        "refresh is the whole nightly job, barometer marts, gates, publish, report, docs and",
        "backup included. Seconds: median (min–max); a ratio is the ratio of the medians, then",
        "the median (min–max) of the ratios of each round's pair. Memory: the peak of each",
        "child's whole process tree (Dagster and the dbt child), sampled every 0.1 s as the sum",
        "of each process's Pss.",
    ]
    for r in results:
        targets = _targets(r["size"])
        full, night, floor = (
            [run["wall"] for run in r[kind]] for kind in ("full", "night", "floor")
        )
        lines += [
            "",
            f"### {r['events']:,} case events ({r['citizens']:,} citizens; the night: "
            f"{r['delta_events']:,} new events)",
            "",
            f"Run {r['when']}, commit {r['commit']}: {r['repeats']} rounds "
            + (
                f"after a warm-up full refresh of {r['warm_up']['wall']:.1f} s"
                if r["warm_up"]
                else "without a warm-up (the first round's full refresh leaves the night's "
                "warehouse; the extracts were in the page cache from their generation)"
            )
            + f"; load averages (1, 5, 15 min) {r['load_before']} before and "
            f"{r['load_after']} after.",
            "",
            "| run | median s (min–max) | runs s | peak memory of the tree GiB (max; where) |",
            "|---|---:|---|---:|",
        ]
        for label, kind, values in (
            ("full refresh", "full", full),
            (f"night ({r['delta_events']:,} new events)", "night", night),
            ("plain DuckDB SQL (floor)", "floor", floor),
        ):
            top = max(r[kind], key=lambda run: run["tree"])
            where = f"; {top['peak_in']}" if "peak_in" in top else ""
            lines.append(
                f"| {label} | {_spread(values)} | {', '.join(f'{v:.1f}' for v in values)} "
                f"| {top['tree']:.2f}{where} |"
            )
        lines += ["", "| ratio | of the medians | pairs: median (min–max) | target |",
                  "|---|---:|---:|---|"]  # fmt: skip
        for label, key, a, b in (
            ("night ÷ full", "night", night, full),
            ("full ÷ floor", "floor", full, floor),
        ):
            ratio = statistics.median(a) / statistics.median(b)
            pairs = [x / y for x, y in zip(a, b, strict=True)]
            stated = targets.get(key)
            verdict = f"≤ {stated}: {'met' if ratio <= stated else 'MISSED'}" if stated else "none"
            lines.append(f"| {label} | {ratio:.3f} | {_spread(pairs, 3)} | {verdict} |")
        if "memory" in targets:
            peak = max(run["tree"] for kind in ("full", "night") for run in r[kind])
            ok = "met" if peak <= targets["memory"] else "MISSED"
            lines.append(
                f"| peak memory of a refresh's tree | {peak:.2f} GiB | | "
                f"≤ {targets['memory']} GiB: {ok} |"
            )
        lines += [
            "",
            "Stages, median s of the rounds (the floor's own: parse and load, SQL, copy):",
            "",
            "| stage | full refresh | night | floor |",
            "|---|---:|---:|---:|",
        ]
        floor_parts = {"extract": "extract", "dbt": "transform", "publish": "publish"}
        for stage in ("extract", "dbt", "checks", "publish", "backup", "other"):
            cells = [
                f"{statistics.median(run['stages'][stage] for run in r[kind]):.1f}"
                for kind in ("full", "night")
            ]
            part = floor_parts.get(stage)
            cells.append(
                f"{statistics.median(run[part] for run in r['floor']):.1f}" if part else "–"
            )
            lines.append(f"| {stage} | {' | '.join(cells)} |")
        lines += [
            "",
            "The last night, by Dagster step (s):",
            "",
            "| step | s |",
            "|---|---:|",
        ]
        last = r["night"][-1]
        for step, seconds in sorted(last["steps"].items(), key=lambda item: -item[1]):
            lines.append(f"| {step} | {seconds:.2f} |")
        lines.append(
            f"| outside the steps (process start, imports, run set-up and tear-down, summary) "
            f"| {last['wall'] - sum(last['steps'].values()):.2f} |"
        )
    if len(results) > 1:
        lines += [
            "",
            "The case extract of the full refresh against the data (median s of the",
            "`case_extracts` step, which holds a fixed cost of its own; each size from its own",
            "rounds, under its own load; growth of the time ÷ growth of the events, 1.0 = linear):",
            "",
            "| events | extract s | s per million events | growth ÷ data growth |",
            "|---:|---:|---:|---:|",
        ]
        previous = None
        for r in sorted(results, key=lambda r: r["events"]):
            extract = statistics.median(run["steps"].get("case_extracts", 0.0) for run in r["full"])
            growth = (
                f"{(extract / previous[1]) / (r['events'] / previous[0]):.2f}" if previous else "–"
            )
            lines.append(
                f"| {r['events']:,} | {extract:.1f} | {extract / r['events'] * 1e6:.2f} "
                f"| {growth} |"
            )
            previous = (r["events"], extract)
    return "\n".join(lines) + "\n"


def memory_gib() -> float:
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
