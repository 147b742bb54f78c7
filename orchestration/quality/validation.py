"""Run a suite with Great Expectations on a pandas batch and summarise what failed.

GE's SQL data source over DuckDB is broken upstream (every expectation errors in
``resolve_metric_bundle``), so the batch is read from DuckDB into pandas and validated there.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field
from importlib.metadata import version

import numpy as np
import pandas as pd

from orchestration.quality.suites import Suite

SAMPLE_ROWS = 5
# Expectations whose verdict depends on the order of the rows.
ORDER_DEPENDENT = {"expect_column_values_to_be_increasing", "expect_column_values_to_be_decreasing"}


@dataclass(frozen=True)
class FailedExpectation:
    expectation: str  # e.g. expect_column_values_to_be_between
    column: str | None
    description: str  # the kwargs that matter, in words
    unexpected_count: int | None
    sample: pd.DataFrame = field(repr=False)  # up to SAMPLE_ROWS failing rows, when row-level


@dataclass(frozen=True)
class SuiteResult:
    suite: str
    rows: int
    evaluated: int
    failed: list[FailedExpectation]
    # GE's own result, which its Data Docs renderer turns into a page (quality/data_docs.py).
    validation: object = field(default=None, repr=False, compare=False)

    @property
    def success(self) -> bool:
        return not self.failed


def fingerprint(frame: pd.DataFrame, suite: Suite, parameters: dict) -> str:
    """Everything a suite's verdict depends on: the batch's rows with their columns and types,
    the suite's expectations, their parameters and the versions of GE and of the pandas it
    computes with. The rows' order only for a suite that reads it: the batches of aggregates
    come in no fixed order."""
    digest = hashlib.sha256()
    described = [
        suite.definition,
        parameters,
        [[str(column), str(dtype)] for column, dtype in frame.dtypes.items()],
        version("great_expectations"),
        version("pandas"),
    ]
    digest.update(json.dumps(described, sort_keys=True, default=str).encode())
    rows = pd.util.hash_pandas_object(frame, index=False).to_numpy()
    types = {item["type"] for item in suite.definition["expectations"]}
    digest.update((rows if types & ORDER_DEPENDENT else np.sort(rows)).tobytes())
    return digest.hexdigest()


def validate_frame(frame: pd.DataFrame, suite: Suite, parameters: dict) -> SuiteResult:
    gx = _import_gx()
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = {"globally": False}
    batch = (
        context.data_sources.add_pandas(f"{suite.name}_source")
        .add_dataframe_asset(suite.name)
        .add_batch_definition_whole_dataframe("whole_table")
        .get_batch(batch_parameters={"dataframe": frame})
    )
    gx_suite = gx.ExpectationSuite(name=suite.name, expectations=build_expectations(suite))
    results = batch.validate(
        gx_suite, expectation_parameters=parameters, result_format={"result_format": "COMPLETE"}
    )
    failed = [_failure(r, frame, suite.sample_columns) for r in results.results if not r.success]
    return SuiteResult(suite.name, len(frame), len(results.results), failed, results)


def build_expectations(suite: Suite) -> list:
    """The suite's expectations as GE objects. Unlike ``ExpectationSuite(expectations=[dict])``,
    which logs and silently drops an expectation it cannot build, this raises on any typo."""
    from great_expectations.expectations.expectation_configuration import (
        ExpectationConfiguration,
    )

    _import_gx()
    return [
        ExpectationConfiguration(
            type=item["type"], kwargs=item["kwargs"], meta=item.get("meta")
        ).to_domain_obj()
        for item in suite.definition["expectations"]
    ]


def _failure(result, frame: pd.DataFrame, sample_columns: tuple[str, ...]) -> FailedExpectation:
    config = result.expectation_config
    hidden = {"batch_id", "result_format", "condition_parser", "row_condition"}
    kwargs = {k: v for k, v in config.kwargs.items() if k not in hidden}
    column = kwargs.pop("column", None)
    if result.exception_info and result.exception_info.get("raised_exception"):
        detail = result.exception_info.get("exception_message", "the expectation raised an error")
        return FailedExpectation(config.type, column, detail, None, frame.iloc[0:0])
    details = result.result or {}
    indices = details.get("unexpected_index_list") or []
    positions = [i for i in indices if isinstance(i, int)][:SAMPLE_ROWS]
    # The rows' identity and the failing column tell the story; the rest is noise in an alert.
    shown = [c for c in dict.fromkeys([*sample_columns, column]) if c in frame.columns]
    sample = frame.loc[positions, shown or list(frame.columns)] if positions else frame.iloc[0:0]
    observed = details.get("observed_value")
    parts = [f"{k}={v}" for k, v in kwargs.items() if k != "value_set"]
    if "value_set" in kwargs:
        parts.append("value_set=<reference>")
    condition = _condition(config.kwargs.get("row_condition"))
    if condition:
        parts.append(f"where {condition}")
    description = ", ".join(parts)
    if observed is not None:
        description += f" (observed {observed})"
    return FailedExpectation(
        config.type, column, description, details.get("unexpected_count"), sample
    )


def _condition(row_condition) -> str | None:
    """GE 1.x stores a pandas row condition as a dict around the filter text."""
    if isinstance(row_condition, dict):
        return row_condition.get("pass_through_filter")
    return row_condition or None


def _import_gx():
    # GE logs a line per expectation at INFO; the check metadata already carries the outcome.
    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    import great_expectations as gx

    return gx
