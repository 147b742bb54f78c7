"""Whether tonight has anything new since the last good night, decided before a run starts.

A night that finds every barometer export and case extract already loaded, the raw layer as the
last build read it, and the code, settings, published generation and backup as the last good
night left them would load nothing, rebuild nothing, keep every gate's verdict and publish what
is published. So it starts no Dagster run at all (imports, run set-up and the events of eleven
steps that change nothing: over 30 times what deciding costs, bench/RESULTS.md):
``barometer refresh`` and the 02:00 schedule ask ``nothing_new`` first.

The last step of every whole night (assets/backup.py) writes the record compared with, and the
start of every night removes it: only a night that ended well counts, and a night that failed
after loading or building something is run again in full. An erasure or a restore between
nights leaves dbt's record saying so (a rebuild list, or no record), which is compared too.
Free of Dagster and pandas: it costs what the checks cost.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from orchestration.publish.generation import PUBLISHED_PATHS, current
from orchestration.settings import (
    DBT_PROJECT_DIR,
    EXPECTATIONS_DIR,
    PROJECT_ROOT,
    Settings,
)
from orchestration.sources.inventory import dropped_files, export_files
from orchestration.transform import dbt_process

RECORD = "last_good_night.json"
# What the night's code is, besides the dbt project (dbt_process.night_inputs digests that):
# the package, the suites and the pinned versions of everything installed.
CODE = (PROJECT_ROOT / "orchestration", EXPECTATIONS_DIR, PROJECT_ROOT / "requirements.lock")
CASE_EXTRACTS = ("citizens_*.csv", "events_*.csv")
# Settings that say where runs are recorded, not what a night makes.
RECORDED_ELSEWHERE = {"dagster_home"}


@dataclass(frozen=True)
class GoodNight:
    run_id: str
    finished_at: str  # ISO 8601, UTC
    backup: str


def forget(warehouse_dir: Path) -> None:
    """A night starts, or the raw layer changes between nights: no night is the last good one
    until a whole night ends well again."""
    (warehouse_dir / RECORD).unlink(missing_ok=True)


def remember(settings: Settings, run_id: str, backup: Path) -> None:
    """The end of a whole night that went well: what it was run with and left behind."""
    record = {
        "run_id": run_id,
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "backup": str(backup),
        "night": _surroundings(settings),
    }
    path = settings.warehouse_dir / RECORD
    partial = path.with_name(f".{RECORD}.tmp")
    partial.write_text(json.dumps(record, indent=1), encoding="utf-8")
    partial.replace(path)


def nothing_new(settings: Settings) -> GoodNight | None:
    """The last good night, when tonight would find nothing new since it; else None (also when
    it cannot tell: then the night runs and decides step by step, as always)."""
    if settings.source_urls:
        return None  # only a download can tell whether the export behind a URL changed
    if settings.engine != "duckdb":
        return None  # others may change a server's marts between nights: the night checks
    try:
        record = json.loads((settings.warehouse_dir / RECORD).read_text(encoding="utf-8"))
        night = GoodNight(record["run_id"], record["finished_at"], record["backup"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if record.get("night") != json.loads(json.dumps(_surroundings(settings))):
        return None
    if not (Path(night.backup) / "manifest.json").is_file():
        return None
    manifest = DBT_PROJECT_DIR / "target" / "manifest.json"
    try:
        with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
            if not _all_loaded(con, settings):
                return None
            inputs = dbt_process.night_inputs(
                DBT_PROJECT_DIR, json.loads(manifest.read_text()), con
            )
            (identity,) = con.execute("select id from main.warehouse_identity").fetchone()
    except (OSError, ValueError, TypeError, duckdb.Error):
        return None
    env = {**os.environ, **settings.subprocess_env(), "BAROMETER_WAREHOUSE_ID": identity}
    built = dbt_process.nothing_new(
        settings.dbt_state_dir, settings.dbt_target_dir, inputs, env, docs=True
    )
    return night if built else None


def nothing_new_reason(night: GoodNight) -> str:
    """Why no run starts tonight, in a sentence (the console, the schedule's skipped tick)."""
    return (
        f"nothing new since the night that ended {night.finished_at} (run {night.run_id}), so "
        "no run was started: every export and case extract is loaded, and the raw layer, the "
        "dbt project, the code and the settings are as that night left them; its published "
        f"marts, report and backup ({night.backup}) stand"
    )


def _surroundings(settings: Settings) -> dict:
    """What a night's outcome depends on besides the raw data and dbt's inputs: the settings
    (digested: they hold the pseudonym key), the code, and what it published."""
    values = {
        field.name: repr(getattr(settings, field.name))
        for field in dataclasses.fields(settings)
        if field.name not in RECORDED_ELSEWHERE
    }
    generation = current(settings.warehouse_dir)
    return {
        "settings": _digest(json.dumps(values, sort_keys=True).encode()),
        "code": _digest(*_files(CODE)),
        "published": generation.name if generation else None,
        # What readers open: the generation's links, and the gates' Data Docs beside them.
        "pages": [
            path.exists()
            for path in (
                *(settings.warehouse_dir / relative for relative in PUBLISHED_PATHS),
                settings.quality_docs_dir / "index.html",
            )
        ],
    }


def _all_loaded(con: duckdb.DuckDBPyConnection, settings: Settings) -> bool:
    """Every export file is the current load of its name (none new, changed or gone), and
    every case extract is a file already loaded (its name, size and time)."""
    exports = {path.name: path for path in export_files(settings.source_dir)}
    if settings.drop_dir is not None:
        exports |= {path.name: path for path in dropped_files(settings.drop_dir, lambda _: None)}
    loaded = dict(
        con.execute(
            "select c.source_file, l.source_sha256 from raw.barometer_current_loads c "
            "join raw.barometer_loads l using (load_id)"
        ).fetchall()
    )
    if loaded != {
        name: hashlib.sha256(path.read_bytes()).hexdigest() for name, path in exports.items()
    }:
        return False
    stamps = set(
        con.execute("select source_file, file_size, file_mtime_ns from raw.case_loads").fetchall()
    )
    extracts = [p for pattern in CASE_EXTRACTS for p in settings.cases_source_dir.glob(pattern)]
    return all(_stamp(path) in stamps for path in extracts)


def _files(roots: tuple[Path, ...]) -> list[bytes]:
    """Each file's path and bytes under ``roots``, in a stable order (caches left out)."""
    chunks = []
    for root in roots:
        paths = sorted(root.rglob("*")) if root.is_dir() else [root]
        for path in paths:
            if path.is_file() and "__pycache__" not in path.parts:
                chunks += [str(path.relative_to(root.parent)).encode(), path.read_bytes()]
    return chunks


def _stamp(path: Path) -> tuple[str, int, int] | None:
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    return path.name, stat.st_size, stat.st_mtime_ns


def _digest(*chunks: bytes) -> str:
    digest = hashlib.sha256()
    for chunk in chunks:
        digest.update(len(chunk).to_bytes(8, "big") + chunk)
    return digest.hexdigest()
