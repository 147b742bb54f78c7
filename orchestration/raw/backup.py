"""Backups of what cannot be rebuilt, and their restore: the raw tables and the landing archive.

Case extracts are deltas and are never archived (they hold CPR numbers), so the raw tables of
``warehouse.duckdb`` are the only copy of the case history; the dbt models are rebuilt from them.
After every good night ``write_backup`` copies every ``raw.*`` table to Parquet (a format any
tool reads in ten years) and the landing archive into a new folder of the backup directory,
reads it all back against the source (row counts, a checksum of the rows, each file's sha256),
records that in ``manifest.json`` and only then renames the folder into place: a half-written
backup is never the newest. ``restore`` rebuilds ``warehouse.duckdb`` from one. Knows DuckDB,
not Dagster.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from orchestration.privacy import make_private
from orchestration.settings import Settings

MANIFEST = "manifest.json"
FORMAT = "barometer-backup/1"
SCHEMA = "raw"


class BackupError(Exception):
    """A backup or restore that could not be done; the message is one line for the operator."""


@dataclass(frozen=True)
class Backup:
    path: Path
    tables: dict[str, int]  # rows per raw table
    landing_files: int
    size_bytes: int
    seconds: float


def newest_backup(backup_dir: Path) -> Path | None:
    """The newest backup whose manifest says it was verified; None if there is none."""
    verified = [path for path in _generations(backup_dir) if _manifest(path).get("verified")]
    return verified[-1] if verified else None


def write_backup(
    con: duckdb.DuckDBPyConnection, settings: Settings, code_commit: str | None
) -> Backup:
    """Back the warehouse up into a new generation of ``settings.backup_dir``, verified, then
    prune to ``settings.backup_keep`` generations. Runs inside one transaction of ``con``, so
    the raw tables are copied as of one moment."""
    started = datetime.now(UTC)
    root = settings.backup_dir
    root.mkdir(parents=True, exist_ok=True)
    name = started.strftime("%Y%m%dT%H%M%S.%fZ")
    partial, final = root / f".{name}.tmp", root / name
    previous = newest_backup(root)
    try:
        (partial / SCHEMA).mkdir(parents=True)
        con.execute("begin transaction")
        try:
            tables = _copy_tables(con, partial)
        finally:
            con.execute("rollback")
        landing = _copy_landing(settings.landing_dir, partial, previous)
        manifest = {
            "format": FORMAT,
            "created_at": started.isoformat(),
            "code_commit": code_commit,
            "duckdb_version": duckdb.__version__,
            "warehouse": str(settings.warehouse_path),
            "tables": tables,
            "landing": landing,
            "verified": True,
        }
        (partial / MANIFEST).write_text(json.dumps(manifest, indent=1), encoding="utf-8")
        make_private(partial)
        _fsync_tree(partial)
        partial.rename(final)
    except (OSError, duckdb.Error, BackupError) as error:
        shutil.rmtree(partial, ignore_errors=True)
        newest = previous or "none"
        raise BackupError(
            f"The backup to {root} failed ({str(error).splitlines()[0]}): tonight's publication "
            f"stands, but it is not backed up; the newest good backup is {newest}"
        ) from None
    _prune(root, settings.backup_keep)
    size = sum(p.stat().st_size for p in final.rglob("*") if p.is_file())
    return Backup(
        final,
        {table: entry["rows"] for table, entry in tables.items()},
        len(landing),
        size,
        (datetime.now(UTC) - started).total_seconds(),
    )


def same_disk_warning(settings: Settings) -> str | None:
    """A warning when the backups share the warehouse's file system: one failing disk takes both."""
    backups = next(p for p in (settings.backup_dir, *settings.backup_dir.parents) if p.exists())
    if backups.stat().st_dev != settings.warehouse_dir.stat().st_dev:
        return None
    return (
        f"The backups in {settings.backup_dir} are on the same disk as the warehouse "
        f"{settings.warehouse_dir}: one failing disk loses both; set BAROMETER_BACKUP_DIR to a "
        "folder on another disk"
    )


