"""Parsing and pseudonymising the case extracts (orchestration/sources/cases.py)."""

import hashlib
import hmac
import re

import pytest

from orchestration.settings import REFERENCE_DIR
from orchestration.sources.cases import (
    CaseExtractError,
    describe_extract,
    find_extracts,
    load_case_programmes,
    read_extract,
)
from orchestration.sources.pseudonyms import PSEUDONYM_PATTERN, pseudonym

KEY = "test-key"
PROGRAMMES = load_case_programmes(REFERENCE_DIR)
CPR = "010190-1234"
HEADER = "event_id;cpr;haendelse;dato;slutdato;detalje;erstatter_event_id;annulleret"
CITIZEN_HEADER = (
    "cpr;fornavn;efternavn;foedselsdato;koen;statsborgerskab;ankomstdato;program;asylcenter"
)


def write(folder, name, lines):
    path = folder / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return describe_extract(path)


def parse(extract):
    """The parsed extract and its rows in file order (the batches need not keep it)."""
    with read_extract(extract, KEY, PROGRAMMES) as parsed:
        rows = parsed.batches().read_all().to_pylist()
        return parsed, sorted(rows, key=lambda row: row["source_line"])


def test_the_pseudonym_is_hmac_sha256_of_the_ten_digits_in_letters():
    digest = hmac.new(KEY.encode(), b"0101901234", hashlib.sha256).hexdigest()[:32]
    expected = digest.translate(str.maketrans("0123456789abcdef", "abcdefghijklmnop"))
    assert pseudonym(CPR, KEY) == expected
    assert pseudonym("0101901234", KEY) == expected  # with or without the dash
    assert re.fullmatch(PSEUDONYM_PATTERN, expected)  # no digit: never shaped like a CPR
    assert pseudonym(CPR, "another key") != expected


def test_rows_are_pseudonymised_in_sql_exactly_as_in_python(tmp_path):
    extract = write(tmp_path, "events_20250106.csv", [
        HEADER,
        f"1;{CPR};visitation;2016-03-01;;;;0",
        "2;0101901234;virksomhedspraktik;2016-03-20;2016-05-01;Netto;;",
        "3;020290-4321;ordinaert_job;01-06-2016;;;;",
    ])  # fmt: skip
    parsed, rows = parse(extract)
    assert parsed.rejects == [] and parsed.records == 3
    assert [r["citizen_id"] for r in rows] == [pseudonym(CPR, KEY)] * 2 + [
        pseudonym("020290-4321", KEY)
    ]
    assert rows[2]["event_date"].isoformat() == "2016-06-01"  # the Danish date order too
    assert rows[1]["is_cancelled"] is False and rows[1]["end_date"].isoformat() == "2016-05-01"
    assert "cpr" not in rows[0]


def test_an_invalid_cpr_is_a_reject_by_file_and_line_never_by_value(tmp_path):
    extract = write(tmp_path, "events_20250106.csv", [
        HEADER,
        f"1;{CPR};visitation;2016-03-01;;;;0",
        '2;010190-1234;welcome_house;2016-04-01;;"Røde Kors\nKøbenhavn";;0',  # two lines
        "3;320190-1234;visitation;2016-03-01;;;;0",  # day 32: not a date
        "4;01019O1234;visitation;2016-03-01;;;;0",  # a letter O
        "5;;visitation;2016-03-01;;;;0",
        "6;010190-1234;visitation;2016-13-01;;;;0",
    ])  # fmt: skip
    parsed, rows = parse(extract)
    assert [(r.source_file, r.line, r.reason) for r in parsed.rejects] == [
        ("events_20250106.csv", 5, "cpr: not a valid CPR number"),
        ("events_20250106.csv", 6, "cpr: not a valid CPR number"),
        ("events_20250106.csv", 7, "cpr: missing"),
        ("events_20250106.csv", 8, "dato: not a date"),
    ]
    assert sorted((r["event_id"], r["source_line"]) for r in rows) == [(1, 2), (2, 3)]
    assert "320190" not in repr(parsed.rejects) and "01019O" not in repr(parsed.rejects)


def test_cpr_numbers_in_free_text_are_masked(tmp_path):
    extract = write(tmp_path, "events_20250106.csv", [
        HEADER,
        f"1;{CPR};welcome_house;2016-04-01;;ring om 020290-4321 eller 0202904321;;0",
    ])  # fmt: skip
    parsed, rows = parse(extract)
    assert rows[0]["detail"] == "ring om [cpr fjernet] eller [cpr fjernet]"
    assert parsed.masked_values == 1  # one field held CPR numbers


