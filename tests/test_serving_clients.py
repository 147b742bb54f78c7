"""What BI clients see in a published serving.duckdb, tried with the clients docs/bi-tools.md names.

Superset reads a DuckDB file through SQLAlchemy and duckdb-engine; its own requirements pin
SQLAlchemy 1.4 and duckdb-engine 0.12, and a driver may bundle DuckDB 1.4, the oldest the docs
promise. That client is installed from the package registry into a venv of its own, once per
session; the venv's SQLAlchemy 2.0 and duckdb-engine 0.17 are the other. Each client reflects the
file in its own process, read-only, as a BI server would.
"""

import hashlib
import json
import re
import subprocess
import sys
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from orchestration.publish.publication import PUBLICATION_DOC, PUBLICATION_TABLE, git_commit
from orchestration.publish.serving_metadata import read_table_docs
from orchestration.settings import PROJECT_ROOT

OLDEST_CLIENT = ["duckdb==1.4.*", "sqlalchemy==1.4.*", "duckdb-engine==0.12.*"]
# pip's words when it could not reach the registry at all, as against a package it refused.
UNREACHABLE = ("NewConnectionError", "Failed to establish a new connection", "ConnectTimeout")

REFLECT = """
import json, sys
import duckdb, sqlalchemy as sa
engine = sa.create_engine(f"duckdb:///{sys.argv[1]}?access_mode=read_only")
inspector = sa.inspect(engine)
tables = {}
for table in inspector.get_table_names(schema="marts"):
    try:
        key = inspector.get_pk_constraint(table, schema="marts")["constrained_columns"]
    except Exception as error:
        key = type(error).__name__
    tables[table] = {
        "comment": inspector.get_table_comment(table, schema="marts")["text"],
        "columns": {c["name"]: c["comment"] for c in inspector.get_columns(table, schema="marts")},
        "primary_key": key,
    }
print(json.dumps({"duckdb": duckdb.__version__, "sqlalchemy": sa.__version__, "tables": tables}))
"""

OPEN_AND_COUNT = """
import json, sys
import duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
print(json.dumps({
    "duckdb": duckdb.__version__,
    "comment": con.execute(
        "select comment from duckdb_tables() where table_name = 'publication'"
    ).fetchone()[0],
    "rows": {
        table: con.execute(f"select count(*) from marts.{table}").fetchone()[0]
        for (table,) in con.execute("select table_name from duckdb_tables()").fetchall()
    },
}))
"""


@pytest.fixture(scope="session")
def oldest_client(tmp_path_factory) -> Path:
    """The Python of a fresh venv with OLDEST_CLIENT, or a skip when the registry is unreachable."""
    folder = tmp_path_factory.mktemp("oldest_client")
    subprocess.run([sys.executable, "-m", "venv", str(folder)], check=True)
    python = folder / "bin" / "python"
    pip = [str(python), "-m", "pip", "install", "--disable-pip-version-check", "--quiet"]
    result = subprocess.run([*pip, *OLDEST_CLIENT], capture_output=True, text=True, timeout=600)
    if result.returncode != 0 and any(word in result.stderr for word in UNREACHABLE):
        pytest.skip(f"the package registry is unreachable: {result.stderr[-300:]}")
    assert result.returncode == 0, result.stderr
    return python


