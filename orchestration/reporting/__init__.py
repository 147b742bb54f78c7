"""The analysts' report: one offline HTML page built from the published serving file.

Pure Python (DuckDB, Plotly, Jinja2), no Dagster: the ``report`` asset and ``barometer report``
both call ``build_report``.
"""

from orchestration.reporting.build import ReportResult, build_report
from orchestration.reporting.data import ReportError

__all__ = ["ReportError", "ReportResult", "build_report"]
