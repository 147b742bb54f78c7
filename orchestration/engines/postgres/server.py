"""The PostgreSQL server as the night meets it: connections whose faults read as one line of our
own, and the night's lock, which makes the server safe to share.

One night at a time per database: a refresh holds a session-level advisory lock from before it
touches the server until its run ends, and names itself in ``application_name`` (host, process,
warehouse folder), so a second refresh, from any folder or machine, stops at once and says who
holds the server. Knows psycopg2 (the driver dbt-postgres needs, so the only one), not Dagster.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg2
import psycopg2.errors
import psycopg2.extensions
from psycopg2.extensions import TRANSACTION_STATUS_IDLE, parse_dsn

from orchestration.engines import EngineError

# pg_try_advisory_lock's key, the same for every copy of the product: "baro" in ASCII.
NIGHT_LOCK = 0x6261726F
_HELD: set[str] = set()  # servers whose night lock this process holds (the CLI, then the job)
# PostgreSQL keeps the first 63 bytes of application_name.
_NAME_BYTES = 63


class ServerError(EngineError):
    """The server cannot be used as it is; one sentence with what to do."""


class Connection(psycopg2.extensions.connection):
    """psycopg2's connection with the two shorthands the night's code reads best with."""

    def execute(self, query, params=None) -> psycopg2.extensions.cursor:
        """Run ``query`` on a new cursor and return the cursor, to fetch from."""
        cursor = self.cursor()
        cursor.execute(query, params)
        return cursor

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """The block's statements, all or none: a transaction of its own when none is open, a
        savepoint inside the one that is (rolled back to on an error, the transaction going on)."""
        if self.info.transaction_status != TRANSACTION_STATUS_IDLE:
            self.execute("savepoint barometer_block")
            try:
                yield
            except BaseException:
                self.execute("rollback to savepoint barometer_block")
                raise
            self.execute("release savepoint barometer_block")
            return
        if not self.autocommit:  # the driver opens one at the first statement
            try:
                yield
            except BaseException:
                self.rollback()
                raise
            self.commit()
            return
        self.execute("begin")
        try:
            yield
        except BaseException:
            self.execute("rollback")
            raise
        self.execute("commit")


@contextmanager
def session(dsn: str, *, autocommit: bool = False, **options) -> Iterator[Connection]:
    """A driver connection for the block, committed at its end (unless ``autocommit``) and
    closed either way; an error leaves its transaction uncommitted. psycopg2's own ``with``
    commits but does not close."""
    con = psycopg2.connect(dsn, connection_factory=Connection, **options)
    try:
        con.autocommit = autocommit
        yield con
        if not autocommit:
            con.commit()
    finally:
        con.close()


def where(dsn: str) -> str:
    """``host:port/dbname`` of a connection string, for messages (never the password)."""
    options = parse_dsn(dsn)
    host = options.get("host") or os.environ.get("PGHOST") or "localhost"
    port = options.get("port") or os.environ.get("PGPORT") or "5432"
    dbname = options.get("dbname") or os.environ.get("PGDATABASE") or "?"
    return f"{host}:{port}/{dbname}"


def explain(error: psycopg2.Error, dsn: str) -> ServerError:
    """The driver's fault as the operator's: what happened and what to do, in one line."""
    text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    server = where(dsn)
    if isinstance(error, psycopg2.errors.DiskFull) or "No space left on device" in str(error):
        return ServerError(
            f"The disk of the PostgreSQL server {server} is full ({text}): schema marts was "
            "left as it was; free space on the server and run the refresh again"
        )
    if isinstance(error, psycopg2.errors.InsufficientPrivilege):
        return ServerError(f"The PostgreSQL server {server} refused: {text}")
    if isinstance(error, psycopg2.OperationalError) and "FATAL" in text:
        # It answered, and said no: a wrong password, user or database.
        reason = text.split("FATAL:")[-1].strip()
        return ServerError(
            f"The PostgreSQL server {server} refused the connection ({reason}): check the user, "
            "password and database in BAROMETER_PG_DSN; nothing was changed"
        )
    if isinstance(error, psycopg2.OperationalError):
        return ServerError(
            f"The PostgreSQL server {server} does not answer ({text}): check that it runs and "
            "BAROMETER_PG_DSN names it; nothing was changed"
        )
    return ServerError(f"The PostgreSQL server {server} failed: {text}")


@contextmanager
def connect(dsn: str, **options) -> Iterator[Connection]:
    """A ``session`` whose faults (and its statements' faults) raise ``ServerError``."""
    try:
        with session(dsn, connect_timeout=10, **options) as con:
            yield con
    except psycopg2.Error as error:
        raise explain(error, dsn) from None


def holder_name(warehouse_dir: Path) -> str:
    """``barometer host:pid folder``, cut to what the server keeps (the folder's end stays)."""
    head = f"barometer {socket.gethostname()}:{os.getpid()} "
    folder = str(warehouse_dir.resolve())
    room = _NAME_BYTES - len(head.encode())
    if len(folder.encode()) > room:
        folder = "..." + folder.encode()[-(room - 3) :].decode(errors="ignore")
    return head + folder


@contextmanager
def night_lock(dsn: str, warehouse_dir: Path) -> Iterator[None]:
    """Hold the server for one night; a second night stops here, naming the holder."""
    if dsn in _HELD:  # re-entered by the job inside a refresh this process started
        yield
        return
    with connect(dsn, autocommit=True, application_name=holder_name(warehouse_dir)) as con:
        [(taken,)] = con.execute("select pg_try_advisory_lock(%s)", [NIGHT_LOCK]).fetchall()
        if not taken:
            raise ServerError(
                f"Another refresh holds the PostgreSQL server {where(dsn)} ({_holder(con)}): "
                "this one stopped without touching the server; wait for that one to end"
            )
        _HELD.add(dsn)
        try:
            yield
        finally:
            _HELD.discard(dsn)
            con.execute("select pg_advisory_unlock(%s)", [NIGHT_LOCK])


def _holder(con: Connection) -> str:
    found = con.execute(
        "select a.application_name, a.client_addr::text, "
        "to_char(a.backend_start, 'YYYY-MM-DD HH24:MI:SS TZ') "
        "from pg_locks as l join pg_stat_activity as a on a.pid = l.pid "
        "where l.locktype = 'advisory' and l.granted and l.classid = 0 and l.objid = %s "
        "and l.database = (select oid from pg_database where datname = current_database())",
        [NIGHT_LOCK],
    ).fetchone()
    if found is None:
        return "a session that has just ended"
    name, address, since = found
    origin = address or "a local socket"
    return f"{name or 'a session without a name'}, from {origin}, since {since}"