def run(python: Path, script: str, serving: Path) -> dict:
    result = subprocess.run(
        [str(python), "-c", script, str(serving)], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.fixture(scope="session")
def docs(published, dbt_manifest) -> dict:
    """What each published table should carry: dbt's docs, and publishing's own for its table."""
    return {**read_table_docs(dbt_manifest, "marts"), PUBLICATION_TABLE: PUBLICATION_DOC}


@pytest.fixture(scope="session")
def served_tables(published) -> dict[str, list[str]]:
    with duckdb.connect(str(published.serving_path), read_only=True) as con:
        rows = con.execute(
            "select table_name, list(column_name order by column_index) from duckdb_columns() "
            "where schema_name = 'marts' group by table_name"
        ).fetchall()
    return dict(rows)


@pytest.fixture(scope="session", params=["venv", "oldest"])
def reflected(request, published) -> dict:
    """The file as one client's SQLAlchemy inspector sees it."""
    python = (
        Path(sys.executable)
        if request.param == "venv"
        else request.getfixturevalue("oldest_client")
    )
    return run(python, REFLECT, published.serving_path)


def test_clients_are_the_ones_the_readme_names(reflected):
    versions = (reflected["sqlalchemy"][:3], reflected["duckdb"][:3])
    assert versions in {("2.0", "2.0"), ("1.4", "1.4")}


def test_sqlalchemy_sees_every_table_and_column_with_its_description(
    reflected, served_tables, docs
):
    tables = reflected["tables"]
    assert sorted(tables) == sorted(served_tables)
    for table, seen in tables.items():
        assert seen["comment"] == docs[table].comment()
        assert "Primary key: " in seen["comment"], table
        assert list(seen["columns"]) == served_tables[table]
        bare = [column for column, comment in seen["columns"].items() if not comment]
        assert bare == [], f"{table}: columns without a description"


@pytest.mark.xfail(
    strict=True,
    reason="duckdb-engine reflects no primary key from DuckDB's pg_catalog (0-based conkey, "
    "empty pg_index; SQLAlchemy 2.0 also casts to REGCLASS): keys are named in table comments. "
    "When this passes, say so in docs/bi-tools.md.",
)
def test_sqlalchemy_reflects_the_primary_keys(reflected, docs):
    keys = {table: seen["primary_key"] for table, seen in reflected["tables"].items()}
    assert keys == {table: list(docs[table].primary_key) for table in keys}


def test_every_table_declares_its_primary_key_in_the_file(published, served_tables, docs):
    with duckdb.connect(str(published.serving_path), read_only=True) as con:
        keys = dict(
            con.execute(
                "select table_name, constraint_column_names from duckdb_constraints() "
                "where constraint_type = 'PRIMARY KEY'"
            ).fetchall()
        )
    assert keys == {table: list(docs[table].primary_key) for table in served_tables}


def test_oldest_promised_duckdb_opens_the_file_and_reads_comments_and_rows(
    published, oldest_client, served_tables
):
    seen = run(oldest_client, OPEN_AND_COUNT, published.serving_path)
    assert seen["duckdb"].startswith("1.4.")
    assert seen["comment"] == PUBLICATION_DOC.comment()
    with duckdb.connect(str(published.serving_path), read_only=True) as con:
        rows = {
            t: con.execute(f"select count(*) from marts.{t}").fetchone()[0] for t in seen["rows"]
        }
    assert sorted(seen["rows"]) == sorted(served_tables)
    assert seen["rows"] == rows


def test_parquet_copies_carry_every_description(published, served_tables, docs):
    assert sorted(p.stem for p in published.parquet_dir.glob("*.parquet")) == sorted(served_tables)
    for table in served_tables:
        schema = pq.read_schema(published.parquet_dir / f"{table}.parquet")
        assert schema.names == served_tables[table]
        assert schema.metadata[b"description"].decode() == docs[table].description
        assert json.loads(schema.metadata[b"primary_key"]) == list(docs[table].primary_key)
        for field in schema:
            assert field.metadata[b"description"].decode() == docs[table].columns[field.name]


def test_publication_row_says_what_the_night_holds(published):
    with duckdb.connect(str(published.serving_path), read_only=True) as con:
        [row] = con.execute(f"select * from marts.{PUBLICATION_TABLE}").fetchall()
        indicators = con.execute("select indicator_code from marts.dim_indicator").fetchall()
    _, commit, years, night, files = row
    # The commit checked out when the refresh ran: HEAD, or before it if someone committed since.
    is_ancestor = ["git", "merge-base", "--is-ancestor", commit, git_commit(PROJECT_ROOT)]
    assert subprocess.run(is_ancestor, cwd=PROJECT_ROOT).returncode == 0
    assert sorted(json.loads(years)) == sorted(code for (code,) in indicators)
    sample_nights = sorted(p.stem.split("_")[1] for p in published.cases_source_dir.glob("*.csv"))
    assert night.strftime("%Y%m%d") == sample_nights[-1]
    listed = {(f["kind"], f["file"]): f["sha256"] for f in json.loads(files)}
    barometer = {("barometer", p.name): sha256(p) for p in published.source_dir.glob("*.csv")}
    # Case extracts are named <kind>_<night>.csv.
    cases = {
        (p.stem.split("_")[0], p.name): sha256(p) for p in published.cases_source_dir.glob("*.csv")
    }
    assert listed == {**barometer, **cases}


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


BI_TOOLS_DOC = PROJECT_ROOT / "docs" / "bi-tools.md"
# One statement per connection, as Superset runs them; prints what each did.
TRY_AS_READER = """
import json, sys
import sqlalchemy as sa
engine = sa.create_engine(sys.argv[1])
outcome = {}
for statement in json.loads(sys.argv[2]):
    try:
        with engine.connect() as con:
            result = con.exec_driver_sql(statement)
            outcome[statement] = ["ok", str(result.fetchall() if result.returns_rows else None)]
    except Exception as error:
        outcome[statement] = [type(error.orig).__name__, str(error.orig).splitlines()[0]]
print(json.dumps(outcome))
"""


def documented_uri(serving: Path) -> str:
    """The Superset URI exactly as docs/bi-tools.md writes it, with this night's path."""
    [uri] = re.findall(r"^\s*(duckdb:////abs/path/\S+)$", BI_TOOLS_DOC.read_text(), re.M)
    return uri.replace("/abs/path/warehouse/serving.duckdb", str(serving))


def test_the_documented_uri_reads_and_refuses_the_file_system(published, tmp_path):
    serving, outside = published.serving_path, tmp_path / "written.csv"
    secret = tmp_path / "secret.txt"
    secret.write_text("not for readers")
    parquet = published.parquet_dir / "fct_indicator_values.parquet"
    refused = [
        f"copy (select 1) to '{outside}'",
        f"select * from read_text('{secret}')",
        f"select count(*) from read_parquet('{parquet}')",
        f"attach '{published.warehouse_path}' as warehouse (read_only)",
        "set enable_external_access = true",
    ]
    works = [
        "select count(*) from marts.fct_indicator_values",
        "select comment from duckdb_tables() where table_name = 'publication'",
        "select comment from duckdb_columns() where column_name = 'national_value' limit 1",
    ]
    uri = documented_uri(serving)
    assert "enable_external_access=false" in uri and "access_mode=read_only" in uri
    result = subprocess.run(
        [sys.executable, "-c", TRY_AS_READER, uri, json.dumps(refused + works)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    outcome = json.loads(result.stdout)
    for statement in refused:
        assert outcome[statement][0] in ("PermissionException", "InvalidInputException"), (
            statement,
            outcome[statement],
        )
    for statement in works:
        assert outcome[statement][0] == "ok", (statement, outcome[statement])
    assert "never sum it" in outcome[works[2]][1]  # a figure repeated on every row
    assert not outside.exists()


def test_the_documented_python_line_refuses_the_file_system(published, tmp_path):
    [line] = re.findall(r"`(duckdb\.connect\(\"/abs/path/[^`]+)`", BI_TOOLS_DOC.read_text())
    path = str(published.serving_path)
    con = eval(line.replace("/abs/path/warehouse/serving.duckdb", path), {"duckdb": duckdb})
    with con:
        assert con.execute("select count(*) from marts.dim_indicator").fetchone()[0] > 0
        with pytest.raises(duckdb.PermissionException):
            con.execute(f"copy (select 1) to '{tmp_path / 'x.csv'}'")
        with pytest.raises(duckdb.Error):
            con.execute("set enable_external_access = true")
