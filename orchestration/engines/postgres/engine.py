"""The night on a PostgreSQL server (``BAROMETER_ENGINE=postgres``).

The extracts land into the local DuckDB raw store as on DuckDB, and the raw gates read it there.
The dbt step copies the raw tables to the server (raw.py) and builds the marts into
``marts_build``, kept from night to night, so a night rebuilds only what changed; the mart gates
read them there; publishing copies them into a fresh schema swapped in as ``marts``, with dbt's
descriptions as comments (publish.py), then copies ``marts`` back into a local DuckDB file for
the report page and the data-change alerts (copy_back.py). The whole run holds the server's
night lock (server.py).
"""

from __future__ import annotations

import shutil
import socket
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import datetime
from pathlib import Path

import dagster as dg
import duckdb
import pandas as pd
from psycopg2 import sql
from psycopg2.extensions import make_dsn
from pydantic import PrivateAttr

from orchestration.engines import MARTS
from orchestration.engines.base import Engine, Published
from orchestration.engines.duckdb.data_changes import copenhagen_changes
from orchestration.engines.duckdb.warehouse import open_warehouse
from orchestration.engines.postgres import publish
from orchestration.engines.postgres.copy_back import copy_schema
from orchestration.engines.postgres.raw import copy_raw_tables
from orchestration.engines.postgres.server import ServerError, connect, night_lock, where
from orchestration.publish import generation
from orchestration.publish.publication import PUBLICATION_TABLE, tonights_publication
from orchestration.publish.serving_metadata import published_docs
from orchestration.settings import PROJECT_ROOT, Settings
from orchestration.transform.dbt_process import DOCS_PAGE

# Read by dbt_project/macros/generate_schema_name.sql: where the postgres target builds marts.
MARTS_SCHEMA_VARIABLE = "BAROMETER_PG_MARTS_SCHEMA"
# The schemas the night writes besides the marts': the raw copy and dbt's views.
NIGHT_SCHEMAS = ("raw", "staging", "intermediate")
COPY_NAME = "server_marts.duckdb"  # beside the warehouse: the published marts, for the report


