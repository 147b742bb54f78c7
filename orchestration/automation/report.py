"""Turn a finished refresh run into a short text an analyst can read."""

from __future__ import annotations

import json
from dataclasses import dataclass

import dagster as dg
import duckdb

from orchestration.assets.dbt import BUILT
from orchestration.automation.alerting import failure_reason
from orchestration.engines import engine_for
from orchestration.raw.backup import same_disk_warning
from orchestration.settings import Settings


@dataclass(frozen=True)
class Summary:
    short: str  # for the console: what a person needs, a dozen lines
    full: str  # for the night's log: the same, with every published table's rows


def run_summary(result: dg.ExecuteInProcessResult, settings: Settings, seconds: float) -> Summary:
    evaluations = result.get_asset_check_evaluations()
    passed = sum(e.passed for e in evaluations)
    kept = sum("verdict_of_run" in e.metadata for e in evaluations)
    lines = [
        f"Nightly refresh {'succeeded' if result.success else 'FAILED'} in {seconds:.1f} s "
        f"(run {result.run_id}).",
        f"Quality checks: {passed} passed, {len(evaluations) - passed} failed"
        + (f" ({kept} on the same rows as an earlier run, whose verdict holds)." if kept else "."),
    ]
    lines += _dbt_lines(result, settings)
    tables: list[str] = []
    engine = engine_for(settings)
    if result.success and engine.name != "duckdb":
        rows = _server_rows(result)
        lines.append(f"Published {engine.published_place()}: {_tables(rows)}.")
        tables = [f"  marts.{table}: {count} rows" for table, count in rows]
        lines.append(f"Report: {settings.report_dir / 'index.html'}")
        lines.append(f"dbt docs: {settings.dbt_docs_dir / 'index.html'}")
    elif result.success:
        rows = _published_rows(settings)
        lines.append(f"Published {settings.serving_path}: {_tables(rows)}.")
        tables = [f"  {table}: {count} rows" for table, count in rows]
        lines.append(f"Report: {settings.report_dir / 'index.html'}")
        lines.append(f"dbt docs: {settings.dbt_docs_dir / 'index.html'}")
    else:
        lines += failure_lines(result)
        published = engine.published_place()
        if engine.name == "duckdb":
            published = f"file {settings.serving_path}"
        lines.append(f"The published {published} was left as it was.")
    # Written by the checks themselves, so a failed night shows what failed there too.
    quality_docs = settings.quality_docs_dir / "index.html"
    if quality_docs.exists():
        lines.append(f"Data quality docs: {quality_docs}")
    # The one warning an operator must see every night, not only in the log.
    same_disk = same_disk_warning(settings) if result.success else None
    if same_disk:
        lines.append(f"Warning: {same_disk}.")
    if settings.uses_default_pseudonym_key:
        lines.append(
            "Pseudonym key: the development key, fine for sample data, never for real data."
        )
    short = "\n".join(lines)
    return Summary(short, "\n".join([short, "Rows per published table:", *tables]))


def _tables(rows: list[tuple[str, int]]) -> str:
    return f"{len(rows)} tables, {sum(count for _, count in rows):,} rows (each table's in the log)"


def _dbt_lines(result: dg.ExecuteInProcessResult, settings: Settings) -> list[str]:
    """What dbt rebuilt tonight and what its tests say, in words that cannot read as a fault."""
    models = [
        e.materialization.metadata
        for e in result.get_asset_materialization_events()
        if "dbt_rebuilt" in e.materialization.metadata
    ]
    if not models:
        return []
    # A model left as it was is materialized only when a later step reads it: count them all
    # from the project as the night's dbt process last parsed it.
    manifest = json.loads((settings.dbt_target_dir / "manifest.json").read_text())
    kinds = [node["resource_type"] for node in manifest["nodes"].values()]
    total = sum(kind in BUILT for kind in kinds)
    rebuilt = sum(m["dbt_rebuilt"].value for m in models)
    tests = sum(m["dbt_tests_passed"].value for m in models if "dbt_tests_passed" in m)
    if rebuilt == 0:
        return [
            f"dbt: no model changed since the last night; their {kinds.count('test')} tests "
            "passed then."
        ]
    if rebuilt < total:
        return [
            f"dbt: {rebuilt} of {total} models rebuilt and {tests} of their tests passed; "
            f"the other {total - rebuilt} had no change since the last night, whose tests "
            "they passed."
        ]
    return [f"dbt: all {rebuilt} models rebuilt; {tests} tests passed."]


def failure_lines(result: dg.ExecuteInProcessResult) -> list[str]:
    """What failed and why: failed checks first, then failed steps that are not mere echoes."""
    lines = []
    for evaluation in result.get_asset_check_evaluations():
        if not evaluation.passed:
            lines.append(
                f"Check '{evaluation.check_name}' on {evaluation.asset_key.to_user_string()} "
                f"failed: {evaluation.description or 'see the run in the Dagster UI'}"
            )
    for event in result.all_events:
        if event.event_type == dg.DagsterEventType.STEP_FAILURE:
            reason = failure_reason(event.step_failure_data.error)
            lines.append(f"Step '{event.step_key}' failed: {reason}")
    skipped = sorted(
        event.step_key
        for event in result.all_events
        if event.event_type == dg.DagsterEventType.STEP_SKIPPED
    )
    if skipped:
        lines.append(f"Not run because of the failure: {', '.join(skipped)}")
    return lines


def _published_rows(settings: Settings) -> list[tuple[str, int]]:
    with duckdb.connect(str(settings.serving_path), read_only=True) as con:
        tables = con.execute(
            "select table_schema || '.' || table_name from information_schema.tables order by 1"
        ).fetchall()
        return [(t, con.execute(f"select count(*) from {t}").fetchone()[0]) for (t,) in tables]


def _server_rows(result: dg.ExecuteInProcessResult) -> list[tuple[str, int]]:
    """The row counts the server's publish step recorded (assets/publish.py)."""
    [published] = [
        event.materialization
        for event in result.get_asset_materialization_events()
        if event.asset_key == dg.AssetKey("serving")
    ]
    return sorted(
        (name.removeprefix("rows/"), value.value)
        for name, value in published.metadata.items()
        if name.startswith("rows/")
    )
