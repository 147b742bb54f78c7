"""The engine seam: what the night asks of the database that builds and serves the marts.

The raw store is DuckDB on every engine (``raw/``): it is the append-only record, and the raw
gates read it. What differs by engine sits behind ``Engine`` (``engines/base.py``), a Dagster
resource (key ``engine``) chosen once, by ``engine_for(settings)``, and implemented in
``engines/<engine>/``: the assets and checks ask it and never branch on ``settings.engine``, so
the night's asset graph is the same on both engines. This package's own module imports no
Dagster: ``barometer`` commands that need no engine start without it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from orchestration.settings import Settings

if TYPE_CHECKING:
    from orchestration.engines.base import Engine

MARTS = "marts"  # the published schema, on every engine


class EngineError(Exception):
    """The engine cannot be used as it is; one sentence with what to do."""


def engine_for(settings: Settings) -> Engine:
    """The engine the settings name: the one place that reads ``settings.engine``."""
    if settings.engine == "postgres":
        from orchestration.engines.postgres.engine import PostgresEngine

        return PostgresEngine.from_settings(settings)
    from orchestration.engines.duckdb.engine import DuckDBEngine

    return DuckDBEngine.from_settings(settings)
