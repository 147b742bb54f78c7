"""The parsers of the environment variables (``variables.py``): text in, value out. Any
ValueError a parser raises becomes the variable's ``ConfigError`` there. Plain Python: no
Dagster, no project imports.
"""

from __future__ import annotations

import csv
import grp
import math
import os
import re
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import duckdb
import psycopg2
from psycopg2.extensions import parse_dsn

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# Below this DuckDB cannot build the marts; anything DuckDB itself rejects is refused too.
SMALLEST_MEMORY_LIMIT = 100 * 2**20


def whole(minimum: int, maximum: int | None = None) -> Callable[[str], int]:
    def parse(text: str) -> int:
        value = int(text)
        if value < minimum or (maximum is not None and value > maximum):
            raise ValueError(text)
        return value

    return parse


def number(above: float, at_most: float | None = None) -> Callable[[str], float]:
    def parse(text: str) -> float:
        value = float(text)
        if not math.isfinite(value) or value <= above or (at_most is not None and value > at_most):
            raise ValueError(text)
        return value

    return parse


def share(text: str) -> float:
    value = float(text)
    if not 0 <= value < 1:  # also refuses nan
        raise ValueError(text)
    return value


def duckdb_size(text: str) -> str:
    """Asked of DuckDB itself, so exactly its own size syntax is accepted (2GB, 512MiB, 80%)."""
    if duckdb_bytes(text) < SMALLEST_MEMORY_LIMIT:
        raise ValueError(text)
    return text


def duckdb_bytes(text: str) -> int:
    """The bytes a DuckDB memory size stands for, as DuckDB itself reads it (80%: of this
    machine's memory)."""
    with duckdb.connect(":memory:") as con:
        try:
            con.execute("set memory_limit = ?", [text])
        except duckdb.Error as error:
            raise ValueError(text) from error
        shown_size = con.execute("select current_setting('memory_limit')").fetchone()[0]
    amount, unit = shown_size.split()
    units = {"bytes": 0, "KiB": 1, "MiB": 2, "GiB": 3, "TiB": 4, "PiB": 5}
    return int(float(amount) * 1024 ** units[unit])


# The connection options a PostgreSQL DSN may set, and the libpq variable each becomes for dbt
# (dbt_project/profiles.yml reads PGHOST, PGPORT, PGUSER, PGPASSWORD and PGDATABASE; libpq
# itself reads PGSSLMODE and PGCONNECT_TIMEOUT), so nothing in a DSN is silently dropped.
LIBPQ_VARIABLES = {
    "host": "PGHOST",
    "port": "PGPORT",
    "dbname": "PGDATABASE",
    "user": "PGUSER",
    "password": "PGPASSWORD",
    "sslmode": "PGSSLMODE",
    "connect_timeout": "PGCONNECT_TIMEOUT",
}


def libpq_dsn(text: str) -> dict[str, str]:
    """A libpq connection string or URI, read by libpq's own parser (nothing is connected)."""
    try:
        options = parse_dsn(text)
    except psycopg2.ProgrammingError as error:
        raise ValueError("not a connection string") from error
    if not options or not options.keys() <= LIBPQ_VARIABLES.keys():
        raise ValueError("an option without a libpq variable")
    return {key: str(value) for key, value in options.items()}


def project_path(text: str) -> Path:
    """Relative paths are taken from the project root, not from the current directory."""
    path = Path(text).expanduser()
    return path if path.is_absolute() else PROJECT_ROOT / path


def directory(*, writable: bool) -> Callable[[str], Path]:
    """A folder that exists, or whose nearest existing parent is a folder it can be created in."""

    def parse(text: str) -> Path:
        path = project_path(text)
        existing = next(p for p in (path, *path.parents) if p.exists())
        needs = os.W_OK | os.X_OK if (writable or existing != path) else os.R_OK | os.X_OK
        if not existing.is_dir() or not os.access(existing, needs):
            raise ValueError(text)
        return path

    return parse


def dagster_home(text: str) -> Path:
    # Dagster itself insists on an absolute path to an existing folder.
    if not Path(text).is_absolute() or not Path(text).is_dir():
        raise ValueError(text)
    return directory(writable=True)(text)


def url(text: str) -> str:
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname or " " in text:
        raise ValueError("not an http(s) URL")
    return text


def items(text: str) -> list[str]:
    """A list in one variable: items separated by commas, semicolons or whitespace."""
    return [item for item in re.split(r"[,;\s]+", text) if item]


def urls(text: str) -> tuple[str, ...]:
    return tuple(url(item) for item in items(text))


def statbank_items(text: str) -> dict[str, str]:
    pairs = [item.split("=", 1) for item in items(text)]
    if not all(len(p) == 2 and p[1] and re.fullmatch(r"[^/\\]+\.csv", p[0], re.I) for p in pairs):
        raise ValueError(text)
    return dict(pairs)


def sheet_name(text: str) -> str:
    # Excel's own rule for sheet names.
    if len(text) > 31 or re.search(r"[\[\]:*?/\\]", text):
        raise ValueError(text)
    return text


def municipality_code(text: str) -> str:
    """One of the 98 municipalities of seeds/reference/municipalities.csv, as three digits."""
    code = text.strip().lstrip("0").rjust(3, "0") if text.strip().isdigit() else text
    path = PROJECT_ROOT / "seeds" / "reference" / "municipalities.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        known = {
            row["municipality_code"]
            for row in csv.DictReader(handle)
            if row["is_country"] != "true"  # 000, the whole country, is no municipality
        }
    if code not in known:
        raise ValueError(text)
    return code


def reader_group(text: str) -> str:
    """An existing group that this process may give files to (root, or one of its groups)."""
    gid = grp.getgrnam(text).gr_gid  # KeyError: no such group
    if os.geteuid() != 0 and gid not in os.getgroups():
        raise ValueError(text)
    return text


def choice(*allowed: str) -> Callable[[str], str]:
    def parse(text: str) -> str:
        if text.lower() not in allowed:
            raise ValueError(text)
        return text.lower()

    return parse


def flag(text: str) -> bool:
    return {"1": True, "true": True, "yes": True, "on": True,
            "0": False, "false": False, "no": False, "off": False}[text.lower()]  # fmt: skip


def hostname(text: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?", text):
        raise ValueError(text)
    return text


def email(text: str) -> str:
    if not re.fullmatch(r"[^@\s,;<>]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*", text):
        raise ValueError(text)
    return text


def emails(text: str) -> tuple[str, ...]:
    return tuple(email(item.strip()) for item in text.split(",") if item.strip())


def text_of_at_least(length: int) -> Callable[[str], str]:
    def parse(text: str) -> str:
        if len(text) < length:
            raise ValueError("too short")
        return text

    return parse
