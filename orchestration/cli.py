"""``barometer``: the warehouse from the command line (refresh headlessly, generate sample data)."""

from __future__ import annotations

import argparse
import gc
import getpass
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from orchestration.engines import published_place
from orchestration.engines.duckdb.warehouse import WarehouseError, check_opens, refresh_lock
from orchestration.settings import (
    DBT_EXECUTABLE,
    DBT_PROJECT_DIR,
    DEV_PSEUDONYM_KEY,
    REFERENCE_DIR,
    ConfigError,
    Settings,
    apply_process_env,
)
from orchestration.variables import (
    ALERT_VARIABLES,
    SETTINGS_VARIABLES,
    alert_rules,
    engine_rules,
    read,
    shown,
)

PARSE_KEYS = (
    "indicator_code",
    "municipality_code",
    "year",
    "population_group",
    "value",
    "is_suppressed",
)


def main(argv: list[str] | None = None) -> int:
    try:
        return run_command(argv)
    except ConfigError as error:
        # A bad variable is the operator's to fix: one sentence, no traceback.
        print(f"barometer: configuration error: {error}", file=sys.stderr)
        return 2


def console_main() -> int:
    """The ``barometer`` command: ``main``, then the process ends."""
    code = main()
    # Spare the ending process the garbage collector's last scans of the millions of objects
    # Dagster, dbt, pandas and GE loaded (measured: about 1.5 s of a 26 s refresh).
    gc.freeze()
    return code


