"""`barometer parse`, run as a real process: how a file would be read, loading nothing."""

import json
import os
import subprocess
import sys
from pathlib import Path

import openpyxl

PROJECT_ROOT = Path(__file__).resolve().parents[1]
KEYS = {"indicator_code", "municipality_code", "year", "population_group", "value", "is_suppressed"}

HEADER = "Område;Indikator nr.;Indikator;Kommunenr.;Kommune;År;Befolkningsgruppe;Værdi;Enhed"
NONWESTERN = "Indvandrere og efterkommere med ikke-vestlig oprindelse"


def line(value: str, *, code: str = "101", name: str = "København", year: str = "2023") -> str:
    fields = ["Arbejde", "1.2", "Beskæftigelsesfrekvens", code, name, year, NONWESTERN, value]
    return ";".join([*fields, "pct."])


def barometer_parse(*args: str | Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "orchestration.cli", "parse", *map(str, args)],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        encoding="utf-8",
        # Danish letters on stdout whatever the locale of the machine running the tests.
        env={**os.environ, "PYTHONIOENCODING": "utf-8"},
        timeout=60,
    )


def json_rows(stdout: str) -> list[dict]:
    rows = [json.loads(text) for text in stdout.splitlines()]
    assert all(set(row) == KEYS for row in rows)
    return rows


def test_rows_are_json_lines_with_the_six_keys(tmp_path):
    path = tmp_path / "arbejde.csv"
    lines = [HEADER, line("58,4"), line("..", code="492", name="Ærø"), line("1.234,5", year="2022")]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    done = barometer_parse(path)
    assert done.returncode == 0, done.stderr
    assert json_rows(done.stdout) == [
        {
            "indicator_code": "1.2",
            "municipality_code": "101",
            "year": 2023,
            "population_group": "nonwestern",
            "value": 58.4,
            "is_suppressed": False,
        },
        {
            "indicator_code": "1.2",
            "municipality_code": "492",
            "year": 2023,
            "population_group": "nonwestern",
            "value": None,
            "is_suppressed": True,
        },
        {
            "indicator_code": "1.2",
            "municipality_code": "101",
            "year": 2022,
            "population_group": "nonwestern",
            "value": 1234.5,
            "is_suppressed": False,
        },
    ]
    assert done.stderr == (
        "arbejde.csv: long csv ';' utf-8; 3 values read, 3 rows, 0 skipped, 0 rejected\n"
    )


def test_rejects_warnings_and_summary_go_to_stderr(tmp_path):
    path = tmp_path / "arbejde.csv"
    lines = [
        f"{HEADER};Kommentar",
        line("58,4"),
        line("58,4x", year="2022"),
        line("1,0", code="999", name="Atlantis"),
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    done = barometer_parse(path)
    assert done.returncode == 0, done.stderr
    assert [(r["municipality_code"], r["value"]) for r in json_rows(done.stdout)] == [("101", 58.4)]
    assert done.stderr.splitlines() == [
        "warning: arbejde.csv: column 'Kommentar' is not used",
        "reject: arbejde.csv, line 3: unreadable number: '58,4x' is not a number",
        "reject: arbejde.csv, line 4: unknown municipality '999'",
        "arbejde.csv: long csv ';' utf-8; 3 values read, 1 rows, 0 skipped, 2 rejected",
    ]


def test_statbank_file_with_the_indicator_named(tmp_path):
    path = tmp_path / "statbank.csv"
    text = "\ufeffOMRÅDE;HERKOMST;TID;INDHOLD\r\n"
    text += "Hele landet;Indvandrere og efterkommere fra ikke-vestlige lande;2023;56,3\r\n"
    text += "Høje-Taastrup;Personer med dansk oprindelse;2022;..\r\n"
    path.write_text(text, encoding="utf-8", newline="")
    done = barometer_parse(path, "--indicator", "1.2")
    assert done.returncode == 0, done.stderr
    assert [tuple(row.values()) for row in json_rows(done.stdout)] == [
        ("1.2", "000", 2023, "nonwestern", 56.3, False),
        ("1.2", "169", 2022, "danish", None, True),
    ]
    assert done.stderr.endswith("2 values read, 2 rows, 0 skipped, 0 rejected\n")


def test_statbank_areas_that_are_not_municipalities_are_counted_as_skipped(tmp_path):
    path = tmp_path / "statbank.csv"
    text = "OMRÅDE;HERKOMST;TID;INDHOLD\n"
    for area in ["Hele landet", "Region Hovedstaden", "Landsdel Byen København", "Christiansø"]:
        text += f"{area};Personer med dansk oprindelse;2023;80,0\n"
    text += "København;4 Indvandrere;2023;40,0\n"
    path.write_text(text, encoding="utf-8")
    done = barometer_parse(path, "--indicator", "1.2")
    assert done.returncode == 0, done.stderr
    assert [row["municipality_code"] for row in json_rows(done.stdout)] == ["000"]
    assert done.stderr.splitlines()[-1] == (
        "statbank.csv: statbank csv ';' utf-8; 5 values read, 1 rows, "
        "3 skipped (1 region, 1 landsdel, 1 other), 1 rejected"
    )


def test_named_sheet_of_an_xlsx_file(tmp_path):
    workbook = openpyxl.Workbook()
    workbook.active.title = "Forside"
    workbook.active.append(["Integrationsbarometeret"])
    data = workbook.create_sheet("Data")
    for row in [HEADER.split(";"), line("58,4").split(";"), ["Kilde: Danmarks Statistik"]]:
        data.append(row)
    workbook.save(tmp_path / "arbejde.xlsx")
    done = barometer_parse(tmp_path / "arbejde.xlsx", "--sheet", "Data")
    assert done.returncode == 0, done.stderr
    assert [(r["municipality_code"], r["value"]) for r in json_rows(done.stdout)] == [("101", 58.4)]
    assert done.stderr.startswith("arbejde.xlsx: long xlsx sheet 'Data'; 1 values read")


def test_statbank_file_without_an_indicator_fails(tmp_path):
    path = tmp_path / "statbank.csv"
    path.write_text("OMRÅDE;HERKOMST;TID;INDHOLD\nKøbenhavn;I alt;2023;58,4\n", encoding="utf-8")
    done = barometer_parse(path)
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr.startswith("error: statbank.csv, line 1: ")
    assert "--indicator" in done.stderr


def test_unreadable_file_fails_with_file_line_and_column(tmp_path):
    path = tmp_path / "arbejde.csv"
    header = HEADER.replace(";Befolkningsgruppe", "")
    path.write_text(f"Integrationsbarometeret\n{header}\n", encoding="utf-8")
    done = barometer_parse(path)
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == (
        "error: arbejde.csv, line 2, column 'Befolkningsgruppe': required column is missing\n"
    )


def test_missing_file_fails_without_a_traceback(tmp_path):
    done = barometer_parse(tmp_path / "missing.csv")
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr.startswith("error: ")
    assert "Traceback" not in done.stderr
