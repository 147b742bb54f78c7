"""Input robustness: every value of a readable file is read, oversized input is refused in one
line, a bad file fails once without retries, the drop folder takes no links (issue 19)."""

import re
import zipfile
from datetime import date
from pathlib import Path

import dagster as dg
import openpyxl
import pytest
from conftest import use_folders

from orchestration.automation.sensors import barometer_drop_folder
from orchestration.definitions import build_definitions
from orchestration.settings import REFERENCE_DIR
from orchestration.sources.barometer import ExportFormatError, ReadLimits, parse_export
from orchestration.sources.cases import (
    CaseExtractError,
    describe_extract,
    load_case_programmes,
    read_extract,
)
from orchestration.sources.inventory import find_exports
from orchestration.sources.reference import load_reference

REFERENCE = load_reference(REFERENCE_DIR)
TODAY = date(2025, 6, 1)
DANISH = "Personer med dansk oprindelse"
HEADER = ["Indikator nr.", "Kommunenr.", "År", "Befolkningsgruppe", "Værdi"]
CSV_HEADER = "Indikator nr.;Kommunenr.;År;Befolkningsgruppe;Værdi"
MUNICIPALITIES = [101, 147, 151, 153, 155, 157]
SHEET = "xl/worksheets/sheet1.xml"


def values_150() -> list[list]:
    """150 distinct values: six municipalities, 25 years."""
    return [
        ["1.2", code, year, DANISH, float(year - 1950)]
        for code in MUNICIPALITIES
        for year in range(2000, 2025)
    ]


def write_xlsx(path: Path, rows: list[list]) -> Path:
    workbook = openpyxl.Workbook()
    for row in rows:
        workbook.active.append(row)
    workbook.save(path)
    return path


def patch_sheet(path: Path, edit) -> None:
    """Rewrite the first sheet's XML inside the workbook, every other member as it was."""
    with zipfile.ZipFile(path) as archive:
        members = {info.filename: archive.read(info) for info in archive.infolist()}
    members[SHEET] = edit(members[SHEET].decode()).encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)


def parse(path: Path, **options):
    result = parse_export(path, REFERENCE, today=TODAY, **options)
    assert len(result.rows) + len(result.rejects) == result.extracted
    return result


# --- Excel --------------------------------------------------------------------------------------


def test_an_xlsx_whose_recorded_dimension_understates_its_rows_is_read_to_the_end(tmp_path):
    path = write_xlsx(tmp_path / "export.xlsx", [HEADER, *values_150()])
    patch_sheet(path, lambda xml: re.sub(r'<dimension ref="[^"]*"', '<dimension ref="A1:B2"', xml))
    # openpyxl alone trusts the dimension: two rows of two cells, 149 values gone.
    workbook = openpyxl.load_workbook(path, read_only=True)
    assert list(workbook.active.iter_rows(values_only=True)) == [
        ("Indikator nr.", "Kommunenr."),
        ("1.2", 101),
    ]
    workbook.close()

    result = parse(path)

    assert (result.extracted, len(result.rows), result.rejects) == (150, 150, [])
    assert sorted((r.municipality_code, r.year, r.value) for r in result.rows) == sorted(
        (f"{code:03d}", year, float(year - 1950)) for _, code, year, _, _ in values_150()
    )


def test_an_xlsx_cell_that_cannot_be_read_is_a_reject_naming_row_and_cell(tmp_path):
    rows = [HEADER, *values_150()[:10]]
    rows[7][4] = date(2020, 1, 1)  # a date where the value belongs (row 8)
    path = write_xlsx(tmp_path / "export.xlsx", rows)

    def damage(xml: str) -> str:
        xml = xml.replace('<c r="B3" t="n"><v>101</v>', '<c r="B3" t="n"><v>1O1</v>')
        xml = re.sub(r'<c r="E5" t="n"><v>[^<]*', '<c r="E5" t="n"><v>5,2x', xml)
        # A shared string the workbook does not have.
        return re.sub(
            r'<c r="D6" t="inlineStr"><is><t>[^<]*</t></is>', '<c r="D6" t="s"><v>7</v>', xml
        )

    patch_sheet(path, damage)

    result = parse(path)

    assert result.extracted == 10
    assert sorted(r.source_line for r in result.rows) == [2, 4, 7, 9, 10, 11]
    reasons = {r.source_line: r.reason for r in result.rejects}
    assert set(reasons) == {3, 5, 6, 8}
    assert reasons[3].startswith("cell B3 cannot be read: its stored value '1O1'")
    assert reasons[5].startswith("cell E5 cannot be read: its stored value '5,2x'")
    assert reasons[6].startswith("cell D6 cannot be read: its stored value '7'")
    assert reasons[8].startswith("unreadable number: a datetime cell")