def run_command(argv: list[str] | None) -> int:
    parser = argparse.ArgumentParser(prog="barometer", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("refresh", help="run the nightly refresh now, without the daemon")
    commands.add_parser(
        "check-config", help="show every setting, where it comes from and whether it is allowed"
    )
    commands.add_parser("prepare", help="parse the dbt project once, so runs start fast")
    report = commands.add_parser(
        "report", help="build the report page from the published serving.duckdb, no refresh"
    )
    report.add_argument(
        "--municipality", help="municipality code (default: BAROMETER_REPORT_MUNICIPALITY, 101)"
    )
    report.add_argument(
        "--out", type=Path, help="folder for index.html (default: warehouse/report)"
    )
    role = commands.add_parser(
        "create-reader-role",
        help="create (or update) a PostgreSQL login that reads schema marts only, for BI tools",
    )
    role.add_argument("name")
    role.add_argument("--password", action="store_true", help="prompt for the login's password")
    parse = commands.add_parser(
        "parse", help="show how an export would be read, one JSON row per line, loading nothing"
    )
    parse.add_argument("path", type=Path)
    parse.add_argument("--indicator", help="the indicator of a file that names none (StatBank)")
    parse.add_argument("--sheet", help="the sheet of an .xlsx file (default: the first)")
    generate = commands.add_parser(
        "generate-barometer", help="write the deterministic sample barometer exports"
    )
    generate.add_argument("--out", type=Path, default=Path("seeds/barometer"))
    cases = commands.add_parser(
        "generate-cases",
        help="write deterministic case-system extracts: an initial pair and nightly deltas",
    )
    cases.add_argument("--citizens", type=int, default=5000)
    cases.add_argument("--seed", type=int, default=2016)
    cases.add_argument("--deltas", type=int, default=3, help="nightly delta pairs after the first")
    cases.add_argument("--out", type=Path, default=Path("seeds/cases"))
    args = parser.parse_args(argv)

    if args.command == "refresh":
        return refresh(Settings.from_env())
    if args.command == "prepare":
        return prepare(Settings.from_env())
    if args.command == "report":
        return build_report_page(Settings.from_env(), args.municipality, args.out)
    if args.command == "create-reader-role":
        return create_reader_role(Settings.from_env(), args.name, args.password)
    if args.command == "check-config":
        return check_config(os.environ)
    if args.command == "parse":
        return parse_file(args.path, args.indicator, args.sheet)
    if args.command == "generate-cases":
        from orchestration.sample_data.cases import write_case_extracts

        for path in write_case_extracts(args.out, args.citizens, args.seed, args.deltas):
            print(path)
        return 0
    from orchestration.sample_data.barometer import write_barometer_exports

    for path in write_barometer_exports(args.out, REFERENCE_DIR):
        print(path)
    return 0


def parse_file(path: Path, indicator: str | None, sheet: str | None) -> int:
    """Rows as JSON lines on stdout; warnings, rejects and a summary on stderr."""
    from orchestration.sources.barometer import ExportFormatError, parse_export
    from orchestration.sources.reference import load_reference

    try:
        result = parse_export(path, load_reference(REFERENCE_DIR), indicator=indicator, sheet=sheet)
    except (ExportFormatError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    for row in result.rows:
        print(json.dumps({key: getattr(row, key) for key in PARSE_KEYS}, ensure_ascii=False))
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    for reject in result.rejects:
        print(f"reject: {path.name}, line {reject.source_line}: {reject.reason}", file=sys.stderr)
    by_reason = ", ".join(f"{n} {reason}" for reason, n in result.skipped.items())
    print(
        f"{path.name}: {result.layout}; {result.extracted} values read, {len(result.rows)} rows, "
        f"{result.skipped_total} skipped{f' ({by_reason})' if by_reason else ''}, "
        f"{len(result.rejects)} rejected",
        file=sys.stderr,
    )
    return 0


def check_config(env) -> int:
    """Every variable with its source, value (secrets hidden) and verdict; 2 if any is refused."""
    alert_readings = read(env, ALERT_VARIABLES)
    settings_readings = read(env, SETTINGS_VARIABLES)
    readings = settings_readings + alert_readings
    rule_errors = {
        error.variable: error
        for error in alert_rules(alert_readings) + engine_rules(settings_readings)
    }
    rows = []
    for reading in readings:
        variable = reading.variable
        error = reading.error or rule_errors.get(variable.name)
        value = shown(reading.text or variable.default, variable.secret)
        rows.append((variable.name, reading.source, value, f"REFUSED: {error}" if error else "ok"))
    widths = [max(len(row[column]) for row in rows) for column in range(3)]
    for *cells, verdict in rows:
        padded = [cell.ljust(width) for cell, width in zip(cells, widths, strict=True)]
        print(*padded, verdict, sep="  ")
    key = next(r for r in readings if r.variable.name == "BAROMETER_PSEUDONYM_KEY")
    if key.text in (None, DEV_PSEUDONYM_KEY):
        print("Pseudonym key: the development key, fine for sample data, never for real data.")
    elif not key.error:
        print("Pseudonym key: a secret key of your own, not the development key.")
    refused = sum(row[3] != "ok" for row in rows)
    print(f"{len(readings)} settings, {refused} refused.")
    return 2 if refused else 0


def build_report_page(settings: Settings, municipality: str | None, out: Path | None) -> int:
    """The nightly report's page for any municipality, read from the published file only."""
    from orchestration.reporting import ReportError, build_report

    try:
        result = build_report(
            settings.serving_path,
            municipality or settings.report_municipality,
            out or settings.report_dir,
        )
    except ReportError as error:
        print(f"barometer: {error}", file=sys.stderr)
        return 2
    print(
        f"{result.municipality_code} {result.municipality_name}: {result.charts} charts, "
        f"{result.size_bytes / 1e6:.1f} MB in {result.seconds:.1f} s"
    )
    print(result.path)
    return 0


def create_reader_role(settings: Settings, name: str, ask_password: bool) -> int:
    """A BI login on the server that reads the published marts and nothing else."""
    if settings.engine != "postgres":
        print("barometer: create-reader-role needs BAROMETER_ENGINE=postgres", file=sys.stderr)
        return 2
    from psycopg.conninfo import make_conninfo

    from orchestration.engines.postgres import publish as postgres_publish

    password = getpass.getpass(f"Password for {name}: ") if ask_password else None
    postgres_publish.create_reader_role(make_conninfo(**settings.pg_options), name, password)
    print(f"{name}: a login of {postgres_publish.READER_GROUP}, which reads schema marts only")
    return 0


def prepare(settings: Settings) -> int:
    """Write the dbt manifest that the code location loads, and dbt's partial-parse state.

    dbt reuses that state only when the profile is the same, so parse with the warehouse path
    that runs will use.
    """
    command = [str(DBT_EXECUTABLE), "parse", "--quiet"]
    env = {**os.environ, **settings.subprocess_env()}
    return subprocess.run(command, cwd=DBT_PROJECT_DIR, env=env).returncode


def refresh(settings: Settings) -> int:
    """Run ``nightly_refresh`` in this process, print a summary and send the run's alerts.

    Without a daemon nobody else would: the alerts go through the same code and channels as
    the sensors', which leave this run alone.
    """
    apply_process_env(settings)
    started = time.monotonic()
    import dagster as dg

    from orchestration.automation.alerting import ALERTED_BY_CLI, alerts_for_run, send
    from orchestration.automation.report import run_summary
    from orchestration.automation.run import run_nightly_refresh

    # With DAGSTER_HOME set (the Makefile does), the run is recorded where `make dev` shows it.
    instance = dg.DagsterInstance.get() if settings.dagster_home else dg.DagsterInstance.ephemeral()
    try:
        # Taken before the run starts, so a second refresh or a damaged file is one sentence,
        # not a failed run; the job's resource re-enters this same lock.
        with refresh_lock(settings.warehouse_dir), instance:
            check_opens(settings.warehouse_path)
            result = run_nightly_refresh(settings, instance, tags=ALERTED_BY_CLI)
            print(run_summary(result, settings, time.monotonic() - started))
            alerts = alerts_for_run(
                instance,
                result.dagster_run,
                settings.alerts.ui_url,
                published_place(settings.engine),
            )
            send(alerts, settings.alerts, _ConsoleLog())
    except WarehouseError as error:
        print(f"barometer: {error}", file=sys.stderr)
        return 1
    return 0 if result.success else 1


class _ConsoleLog:
    """The alert outcome on the console, where a cron job's mail or log picks it up."""

    def info(self, message: str) -> None:
        print(message)

    warning = info


if __name__ == "__main__":
    sys.exit(console_main())
