"""The SQL that reads, checks and pseudonymises a case extract inside its private DuckDB
connection (orchestration/sources/cases.py runs it). Strings only: no connection is opened here.

Every query starts from ``scan_sql`` (the file, numbered by record); ``checked_sql`` types each
field once and lists the reasons a record cannot be loaded; ``pseudonyms_sql`` keys each
distinct CPR number; ``rows_sql`` hands out the loadable rows with the pseudonym in its place.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from orchestration.sources.pseudonyms import CPR_MASK, CPR_SHAPED

if TYPE_CHECKING:
    from orchestration.sources.cases import Extract

UNKNOWN = "unknown"  # the explicit member of a cell dimension that the extract left blank
SEXES = ("M", "K")

_DANISH_DATE_FORMATS = "['%d-%m-%Y', '%d.%m.%Y']"


def scan_sql(extract: Extract, parallel: bool = True) -> str:
    path = str(extract.path).replace("'", "''")
    return f"""
with scan as (
    -- row_number() over () streams in file order: record 1 is the line after the header.
    select row_number() over () as record_no, *
    from read_csv('{path}', delim = ';', quote = '"', escape = '"', header = true,
                  all_varchar = true, null_padding = true, encoding = 'utf-8',
                  parallel = {str(parallel).lower()})
)"""


def checked_sql(
    extract: Extract, header: dict[str, int], programmes: frozenset[str], parallel: bool = True
) -> str:
    """Every record typed and checked: ``reasons`` lists why it cannot be loaded (empty if fine).

    Columns are taken by their position in the header, so its spelling and any extra columns
    do not matter. Each value is typed once (``parsed``), then checked and pseudonymised.
    """
    scan = scan_sql(extract, parallel)
    fields = ",\n        ".join(
        f"nullif(trim(#{position + 2}), '') as c_{name}" for name, position in header.items()
    )
    if extract.kind == "events":
        dates, numbers = ["dato", "slutdato"], ["event_id", "erstatter_event_id"]
        typed = f"""
        n_event_id as event_id,
        cpr_is_valid,
        replace(c_cpr, '-', '') as cpr_digits,
        {_mask("lower(c_haendelse)")} as event_type,
        d_dato as event_date,
        d_slutdato as end_date,
        {_mask("c_detalje")} as detail,
        n_erstatter_event_id as replaces_event_id,
        case
            when c_annulleret is null or lower(c_annulleret) in ('0', 'nej', 'false') then false
            when lower(c_annulleret) in ('1', 'ja', 'true') then true
        end as is_cancelled"""
        checks = [
            ("c_event_id is null", "event_id: missing"),
            (
                "c_event_id is not null and coalesce(n_event_id, 0) <= 0",
                "event_id: not a positive whole number",
            ),
            *_CPR_CHECKS,
            ("c_haendelse is null", "haendelse: missing"),
            ("c_dato is null", "dato: missing"),
            ("c_dato is not null and d_dato is null", "dato: not a date"),
            ("c_slutdato is not null and d_slutdato is null", "slutdato: not a date"),
            (
                "c_erstatter_event_id is not null and n_erstatter_event_id is null",
                "erstatter_event_id: not a whole number",
            ),
            (
                "c_annulleret is not null and lower(c_annulleret) "
                "not in ('0', '1', 'nej', 'ja', 'false', 'true')",
                "annulleret: not 0 or 1",
            ),
        ]
        text_fields = ["c_haendelse", "c_detalje"]
    else:
        dates, numbers = ["foedselsdato", "ankomstdato"], []
        typed = f"""
        cpr_is_valid,
        replace(c_cpr, '-', '') as cpr_digits,
        year(d_foedselsdato)::integer as birth_year,
        coalesce(upper(c_koen), '{UNKNOWN}') as sex,
        {_mask("c_statsborgerskab")} as citizenship,
        d_ankomstdato as arrival_date,
        coalesce(lower(c_program), '{UNKNOWN}') as programme,
        {_mask("c_asylcenter")} as asylum_centre"""
        checks = [
            *_CPR_CHECKS,
            # A blank birth date is an unknown age band; an unreadable one is an error.
            ("c_foedselsdato is not null and d_foedselsdato is null", "foedselsdato: not a date"),
            (
                f"c_koen is not null and upper(c_koen) not in {_sql_list(SEXES)}",
                "koen: not M or K",
            ),
            (
                f"c_program is not null and lower(c_program) not in "
                f"{_sql_list(programmes - {UNKNOWN})}",
                "program: not a known programme (seeds/reference/case_programmes.csv)",
            ),
            ("c_ankomstdato is null", "ankomstdato: missing"),
            ("c_ankomstdato is not null and d_ankomstdato is null", "ankomstdato: not a date"),
        ]
        text_fields = ["c_statsborgerskab", "c_asylcenter"]  # sex and programme are codes
    parsed = ",\n        ".join(
        [f"{_date('c_' + name)} as d_{name}" for name in dates]
        + [f"try_cast(c_{name} as bigint) as n_{name}" for name in numbers]
        + [f"{_valid_cpr('c_cpr')} as cpr_is_valid"]
    )
    # The list of reasons is built only for a record that has one: most have none.
    any_reason = " or ".join(f"({condition})" for condition, _ in checks)
    reasons = ", ".join(
        f"case when {condition} then '{reason}' end" for condition, reason in checks
    )
    reasons = (
        f"case when {any_reason} "
        f"then list_filter([{reasons}], lambda reason: reason is not null) else [] end"
    )
    masked = " + ".join(
        f"coalesce(regexp_matches({field}, '{CPR_SHAPED}')::integer, 0)" for field in text_fields
    )
    # Line breaks are counted only in a field that holds one.
    newlines = " + ".join(
        f"case when contains({f}, chr(10)) "
        f"then length({f}) - length(replace({f}, chr(10), '')) else 0 end"
        for f in (f"c_{name}" for name in header)
    )
    return f"""{scan},
