"""``barometer``: the warehouse from the command line (refresh headlessly, generate sample data)."""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
from pathlib import Path

from orchestration.engines import EngineError, engine_for
from orchestration.privacy import make_umask_private
from orchestration.settings import (
    DBT_EXECUTABLE,
    DBT_PROJECT_DIR,
    DEV_PSEUDONYM_KEY,
    REFERENCE_DIR,
    ConfigError,
    Settings,
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
    make_umask_private()  # case data: whatever this process (and dbt under it) writes is private
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
    refresh_command = commands.add_parser(
        "refresh", help="run the nightly refresh now, without the daemon"
    )
    refresh_command.add_argument(
        "-v", "--verbose", action="store_true", help="show Dagster's and dbt's full log live"
    )
    refresh_command.add_argument(
        "--rebuild",
        action="store_true",
        help="start afresh with an empty warehouse when warehouse.duckdb is missing "
        "(its raw history is lost; `barometer restore` brings it back from a backup instead)",
    )
    refresh_command.add_argument(
        "--force",
        action="store_true",
        help="run the whole night even when nothing is new since the last good one",
    )
    restore_command = commands.add_parser(
        "restore", help="rebuild warehouse.duckdb from the newest verified backup"
    )
    restore_command.add_argument("--backup", type=Path, help="this backup folder instead")
    restore_command.add_argument(
        "--force", action="store_true", help="replace a warehouse that opens (kept beside it)"
    )
    commands.add_parser(
        "check-config", help="show every setting, where it comes from and whether it is allowed"
    )
    commands.add_parser("prepare", help="parse the dbt project once, so runs start fast")
    dev = commands.add_parser(
        "dev", help="the Dagster UI, and the report and docs beside it, on 127.0.0.1 until Ctrl-C"
    )
    dev.add_argument("--port", type=int, default=3000, help="the UI's port (default: 3000)")
    report = commands.add_parser(
        "report", help="build the report page from the published marts, no refresh"
    )
    report.add_argument(
        "--municipality", help="municipality code (default: BAROMETER_REPORT_MUNICIPALITY, 101)"
    )
    report.add_argument(
        "--out", type=Path, help="folder for index.html (default: warehouse/report)"
    )
    report.add_argument(
        "--all",
        action="store_true",
        help="every municipality's page and an index of them (default --out: warehouse/report/all)",
    )
    report.add_argument(
        "--pdf", action="store_true", help="also print the page to report.pdf beside it (A4)"
    )
    role = commands.add_parser(
        "create-reader-role",
        help="create (or update) a PostgreSQL login that reads schema marts only, for BI tools",
    )
    role.add_argument("name")
    role.add_argument("--password", action="store_true", help="prompt for the login's password")
    erase = commands.add_parser(
        "erase-citizens",
        help="erase citizens from every table of the warehouse (GDPR art. 17), by CPR number",
    )
    erase.add_argument(
        "--cpr-file",
        required=True,
        help="a file with one CPR number a line, or - for standard input (never the numbers "
        "themselves on the command line)",
    )
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
        from orchestration.automation.night_command import refresh

        return refresh(
            Settings.from_env(), verbose=args.verbose, rebuild=args.rebuild, force=args.force
        )
    if args.command == "restore":
        from orchestration.automation.maintenance import restore

        return restore(Settings.from_env(), args.backup, args.force)
    if args.command == "dev":
        from orchestration.ui.dev import run_dev

        return run_dev(Settings.from_env(), args.port)
    if args.command == "prepare":
        return prepare(Settings.from_env())
    if args.command == "report":
        settings = Settings.from_env()
        if args.all:
            return build_report_site(settings, args.out or settings.report_all_dir)
        return build_report_page(settings, args.municipality, args.out, args.pdf)
    if args.command == "create-reader-role":
        from orchestration.automation.maintenance import create_reader_role

        return create_reader_role(Settings.from_env(), args.name, args.password)
    if args.command == "erase-citizens":
        from orchestration.automation.maintenance import erase_citizens

        return erase_citizens(Settings.from_env(), args.cpr_file)
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
    if refused:
        return 2
    # The engine itself: the server answers, the role can do the night, the readers' group.
    failed = 0
    for what, verdict, ok in engine_for(Settings.from_env(env)).check():
        print(f"{what}: {verdict}")
        failed += not ok
    return 2 if failed else 0


def build_report_page(
    settings: Settings, municipality: str | None, out: Path | None, pdf: bool = False
) -> int:
    """The nightly report's page for any municipality, read from the published marts only."""
    from orchestration.reporting import ReportError, build_report
    from orchestration.reporting.pdf import PdfUnavailable, write_pdf

    try:
        result = build_report(
            engine_for(settings).report_database(settings, refresh=True),
            municipality or settings.report_municipality,
            out or settings.report_dir,
        )
    except (ReportError, EngineError) as error:
        print(f"barometer: {error}", file=sys.stderr)
        return 2
    print(
        f"{result.municipality_code} {result.municipality_name}: {result.charts} charts, "
        f"{result.size_bytes / 1e6:.1f} MB in {result.seconds:.1f} s"
    )
    print(result.path)
    if pdf:
        try:
            print(write_pdf(result.path))
        except PdfUnavailable as error:
            print(f"barometer: {error}", file=sys.stderr)
            return 3
    return 0


def build_report_site(settings: Settings, out: Path) -> int:
    """Every municipality's page, with shared styles and an index, from one read of the file."""
    from orchestration.reporting import ReportError
    from orchestration.reporting.build import build_site

    try:
        result = build_site(engine_for(settings).report_database(settings, refresh=True), out)
    except (ReportError, EngineError) as error:
        print(f"barometer: {error}", file=sys.stderr)
        return 2
    print(f"{result.pages} pages, {result.size_bytes / 1e6:.1f} MB in {result.seconds:.1f} s")
    print(result.index)
    return 0


def prepare(settings: Settings) -> int:
    """Write the dbt manifest that the code location loads, and dbt's partial-parse state.

    dbt reuses that state only when the profile is the same, so parse with the warehouse path
    as the nights name it: a new warehouse's first night starts from this parse.
    """
    from orchestration.transform.dbt_process import profile_duckdb_path

    command = [str(DBT_EXECUTABLE), "parse", "--quiet"]
    duckdb_path = profile_duckdb_path(settings.warehouse_path)
    env = {**os.environ, **settings.subprocess_env(), "BAROMETER_DUCKDB_PATH": duckdb_path}
    return subprocess.run(command, cwd=DBT_PROJECT_DIR, env=env).returncode


if __name__ == "__main__":
    sys.exit(console_main())
