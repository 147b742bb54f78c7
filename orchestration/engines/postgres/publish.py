"""Write-audit-publish on PostgreSQL: tonight's marts copied into a fresh schema, swapped in whole.

dbt builds the marts into ``marts_build`` (``generate_schema_name``), which is kept from night to
night so that a night rebuilds only what changed (transform/dbt_process.py); the gates read them
there. Publishing copies them into a fresh ``marts_staging`` with the publication history, then,
in one transaction, writes every table's and column's description (``COMMENT ON``, from the dbt
YAML), renames ``marts`` to ``marts_previous`` and ``marts_staging`` to ``marts``, and gives the
read-only group's grants again. A BI reader connected as that group's member sees last night's
marts or tonight's, never a mix, never an error: the swap first takes every old mart table's
exclusive lock, so a query that started before finishes first, and one that starts during the
swap waits for it and then reads the new tables (PostgreSQL looks a name up again once it gets
the lock). The old tables are kept until the next publication: a query that had looked
``marts`` up just before the swap checks its rights on that schema and then finds its tables
renamed, where a dropped schema would fail it ("schema with OID ... does not exist"). A lock
held by a reader is never waited on for long: the swap gives up after ``LOCK_TIMEOUT``, well
before PostgreSQL's deadlock check would cancel a reader, and tries again; the wait is logged
every ``WAIT_LOG_SECONDS``.

Knows psycopg2, not Dagster or DuckDB.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import datetime

import psycopg2.errors
from psycopg2 import sql

from orchestration.engines.postgres.server import Connection, ServerError, connect
from orchestration.publish.publication import (
    PUBLICATION_COLUMN_TYPES,
    PUBLICATION_DOC,
    PUBLICATION_TABLE,
)
from orchestration.publish.serving_metadata import TableDoc

MARTS = "marts"
BUILD = "marts_build"
STAGING = "marts_staging"
PREVIOUS = "marts_previous"
# The group that BI logins belong to (``barometer create-reader-role``): SELECT on marts only.
READER_GROUP = "barometer_reader"
# Shorter than PostgreSQL's deadlock_timeout (1 s): the swap, not a reader, gives way.
LOCK_TIMEOUT = "200ms"
SWAP_DEADLINE_SECONDS = 600
WAIT_LOG_SECONDS = 10
# The publication's JSON columns, queryable with ->> and jsonb_each on the server.
JSON_COLUMNS = ("barometer_data_years", "source_files")
COLUMN_TYPES = {
    name: "jsonb" if name in JSON_COLUMNS else kind
    for name, kind in PUBLICATION_COLUMN_TYPES.items()
}


class PublishError(ServerError):
    """The built marts cannot be published; ``marts`` was left as it was."""


def previous_published_at(dsn: str) -> datetime | None:
    """When the marts now being served were published; None before the first publication."""
    with connect(dsn) as con:
        if not _table_exists(con, MARTS, PUBLICATION_TABLE):
            return None
        query = sql.SQL("select max(published_at) from {}").format(
            sql.Identifier(MARTS, PUBLICATION_TABLE)
        )
        return con.execute(query).fetchone()[0]


def publish_marts(
    dsn: str,
    tables: list[str],
    publication: Mapping[str, object],
    docs: Mapping[str, TableDoc],
    log: Callable[[str], None],
) -> dict[str, int]:
    """Publish the built ``tables`` (plus the publication history) as ``marts``; row counts."""
    with connect(dsn) as con:
        missing = [t for t in tables if not _table_exists(con, BUILD, t)]
        if missing:
            raise PublishError(
                f"{BUILD} lacks {', '.join(missing)} (did dbt build only some models?): "
                f"{MARTS} was left as it was"
            )
        with con.transaction():
            _stage(con, tables, publication)
        counts = {
            table: con.execute(
                sql.SQL("select count(*) from {}").format(sql.Identifier(STAGING, table))
            ).fetchone()[0]
            for table in [*tables, PUBLICATION_TABLE]
        }
        docs = {**docs, PUBLICATION_TABLE: PUBLICATION_DOC}
        started = time.monotonic()
        logged = 0
        while True:
            try:
                with con.transaction():
                    _swap(con, docs)
                return counts
            except (psycopg2.errors.LockNotAvailable, psycopg2.errors.DeadlockDetected):
                waited = time.monotonic() - started
                if waited > SWAP_DEADLINE_SECONDS:
                    raise PublishError(
                        f"The swap into {MARTS} waited {waited:.0f} s for readers' locks "
                        f"({_lock_holders(con)}): {MARTS} was left as it was; end those "
                        "sessions or run the refresh again"
                    ) from None
                if waited >= logged + WAIT_LOG_SECONDS:
                    logged += WAIT_LOG_SECONDS
                    log(
                        f"The swap into {MARTS} has waited {waited:.0f} s for readers' locks "
                        f"({_lock_holders(con)}); it keeps trying for up to "
                        f"{SWAP_DEADLINE_SECONDS} s"
                    )
                time.sleep(0.05)


def _stage(con: Connection, tables: list[str], publication: Mapping[str, object]) -> None:
    """A fresh ``marts_staging``: a copy of each built table, with its keys, and the history."""
    staging = sql.Identifier(STAGING)
    con.execute(sql.SQL("drop schema if exists {} cascade").format(staging))
    con.execute(sql.SQL("create schema {}").format(staging))
    for table in tables:
        source, target = sql.Identifier(BUILD, table), sql.Identifier(STAGING, table)
        con.execute(sql.SQL("create table {} (like {} including all)").format(target, source))
        con.execute(sql.SQL("insert into {} select * from {}").format(target, source))
    _write_publication(con, publication)


def _write_publication(con: Connection, row: Mapping[str, object]) -> None:
    """``marts_staging.publication``: the served night's rows plus tonight's."""
    target = sql.Identifier(STAGING, PUBLICATION_TABLE)
    names = list(COLUMN_TYPES)
    con.execute(
        sql.SQL("create table {} ({}, primary key (published_at))").format(
            target,
            sql.SQL(", ").join(
                sql.SQL("{} {}").format(sql.Identifier(name), sql.SQL(kind))
                for name, kind in COLUMN_TYPES.items()
            ),
        )
    )
    columns = sql.SQL(", ").join(map(sql.Identifier, names))
    # Cast to tonight's types: a history published with text JSON columns becomes jsonb.
    typed = sql.SQL(", ").join(
        sql.SQL("{}::{}").format(sql.Identifier(name), sql.SQL(kind))
        for name, kind in COLUMN_TYPES.items()
    )
    if _table_exists(con, MARTS, PUBLICATION_TABLE):
        con.execute(
            sql.SQL("insert into {} ({}) select {} from {}").format(
                target, columns, typed, sql.Identifier(MARTS, PUBLICATION_TABLE)
            )
        )
    con.execute(
        sql.SQL("insert into {} ({}) values ({})").format(
            target,
            columns,
            sql.SQL(", ").join(
                sql.SQL("%s::{}").format(sql.SQL(kind)) for kind in COLUMN_TYPES.values()
            ),
        ),
        [row[name] for name in names],
    )


def _swap(con: Connection, docs: Mapping[str, TableDoc]) -> None:
    con.execute(sql.SQL("set local lock_timeout = {}").format(sql.Literal(LOCK_TIMEOUT)))
    _comment(con, docs)
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


def _comment(con: Connection, docs: Mapping[str, TableDoc]) -> None:
    """What a BI tool shows beside each staged table and column: its dbt description."""
    for table, doc in docs.items():
        if not _table_exists(con, STAGING, table):
            continue
        con.execute(
            sql.SQL("comment on table {} is {}").format(
                sql.Identifier(STAGING, table), sql.Literal(doc.comment() or None)
            )
        )
        for column, description in doc.columns.items():
            con.execute(
                sql.SQL("comment on column {} is {}").format(
                    sql.Identifier(STAGING, table, column), sql.Literal(description or None)
                )
            )


def _lock_holders(con: Connection) -> str:
    """The sessions holding locks on ``marts``, as the operator would look them up."""
    holders = con.execute(
        "select distinct a.pid, coalesce(nullif(a.usename, ''), '?'), "
        "coalesce(nullif(a.application_name, ''), 'no application name') "
        "from pg_locks as l join pg_class as c on c.oid = l.relation "
        "join pg_namespace as n on n.oid = c.relnamespace "
        "join pg_stat_activity as a on a.pid = l.pid "
        "where n.nspname = %s and l.granted and a.pid <> pg_backend_pid() order by 1",
        [MARTS],
    ).fetchall()
    if not holders:
        return "no reader holds one now"
    return "held by " + ", ".join(f"pid {pid} ({user}, {app})" for pid, user, app in holders)


def _grant_marts(con: Connection) -> None:
    schema, group = sql.Identifier(MARTS), sql.Identifier(READER_GROUP)
    con.execute(sql.SQL("grant usage on schema {} to {}").format(schema, group))
    con.execute(sql.SQL("grant select on all tables in schema {} to {}").format(schema, group))


def create_reader_role(dsn: str, name: str, password: str | None = None) -> str:
    """A login that reads ``marts`` and nothing else, through ``READER_GROUP``; what it reads.

    The group's grants are given again by every publication, so they survive the nightly swap;
    run as a user allowed to create roles.
    """
    with connect(dsn) as con:
        allowed = con.execute(
            "select rolcreaterole or rolsuper from pg_roles where rolname = current_user"
        ).fetchone()[0]
        if not allowed:
            user = con.execute("select current_user").fetchone()[0]
            raise ServerError(
                f"{user} may not create roles on the server: run create-reader-role as a user "
                "with CREATEROLE (BAROMETER_PG_DSN's user=...); nothing was changed"
            )
        with con.transaction():
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
        return readable(con, name)


def readable(con: Connection, role: str) -> str:
    """What ``role`` may read, in words: every schema and table it has SELECT on."""
    tables = con.execute(
        "select n.nspname, count(*) from pg_class as c "
        "join pg_namespace as n on n.oid = c.relnamespace "
        "where c.relkind in ('r', 'v', 'm', 'p') "
        "and n.nspname not in ('pg_catalog', 'information_schema') "
        "and has_schema_privilege(%s, n.oid, 'USAGE') "
        "and has_table_privilege(%s, c.oid, 'SELECT') "
        "group by n.nspname order by n.nspname",
        [role, role],
    ).fetchall()
    if not tables:
        return "no table yet (schema marts, once the first night publishes it)"
    return "; ".join(f"schema {schema}: {count} tables" for schema, count in tables)


def _table_exists(con: Connection, schema: str, table: str) -> bool:
    found = con.execute(
        "select 1 from pg_tables where schemaname = %s and tablename = %s", [schema, table]
    )
    return found.fetchone() is not None


def _role_exists(con: Connection, name: str) -> bool:
    return con.execute("select 1 from pg_roles where rolname = %s", [name]).fetchone() is not None
