"""Danish (and English) numbers and suppression markers (orchestration/sources/numbers.py)."""

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from orchestration.sources.numbers import SUPPRESSION_MARKERS, is_suppression_marker, parse_number

# Magnitudes a barometer can hold, with room to spare; within them a float keeps 3 decimals exact.
values = st.floats(min_value=-1e9, max_value=1e9, allow_nan=False, allow_infinity=False)
decimals = st.integers(min_value=0, max_value=3)
padding = st.sampled_from(["", " ", "  ", "\t", " \u00a0"])
percent = st.sampled_from(["", "%", " %"])


def english(value: float, places: int, thousands: str) -> str:
    """``-1,234.5`` (or ``-1234.5`` / ``-1 234.5``): how an English export writes ``value``."""
    text = f"{value:,.{places}f}"
    return text.replace(",", thousands)


def danish(value: float, places: int, thousands: str) -> str:
    """``-1.234,5`` (or ``-1234,5`` / ``-1 234,5``): how a Danish export writes ``value``."""
    integer, _, fraction = f"{value:,.{places}f}".partition(".")
    return integer.replace(",", thousands) + (f",{fraction}" if fraction else "")


# --- examples -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("58,4", 58.4),
        ("1.234,5", 1234.5),
        ("1.234", 1234.0),  # a dot always groups thousands in the Danish convention
        ("1.234.567", 1234567.0),
        ("1234,5", 1234.5),
        ("12", 12.0),
        ("0,0", 0.0),
        ("-3,2", -3.2),
        ("+1,0", 1.0),
        (" 7,25 ", 7.25),
        ("58,4 %", 58.4),
        ("58,4%", 58.4),
        (" -12,5 % ", -12.5),
        ("1 234,5", 1234.5),
        ("1\u00a0234,5", 1234.5),
    ],
)
def test_danish_number_is_read(text, expected):
    assert parse_number(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [("58.4", 58.4), ("1,234.5", 1234.5), ("1,234", 1234.0), ("-0.3", -0.3), ("12 %", 12.0)],
)
def test_english_number_is_read_with_a_decimal_point(text, expected):
    assert parse_number(text, decimal_mark=".") == expected


@pytest.mark.parametrize(
    "text",
    [
        "1,2,3",
        "12.34",  # '.' separates thousands, so it needs groups of three: ambiguous, rejected
        "1.23",
        "1.2345",
        "1.23,4",
        "1,234.5",  # English order of separators in a Danish file
        "abc",
        "58,4x",
        "",
        ",5",
        "5,",
        "--1",
        "..",
        "1 23,4",
        "%",
    ],
)
def test_not_a_danish_number(text):
    with pytest.raises(ValueError, match="is not a number"):
        parse_number(text)


@pytest.mark.parametrize("text", ["58,4", "1.234,5", "1.2.3", "12,34.5"])
def test_not_an_english_number(text):
    with pytest.raises(ValueError, match="is not a number"):
        parse_number(text, decimal_mark=".")


def test_error_quotes_the_text_without_its_padding():
    with pytest.raises(ValueError, match=r"^'58,4x' is not a number$"):
        parse_number("  58,4x ")


@pytest.mark.parametrize("text", ["..", ".", "-", "x", "X", "", " .. ", "  ", "\tx\t", " - "])
def test_suppression_markers(text):
    assert is_suppression_marker(text)


@pytest.mark.parametrize("text", ["...", "0", "xx", "n/a", "0,0", "--", "58,4"])
def test_not_a_suppression_marker(text):
    assert not is_suppression_marker(text)


# --- properties ---------------------------------------------------------------------------------


@given(values, decimals, st.sampled_from(["", ".", " ", "\u00a0"]), padding, padding, percent)
@example(1234.5, 1, ".", "", "", "")
@example(-0.001, 3, "", " ", " ", " %")
def test_danish_format_round_trips(value, places, thousands, before, after, suffix):
    value = round(value, places)
    text = f"{before}{danish(value, places, thousands)}{suffix}{after}"
    assert parse_number(text) == value


@given(values, decimals, st.sampled_from(["", ",", " ", "\u00a0"]), padding, padding, percent)
@example(1234.5, 1, ",", "", "", "")
def test_english_format_round_trips(value, places, thousands, before, after, suffix):
    value = round(value, places)
    text = f"{before}{english(value, places, thousands)}{suffix}{after}"
    assert parse_number(text, decimal_mark=".") == value


@given(
    st.integers(min_value=0, max_value=999),
    st.text("0123456789", min_size=1, max_size=6).filter(lambda digits: len(digits) != 3),
    st.sampled_from(["", "-"]),
)
def test_point_without_a_group_of_three_is_not_danish(integer, digits, sign):
    # '1.23' or '12.3456' can only be an English decimal: with a decimal comma it is refused.
    with pytest.raises(ValueError):
        parse_number(f"{sign}{integer}.{digits}")


@given(st.floats(min_value=1000, max_value=1e9), st.integers(min_value=1, max_value=3))
def test_each_convention_refuses_the_other(value, places):
    # Both separators in one number: in the wrong order they are refused, never misread.
    value = round(value, places)
    with pytest.raises(ValueError):
        parse_number(english(value, places, ","))
    with pytest.raises(ValueError):
        parse_number(danish(value, places, "."), decimal_mark=".")


@given(
    st.sampled_from(sorted(SUPPRESSION_MARKERS)),
    st.booleans(),
    padding,
    padding,
)
def test_suppression_marker_in_any_case_and_padding(marker, upper, before, after):
    text = f"{before}{marker.upper() if upper else marker}{after}"
    assert is_suppression_marker(text)
    # A marker is never a number, so a value is either suppressed or numeric, not both.
    with pytest.raises(ValueError):
        parse_number(text)
