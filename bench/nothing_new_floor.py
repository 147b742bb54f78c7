"""The floor of a night with nothing new (not a test; timed by bench/refresh.py): exactly the
checks that decide that nothing is new, in a process of their own, importing no more than they
need. Open the warehouse, compare the barometer exports (sha256) with ``raw.barometer_loads``
and the case extracts (name, size, time) with ``raw.case_loads``, and read every dbt source's
newest row (dbt's freshness query). Exits 1 if anything is new: the floor of a nothing-new night
holds only for such a night.

    python bench/nothing_new_floor.py   (with the night's BAROMETER_* variables)
"""

from __future__ import annotations

import hashlib
import json
import sys

import duckdb

from orchestration.settings import DBT_PROJECT_DIR, Settings


def main() -> int:
    settings = Settings.from_env()
    folders = [settings.source_dir, *([settings.drop_dir] if settings.drop_dir else [])]
    exports = [
        p for f in folders if f.is_dir() for p in f.iterdir() if p.suffix in (".csv", ".xlsx")
    ]
    extracts = [*settings.cases_source_dir.glob("citizens_*.csv"),
                *settings.cases_source_dir.glob("events_*.csv")]  # fmt: skip
    sources = json.loads((DBT_PROJECT_DIR / "target" / "manifest.json").read_text())["sources"]
    new = []
    with duckdb.connect(str(settings.warehouse_path)) as con:
        for path in exports:
            latest = con.execute(
                "select source_sha256 from raw.barometer_loads where source_file = ? "
                "order by loaded_at desc limit 1",
                [path.name],
            ).fetchall()
            sha256 = hashlib.sha256(path.read_bytes()).hexdigest()
            new += [path] if latest != [(sha256,)] else []
        stamps = set(
            con.execute(
                "select source_file, file_size, file_mtime_ns from raw.case_loads"
            ).fetchall()
        )
        new += [
            p for p in extracts if (p.name, p.stat().st_size, p.stat().st_mtime_ns) not in stamps
        ]
        for source in sources.values():
            newest = source.get("loaded_at_field") or "null"
            table = f'"{source["schema"]}"."{source["identifier"]}"'
            con.execute(f"select max({newest}) from {table}").fetchall()
    return 1 if new else 0


if __name__ == "__main__":
    sys.exit(main())
