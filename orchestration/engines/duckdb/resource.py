"""The run's ``duckdb`` resource: the warehouse file guarded for the whole run (warehouse.py)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import dagster as dg
import pandas as pd
from dagster_duckdb import DuckDBResource
from duckdb import DuckDBPyConnection
from pydantic import PrivateAttr

from orchestration.automation.faults import disk_faults
from orchestration.automation.leftovers import sweep
from orchestration.automation.nothing_new import forget
from orchestration.engines.duckdb.warehouse import (
    check_not_lost,
    check_opens,
    open_warehouse,
    refresh_lock,
)
from orchestration.privacy import secure_warehouse

NIGHTLY_JOB = "nightly_refresh"  # automation/schedules.py


class WarehouseResource(DuckDBResource):
    """The ``duckdb`` resource of the refresh: it holds the refresh lock from the run's start to
    its end (the job runs in one process, so resources live as long as the run), checks the file
    opens before any step, removes what a killed night left (automation/leftovers.py) at the
    start of the nightly job, and names the fault when a connection cannot be made. Unlike
    ``DuckDBResource`` it does not retry for minutes on a lock or a damaged file."""

    # Where the backups are (a lost warehouse names the newest) and who may read the published
    # files (privacy.py): the warehouse folder is made private at the start of every night.
    backup_dir: str
    reader_group: str | None = None
    # What readers are shown on this engine (engines.published_place), for the fault's words.
    published: str = "serving.duckdb"
    _guard: ExitStack | None = PrivateAttr(default=None)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        database = Path(self.database)
        self._guard = ExitStack()
        self._guard.enter_context(refresh_lock(database.parent))
        try:
            check_not_lost(database, Path(self.backup_dir))
            secure_warehouse(database.parent, self.reader_group)
            check_opens(database, self.connection_config)
            run = context.dagster_run
            # The nightly job runs every step in this one process: its start is the night's.
            if run is not None and run.job_name == NIGHTLY_JOB:
                forget(database.parent)  # until this night ends well, no night is the last good one
                with self.get_connection() as con:
                    for path in sweep(database.parent, con):
                        context.log.info(f"Removed what a killed night left: {path}")
        except BaseException:
            self._guard.close()
            raise

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        if self._guard is not None:
            self._guard.close()

    def frame(self, query: str) -> pd.DataFrame:
        """A query's result as pandas (the quality checks' batches)."""
        with self.get_connection() as con:
            return con.execute(query).df()

    @contextmanager
    def get_connection(self) -> Iterator[DuckDBPyConnection]:
        with guarded_connection(Path(self.database), self.connection_config, self.published) as con:
            yield con


@contextmanager
def guarded_connection(
    database: Path, config: dict | None = None, published: str = "serving.duckdb"
) -> Iterator[DuckDBPyConnection]:
    """``open_warehouse``, and a full disk named as such while the connection is in use
    (``published``: what readers are shown on the engine, for the fault's words)."""
    with open_warehouse(database, config) as con:
        # Waiting 30 s frees no disk: fail the night at once, saying what to do.
        with disk_faults(database.parent, published):
            yield con
