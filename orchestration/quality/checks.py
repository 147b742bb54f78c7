"""Blocking Dagster asset checks that run the Great Expectations suites of ``expectations/``."""

import dagster as dg
import pandas as pd
from dagster_duckdb import DuckDBResource

from orchestration.quality.suites import Suite, reference_parameters
from orchestration.quality.validation import SuiteResult, validate_frame
from orchestration.settings import REFERENCE_DIR, Settings

CHECK_NAME = "great_expectations"


def suite_checks(name: str, suites: list[Suite]) -> dg.AssetChecksDefinition:
    """One step that runs every suite of a layer; a failed suite blocks everything downstream."""
    specs = {dg.AssetCheckKey(dg.AssetKey(list(s.asset_key)), CHECK_NAME): s for s in suites}

    @dg.multi_asset_check(
        name=name,
        specs=[
            dg.AssetCheckSpec(
                CHECK_NAME,
                asset=key.asset_key,
                blocking=True,
                description=f"Great Expectations suite {suite.name}: {suite.description}",
            )
            for key, suite in specs.items()
        ],
        can_subset=True,
        required_resource_keys={"settings", "duckdb"},
    )
    def _checks(context: dg.AssetCheckExecutionContext):
        settings: Settings = context.resources.settings
        duckdb: DuckDBResource = context.resources.duckdb
        parameters = {
            **reference_parameters(REFERENCE_DIR),
            "max_reject_share": settings.max_reject_share,
        }
        for key in sorted(context.selected_asset_check_keys, key=lambda k: k.to_user_string()):
            suite = specs[key]
            with duckdb.get_connection() as con:
                frame = con.execute(suite.batch_query).df()
            result = validate_frame(frame, suite, parameters)
            if not result.success:
                context.log.error(describe_failure(result))
            yield dg.AssetCheckResult(
                asset_key=key.asset_key,
                check_name=CHECK_NAME,
                passed=result.success,
                severity=dg.AssetCheckSeverity.ERROR,
                description=describe_failure(result) if not result.success else None,
                metadata=_metadata(result),
            )

    return _checks


def describe_failure(result: SuiteResult) -> str:
    lines = [
        f"{len(result.failed)} of {result.evaluated} expectations of suite {result.suite} failed:"
    ]
    for failure in result.failed:
        count = f", {failure.unexpected_count} rows" if failure.unexpected_count else ""
        on = f" on {failure.column}" if failure.column else ""
        lines.append(f"- {failure.expectation}{on} ({failure.description}{count})")
    return "\n".join(lines)


def _metadata(result: SuiteResult) -> dict:
    metadata = {
        "suite": result.suite,
        "rows_validated": result.rows,
        "expectations_evaluated": result.evaluated,
        "expectations_failed": len(result.failed),
    }
    if result.failed:
        metadata["failed_expectations"] = dg.MetadataValue.md(
            "\n".join(
                ["| expectation | column | details | failing rows |", "|---|---|---|---:|"]
                + [
                    f"| {f.expectation} | {f.column or ''} | {f.description} "
                    f"| {'' if f.unexpected_count is None else f.unexpected_count} |"
                    for f in result.failed
                ]
            )
        )
        samples = [f.sample for f in result.failed if not f.sample.empty]
        if samples:
            sample = pd.concat(samples).drop_duplicates().head(10)
            metadata["failing_rows_sample"] = dg.MetadataValue.md(sample.to_markdown(index=False))
            # The same rows as data, for the alerts.
            metadata["failing_rows"] = dg.MetadataValue.json(
                sample.astype(object).where(sample.notna(), None).astype(str).to_dict("records")
            )
        metadata["failed_expectation_names"] = dg.MetadataValue.json(
            [f"{f.expectation} on {f.column}" if f.column else f.expectation for f in result.failed]
        )
    return metadata
