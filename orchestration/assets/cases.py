"""Extract: merge the case system's nightly extracts into the raw layer, pseudonymised."""

import re
from datetime import UTC, datetime

import dagster as dg
from dagster_duckdb import DuckDBResource
from duckdb import Error as DuckDBError

from orchestration.raw import cases as raw_cases
from orchestration.raw import erasure
from orchestration.settings import REFERENCE_DIR, Settings
from orchestration.sources.cases import (
    CaseExtractError,
    describe_extract,
    file_stamp,
    find_extract_paths,
    load_case_programmes,
    read_extract,
)
from orchestration.sources.pseudonyms import CPR_MASK, CPR_SHAPED, key_fingerprint
from orchestration.variable_parsers import duckdb_bytes

CITIZENS = dg.AssetKey(["raw", "case_citizens"])
EVENTS = dg.AssetKey(["raw", "case_events"])
_REJECTS_LOGGED = 20


def _spec(key: dg.AssetKey, description: str) -> dg.AssetSpec:
    return dg.AssetSpec(key, description=description, group_name="extract", kinds={"duckdb"})


@dg.multi_asset(
    name="case_extracts",
    specs=[
        _spec(
            CITIZENS,
            "Citizens of the case system's extracts (citizens_YYYYMMDD.csv): a pseudonym "
            "(HMAC-SHA256 of the CPR number) instead of the CPR number, birth year instead of "
            "birth date, no names. One row per citizen and extract night.",
        ),
        _spec(
            EVENTS,
            "Case events of the nightly extracts (events_YYYYMMDD.csv), merged by event_id: the "
            "latest extract's version of each event, corrections and cancellations included.",
        ),
    ],
    required_resource_keys={"settings", "duckdb"},
)
def case_extracts(context: dg.AssetExecutionContext):
    """Every extract not loaded yet (by sha256), in one transaction, newest night first.

    A file whose name, size and modification time equal those of a loaded file is that file and
    is not even hashed again (the nightly folder keeps the big initial extract); any other file
    is hashed, and skipped when its sha256 was loaded before.
    """
    settings: Settings = context.resources.settings
    duckdb: DuckDBResource = context.resources.duckdb
    if settings.uses_default_pseudonym_key:
        context.log.warning(
            "BAROMETER_PSEUDONYM_KEY is not set: CPR numbers are pseudonymised with the "
            "development default key. Set a secret key before loading real case data."
        )
    try:
        paths = find_extract_paths(settings.cases_source_dir)
    except CaseExtractError as error:
        raise dg.Failure(
            description=f"Cannot use the case extract {error}", allow_retries=False
        ) from None
    if not paths:
        raise dg.Failure(
            f"No case extract (citizens_YYYYMMDD.csv, events_YYYYMMDD.csv) found in "
            f"{settings.cases_source_dir}"
        )
    fingerprint = key_fingerprint(settings.pseudonym_key)
    programmes = load_case_programmes(REFERENCE_DIR)
    loaded_at = datetime.now(UTC).replace(tzinfo=None)

    with duckdb.get_connection() as con:
        # The parser's private connection in this same process cannot spill (a CPR number
        # never touches a disk): the load, which can, leaves it half of the night's memory.
        half = duckdb_bytes(settings.duckdb_memory_limit) // 2
        con.execute(f"set memory_limit = '{half} bytes'")
        raw_cases.ensure_case_tables(con)
        if raw_cases.key_fingerprints(con) - {fingerprint}:
            raise dg.Failure(
                "The pseudonym key differs from the key of the extracts already loaded: "
                "pseudonyms would no longer match. Restore BAROMETER_PSEUDONYM_KEY, or rebuild "
                "the case tables from all extracts under the new key."
            )
        stamps, done, new = raw_cases.loaded_stamps(con), raw_cases.loaded_sha256s(con), []
        same_stamp, same_sha256 = [], []
        for path in paths:
            if file_stamp(path) in stamps:
                same_stamp.append(path.name)
                continue
            extract = describe_extract(path)
            if extract.sha256 in done:
                same_sha256.append(path.name)
            else:
                new.append(extract)
        # One line each, not one event per file: a quiet night writes few events.
        if same_stamp:
            context.log.info(f"Loaded before (same name, size and time): {', '.join(same_stamp)}")
        if same_sha256:
            context.log.info(f"Loaded before (same sha256), skipped: {', '.join(same_sha256)}")
        loads = []
        con.execute("begin transaction")
        try:
            for extract in raw_cases.newest_first(new):
                with read_extract(extract, settings.pseudonym_key, programmes) as parsed:
                    loads.append(raw_cases.load_extract(con, parsed, loaded_at, fingerprint))
            con.execute("commit")
            loads.reverse()  # in night order again, for the log and the metadata
        except CaseExtractError as error:
            con.execute("rollback")
            failure = dg.Failure(
                description=f"Cannot read the case extract {error}",
                allow_retries=False,  # the same bytes fail the same way: a data error, no crash
                metadata={"file": error.source, "line": error.line, "column": error.column or ""},
            )
            raise failure from None
        except DuckDBError as error:
            # Any other DuckDB error: its message may quote data, so CPR-shaped text is masked
            # and the original exception is not chained into the logs.
            con.execute("rollback")
            message = re.sub(CPR_SHAPED, CPR_MASK, str(error))
            failure = dg.Failure(description=f"Loading the case extracts failed: {message}")
            raise failure from None
        except BaseException:
            con.execute("rollback")
            raise
        # Retention, before dbt reads the case tables: the same erasure as on request.
        expired = erasure.expire_citizens(con, settings)
        totals = {
            CITIZENS: raw_cases.table_rows(con, raw_cases.CASE_CITIZENS),
            EVENTS: raw_cases.table_rows(con, raw_cases.CASE_EVENTS),
        }
        # Set back: the database's settings outlive this connection while another in this
        # process has the same file open (DuckDB shares one instance per file).
        con.execute("set memory_limit = ?", [settings.duckdb_memory_limit])

    for load in loads:
        context.log.info(
            f"Loaded {load.rows_loaded} of {load.records} rows from {load.source_file}"
            + (f"; {load.rows_rejected} rejected" if load.rows_rejected else "")
            + (f" ({load.rows_erased} of erased citizens)" if load.rows_erased else "")
            + (f"; {load.values_masked} CPR-shaped values masked" if load.values_masked else "")
        )
    if loads:
        _log_rejects(context, loaded_at)
    if expired:
        context.log.info(
            f"Retention: {expired.citizens} citizen(s) with no case activity in the last "
            f"{settings.case_retention_years} years erased ({expired.rows} rows)"
        )
    for key, kind in ((CITIZENS, "citizens"), (EVENTS, "events")):
        mine = [load for load in loads if load.kind == kind]
        yield dg.MaterializeResult(
            asset_key=key,
            metadata={
                "files_seen": sum(p.name.startswith(kind) for p in paths),
                "files_loaded": len(mine),
                "rows_loaded": sum(load.rows_loaded for load in mine),
                "rows_rejected": sum(load.rows_rejected for load in mine),
                "values_masked": sum(load.values_masked for load in mine),
                "rows_of_erased_citizens": sum(load.rows_erased for load in mine),
                "citizens_expired": expired.citizens if expired else 0,
                "dagster/row_count": totals[key],
                "pseudonym_key": "development default"
                if settings.uses_default_pseudonym_key
                else "from BAROMETER_PSEUDONYM_KEY",
                "loads": dg.MetadataValue.md(_loads_table(mine)),
            },
        )


def _log_rejects(context: dg.AssetExecutionContext, loaded_at: datetime) -> None:
    """Rejects of this run by file, line and reason: never a value, which may be a CPR number."""
    duckdb: DuckDBResource = context.resources.duckdb
    with duckdb.get_connection() as con:
        rows = con.execute(
            f"select source_file, line, reason from {raw_cases.CASE_REJECTS} "
            "where loaded_at = ? order by source_file, line",
            [loaded_at],
        ).fetchall()
    for source_file, line, reason in rows[:_REJECTS_LOGGED]:
        context.log.warning(f"Rejected {source_file}, line {line}: {reason}")
    if len(rows) > _REJECTS_LOGGED:
        context.log.warning(
            f"... and {len(rows) - _REJECTS_LOGGED} more rejects in raw.case_rejects"
        )


def _loads_table(loads: list[raw_cases.CaseLoad]) -> str:
    if not loads:
        return "No new extract since the last load."
    lines = ["| file | rows | rejected | masked | sha256 |", "|---|---:|---:|---:|---|"]
    lines += [
        f"| {x.source_file} | {x.rows_loaded} | {x.rows_rejected} | {x.values_masked} "
        f"| {x.sha256[:12]} |"
        for x in loads
    ]
    return "\n".join(lines)
