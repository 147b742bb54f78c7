"""The warehouse's one rounding rule (dbt_project/macros/rounding.sql), compiled by dbt and run
by DuckDB, against Python's exact decimal rounding half away from zero."""

from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

import duckdb
import pytest
from conftest import dbt


def compile_sql(tmp_path, jinja: str) -> str:
    command = ["compile", "--quiet", "--output", "text", "--inline", jinja]
    result = dbt(tmp_path / "warehouse.duckdb", tmp_path / "target", *command)
    assert result.returncode == 0, result.stdout[-3000:]
    return result.stdout.strip()


def half_up(value: Fraction, digits: int) -> float:
    exact = Decimal(value.numerator) / Decimal(value.denominator)
    return float(exact.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP))


@pytest.fixture(scope="module")
def shares_sql(tmp_path_factory):
    return compile_sql(
        tmp_path_factory.mktemp("shares"),
        "select n, d, {{ round_half_away_from_zero('100 * n', 1, 'd') }} as share "
        "from (select unnest(range(0, 241)) as n) cross join (select unnest(range(1, 241)) as d) "
        "where n <= d",
    )


def test_every_share_of_up_to_240_citizens_rounds_exactly(shares_sql):
    rows = duckdb.sql(shares_sql).fetchall()
    assert len(rows) == 29160
    wrong = [(n, d, s) for n, d, s in rows if s != half_up(Fraction(100 * n, d), 1)]
    assert wrong == []
    shares = {(n, d): s for n, d, s in rows}
    assert shares[(123, 240)] == 51.3  # 51.25 %: a binary double gives 51.2
    assert shares[(1, 8)] == 12.5 and shares[(1, 16)] == 6.3 and shares[(0, 7)] == 0


def test_published_values_round_half_away_from_zero(tmp_path):
    sql = compile_sql(
        tmp_path,
        "select {{ round_half_away_from_zero('v') }} as whole, "
        "{{ round_half_away_from_zero('v', 1) }} as tenth "
        "from (values (26.5), (-26.5), (0.5), (51.25), (20.45), (-0.05), (2.675)) as t(v)",
    )
    assert duckdb.sql(sql).fetchall() == [
        (27.0, 26.5), (-27.0, -26.5), (1.0, 0.5), (51.0, 51.3), (20.0, 20.5), (-0.0, -0.1),
        (3.0, 2.7),
    ]  # fmt: skip
