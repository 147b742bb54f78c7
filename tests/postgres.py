"""A real PostgreSQL server for the tests: Debian's ``postgresql`` binaries, a throw-away cluster.

``initdb`` in a fresh temporary folder, the server listening only on a Unix socket in that
folder (no TCP port to collide with anything), trust authentication for its one superuser, and
``pg_ctl stop`` plus the folder's removal at the end of the session. PostgreSQL refuses to run as
root, so under root the cluster belongs to the ``postgres`` system user that Debian's package
creates, and the server's commands run through ``runuser``. ``make test`` installs the package
when ``initdb`` is missing (Makefile).
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

SUPERUSER = "barometer"
DATABASE = "warehouse"
PORT = 5432  # names the socket file only: the server opens no TCP port


def postgres_bin_dir() -> Path:
    """The newest installed server's bin/ folder (Debian: /usr/lib/postgresql/<major>/bin)."""
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda path: int(path.parent.parent.name),
    )
    if not found:
        raise RuntimeError("PostgreSQL is not installed: `make test` installs it (apt-get)")
    return found[-1].parent


@dataclass(frozen=True)
class PostgresServer:
    socket_dir: Path
    port: int = PORT
    user: str = SUPERUSER
    dbname: str = DATABASE

    @property
    def dsn(self) -> str:
        """A libpq connection string (psycopg2, ``BAROMETER_PG_DSN``)."""
        return f"host={self.socket_dir} port={self.port} user={self.user} dbname={self.dbname}"


def as_server_user(command: list[str]) -> list[str]:
    """Root may not run the server: hand its commands to the ``postgres`` system user."""
    if os.geteuid() != 0:
        return command
    return ["runuser", "-u", "postgres", "--", *command]


def start(root: Path) -> PostgresServer:
    """initdb a cluster in root/data and start it on a socket in root; return once it accepts."""
    bin_dir = postgres_bin_dir()
    if os.geteuid() == 0:
        server_user = pwd.getpwnam("postgres")
        os.chown(root, server_user.pw_uid, server_user.pw_gid)
    data = root / "data"
    run = subprocess.run
    run(
        as_server_user(
            [
                str(bin_dir / "initdb"),
                "--pgdata",
                str(data),
                "--username",
                SUPERUSER,
                "--auth",
                "trust",
                "--encoding",
                "UTF8",
                "--locale",
                "C",
                "--no-sync",
            ]
        ),
        check=True,
        capture_output=True,
    )
    # A test cluster: durability off (fsync, full pages) makes dbt's many small commits cheap.
    options = (
        f"-c listen_addresses='' -c unix_socket_directories={root} -p {PORT} "
        "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    )
    run(
        as_server_user(
            [
                str(bin_dir / "pg_ctl"),
                "start",
                "--wait",
                "--pgdata",
                str(data),
                "--log",
                str(root / "server.log"),
                "-o",
                options,
            ]
        ),
        check=True,
        capture_output=True,
    )
    server = PostgresServer(socket_dir=root)
    run(
        [str(bin_dir / "createdb"), "-h", str(root), "-p", str(PORT), "-U", SUPERUSER, DATABASE],
        check=True,
        capture_output=True,
    )
    return server


def stop(root: Path) -> None:
    pg_ctl = postgres_bin_dir() / "pg_ctl"
    subprocess.run(
        as_server_user([str(pg_ctl), "stop", "--mode", "fast", "--pgdata", str(root / "data")]),
        check=True,
        capture_output=True,
    )


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One PostgreSQL server for the session, stopped and deleted at its end."""
    # Not under pytest's tmp_path: that folder is private to root, and the server runs as postgres.
    root = Path(tempfile.mkdtemp(prefix="barometer-pg-"))
    try:
        yield start(root)
    finally:
        if (root / "data" / "postmaster.pid").exists():
            stop(root)
        shutil.rmtree(root, ignore_errors=True)
