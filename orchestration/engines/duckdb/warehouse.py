"""The warehouse file, guarded: one refresh at a time, and each fault an operator meets named.

``warehouse.duckdb`` holds the only copy of the raw history. So a refresh takes an exclusive lock
(``refresh.lock`` beside it) for its whole run, a second refresh stops before touching anything,
and a file DuckDB cannot open (held by another program, truncated, damaged) is reported as such
and left exactly as it is: never deleted, never rebuilt. Knows DuckDB, nothing of the assets,
and imports no Dagster: ``barometer refresh`` takes the lock and checks the file before it
knows whether a run starts. The run's resource is ``resource.py``.
"""

from __future__ import annotations

import fcntl
import os
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
from duckdb import DuckDBPyConnection

from orchestration.raw.backup import newest_backup

LOCK_NAME = "refresh.lock"
_HELD: set[Path] = set()  # locks this process holds: the CLI takes it, then the job's resource
_LOCK_HELD_BY = re.compile(r"Conflicting lock is held in .* \(PID (\d+)\)")
_HEADER_BYTES = 3 * 4096  # DuckDB's file header and its two database headers, before the blocks
_RESTORE = (
    "restore it from the last backup with `barometer restore` (which keeps this file beside "
    "it), then run the refresh again (it holds the only copy of the raw history, so it is "
    "never rebuilt)"
)
_DAMAGED = ("not a valid DuckDB database file", "Could not read enough bytes", "Corrupt database")


class WarehouseError(Exception):
    """The warehouse cannot be used as it is; the message is one sentence with what to do."""


def describe_process(pid: str) -> str:
    """``process 4242 (barometer refresh)``: its command line, as the operator would see in ps."""
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        command = " ".join(Path(argv[0].decode()).name if i == 0 else a.decode()
                           for i, a in enumerate(argv) if a)  # fmt: skip
    except (OSError, ValueError, IndexError):
        command = ""
    if not command:
        try:
            command = Path(f"/proc/{pid}/comm").read_text().strip()
        except OSError:
            command = "no longer running"
    return f"process {pid} ({command[:80]})"


def explain(error: duckdb.Error, path: Path) -> WarehouseError:
    """DuckDB's reason for not opening the file, turned into what the operator should do."""
    text = str(error).splitlines()[0]
    held = _LOCK_HELD_BY.search(text)
    if held:
        return WarehouseError(
            f"{path} is held open by {describe_process(held.group(1))}: close that program or "
            "wait for it to end, then run the refresh again (BI tools must open serving.duckdb "
            "read-only, never warehouse.duckdb); nothing was changed"
        )
    if any(sign in text for sign in _DAMAGED):
        return WarehouseError(
            f"{path} is damaged and cannot be opened ({text}): it was left exactly as it is; "
            + _RESTORE
        )
    return WarehouseError(f"{path} cannot be opened: {text}")


@contextmanager
def refresh_lock(warehouse_dir: Path) -> Iterator[None]:
    """Hold the warehouse for one refresh; a second refresh stops here with who holds it."""
    path = warehouse_dir / LOCK_NAME
    if path in _HELD:  # re-entered by the job inside a refresh this process started
        yield
        return
    warehouse_dir.mkdir(parents=True, exist_ok=True)
    with path.open("a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = describe_process(handle.read().strip() or "unknown")
            raise WarehouseError(
                f"Another refresh is running on {warehouse_dir}, in {holder}: this one stopped "
                "without touching the warehouse; wait for that one to end"
            ) from None
        # The holder's PID, for the message of a refresh that finds the lock taken.
        handle.truncate(0)
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        _HELD.add(path)
        try:
            yield
        finally:
            _HELD.discard(path)
            fcntl.flock(handle, fcntl.LOCK_UN)


def check_not_lost(database: Path, backup_dir: Path) -> None:
    """Stop a night that finds no warehouse file where an earlier night worked: DuckDB would
    create an empty one, and the night would publish marts without their history."""
    if database.exists():
        return
    signs = [database.with_name("serving.duckdb"), database.with_name("dbt_state")]
    backup = newest_backup(backup_dir)
    if backup is None and not any(sign.exists() for sign in signs):
        return  # a first night
    raise WarehouseError(
        f"{database} is missing, but an earlier night published here: nothing was done and "
        f"serving.duckdb is unchanged; run `barometer restore` (newest backup: "
        f"{backup or f'none in {backup_dir}'}), or start afresh with `barometer refresh --rebuild`"
    )


def warehouse_identity(con: DuckDBPyConnection) -> str:
    """A random id of this warehouse file, made on first use. dbt's state record notes it, so
    a record of another file (lost, restored, replaced) is never trusted (dbt_process.py)."""
    con.execute("create table if not exists main.warehouse_identity (id varchar not null)")
    found = con.execute("select id from main.warehouse_identity").fetchone()
    if found is None:
        found = (uuid.uuid4().hex,)
        con.execute("insert into main.warehouse_identity values (?)", found)
    return found[0]


def check_opens(database: Path, config: dict | None = None) -> None:
    """Open the warehouse once and check its size, so a fault is named before any step runs.

    DuckDB reads only the blocks a query needs: a file cut short (a copy that stopped half-way,
    a full disk) opens fine and fails later, deep in a step. A file too short to hold the blocks
    in use is reported here. Not the total: DuckDB trims free blocks off the end of the file
    while still counting them, so a healthy file can be shorter than its total.
    """
    with open_warehouse(database, config) as con:
        block_size, blocks = con.execute(
            "select block_size, used_blocks from pragma_database_size() "
            "where database_name = current_database()"
        ).fetchone()
    expected, actual = _HEADER_BYTES + blocks * block_size, database.stat().st_size
    if actual < expected:
        raise WarehouseError(
            f"{database} is damaged and cannot be opened (it is {actual} bytes, its header "
            f"says {expected}: the file was cut short): it was left exactly as it is; " + _RESTORE
        )


@contextmanager
def open_warehouse(database: Path, config: dict | None = None) -> Iterator[DuckDBPyConnection]:
    """A connection to the warehouse, or a ``WarehouseError`` saying why there can be none."""
    try:
        con = duckdb.connect(str(database), config=config or {})
    except duckdb.Error as error:
        raise explain(error, database) from None
    try:
        yield con
    finally:
        con.close()
