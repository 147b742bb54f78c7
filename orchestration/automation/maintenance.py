"""The operator's commands between nights: restore a backup, erase citizens, and create a BI
login on the server. The first two take the refresh's lock, so they never run beside a night.
"""

from __future__ import annotations

import getpass
import sys
from pathlib import Path

from orchestration.engines import EngineError
from orchestration.engines.duckdb.warehouse import WarehouseError, check_opens, refresh_lock
from orchestration.settings import Settings


def restore(settings: Settings, backup: Path | None, force: bool) -> int:
    """``warehouse.duckdb`` rebuilt from a verified backup, under the refresh lock."""
    from orchestration.raw.backup import BackupError
    from orchestration.raw.backup import restore as restore_backup

    try:
        with refresh_lock(settings.warehouse_dir):
            restored = restore_backup(settings, backup, force)
    except (WarehouseError, BackupError) as error:
        print(f"barometer: {error}", file=sys.stderr)
        return 1
    rows = sum(restored.tables.values())
    print(
        f"Restored {settings.warehouse_path} from {restored.backup}: {len(restored.tables)} raw "
        f"tables, {rows} rows, {restored.landing_files} landing files, in {restored.seconds:.1f} s"
    )
    for table, count in restored.tables.items():
        print(f"  raw.{table}: {count} rows")
    if restored.set_aside:
        print(f"The warehouse file it replaced is kept as {restored.set_aside}")
    print("The next refresh rebuilds every model from the restored raw tables.")
    return 0


def erase_citizens(settings: Settings, cpr_file: str) -> int:
    """Erase the citizens of a CPR file, between nights (it takes the refresh's lock); prints
    counts only, never a number."""
    from orchestration.engines.duckdb.warehouse import open_warehouse
    from orchestration.raw import erasure

    key = settings.pseudonym_key
    try:
        if cpr_file == "-":
            citizens = erasure.pseudonyms_from_lines(sys.stdin, "standard input", key)
        else:
            citizens = erasure.read_cpr_file(Path(cpr_file), key)
    except erasure.CprFileError as error:
        print(f"barometer: {error}; nothing was erased", file=sys.stderr)
        return 2
    if not citizens:
        print("barometer: the CPR file holds no CPR number; nothing was erased", file=sys.stderr)
        return 2
    if not settings.warehouse_path.exists():
        print(
            f"barometer: there is no warehouse at {settings.warehouse_path}: restore it first "
            "(barometer restore), then erase; nothing was erased",
            file=sys.stderr,
        )
        return 1
    try:
        with refresh_lock(settings.warehouse_dir):
            check_opens(settings.warehouse_path)
            with open_warehouse(settings.warehouse_path) as con:
                erased = erasure.erase(con, settings, citizens)
    except WarehouseError as error:
        print(f"barometer: {error}", file=sys.stderr)
        return 1
    print(
        f"Erased {erased.citizens} citizen(s) ({erased.citizens_found} held in the warehouse): "
        f"{erased.rows} rows from {len(erased.tables)} table(s). Recorded by pseudonym in "
        f"raw.erased_citizens and {settings.warehouse_dir / erasure.RECORD_NAME}; the next night "
        "publishes counts without them. Backups taken before now still hold them until pruned."
    )
    return 0


def create_reader_role(settings: Settings, name: str, ask_password: bool) -> int:
    """A BI login on the server that reads the published marts and nothing else."""
    if settings.engine != "postgres":
        print("barometer: create-reader-role needs BAROMETER_ENGINE=postgres", file=sys.stderr)
        return 2
    from psycopg2.extensions import make_dsn

    from orchestration.engines.postgres import publish as postgres_publish

    password = getpass.getpass(f"Password for {name}: ") if ask_password else None
    dsn = make_dsn(**settings.pg_options)
    try:
        readable = postgres_publish.create_reader_role(dsn, name, password)
    except EngineError as error:
        print(f"barometer: {error}", file=sys.stderr)
        return 1
    print(f"{name}: a login of {postgres_publish.READER_GROUP}; it reads {readable}, nothing else")
    return 0