def _copy_tables(con: duckdb.DuckDBPyConnection, folder: Path) -> dict[str, dict]:
    tables = {}
    listed = con.execute(
        "select table_name, sql from duckdb_tables() "
        "where database_name = current_database() and schema_name = ? order by table_name",
        [SCHEMA],
    ).fetchall()
    for table, ddl in listed:
        relation = f"{SCHEMA}.{table}"
        file = folder / SCHEMA / f"{table}.parquet"
        con.execute(f"copy {relation} to '{file}' (format parquet, compression zstd)")
        rows, checksum = _checksum(con, relation)
        read_rows, read_checksum = _checksum(con, f"read_parquet('{file}')")
        if (read_rows, read_checksum) != (rows, checksum):
            raise BackupError(
                f"{relation} read back as {read_rows} rows, checksum {read_checksum}; "
                f"the warehouse holds {rows} rows, checksum {checksum}"
            )
        tables[table] = {
            "file": f"{SCHEMA}/{file.name}",
            "rows": rows,
            "rows_checksum": checksum,
            "sha256": _sha256(file),
            "bytes": file.stat().st_size,
            "ddl": ddl,
        }
    return tables


def _checksum(con: duckdb.DuckDBPyConnection, relation: str) -> tuple[int, str]:
    """Row count and an order-free sum of the rows' hashes: equal for equal rows of equal types."""
    rows, total = con.execute(
        f"select count(*), coalesce(sum(hash(t)::hugeint), 0)::varchar from {relation} as t"
    ).fetchone()
    return rows, total


def _copy_landing(landing_dir: Path, folder: Path, previous: Path | None) -> dict[str, dict]:
    """Every archived file, by its path under landing/: copied, or linked to the previous
    generation's copy when that holds the same bytes (the archive only grows), then verified."""
    recorded = _manifest(previous).get("landing", {}) if previous else {}
    landing = {}
    for source in sorted(p for p in landing_dir.rglob("*") if p.is_file() and not p.is_symlink()):
        relative = source.relative_to(landing_dir).as_posix()
        digest = _sha256(source)
        target = folder / "landing" / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        if recorded.get(relative, {}).get("sha256") == digest:
            os.link(previous / "landing" / relative, target)
        else:
            shutil.copy2(source, target)
        if _sha256(target) != digest:
            raise BackupError(f"landing/{relative} read back with another sha256 than its source")
        landing[relative] = {"sha256": digest, "bytes": target.stat().st_size}
    return landing


def _prune(root: Path, keep: int) -> None:
    """Keep the newest ``keep`` verified generations; remove older ones and what killed backups
    left half-written."""
    for leftover in root.glob(".*.tmp"):
        shutil.rmtree(leftover, ignore_errors=True)
    verified = [path for path in _generations(root) if _manifest(path).get("verified")]
    for old in verified[:-keep]:
        shutil.rmtree(old)


def _generations(backup_dir: Path) -> list[Path]:
    if not backup_dir.is_dir():
        return []
    return sorted(p for p in backup_dir.iterdir() if p.is_dir() and (p / MANIFEST).is_file())