def test_an_xlsx_whose_sheet_breaks_off_names_the_row(tmp_path):
    path = write_xlsx(tmp_path / "export.xlsx", [HEADER, *values_150()[:10]])
    patch_sheet(path, lambda xml: xml.replace('<row r="6">', '<row r="6"><c r="A6"'))
    with pytest.raises(ExportFormatError) as caught:
        parse(path)
    assert caught.value.line == 6
    assert caught.value.reason.startswith("the sheet cannot be read from this row on")


def test_an_xlsx_that_unpacks_past_the_limit_is_refused_before_it_is_inflated(tmp_path):
    path = write_xlsx(tmp_path / "bomb.xlsx", [HEADER, *values_150()[:3]])
    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED) as archive:
        with archive.open("xl/media/zeros.bin", "w") as member:  # 250 MB of zeros, ~250 kB
            for _ in range(250):
                member.write(bytes(1_000_000))
    assert path.stat().st_size < 2_000_000

    with pytest.raises(ExportFormatError) as caught:
        parse(path)  # the default limit, 200 MB

    message = str(caught.value)
    assert message.startswith("bomb.xlsx: the workbook unpacks to 250,")
    assert "more than BAROMETER_XLSX_MAX_UNCOMPRESSED_BYTES allows (200,000,000)" in message
    assert "\n" not in message
    # Under a higher limit the same workbook reads.
    assert len(parse(path, limits=ReadLimits(max_xlsx_uncompressed_bytes=300_000_000)).rows) == 3


# --- CSV ----------------------------------------------------------------------------------------


def csv_line(code: int, year: int, value: str = "50,0") -> str:
    return f"1.2;{code};{year};{DANISH};{value}"


def test_a_csv_cell_over_the_limit_is_a_reject_naming_its_line_and_the_rest_loads(tmp_path):
    huge = "9" * 10_000_000  # a 10 MB cell: Python's CSV reader alone stops at 131,072
    lines = [CSV_HEADER, csv_line(101, 2020), csv_line(101, 2021, huge), csv_line(101, 2022)]
    path = tmp_path / "export.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    result = parse(path)

    assert [(r.source_line, r.year) for r in result.rows] == [(2, 2020), (4, 2022)]
    [reject] = result.rejects
    assert reject.source_line == 3
    assert reject.reason == (
        f"line 3 holds {len(lines[2]) + 1:,} characters, "  # with its line end
        "more than BAROMETER_CSV_MAX_LINE_CHARS allows (100,000)"
    )
    assert len(reject.raw_text) < 300 and reject.raw_text.startswith("1.2;101;2021;")


def test_a_quoted_record_over_the_limit_is_one_reject_and_reading_goes_on_after_it(tmp_path):
    note = '"' + "\n".join(["a long note"] * 20) + '"'
    lines = [CSV_HEADER, csv_line(101, 2020), csv_line(101, 2021, note), csv_line(101, 2022)]
    path = tmp_path / "export.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    result = parse(path, limits=ReadLimits(max_line_chars=100))

    assert [(r.source_line, r.year) for r in result.rows] == [(2, 2020), (23, 2022)]
    [reject] = result.rejects
    assert reject.source_line == 3
    assert reject.reason.startswith("lines 3-22 hold ")


# --- local and drop-folder files ----------------------------------------------------------------


def exports(source: Path, drop: Path | None = None, *, max_file_bytes=50_000_000, warn=print):
    return find_exports(
        source, drop, (), source / "downloads",
        max_bytes=1, timeout=1, max_file_bytes=max_file_bytes, warn=warn,
    )  # fmt: skip


def test_a_file_over_the_local_limit_fails_with_one_line_naming_file_size_and_variable(
    tmp_path,
):
    source, drop = tmp_path / "source", tmp_path / "drop"
    source.mkdir(), drop.mkdir()
    (source / "small.csv").write_text(CSV_HEADER + "\n")
    (drop / "big.csv").write_bytes(b"x" * 2_000)
    assert [f.path.name for f in exports(source, drop)] == ["small.csv", "big.csv"]

    with pytest.raises(ExportFormatError) as caught:
        exports(source, drop, max_file_bytes=1_000)

    assert str(caught.value) == (
        f"big.csv: 2,000 bytes in {drop}, more than BAROMETER_FILE_MAX_BYTES allows (1,000)"
    )


