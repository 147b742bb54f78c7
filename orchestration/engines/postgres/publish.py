"""Write-audit-publish on PostgreSQL: tonight's marts built in a staging schema, swapped in whole.

dbt builds the marts into ``marts_staging`` (``generate_schema_name``); the gates read them
there; publishing then renames ``marts`` to ``marts_previous`` and ``marts_staging`` to
``marts``, in one transaction, with the read-only group's grants given again inside it. A BI
reader connected as that group's member sees last night's marts or tonight's, never a mix,
never an error: the swap first takes every old mart table's exclusive lock, so a query that
started before finishes first, and one that starts during the swap waits for it and then reads
the new tables (PostgreSQL looks a name up again once it gets the lock). The old tables are
kept until the next publication: a query that had looked ``marts`` up just before the swap
checks its rights on that schema and then finds its tables renamed, where a dropped schema
would fail it ("schema with OID ... does not exist"). A lock held by a reader is never waited
on for long: the swap gives up after ``LOCK_TIMEOUT``, well before PostgreSQL's deadlock check
would cancel a reader, and tries again.

Knows psycopg, not Dagster or DuckDB.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import datetime

import psycopg
from psycopg import sql

from orchestration.publish.publication import PUBLICATION_COLUMN_TYPES, PUBLICATION_TABLE

MARTS = "marts"
STAGING = "marts_staging"
PREVIOUS = "marts_previous"
# The group that BI logins belong to (``barometer create-reader-role``): SELECT on marts only.
READER_GROUP = "barometer_reader"
# Shorter than PostgreSQL's deadlock_timeout (1 s): the swap, not a reader, gives way.
LOCK_TIMEOUT = "200ms"
SWAP_DEADLINE_SECONDS = 600


class PublishError(Exception):
    """The staged marts cannot be published; ``marts`` was left as it was."""


def reset_staging(dsn: str) -> None:
    """Start a night with no staged marts, so nothing of a failed night can be published."""
    with psycopg.connect(dsn) as con:
        con.execute(sql.SQL("drop schema if exists {} cascade").format(sql.Identifier(STAGING)))


def previous_published_at(dsn: str) -> datetime | None:
    """When the marts now being served were published; None before the first publication."""
    with psycopg.connect(dsn) as con:
        if not _table_exists(con, MARTS, PUBLICATION_TABLE):
            return None
        query = sql.SQL("select max(published_at) from {}").format(
            sql.Identifier(MARTS, PUBLICATION_TABLE)
        )
        return con.execute(query).fetchone()[0]


def publish_marts(dsn: str, tables: list[str], publication: Mapping[str, object]) -> dict[str, int]:
    """Swap the staged ``tables`` (plus the publication history) into ``marts``; row counts."""
    with psycopg.connect(dsn) as con:
        missing = [t for t in tables if not _table_exists(con, STAGING, t)]
        if missing:
            raise PublishError(
                f"{STAGING} lacks {', '.join(missing)} (did dbt build only some models?): "
                f"{MARTS} was left as it was"
            )
        with con.transaction():
            _write_publication(con, publication)
        counts = {
            table: con.execute(
                sql.SQL("select count(*) from {}").format(sql.Identifier(STAGING, table))
            ).fetchone()[0]
            for table in [*tables, PUBLICATION_TABLE]
        }
        deadline = time.monotonic() + SWAP_DEADLINE_SECONDS
        while True:
            try:
                with con.transaction():
                    _swap(con)
                return counts
            except (psycopg.errors.LockNotAvailable, psycopg.errors.DeadlockDetected):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)


def _write_publication(con: psycopg.Connection, row: Mapping[str, object]) -> None:
    """``marts_staging.publication``: the served night's rows plus tonight's."""
    target = sql.Identifier(STAGING, PUBLICATION_TABLE)
    names = list(PUBLICATION_COLUMN_TYPES)
    con.execute(
        sql.SQL("create table {} ({}, primary key (published_at))").format(
            target,
            sql.SQL(", ").join(
                sql.SQL("{} {}").format(sql.Identifier(name), sql.SQL(kind))
                for name, kind in PUBLICATION_COLUMN_TYPES.items()
            ),
        )
    )
    columns = sql.SQL(", ").join(map(sql.Identifier, names))
    if _table_exists(con, MARTS, PUBLICATION_TABLE):
        con.execute(
            sql.SQL("insert into {} ({}) select {} from {}").format(
                target, columns, columns, sql.Identifier(MARTS, PUBLICATION_TABLE)
            )
        )
    con.execute(
        sql.SQL("insert into {} ({}) values ({})").format(
            target, columns, sql.SQL(", ").join(sql.Placeholder() * len(names))
        ),
        [row[name] for name in names],
    )


def _swap(con: psycopg.Connection) -> None:
    con.execute(sql.SQL("set local lock_timeout = {}").format(sql.Literal(LOCK_TIMEOUT)))
    served = [
        sql.Identifier(MARTS, name)
        for (name,) in con.execute(
            "select tablename from pg_tables where schemaname = %s order by tablename", [MARTS]
        ).fetchall()
    ]
    # The night before last: no statement has resolved a name to it for a day.
    con.execute(sql.SQL("drop schema if exists {} cascade").format(sql.Identifier(PREVIOUS)))
    if served:
        con.execute(
            sql.SQL("lock table {} in access exclusive mode").format(sql.SQL(", ").join(served))
        )
        con.execute(
            sql.SQL("alter schema {} rename to {}").format(
                sql.Identifier(MARTS), sql.Identifier(PREVIOUS)
            )
        )
    con.execute(
        sql.SQL("alter schema {} rename to {}").format(
            sql.Identifier(STAGING), sql.Identifier(MARTS)
        )
    )
    if _role_exists(con, READER_GROUP):
        _grant_marts(con)


def _grant_marts(con: psycopg.Connection) -> None:
    schema, group = sql.Identifier(MARTS), sql.Identifier(READER_GROUP)
    con.execute(sql.SQL("grant usage on schema {} to {}").format(schema, group))
    con.execute(sql.SQL("grant select on all tables in schema {} to {}").format(schema, group))


def create_reader_role(dsn: str, name: str, password: str | None = None) -> None:
    """A login that reads ``marts`` and nothing else, through ``READER_GROUP``.

    The group's grants are given again by every publication, so they survive the nightly swap;
    run as a user allowed to create roles.
    """
    with psycopg.connect(dsn) as con, con.transaction():
        group = sql.Identifier(READER_GROUP)
        if not _role_exists(con, READER_GROUP):
            con.execute(sql.SQL("create role {} nologin").format(group))
        login = sql.Identifier(name)
        verb = "alter" if _role_exists(con, name) else "create"
        con.execute(
            sql.SQL(verb + " role {} login password {}").format(
                login, sql.Literal(password) if password else sql.NULL
            )
        )
        con.execute(sql.SQL("grant {} to {}").format(group, login))
        if con.execute("select 1 from pg_namespace where nspname = %s", [MARTS]).fetchone():
            _grant_marts(con)


def _table_exists(con: psycopg.Connection, schema: str, table: str) -> bool:
    found = con.execute(
        "select 1 from pg_tables where schemaname = %s and tablename = %s", [schema, table]
    )
    return found.fetchone() is not None


def _role_exists(con: psycopg.Connection, name: str) -> bool:
    return con.execute("select 1 from pg_roles where rolname = %s", [name]).fetchone() is not None
