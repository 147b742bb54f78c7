"""All configuration of the warehouse, read once from environment variables with embedded defaults.

Nothing else in the project reads ``os.environ``: every path and switch comes from ``Settings``.
Each variable's default and rule live in ``variables.py``; a bad value raises ``ConfigError``.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from orchestration.automation.alerts import AlertConfig
from orchestration.sources.tables import ReadLimits
from orchestration.variable_parsers import LIBPQ_VARIABLES, PROJECT_ROOT
from orchestration.variables import SETTINGS_VARIABLES, engine_rules, values_or_raise
from orchestration.variables import ConfigError as ConfigError  # what a bad variable raises

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


# Case data: CPR numbers are replaced by HMAC-SHA256 with this key at parse time. The default is
# for development and tests only; every run that uses it logs a warning.
DEV_PSEUDONYM_KEY = "barometer-dev-pseudonym-key-not-secret"


@dataclass(frozen=True)
class Settings:
    warehouse_dir: Path
    source_dir: Path
    drop_dir: Path | None = None
    source_urls: tuple[str, ...] = ()
    max_reject_share: float = 0.01
    statbank_indicators: dict[str, str] = field(default_factory=dict)
    excel_sheet: str | None = None
    download_max_bytes: int = 50_000_000
    download_timeout: float = 30.0
    # The largest export taken from the source or drop folder, and how much of one is read.
    file_max_bytes: int = 50_000_000
    read_limits: ReadLimits = ReadLimits()
    alerts: AlertConfig | None = None
    dagster_home: Path | None = None
    cases_source_dir: Path = PROJECT_ROOT / "seeds" / "cases"
    pseudonym_key: str = field(default=DEV_PSEUDONYM_KEY, repr=False)
    # Citizens whose last case activity is older than this are erased every night (GDPR art.
    # 5(1)(e), raw/erasure.py).
    case_retention_years: int = 15
    min_cell: int = 5
    duckdb_memory_limit: str = "1GB"
    report_municipality: str = "101"
    pages_port: int = 3001
    report_all: bool = False  # the nightly report also writes every municipality's page
    engine: str = "duckdb"
    # libpq's connection options (host, port, dbname, user, password, ...); empty: libpq's own
    # variables (PGHOST, ...) or defaults.
    pg_options: dict[str, str] = field(default_factory=dict, repr=False)
    # The group that may read the published files (privacy.py); None: only the owner.
    reader_group: str | None = None
    backup_dir_setting: Path | None = None
    backup_keep: int = 7
    # Tests only: the step at which the night kills itself (kill_point); never set in production.
    test_kill_at: str | None = None

    @property
    def uses_default_pseudonym_key(self) -> bool:
        """True when BAROMETER_PSEUDONYM_KEY is unset: fine for development, never for real data."""
        return self.pseudonym_key == DEV_PSEUDONYM_KEY

    @property
    def dbt_target(self) -> str:
        """The output of dbt_project/profiles.yml that builds the models on this engine."""
        return "postgres" if self.engine == "postgres" else "warehouse"

    @property
    def warehouse_path(self) -> Path:
        """The working database: the only file a refresh writes in place."""
        return self.warehouse_dir / "warehouse.duckdb"

    @property
    def serving_path(self) -> Path:
        """The published database that BI tools open read-only."""
        return self.warehouse_dir / "serving.duckdb"

    @property
    def landing_dir(self) -> Path:
        """The exact bytes of every file loaded, under landing/<load_id>/, with their sha256."""
        return self.warehouse_dir / "landing"

    @property
    def downloads_dir(self) -> Path:
        """Files fetched from BAROMETER_SOURCE_URL, and the validators of the last fetch."""
        return self.warehouse_dir / "downloads"

    @property
    def parquet_dir(self) -> Path:
        """Parquet copies of the published marts, one file per table."""
        return self.warehouse_dir / "parquet"

    @property
    def dbt_target_dir(self) -> Path:
        """dbt's target folder of the nightly build and docs: one per warehouse, so each night
        reuses the last night's partial parse (and run folders do not pile up)."""
        return self.warehouse_dir / "dbt_target"

    @property
    def dbt_state_dir(self) -> Path:
        """The last whole night's dbt artifacts, against which a night builds only what changed;
        deleting it makes the next night build everything."""
        return self.warehouse_dir / "dbt_state"

    @property
    def report_dir(self) -> Path:
        """The analysts' page, report/index.html, rebuilt after every successful night."""
        return self.warehouse_dir / "report"

    @property
    def report_all_dir(self) -> Path:
        """Every municipality's page and their index, with BAROMETER_REPORT_ALL=true."""
        return self.report_dir / "all"

    @property
    def dbt_docs_dir(self) -> Path:
        """dbt's documentation of the models, one static page, after every successful night."""
        return self.warehouse_dir / "docs" / "dbt"

    @property
    def quality_docs_dir(self) -> Path:
        """Great Expectations Data Docs of each suite's latest validation, failed ones too."""
        return self.warehouse_dir / "docs" / "quality"

    @property
    def logs_dir(self) -> Path:
        """One full log a night run from the command line: Dagster's and dbt's own lines."""
        return self.warehouse_dir / "logs"

    def page_url(self, page: Path) -> str:
        """A page under report/ or docs/ as `make dev` serves it (orchestration/ui/pages.py): a
        browser opens no file:// link from a web page such as the Dagster UI."""
        # By name, not resolved: report/ and docs/dbt/ are links into the night's generation.
        relative = Path(os.path.abspath(page)).relative_to(os.path.abspath(self.warehouse_dir))
        return f"http://127.0.0.1:{self.pages_port}/{quote(relative.as_posix())}"

    @property
    def backup_dir(self) -> Path:
        """Where each good night's verified backup goes (raw/backup.py). By default beside the
        warehouse folder, not in it: removing or losing that folder leaves the backups; one
        folder per warehouse, so two warehouses never prune each other's."""
        default = self.warehouse_dir.parent / f"{self.warehouse_dir.name}-backups"
        return self.backup_dir_setting or default

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read and check every variable; the first one not allowed raises ``ConfigError``."""
        env = os.environ if env is None else env
        v = values_or_raise(env, SETTINGS_VARIABLES, engine_rules)
        warehouse_dir = v["BAROMETER_WAREHOUSE_DIR"]
        return cls(
            warehouse_dir=warehouse_dir,
            source_dir=v["BAROMETER_SOURCE_DIR"],
            drop_dir=v["BAROMETER_DROP_DIR"],
            source_urls=v["BAROMETER_SOURCE_URL"] or (),
            max_reject_share=v["BAROMETER_MAX_REJECT_SHARE"],
            statbank_indicators=v["BAROMETER_STATBANK_INDICATORS"] or {},
            excel_sheet=v["BAROMETER_EXCEL_SHEET"],
            download_max_bytes=v["BAROMETER_DOWNLOAD_MAX_BYTES"],
            download_timeout=v["BAROMETER_DOWNLOAD_TIMEOUT"],
            file_max_bytes=v["BAROMETER_FILE_MAX_BYTES"],
            read_limits=ReadLimits(
                max_line_chars=v["BAROMETER_CSV_MAX_LINE_CHARS"],
                max_xlsx_uncompressed_bytes=v["BAROMETER_XLSX_MAX_UNCOMPRESSED_BYTES"],
            ),
            alerts=AlertConfig.from_env(env, warehouse_dir / "alerts.jsonl"),
            dagster_home=v["DAGSTER_HOME"],
            cases_source_dir=v["CASES_SOURCE_DIR"],
            pseudonym_key=v["BAROMETER_PSEUDONYM_KEY"] or DEV_PSEUDONYM_KEY,
            case_retention_years=v["BAROMETER_CASE_RETENTION_YEARS"],
            min_cell=v["BAROMETER_MIN_CELL"],
            duckdb_memory_limit=v["BAROMETER_DUCKDB_MEMORY_LIMIT"],
            report_municipality=v["BAROMETER_REPORT_MUNICIPALITY"],
            pages_port=v["BAROMETER_PAGES_PORT"],
            report_all=v["BAROMETER_REPORT_ALL"],
            engine=v["BAROMETER_ENGINE"],
            pg_options=v["BAROMETER_PG_DSN"] or {},
            reader_group=v["BAROMETER_READER_GROUP"],
            backup_dir_setting=v["BAROMETER_BACKUP_DIR"],
            backup_keep=v["BAROMETER_BACKUP_KEEP"],
            test_kill_at=env.get("BAROMETER_TEST_KILL_AT") or None,
        )

    def kill_point(self, point: str) -> None:
        """Tests only: with BAROMETER_TEST_KILL_AT=``point``, die here as a ``kill -9`` of the
        night's process group would (dbt's child with it). Unset, nothing happens."""
        if self.test_kill_at == point:
            os.killpg(os.getpgid(0), signal.SIGKILL)

    def subprocess_env(self) -> dict[str, str]:
        """Variables the dbt subprocess needs: its profile reads the warehouse path from here."""
        return {
            **TELEMETRY_OFF,
            # dbt's lines go to log files and pipes: no colour codes in them.
            "DBT_USE_COLORS": "false",
            "BAROMETER_DUCKDB_PATH": str(self.warehouse_path),
            # The small-cell threshold of the case marts, read by dbt's env_var()
            # (dbt_project/macros/case_outcomes.sql).
            "BAROMETER_MIN_CELL": str(self.min_cell),
            # DuckDB's buffer memory in dbt's process as in ours (dbt_project/profiles.yml).
            "BAROMETER_DUCKDB_MEMORY_LIMIT": self.duckdb_memory_limit,
            # The server of dbt's postgres target, as libpq's own variables.
            **{LIBPQ_VARIABLES[key]: value for key, value in self.pg_options.items()},
        }


def apply_process_env(settings: Settings) -> None:
    """Export what child processes (dbt) and libraries (GE, Dagster) read from the environment."""
    for key, value in settings.subprocess_env().items():
        os.environ[key] = value
