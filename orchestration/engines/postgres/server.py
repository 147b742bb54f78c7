"""The PostgreSQL server as the night's ``postgres`` resource (``BAROMETER_ENGINE=postgres``)."""

from __future__ import annotations

import dagster as dg
import pandas as pd
import psycopg


class PostgresResource(dg.ConfigurableResource):
    """The server named by ``dsn``, a libpq connection string; empty: libpq's own variables."""

    dsn: str = ""

    def frame(self, query: str) -> pd.DataFrame:
        """A query's result as pandas (the quality checks' batches), like DuckDB's ``.df()``."""
        with psycopg.connect(self.dsn) as con:
            cursor = con.execute(query)
            names = [column.name for column in cursor.description]
            return pd.DataFrame.from_records(cursor.fetchall(), columns=names)

    def row_count(self, relation: str) -> int:
        """The rows of ``schema.table``, for the materializations' metadata."""
        with psycopg.connect(self.dsn) as con:
            return con.execute(f"select count(*) from {relation}").fetchone()[0]