def _manifest(path: Path) -> dict:
    try:
        return json.loads((path / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def _fsync_tree(folder: Path) -> None:
    for path in [*folder.rglob("*"), folder]:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


# -- restore ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Restored:
    backup: Path
    tables: dict[str, int]
    landing_files: int
    set_aside: Path | None  # the warehouse file that was there before, kept under this name
    seconds: float


def healthy_warehouse(path: Path) -> bool:
    """The file opens and holds raw tables: something a restore must not overwrite unasked."""
    if not path.exists():
        return False
    try:
        with duckdb.connect(str(path), read_only=True) as con:
            found = con.execute(
                "select count(*) from duckdb_tables() where schema_name = ?", [SCHEMA]
            ).fetchone()[0]
    except duckdb.Error:
        return False
    return found > 0


def restore(settings: Settings, backup: Path | None = None, force: bool = False) -> Restored:
    """Rebuild ``warehouse.duckdb`` from ``backup`` (default: the newest verified one): its raw
    tables, verified against the manifest, and the landing archive. A healthy warehouse is only
    replaced with ``force``; the file replaced is kept beside it, never deleted. The dbt state
    record is removed, so the next night builds every model from the restored raw tables."""
    # Here, not at the top: the erasures read the case parser's tables (pyarrow), which every
    # `barometer refresh` would otherwise import before it knows whether a run starts.
    from orchestration.raw.erasure import reapply_erasures

    started = datetime.now(UTC)
    backup = backup or newest_backup(settings.backup_dir)
    if backup is None:
        raise BackupError(f"There is no verified backup in {settings.backup_dir}: nothing restored")
    manifest = _manifest(backup)
    if manifest.get("format") != FORMAT or not manifest.get("verified"):
        raise BackupError(f"{backup} is not a verified backup (no manifest.json saying so)")
    warehouse = settings.warehouse_path
    if healthy_warehouse(warehouse) and not force:
        raise BackupError(
            f"{warehouse} opens and holds raw tables: restore refused, nothing was changed "
            f"(add --force to replace it with {backup.name}; it would be kept beside it)"
        )
    for entry in manifest["tables"].values():
        if _sha256(backup / entry["file"]) != entry["sha256"]:
            raise BackupError(f"{backup / entry['file']} differs from its recorded sha256")
    building = warehouse.with_name(f".{warehouse.name}.restoring.tmp")
    for leftover in (building, building.with_name(building.name + ".wal")):
        leftover.unlink(missing_ok=True)
    tables = {}
    with duckdb.connect(str(building)) as con:
        con.execute(f"create schema {SCHEMA}")
        for table, entry in manifest["tables"].items():
            con.execute(entry["ddl"])
            relation, file = f"{SCHEMA}.{table}", backup / entry["file"]
            con.execute(f"insert into {relation} by name select * from read_parquet('{file}')")
            rows = con.execute(f"select count(*) from {relation}").fetchone()[0]
            if rows != entry["rows"]:
                raise BackupError(f"{relation}: {rows} rows restored, {entry['rows']} backed up")
            tables[table] = rows
        # A backup taken before an erasure still holds those citizens: erase them again, from
        # the record kept beside the warehouse, before the restored file replaces anything.
        reapply_erasures(con, settings)
        con.execute("checkpoint")
    _restore_landing(backup, manifest["landing"], settings.landing_dir)
    set_aside = None
    if warehouse.exists():
        set_aside = warehouse.with_name(f"{warehouse.name}.before-restore-{started:%Y%m%dT%H%M%SZ}")
        warehouse.rename(set_aside)
        wal = warehouse.with_name(warehouse.name + ".wal")
        if wal.exists():
            wal.rename(set_aside.with_name(set_aside.name + ".wal"))
    os.replace(building, warehouse)
    # The models are rebuilt from the restored raw tables: no record of an earlier build stands.
    for state in (settings.dbt_state_dir, settings.dbt_state_dir.with_name("dbt_state.new")):
        shutil.rmtree(state, ignore_errors=True)
    return Restored(
        backup,
        tables,
        len(manifest["landing"]),
        set_aside,
        (datetime.now(UTC) - started).total_seconds(),
    )


def _restore_landing(backup: Path, landing: dict[str, dict], landing_dir: Path) -> None:
    """Every archived file back under landing/, unless the same bytes are already there."""
    for relative, entry in landing.items():
        target = landing_dir / relative
        if target.is_file() and _sha256(target) == entry["sha256"]:
            continue
        source = backup / "landing" / relative
        if _sha256(source) != entry["sha256"]:
            raise BackupError(f"{source} differs from its recorded sha256")
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}.tmp")
        shutil.copy2(source, partial)
        os.replace(partial, target)
