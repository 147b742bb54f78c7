"""Turn a finished refresh run into a short text an analyst can read."""

from __future__ import annotations

import dagster as dg
import duckdb

from orchestration.automation.alerting import failure_reason
from orchestration.engines import engine_for
from orchestration.settings import Settings


def run_summary(result: dg.ExecuteInProcessResult, settings: Settings, seconds: float) -> str:
    evaluations = result.get_asset_check_evaluations()
    passed = sum(e.passed for e in evaluations)
    kept = sum("verdict_of_run" in e.metadata for e in evaluations)
    lines = [
        f"Nightly refresh {'succeeded' if result.success else 'FAILED'} in {seconds:.1f} s "
        f"(run {result.run_id}).",
        f"Quality checks: {passed} passed, {len(evaluations) - passed} failed"
        + (f" ({kept} on the same rows as an earlier run, whose verdict holds)." if kept else "."),
    ]
    lines += _dbt_lines(result)
    engine = engine_for(settings)
    if result.success and engine.name != "duckdb":
        lines.append(f"Published {engine.published_place()}:")
        lines += [f"  marts.{table}: {rows} rows" for table, rows in _server_rows(result)]
        lines.append(f"Report: {settings.report_dir / 'index.html'}")
        lines.append(f"dbt docs: {settings.dbt_docs_dir / 'index.html'}")
    elif result.success:
        lines.append(f"Published {settings.serving_path}:")
        lines += [f"  {table}: {rows} rows" for table, rows in _published_rows(settings)]
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
    return "\n".join(lines)


def _dbt_lines(result: dg.ExecuteInProcessResult) -> list[str]:
    """What dbt rebuilt tonight and the dbt tests that passed, as the models' materializations
    count them."""
    models = [
        e.materialization.metadata
        for e in result.get_asset_materialization_events()
        if "dbt_rebuilt" in e.materialization.metadata
    ]
    if not models:
        return []
    rebuilt = sum(m["dbt_rebuilt"].value for m in models)
    tests = sum(m["dbt_tests_passed"].value for m in models if "dbt_tests_passed" in m)
    unchanged = " (the others had no change since the last night)" if rebuilt < len(models) else ""
    return [f"dbt: {rebuilt} of {len(models)} models rebuilt{unchanged}; {tests} dbt tests passed."]


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
