"""What a BI tool shows beside each published table: descriptions and primary keys from dbt.

The dbt YAML already says what every mart and column means and which columns are its key; the
manifest (``dbt_project/target/manifest.json``, prepared at set-up) carries that to publishing,
which writes it into the serving file as ``COMMENT ON TABLE / COLUMN`` and a ``PRIMARY KEY``, and
into each Parquet copy as Arrow field and file metadata. Knows DuckDB and Arrow, not Dagster.

A mart's key is read from dbt's ``constraints`` of type ``primary_key``: the model-level form
(``constraints: [{type: primary_key, columns: [...]}]``) or the column-level one. dbt-duckdb
enforces these in contract-enforced models, so a published key was checked by the nightly build.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from orchestration.settings import DBT_PROJECT_DIR

# Arrow metadata keys. ``description`` is what pyarrow-based readers (pandas, Polars) look for;
# the key is named in the file-level metadata so a reader need not guess.
# The manifest prepared at set-up (`barometer prepare`), as dagster-dbt reads it.
DBT_MANIFEST = DBT_PROJECT_DIR / "target" / "manifest.json"
DESCRIPTION = "description"
PRIMARY_KEY = "primary_key"
# Streamed in batches so a large mart never sits in memory whole.
_BATCH_ROWS = 100_000


@dataclass(frozen=True)
class TableDoc:
    """A published table's description, its columns' descriptions and its primary key."""

    description: str = ""
    columns: Mapping[str, str] = field(default_factory=dict)
    primary_key: tuple[str, ...] = ()

    def comment(self) -> str:
        """The table comment: the description, then the key, which SQLAlchemy cannot reflect."""
        key = f"Primary key: {', '.join(self.primary_key)}." if self.primary_key else ""
        return " ".join(part for part in (self.description, key) if part)


def read_table_docs(manifest_path: Path, schema: str) -> dict[str, TableDoc]:
    """The doc of every dbt model built into ``schema``, by table name."""
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    return {
        node["alias"]: _table_doc(node)
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node["schema"] == schema
    }


def _table_doc(node: dict) -> TableDoc:
    columns = {name: _one_line(col.get("description")) for name, col in node["columns"].items()}
    key = [
        tuple(c["columns"]) for c in node.get("constraints", []) if c["type"] == "primary_key"
    ] + [
        (name,)
        for name, col in node["columns"].items()
        if any(c["type"] == "primary_key" for c in col.get("constraints", []))
    ]
    return TableDoc(_one_line(node.get("description")), columns, key[0] if key else ())


def _one_line(text: str | None) -> str:
    # YAML folded blocks end in a newline and may wrap; a BI tooltip wants one clean line.
    return re.sub(r"\s+", " ", text or "").strip()


def copy_documented_table(
    con: duckdb.DuckDBPyConnection, source: str, target: str, doc: TableDoc | None
) -> None:
    """Copy ``source`` into a new table ``target`` with its key and comments.

    The empty table is created first so the key is in place before the rows arrive: DuckDB 2.0
    adds a primary key to an empty table, and inserting checks it. Rows go in sorted, which
    keeps reads and the Parquet copies byte-stable for the same input.
    """
    con.execute(f"create table {target} as select * from {source} with no data")
    if doc and doc.primary_key:
        con.execute(f"alter table {target} add primary key ({', '.join(doc.primary_key)})")
    con.execute(f"insert into {target} select * from {source} order by all")
    if doc:
        comment_table(con, target, doc)


def comment_table(con: duckdb.DuckDBPyConnection, target: str, doc: TableDoc) -> None:
    """``COMMENT ON`` the table and each described column that it has."""
    con.execute(f"comment on table {target} is {_literal(doc.comment())}")
    # A manifest older than the models may name a column that is gone: that is no reason to
    # fail the night (tests/test_serving_clients.py finds any column left bare).
    present = {row[0] for row in con.execute(f"describe {target}").fetchall()}
    for column, description in doc.columns.items():
        if description and column in present:
            con.execute(f"comment on column {target}.{column} is {_literal(description)}")


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def write_documented_parquet(
    con: duckdb.DuckDBPyConnection,
    source: str,
    path: Path,
    doc: TableDoc | None,
    extra: Mapping[str, str] | None = None,
) -> None:
    """Write ``source`` to ``path`` as Parquet, descriptions as Arrow field metadata.

    The table's description and key (and ``extra``) go into the file's key-value metadata,
    where any Parquet reader (DuckDB's ``parquet_kv_metadata`` too) finds them.
    """
    reader = con.sql(f"select * from {source} order by all").to_arrow_reader(_BATCH_ROWS)
    schema = documented_schema(reader.schema, doc or TableDoc())
    schema = schema.with_metadata({**(schema.metadata or {}), **(extra or {})})
    with pq.ParquetWriter(path, schema) as writer:
        for batch in reader:
            writer.write_batch(batch)


def documented_schema(schema: pa.Schema, doc: TableDoc) -> pa.Schema:
    """``schema`` with each column's description on its field and the table's on the schema."""
    fields = [
        f.with_metadata({DESCRIPTION: doc.columns[f.name]}) if doc.columns.get(f.name) else f
        for f in schema
    ]
    metadata = {}
    if doc.description:
        metadata[DESCRIPTION] = doc.description
    if doc.primary_key:
        metadata[PRIMARY_KEY] = json.dumps(list(doc.primary_key))
    return pa.schema(fields, metadata=metadata or None)


def undocumented(docs: Mapping[str, TableDoc], tables: Iterable[str]) -> list[str]:
    """What a BI user would find bare: tables, columns or keys of ``tables`` without a doc."""
    gaps = []
    for table in tables:
        doc = docs.get(table)
        if doc is None:
            gaps.append(f"{table}: not a dbt model in the manifest")
            continue
        gaps += [f"{table}: no description"] * (not doc.description)
        gaps += [f"{table}: no primary key"] * (not doc.primary_key)
        gaps += [f"{table}.{c}: no description" for c, text in doc.columns.items() if not text]
    return gaps


def published_docs(
    schema: str, tables: Iterable[str], warn: Callable[[str], None]
) -> dict[str, TableDoc]:
    """The docs BI tools show beside each published table and column, on every engine; each
    gap is warned about, never a reason not to publish."""
    docs = read_table_docs(DBT_MANIFEST, schema)
    for gap in undocumented(docs, tables):
        warn(f"Published without a description or key: {gap}")
    return docs