def test_the_drop_folder_ignores_symbolic_links_with_a_warning(tmp_path, monkeypatch):
    source, drop = tmp_path / "source", tmp_path / "drop"
    source.mkdir(), drop.mkdir()
    secret = tmp_path / "elsewhere" / "private.csv"
    secret.parent.mkdir()
    secret.write_text("not for the warehouse\n")
    (drop / "linked.csv").symlink_to(secret)
    (drop / "dropped.csv").write_text(CSV_HEADER + "\n")
    warnings: list[str] = []

    assert [f.path.name for f in exports(source, drop, warn=warnings.append)] == ["dropped.csv"]
    assert warnings == [
        f"{drop / 'linked.csv'} is a symbolic link: ignored (the drop folder takes files, "
        "not links)"
    ]

    # The sensor does not see it either: a link alone starts no refresh.
    (drop / "dropped.csv").unlink()
    monkeypatch.setenv("BAROMETER_DROP_DIR", str(drop))
    settings = use_folders(monkeypatch, tmp_path / "warehouse", source)
    context = dg.build_sensor_context(resources={"settings": settings})
    assert isinstance(barometer_drop_folder(context), dg.SkipReason)


# --- a bad file fails once ----------------------------------------------------------------------


def test_a_file_that_cannot_be_read_fails_the_extract_once_and_is_archived_once(
    tmp_path, monkeypatch
):
    source = tmp_path / "source"
    source.mkdir()
    path = write_xlsx(source / "export.xlsx", [HEADER, *values_150()[:10]])
    patch_sheet(path, lambda xml: xml.replace('<row r="6">', '<row r="6"><c r="A6"'))
    settings = use_folders(monkeypatch, tmp_path / "warehouse", source)
    job = build_definitions(settings).resolve_job_def("nightly_refresh")

    result = job.execute_in_process(
        asset_selection=[
            dg.AssetKey(["raw", f"barometer_{name}"])
            for name in ("indicator_values", "loads", "rejects", "current_loads")
        ],
        raise_on_error=False,
    )

    assert not result.success
    events = [e.event_type_value for e in result.all_events]
    assert events.count("STEP_FAILURE") == 1
    assert "STEP_UP_FOR_RETRY" not in events and "STEP_RESTARTED" not in events
    [failure] = [e for e in result.all_events if e.is_step_failure]
    assert failure.step_failure_data.error.message.startswith(
        "dagster._core.definitions.events.Failure: Cannot read the barometer export "
        "export.xlsx, line 6: the sheet cannot be read from this row on"
    )
    assert [p.name for p in settings.landing_dir.glob("*/export.xlsx")] == ["export.xlsx"]


# --- case extracts ------------------------------------------------------------------------------

EVENT_HEADER = "event_id;cpr;haendelse;dato;slutdato;detalje;erstatter_event_id;annulleret"
CPR = "010190-1234"


@pytest.mark.parametrize("events", [5, 30_000])  # within DuckDB's sniffing sample, and past it
def test_a_case_extract_with_one_unclosed_quote_names_its_line_and_cause(tmp_path, events):
    lines = [EVENT_HEADER] + [f"{i};{CPR};visitation;2016-03-01;;ok;;0" for i in range(events)]
    bad = events // 2 + 1  # the line of the record with the stray quote
    lines[bad - 1] = f'{bad};{CPR};visitation;2016-03-01;;"unclosed {CPR};;0'
    path = tmp_path / "events_20250106.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    with pytest.raises(CaseExtractError) as caught:
        with read_extract(describe_extract(path), "k" * 16, load_case_programmes(REFERENCE_DIR)):
            pass

    message = str(caught.value)
    assert message == (
        f'events_20250106.csv, line {bad}: unclosed quote: a field opened with " on this line '
        "is never closed"
    )
    assert "0101901234" not in message.replace("-", "")
    assert caught.value.__cause__ is None and caught.value.__context__ is None


def test_a_workbook_with_a_title_blank_rows_and_a_note_reads_as_before(tmp_path):
    # The sheet reader replaced openpyxl's row iterator: rows keep their sheet row numbers.
    rows = [["Integrationsbarometeret"], [], HEADER, *values_150()[:5], [], ["Kilde: DST"]]
    result = parse(write_xlsx(tmp_path / "export.xlsx", rows))
    assert [r.source_line for r in result.rows] == [4, 5, 6, 7, 8]
    assert result.rejects == []