fields as (
    select
        record_no,
        {fields}
    from scan
),
parsed as (
    select
        *,
        {parsed}
    from fields
),
checked as (
    select
        record_no,
        {reasons} as reasons,
        {masked} as masked,
        {newlines} as newlines,{typed}
    from parsed
)"""


def _sql_list(values) -> str:
    return "(" + ", ".join(f"'{value}'" for value in sorted(values)) + ")"


_CPR_CHECKS = [
    ("c_cpr is null", "cpr: missing"),
    ("c_cpr is not null and not cpr_is_valid", "cpr: not a valid CPR number"),
]


def _date(text: str) -> str:
    """ISO dates by a fast cast; the Danish orders (``01-06-2016``, ``01.06.2016``) otherwise."""
    return f"coalesce(try_cast({text} as date), try_strptime({text}, {_DANISH_DATE_FORMATS})::date)"


def _valid_cpr(cpr: str) -> str:
    """Ten digits, dash optional, the first six a real date (DDMMYY; as a 20YY date, which
    accepts 29 February exactly when some century's year does)."""
    iso = f"'20' || substr({cpr}, 5, 2) || '-' || substr({cpr}, 3, 2) || '-' || left({cpr}, 2)"
    return (
        f"coalesce(regexp_full_match({cpr}, '{CPR_SHAPED}') "
        f"and try_cast({iso} as date) is not null, false)"
    )


def pseudonyms_sql(extract: Extract, header: dict[str, int], parallel: bool) -> str:
    """The pseudonym of every distinct valid CPR number of the file, as a temp table of this
    in-memory connection: HMAC-SHA256 = sha256(opad || sha256(ipad || the 10 digits)).

    A scan without row numbers runs in parallel; the distinct texts are checked and keyed, once
    per citizen instead of once per row.
    """
    path = str(extract.path).replace("'", "''")
    digits = "encode(cpr_digits)"
    hmac_hex = f"sha256(hmac_opad() || unhex(sha256(hmac_ipad() || {digits})))"
    return f"""
create or replace temp table pseudonyms as
select
    cpr_digits,
    translate(left({hmac_hex}, 32), '0123456789abcdef', 'abcdefghijklmnop') as citizen_id
from (
    select distinct replace(c_cpr, '-', '') as cpr_digits
    from (
        select distinct nullif(trim(#{header["cpr"] + 1}), '') as c_cpr
        from read_csv('{path}', delim = ';', quote = '"', escape = '"', header = true,
                      all_varchar = true, null_padding = true, encoding = 'utf-8',
                      parallel = {str(parallel).lower()})
    )
    where {_valid_cpr("c_cpr")}
)"""


def _mask(expression: str) -> str:
    return f"regexp_replace({expression}, '{CPR_SHAPED}', '{CPR_MASK}', 'g')"


def rows_sql(
    con, extract: Extract, checked: str, offsets: list[tuple[int, int]], rejected: list[int]
) -> str:
    """The loadable rows; ``source_line`` counts the lines of any multi-line record before it.

    ``rejected``: the records the first pass found a reason to reject (``checked_sql``). They
    are left out by their number instead of checking every record a second time, so this pass
    computes only the columns it hands out. A record the first pass passed has a valid CPR
    number, whose pseudonym the left join finds; were the file to change between the passes, a
    row without one would fail the raw table's ``not null``, and the count of rows loaded would
    disagree with the first pass (``raw/cases.py`` refuses the load then).

    No ORDER BY: the streaming scan keeps the file's order, and sorting 10 million rows would
    hold them all in memory; ``source_line`` says where each row came from anyway.
    """
    if offsets:
        con.execute("create or replace temp table line_offsets (record_no bigint, shift bigint)")
        con.executemany("insert into line_offsets values (?, ?)", offsets)
        line = "checked.record_no + 1 + coalesce(o.shift, 0)"
        join = "asof left join line_offsets as o on checked.record_no > o.record_no"
    else:
        line, join = "checked.record_no + 1", ""
    if rejected:
        con.execute(
            "create or replace temp table rejected_records as "
            "select unnest(?::bigint[]) as record_no",
            [rejected],
        )
        keep = "where checked.record_no not in (select record_no from rejected_records)"
    else:
        keep = ""
    columns = (
        "event_id, citizen_id, event_type, event_date, end_date, detail, replaces_event_id, "
        "is_cancelled"
        if extract.kind == "events"
        else "citizen_id, birth_year, sex, citizenship, arrival_date, programme, asylum_centre"
    )
    citizen_id = "pseudonyms.citizen_id"
    return (
        f"{checked} select {columns.replace('citizen_id', citizen_id, 1)}, "
        f"({line})::integer as source_line "
        f"from checked {join} left join pseudonyms using (cpr_digits) {keep}"
    )