class PostgresEngine(Engine):
    """The server named by ``dsn`` (a libpq connection string; empty: libpq's own variables),
    for the warehouse in ``warehouse_dir``."""

    name = "postgres"
    published_kinds = {"postgres"}
    # The marts are published on the server; the pages beside them switch as one generation.
    generation_paths = ("report", "docs/dbt")
    built_marts_schema = publish.BUILD

    dsn: str = ""
    warehouse_dir: str

    _guard: ExitStack | None = PrivateAttr(default=None)

    @classmethod
    def from_settings(cls, settings: Settings) -> PostgresEngine:
        dsn = make_dsn(**settings.pg_options)
        return cls(dsn=dsn, warehouse_dir=str(settings.warehouse_dir))

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        # The night's lock, from the first step that asks for the server to the run's end.
        self._guard = ExitStack()
        try:
            self._guard.enter_context(night_lock(self.dsn, Path(self.warehouse_dir)))
        except ServerError as error:
            raise dg.Failure(str(error), allow_retries=False) from None

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        if self._guard is not None:
            self._guard.close()

    def night_lock(self):
        """The night's lock, taken before a run starts (``barometer refresh``)."""
        return night_lock(self.dsn, Path(self.warehouse_dir))

    def published_place(self) -> str:
        return f"schema marts on the PostgreSQL server {where(self.dsn)}"

    def dbt_environment(self) -> dict[str, str]:
        return {"DBT_TARGET": "postgres", MARTS_SCHEMA_VARIABLE: publish.BUILD}

    @contextmanager
    def _faults(self) -> Iterator[None]:
        """A server fault ends the step with our one line, not the driver's traceback."""
        try:
            yield
        except ServerError as error:
            raise dg.Failure(str(error), allow_retries=False) from None

    def before_dbt(self, settings: Settings, log: dg.DagsterLogManager) -> None:
        with self._faults():
            copied = copy_raw_tables(settings.warehouse_path, self.dsn)
            log.info(f"Copied {len(copied)} raw tables to the server by COPY")
            builder = self._claim_build_schema(settings.warehouse_dir)
            if builder is not None or any(copy.recreated for copy in copied):
                # Its models are not what this warehouse's last build left: build them all.
                shutil.rmtree(settings.dbt_state_dir, ignore_errors=True)
                log.info(
                    f"{publish.BUILD} was last built by {builder or 'this warehouse'}"
                    + ("" if builder else ", and a raw table changed shape")
                    + ": this night builds every model"
                )

    def _claim_build_schema(self, warehouse_dir: Path) -> str | None:
        """Mark ``marts_build`` as this warehouse's; who built it before, if not this one."""
        me = f"built by {socket.gethostname()}:{warehouse_dir.resolve()}"
        schema = sql.Identifier(publish.BUILD)
        with connect(self.dsn) as con:
            con.execute(sql.SQL("create schema if not exists {}").format(schema))
            [(owner,)] = con.execute(
                "select obj_description(%s::regnamespace, 'pg_namespace')", [publish.BUILD]
            ).fetchall()
            if owner == me:
                return None
            con.execute(sql.SQL("comment on schema {} is {}").format(schema, sql.Literal(me)))
            return (owner or "no one").removeprefix("built by ")

    def after_dbt(self, settings: Settings) -> None:
        # dbt documented the build schema; readers know the published one.
        page = settings.dbt_target_dir / DOCS_PAGE
        if page.exists():
            text = page.read_text(encoding="utf-8")
            page.write_text(text.replace(publish.BUILD, MARTS), encoding="utf-8")

    def frame(self, query: str) -> pd.DataFrame:
        with self._faults(), connect(self.dsn) as con:
            cursor = con.execute(query)
            names = [column.name for column in cursor.description]
            return pd.DataFrame.from_records(cursor.fetchall(), columns=names)

    @contextmanager
    def describer(self) -> Iterator[Callable[[dg.AssetKey], dict]]:
        with self._faults(), connect(self.dsn) as con:

            def describe(key: dg.AssetKey) -> dict:
                schema, table = key.path
                built = publish.BUILD if schema == MARTS else schema
                query = sql.SQL("select count(*) from {}").format(sql.Identifier(built, table))
                return {"dagster/row_count": con.execute(query).fetchone()[0]}

            yield describe

    def previous_published_at(self, settings: Settings) -> datetime | None:
        with self._faults():
            return publish.previous_published_at(self.dsn)

    def publish(
        self, settings: Settings, tables: list[str], log: dg.DagsterLogManager
    ) -> Published:
        # What BI tools show beside each table and column: the dbt YAML, through the manifest.
        docs = published_docs(MARTS, tables, log.warning)
        with self._faults():
            with open_warehouse(settings.warehouse_path) as con:
                # The night's files and years come from the raw store, as on DuckDB.
                publication = tonights_publication(
                    con, PROJECT_ROOT, publish.previous_published_at(self.dsn)
                )
            counts = publish.publish_marts(self.dsn, tables, publication, docs, log.warning)
            log.info(f"Published {len(tables)} marts to {self.published_place()}")
            # Tonight's report and dbt docs are built there, and switched to together.
            generation.begin(settings.warehouse_dir, publication["published_at"])
            copy = self._copy_back(settings, tables)
            changes = self._changes(settings, copy)
        return Published(counts, publication, changes, {"schema": MARTS, "server": where(self.dsn)})

    def _copy_back(self, settings: Settings, tables: list[str]) -> Path:
        with connect(self.dsn) as con:
            return copy_schema(
                con, MARTS, [*tables, PUBLICATION_TABLE], settings.warehouse_dir / COPY_NAME
            )

    def _changes(self, settings: Settings, copy: Path) -> list[dict]:
        """Tonight's marts against the previous publication (kept as ``marts_previous``)."""
        previous = settings.warehouse_dir / f".previous_{COPY_NAME}"
        try:
            with connect(self.dsn) as con:
                found = con.execute(
                    "select 1 from pg_tables where schemaname = %s and tablename = %s",
                    [publish.PREVIOUS, "fct_target_gap"],
                ).fetchone()
                if found is None:
                    return []
                copy_schema(con, publish.PREVIOUS, ["fct_target_gap"], previous)
            with duckdb.connect(str(copy), read_only=True) as con:
                return copenhagen_changes(con, previous, settings.alerts.value_change_points)
        finally:
            previous.unlink(missing_ok=True)

    def report_database(self, settings: Settings, refresh: bool = False) -> Path:
        copy = settings.warehouse_dir / COPY_NAME
        if refresh:
            with connect(self.dsn) as con:
                tables = [
                    name
                    for (name,) in con.execute(
                        "select tablename from pg_tables where schemaname = %s", [MARTS]
                    ).fetchall()
                ]
                if tables:
                    copy_schema(con, MARTS, tables, copy)
        return copy

    def check(self) -> Iterator[tuple[str, str, bool]]:
        server = where(self.dsn)
        try:
            with connect(self.dsn) as con:
                [(version,)] = con.execute("show server_version").fetchall()
                yield f"server {server}", f"ok, it answers (PostgreSQL {version})", True
                yield "the role's rights", *_rights(con)
                group = publish.READER_GROUP
                if con.execute("select 1 from pg_roles where rolname = %s", [group]).fetchone():
                    yield f"reader group {group}", "ok, it exists", True
                else:
                    # Not needed by the night, only by BI logins.
                    yield (
                        f"reader group {group}",
                        "not yet: `barometer create-reader-role NAME` creates it with a login",
                        True,
                    )
        except ServerError as error:
            yield f"server {server}", str(error), False


def _rights(con) -> tuple[str, bool]:
    """``ok`` when the role can create the night's schemas and rename the ones that exist."""
    user, may_create, superuser = con.execute(
        "select current_user, has_database_privilege(current_database(), 'CREATE'), "
        "rolsuper from pg_roles where rolname = current_user"
    ).fetchone()
    if superuser:
        return f"ok ({user} is a superuser)", True
    if not may_create:
        return (
            f"{user} may not create schemas in this database: "
            f"GRANT CREATE ON DATABASE ... TO {user}",
            False,
        )
    foreign = con.execute(
        "select nspname, pg_get_userbyid(nspowner) from pg_namespace "
        "where nspname = any(%s) and pg_get_userbyid(nspowner) <> current_user",
        [[*NIGHT_SCHEMAS, MARTS, publish.BUILD, publish.STAGING, publish.PREVIOUS]],
    ).fetchall()
    if foreign:
        owned = ", ".join(f"{schema} (owned by {owner})" for schema, owner in foreign)
        return f"{user} cannot replace {owned}: make {user} their owner", False
    return f"ok ({user} may create the night's schemas)", True
