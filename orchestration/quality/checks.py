"""Blocking Dagster asset checks: the Great Expectations suites of ``expectations/``, and the
proof that the case marts disclose no suppressed cell."""

import time

import dagster as dg
import pandas as pd
from dagster_duckdb import DuckDBResource

from orchestration.quality.data_docs import write_data_docs
from orchestration.quality.disclosure import find_disclosures
from orchestration.quality.suites import Suite, reference_parameters
from orchestration.quality.validation import SuiteResult, validate_frame
from orchestration.settings import REFERENCE_DIR, Settings

CHECK_NAME = "great_expectations"
DATA_DOCS = "data_docs"  # the suite's Data Docs page, also named in alerts


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
            docs = write_data_docs(settings.quality_docs_dir, result, context.run.run_id)
            yield dg.AssetCheckResult(
                asset_key=key.asset_key,
                check_name=CHECK_NAME,
                passed=result.success,
                severity=dg.AssetCheckSeverity.ERROR,
                description=describe_failure(result) if not result.success else None,
                metadata={**_metadata(result), DATA_DOCS: dg.MetadataValue.path(str(docs))},
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


DISCLOSURE_CHECK = "no_disclosure_by_subtraction"
CASE_MARTS = ("fct_case_outcomes", "fct_local_vs_national")


@dg.multi_asset_check(
    name="case_disclosure",
    specs=[
        dg.AssetCheckSpec(
            DISCLOSURE_CHECK,
            asset=dg.AssetKey(["marts", mart]),
            blocking=True,
            description=(
                "Solves every published total of the case marts against its published parts "
                "(every breakdown, and across outcomes that share a base): fails when a "
                "suppressed value or a citizen hidden from every part can be derived."
            ),
        )
        for mart in CASE_MARTS
    ],
    can_subset=True,
    required_resource_keys={"duckdb"},
)
def case_disclosure_checks(context: dg.AssetCheckExecutionContext):
    """The small-cell protection proven on what BI tools will read, every night."""
    started = time.monotonic()
    with context.resources.duckdb.get_connection() as con:
        outcomes = con.execute("select * from marts.fct_case_outcomes").df()
        twins = con.execute("select * from marts.fct_local_vs_national").df()
    report = find_disclosures(outcomes, twins)
    metadata = {
        "cells_examined": report.cells,
        "suppressed_cells": report.suppressed_cells,
        "equations_solved": report.equations,
        "findings": len(report.findings),
        "seconds": round(time.monotonic() - started, 2),
    }
    if report.findings:
        metadata["first_findings"] = dg.MetadataValue.md(
            "\n".join(f"- {finding}" for finding in report.findings[:10])
        )
        context.log.error(f"{len(report.findings)} disclosure(s): {report.findings[0]}")
    description = (
        None
        if report.safe
        else f"{len(report.findings)} way(s) to derive a suppressed cell: {report.findings[0]}"
    )
    for key in context.selected_asset_check_keys:
        yield dg.AssetCheckResult(
            asset_key=key.asset_key,
            check_name=DISCLOSURE_CHECK,
            passed=report.safe,
            severity=dg.AssetCheckSeverity.ERROR,
            description=description,
            metadata=metadata,
        )
