"""The plain-SQL floor of ``bench/cases.py``: the SQL dbt compiles for the case models, run with
the extract's own parsing SQL in one DuckDB process, then the mart copied to a serving file; no
orchestration, checks, tests, report or backup."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

CASE_MODELS = [
    "stg_cases__citizens",
    "stg_cases__events",
    "int_citizens_current",
    "int_case_events_resolved",
    "int_citizens_changed",
    "int_citizen_milestones",
    "int_citizen_outcomes",
    "int_case_outcomes_aggregated",
    "int_case_outcomes_suppressed",
    "fct_case_outcomes",
]


def compile_case_models(work: Path, env: dict, root: Path) -> Path:
    """The SQL dbt runs for the case models (full build), from a ``dbt compile``."""
    target = work / "dbt_target"
    subprocess.run(
        [
            str(Path(sys.executable).with_name("dbt")),
            "compile",
            "--quiet",
            "--target-path",
            str(target),
            "--select",
            *CASE_MODELS,
        ],
        cwd=root / "dbt_project",
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    manifest = json.loads((target / "manifest.json").read_text())
    models = {}
    for node in manifest["nodes"].values():
        if node["resource_type"] == "model" and node["name"] in CASE_MODELS:
            models[node["name"]] = {
                "relation": f"{node['schema']}.{node['name']}",
                "materialized": node["config"]["materialized"],
                "sql": node["compiled_code"],
            }
    path = work / "compiled.json"
    path.write_text(json.dumps(models))
    return path


def run_floor(warehouse: Path, cases: Path, compiled: Path) -> None:
    """Child: the same transformations as plain DuckDB SQL in one process; prints seconds."""
    import duckdb

    from orchestration.engines.duckdb.publish import SERVING_STORAGE_VERSION
    from orchestration.raw import cases as raw_cases
    from orchestration.settings import REFERENCE_DIR, Settings
    from orchestration.sources.cases import find_extracts, load_case_programmes, read_extract
    from orchestration.sources.pseudonyms import key_fingerprint

    settings = Settings.from_env()
    key = settings.pseudonym_key
    models = json.loads(compiled.read_text())
    started = time.monotonic()
    # The same memory as the night's DuckDB (BAROMETER_DUCKDB_MEMORY_LIMIT): like for like.
    con = duckdb.connect(
        str(warehouse / "warehouse.duckdb"), config={"memory_limit": settings.duckdb_memory_limit}
    )
    raw_cases.ensure_case_tables(con)
    loaded_at = __import__("datetime").datetime(2025, 1, 10)
    for extract in find_extracts(cases):
        with read_extract(extract, key, load_case_programmes(REFERENCE_DIR)) as parsed:
            raw_cases.load_extract(con, parsed, loaded_at, key_fingerprint(key))
    # On disk before the models run, as the night's extract step leaves them when it closes the
    # file: rows not yet checkpointed stay in DuckDB's memory, which the night's dbt never holds.
    con.execute("checkpoint")
    extracted = time.monotonic()
    for schema in ("staging", "intermediate", "marts"):
        con.execute(f"create schema if not exists {schema}")
    for model in CASE_MODELS:
        node = models[model]
        kind = "view" if node["materialized"] == "view" else "table"
        con.execute(f"create {kind} {node['relation']} as {node['sql']}")
    transformed = time.monotonic()
    serving = warehouse / "serving_floor.duckdb"
    serving.unlink(missing_ok=True)
    con.execute(f"attach '{serving}' as serving (storage_version '{SERVING_STORAGE_VERSION}')")
    con.execute("create schema serving.marts")
    con.execute(
        "create table serving.marts.fct_case_outcomes as "
        "select * from marts.fct_case_outcomes order by all"
    )
    con.execute("checkpoint serving")
    con.execute("detach serving")
    con.close()
    done = time.monotonic()
    print(
        json.dumps(
            {
                "wall": done - started,
                "extract": extracted - started,
                "transform": transformed - extracted,
                "publish": done - transformed,
            }
        )
    )
