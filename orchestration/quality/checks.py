"""Blocking Dagster asset checks: the Great Expectations suites of ``expectations/``, and the
proof that the case marts disclose no suppressed cell."""

import time
from pathlib import Path

import dagster as dg
import pandas as pd

from orchestration.automation.faults import disk_faults
from orchestration.engines import engine_for
from orchestration.quality.data_docs import earlier_pass, write_index
from orchestration.quality.disclosure import find_disclosures
from orchestration.quality.suites import Suite, reference_parameters
from orchestration.quality.validation import SuiteResult, fingerprint
from orchestration.quality.validators import Validations
from orchestration.settings import REFERENCE_DIR, Settings

CHECK_NAME = "great_expectations"
DATA_DOCS = "data_docs"  # the suite's Data Docs page, also named in alerts
DATA_DOCS_LINK = "open"  # the same page as `make dev` serves it: a link the UI can follow


def suite_checks(
    name: str,
    suites: list[Suite],
    reader: str = "duckdb",
) -> dg.AssetChecksDefinition:
    """One step that runs every suite of a layer; a failed suite blocks everything downstream.

    ``reader``: the resource whose ``frame(query)`` reads the batches: ``duckdb`` for the raw
    store (DuckDB on every engine), ``engine`` for tonight's built marts (engines/).
    """
    specs = {dg.AssetCheckKey(dg.AssetKey(s.asset_key), CHECK_NAME): s for s in suites}

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
        required_resource_keys={"settings", reader},
    )
    def _checks(context: dg.AssetCheckExecutionContext):
        settings: Settings = context.resources.settings
        parameters = {
            **reference_parameters(REFERENCE_DIR),
            "max_reject_share": settings.max_reject_share,
        }
        docs_dir = settings.quality_docs_dir
        place = engine_for(settings).published_place()
        keys = sorted(context.selected_asset_check_keys, key=lambda k: k.to_user_string())
        verdicts = []
        with Validations(parameters, docs_dir, context.run.run_id) as validations:
            for key in keys:
                suite = specs[key]
                frame = getattr(context.resources, reader).frame(suite.batch_query)
                validation = fingerprint(frame, suite, parameters)
                # The same rows, suite and parameters as a validation that passed: GE would
                # pass them again (it is deterministic), so its verdict and page stand.
                earlier = earlier_pass(docs_dir, suite.name, validation)
                verdicts.append(earlier or validations.start(frame, suite, validation))
            for key, verdict in zip(keys, verdicts, strict=True):
                if isinstance(verdict, dict):
                    yield dg.AssetCheckResult(
                        asset_key=key.asset_key,
                        check_name=CHECK_NAME,
                        passed=True,
                        severity=dg.AssetCheckSeverity.ERROR,
                        metadata={
                            **_reused_metadata(verdict),
                            **_page(settings, docs_dir / f"{verdict['suite']}.html"),
                        },
                    )
                    continue
                # Written also for a failed suite, as the night's evidence: a full disk here
                # is the fault table's line, not a traceback from GE's renderer.
                with disk_faults(settings.warehouse_dir, place):
                    result, docs = verdict.result()
                    write_index(docs_dir)
                if not result.success:
                    context.log.error(describe_failure(result))
                settings.kill_point(name)  # tests: killed inside the gate
                yield dg.AssetCheckResult(
                    asset_key=key.asset_key,
                    check_name=CHECK_NAME,
                    passed=result.success,
                    severity=dg.AssetCheckSeverity.ERROR,
                    description=describe_failure(result) if not result.success else None,
                    metadata={**_metadata(result), **_page(settings, docs)},
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


def _page(settings: Settings, page: Path) -> dict:
    return {
        DATA_DOCS: dg.MetadataValue.path(str(page)),
        DATA_DOCS_LINK: dg.MetadataValue.url(settings.page_url(page)),
    }


def _reused_metadata(earlier: dict) -> dict:
    return {
        "suite": earlier["suite"],
        "rows_validated": earlier["rows"],
        "expectations_evaluated": earlier["evaluated"],
        "expectations_failed": 0,
        "verdict_of_run": earlier["run_id"],
        "verdict_note": f"The same rows, suite and parameters passed on {earlier['validated_at']}"
        " (Great Expectations is deterministic): that verdict holds and was not recomputed.",
    }


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


def disclosure_checks(schema: str = "marts") -> dg.AssetChecksDefinition:
    """The case marts' disclosure check, reading them from ``schema`` through the engine."""

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
        required_resource_keys={"engine"},
    )
    def _check(context: dg.AssetCheckExecutionContext):
        started = time.monotonic()
        engine = context.resources.engine
        outcomes, twins = (engine.frame(f"select * from {schema}.{mart}") for mart in CASE_MARTS)
        yield from _disclosure_results(context, outcomes, twins, started)

    return _check


def _disclosure_results(context: dg.AssetCheckExecutionContext, outcomes, twins, started: float):
    """The small-cell protection proven on what BI tools will read, every night."""
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


case_disclosure_checks = disclosure_checks()
