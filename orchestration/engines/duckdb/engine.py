"""The night on DuckDB: dbt builds the marts in the warehouse file, publishing copies them into
``serving.duckdb`` (publish.py) with Parquet copies, and the report reads that file."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import dagster as dg
import pandas as pd

from orchestration.assets.previews import table_metadata
from orchestration.engines import MARTS
from orchestration.engines.base import Engine, Published
from orchestration.engines.duckdb.data_changes import copenhagen_changes
from orchestration.engines.duckdb.publish import publish_schema
from orchestration.engines.duckdb.resource import guarded_connection
from orchestration.engines.duckdb.warehouse import warehouse_identity
from orchestration.publish import generation
from orchestration.publish.publication import previous_published_at, tonights_publication
from orchestration.publish.serving_metadata import published_docs
from orchestration.settings import PROJECT_ROOT, Settings


class DuckDBEngine(Engine):
    """The warehouse file (``database``), opened in this process while the run holds it."""

    name = "duckdb"
    published_kinds = {"duckdb", "parquet"}
    generation_paths = ("serving.duckdb", "parquet", "report", "docs/dbt")
    built_marts_schema = MARTS

    database: str
    memory_limit: str = "1GB"

    @classmethod
    def from_settings(cls, settings: Settings) -> DuckDBEngine:
        return cls(database=str(settings.warehouse_path), memory_limit=settings.duckdb_memory_limit)

    def published_place(self) -> str:
        return "serving.duckdb"

    @contextmanager
    def _connection(self):
        with guarded_connection(Path(self.database), {"memory_limit": self.memory_limit}) as con:
            yield con

    def dbt_environment(self) -> dict[str, str]:
        # Read before dbt's process holds the file: the state record notes which warehouse file
        # it belongs to, so a record of a lost or replaced file is never trusted.
        with self._connection() as con:
            return {"BAROMETER_WAREHOUSE_ID": warehouse_identity(con)}

    def frame(self, query: str) -> pd.DataFrame:
        with self._connection() as con:
            return con.execute(query).df()

    @contextmanager
    def describer(self) -> Iterator[Callable[[dg.AssetKey], dict]]:
        with self._connection() as con:  # only once dbt's process has let go of the file
            yield lambda key: table_metadata(con, key)

    def previous_published_at(self, settings: Settings) -> datetime | None:
        with self._connection() as con:
            return previous_published_at(con, settings.serving_path)

    def publish(
        self, settings: Settings, tables: list[str], log: dg.DagsterLogManager
    ) -> Published:
        # What BI tools show beside each table and column: the dbt YAML, through the manifest.
        docs = published_docs(MARTS, tables, log.warning)
        with self._connection() as con:
            # Compared before the swap: afterwards the previous publication is gone.
            changes = copenhagen_changes(
                con, settings.serving_path, settings.alerts.value_change_points
            )
            publication = tonights_publication(
                con, PROJECT_ROOT, previous_published_at(con, settings.serving_path)
            )
            # Into tonight's generation, unseen by readers until ``published`` switches to it.
            folder = generation.begin(settings.warehouse_dir, publication["published_at"])
            try:
                counts = publish_schema(
                    con,
                    MARTS,
                    tables,
                    folder / settings.serving_path.name,
                    folder / settings.parquet_dir.name,
                    docs,
                    publication,
                    previous_serving=settings.serving_path,
                )
            except BaseException:
                generation.prune(settings.warehouse_dir)  # a failed night leaves no folder
                raise
        log.info(f"Wrote {folder / settings.serving_path.name}, to be published")
        return Published(
            counts,
            publication,
            changes,
            {
                "path": dg.MetadataValue.path(str(settings.serving_path)),
                "parquet_dir": dg.MetadataValue.path(str(settings.parquet_dir)),
                "generation": dg.MetadataValue.path(str(folder)),
            },
        )

    def report_database(self, settings: Settings, refresh: bool = False) -> Path:
        if refresh:
            return settings.serving_path
        return generation.building(settings.warehouse_dir) / settings.serving_path.name
