"""The night's last step: a verified backup of what cannot be rebuilt (raw/backup.py)."""

import dagster as dg
from dagster_duckdb import DuckDBResource

from orchestration.automation.nothing_new import remember
from orchestration.engines.duckdb.resource import NIGHTLY_JOB
from orchestration.publish.publication import git_commit
from orchestration.raw.backup import BackupError, same_disk_warning, write_backup
from orchestration.settings import PROJECT_ROOT, Settings


@dg.asset(
    key="backup",
    deps=["published"],
    group_name="publish",
    kinds={"duckdb", "parquet"},
    description=(
        "Every raw table as Parquet and the landing archive, in a new folder of "
        "BAROMETER_BACKUP_DIR, read back and verified against the warehouse (row counts, "
        "checksums) before it counts; the oldest beyond BAROMETER_BACKUP_KEEP are removed. "
        "`barometer restore` rebuilds warehouse.duckdb from it."
    ),
    required_resource_keys={"settings", "duckdb"},
)
def backup(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    settings: Settings = context.resources.settings
    duckdb: DuckDBResource = context.resources.duckdb
    try:
        with duckdb.get_connection() as con:
            made = write_backup(con, settings, git_commit(PROJECT_ROOT))
    except BackupError as error:
        raise dg.Failure(str(error), allow_retries=False) from None
    warning = same_disk_warning(settings)
    if warning:
        context.log.warning(warning)
    context.log.info(f"Backed up to {made.path}")
    run = context.dagster_run
    if run.job_name == NIGHTLY_JOB and not run.asset_selection:
        # The last step of a whole night that went well: the next night compares with it.
        remember(settings, run.run_id, made.path)
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(made.path)),
            "size_bytes": made.size_bytes,
            "seconds": round(made.seconds, 2),
            "landing_files": made.landing_files,
            **{f"rows/raw.{table}": rows for table, rows in made.tables.items()},
            "same_disk_as_warehouse": warning is not None,
        }
    )
