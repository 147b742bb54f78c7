"""All configuration of the warehouse, read once from environment variables with embedded defaults.

Nothing else in the project reads ``os.environ``: every path and switch comes from ``Settings``.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"
EXPECTATIONS_DIR = PROJECT_ROOT / "expectations"
REFERENCE_DIR = PROJECT_ROOT / "seeds" / "reference"
# dbt is installed beside this interpreter (the venv's bin/), which need not be on PATH.
DBT_EXECUTABLE = Path(sys.executable).with_name("dbt")

# Telemetry off everywhere: a municipal system phones home to no one, and a blocked call on a
# closed network must never slow a run. Set before dbt or Great Expectations are imported.
TELEMETRY_OFF = {
    "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    "GX_ANALYTICS_ENABLED": "false",
    "DAGSTER_DISABLE_TELEMETRY": "true",
}


def _path(value: str) -> Path:
    path = Path(value).expanduser()
    return path if path.is_absolute() else (PROJECT_ROOT / path)


@dataclass(frozen=True)
class Settings:
    warehouse_dir: Path
    source_dir: Path

    @property
    def warehouse_path(self) -> Path:
        """The working database: the only file a refresh writes in place."""
        return self.warehouse_dir / "warehouse.duckdb"

    @property
    def serving_path(self) -> Path:
        """The published database that BI tools open read-only."""
        return self.warehouse_dir / "serving.duckdb"

    @property
    def parquet_dir(self) -> Path:
        """Parquet copies of the published marts, one file per table."""
        return self.warehouse_dir / "parquet"

    @classmethod
    def from_env(cls) -> Settings:
        env = os.environ
        return cls(
            warehouse_dir=_path(env.get("BAROMETER_WAREHOUSE_DIR", "warehouse")),
            source_dir=_path(env.get("BAROMETER_SOURCE_DIR", "seeds/barometer")),
        )

    def subprocess_env(self) -> dict[str, str]:
        """Variables the dbt subprocess needs: its profile reads the warehouse path from here."""
        return {**TELEMETRY_OFF, "BAROMETER_DUCKDB_PATH": str(self.warehouse_path)}


def apply_process_env(settings: Settings) -> None:
    """Export what child processes (dbt) and libraries (GE, Dagster) read from the environment."""
    for key, value in settings.subprocess_env().items():
        os.environ[key] = value