def test_citizens_keep_birth_year_not_birth_date_and_no_names(tmp_path):
    extract = write(tmp_path, "citizens_20250106.csv", [
        CITIZEN_HEADER,
        f"{CPR};Amal;Haile;1990-01-01;K;Eritrea;2016-05-02;integrationsprogram;Center Sandholm",
    ])  # fmt: skip
    _, rows = parse(extract)
    assert rows == [{
        "citizen_id": pseudonym(CPR, KEY), "birth_year": 1990, "sex": "K",
        "citizenship": "Eritrea", "arrival_date": rows[0]["arrival_date"],
        "programme": "integrationsprogram", "asylum_centre": "Center Sandholm", "source_line": 2,
    }]  # fmt: skip
    assert "Amal" not in repr(rows) and "1990-01-01" not in repr(rows)


def test_a_blank_sex_programme_or_birth_date_is_the_member_unknown(tmp_path):
    """Every cell dimension is total: a blank is counted as 'unknown', never dropped as null."""
    extract = write(tmp_path, "citizens_20250106.csv", [
        CITIZEN_HEADER,
        f"{CPR};A;B;1990-01-01;;Syrien;2016-05-02;integrationsprogram;",
        "020290-4321;A;B;1990-01-01;m;Syrien;2016-05-02; ;",
        "030390-4321;A;B;;K;Syrien;2016-05-02;SAERLOV_UKRAINE;",
    ])  # fmt: skip
    parsed, rows = parse(extract)
    assert parsed.rejects == []
    assert [(r["sex"], r["programme"], r["birth_year"]) for r in rows] == [
        ("unknown", "integrationsprogram", 1990),
        ("M", "unknown", 1990),
        ("K", "saerlov_ukraine", None),
    ]


def test_an_unrecognised_sex_or_programme_or_a_missing_arrival_is_a_reject(tmp_path):
    """A value outside the code lists (even 'all', the margins' name) or an unknown cohort
    is a reject by file, line and reason, never by value."""
    extract = write(tmp_path, "citizens_20250106.csv", [
        CITIZEN_HEADER,
        f"{CPR};A;B;1990-01-01;X;Syrien;2016-05-02;integrationsprogram;",
        "020290-4321;A;B;1990-01-01;K;Syrien;2016-05-02;all;",
        "030390-4321;A;B;1990-01-01;K;Syrien;;integrationsprogram;",
        "040490-4321;A;B;31-31-1990;all;Syrien;2016-05-02;introduktionsprogram;",
        "050590-4321;A;B;1990-01-01;K;Syrien;2016-05-02;integrationsprogram;",
    ])  # fmt: skip
    parsed, rows = parse(extract)
    assert [(r.line, r.reason) for r in parsed.rejects] == [
        (2, "koen: not M or K"),
        (3, "program: not a known programme (seeds/reference/case_programmes.csv)"),
        (4, "ankomstdato: missing"),
        (5, "foedselsdato: not a date; koen: not M or K; "
            "program: not a known programme (seeds/reference/case_programmes.csv)"),
    ]  # fmt: skip
    assert parsed.records == 5 and [r["source_line"] for r in rows] == [6]
    assert "all" not in repr(parsed.rejects) and "1990" not in repr(parsed.rejects)


def test_an_unreadable_file_fails_by_line_without_quoting_it(tmp_path):
    (tmp_path / "events_20250106.csv").write_bytes(
        (HEADER + "\n1;010190-1234;visitation;2016-03-01;;;;0;too;many\n").encode()
    )
    extract = describe_extract(tmp_path / "events_20250106.csv")
    with pytest.raises(CaseExtractError) as error:
        parse(extract)
    assert str(error.value) == "events_20250106.csv, line 2: more fields than the header"
    assert error.value.__context__ is None and error.value.__cause__ is None


def test_a_missing_column_and_a_wrong_name_fail(tmp_path):
    extract = write(tmp_path, "events_20250106.csv", ["event_id;cpr;haendelse;dato", "1;x;y;z"])
    with pytest.raises(CaseExtractError, match="column 'slutdato': required column is missing"):
        parse(extract)
    (tmp_path / "events_2025.csv").write_text(HEADER + "\n")
    with pytest.raises(CaseExtractError, match="not named"):
        find_extracts(tmp_path)


def test_extracts_are_found_in_night_order_with_sha256_and_line_counts(tmp_path):
    write(tmp_path, "events_20250107.csv", [HEADER, f"1;{CPR};visitation;2016-03-01;;;;0"])
    write(tmp_path, "events_20250106.csv", [HEADER])
    write(tmp_path, "citizens_20250107.csv", ["cpr"])
    found = find_extracts(tmp_path)
    assert [e.name for e in found] == [
        "events_20250106.csv",
        "citizens_20250107.csv",
        "events_20250107.csv",
    ]
    assert [e.line_count for e in found] == [1, 1, 2]
    assert (
        found[2].sha256
        == hashlib.sha256((tmp_path / "events_20250107.csv").read_bytes()).hexdigest()
    )
