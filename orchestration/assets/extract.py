"""Extract: land the barometer exports of the night in the raw layer, losing nothing."""

from collections import Counter

import dagster as dg
from dagster_duckdb import DuckDBResource

from orchestration.raw import store as raw_store
from orchestration.settings import REFERENCE_DIR, Settings
from orchestration.sources.barometer import ExportFormatError, parse_export
from orchestration.sources.download import DownloadError
from orchestration.sources.inventory import find_exports
from orchestration.sources.reference import load_reference

VALUES = dg.AssetKey(["raw", "barometer_indicator_values"])
LOADS = dg.AssetKey(["raw", "barometer_loads"])
CURRENT = dg.AssetKey(["raw", "barometer_current_loads"])
REJECTS = dg.AssetKey(["raw", "barometer_rejects"])


def _spec(key: dg.AssetKey, description: str, group: str = "extract") -> dg.AssetSpec:
    return dg.AssetSpec(key, description=description, group_name=group, kinds={"duckdb"})


@dg.multi_asset(
    name="barometer_extract",
    specs=[
        _spec(
            VALUES,
            "Every value of every barometer export loaded, appended per load with load_id, "
            "source_file, source_sha256 and loaded_at. A file unchanged since its last load "
            "is skipped; only a file's latest load counts downstream.",
        ),
        _spec(
            LOADS,
            "One row per load of an export file: where it came from, its sha256, values read, "
            "loaded, skipped (areas that are not municipalities) and rejected, and where its "
            "exact bytes are archived (landing/<load_id>/).",
        ),
        _spec(
            CURRENT,
            "The load holding the current content of each export file found in the last "
            "extract: a file that is gone from the sources no longer counts.",
        ),
        _spec(
            REJECTS,
            "Lines that could not be interpreted: file, line, raw text and reason.",
            group="quality",
        ),
    ],
    required_resource_keys={"settings", "duckdb"},
    retry_policy=dg.RetryPolicy(max_retries=2, delay=30, backoff=dg.Backoff.EXPONENTIAL),
)
def barometer_extract(context: dg.AssetExecutionContext):
    """Barometer exports from the source folder, BAROMETER_SOURCE_URL and the drop folder."""
    settings: Settings = context.resources.settings
    duckdb: DuckDBResource = context.resources.duckdb
    try:
        found = find_exports(
            settings.source_dir, settings.drop_dir, settings.source_urls, settings.downloads_dir,
            max_bytes=settings.download_max_bytes, timeout=settings.download_timeout,
            max_file_bytes=settings.file_max_bytes, warn=context.log.warning,
        )  # fmt: skip
    except DownloadError as error:
        # The downloader has already retried; the step retries later only if it may help.
        raise dg.Failure(
            f"Cannot download the barometer export {error}", allow_retries=error.transient
        ) from None
    except ExportFormatError as error:  # a file too large to read: the same file fails again
        raise dg.Failure(f"Cannot read the barometer export {error}", allow_retries=False) from None
    if not found:
        raise dg.Failure(
            f"No barometer export (*.csv, *.xlsx) found in {settings.source_dir}",
            allow_retries=False,
        )
    reference = load_reference(REFERENCE_DIR)

    with duckdb.get_connection() as con:
        raw_store.ensure_raw_tables(con)
        candidates = [
            raw_store.Candidate(f.path, f.source_uri, raw_store.file_sha256(f.path)) for f in found
        ]
        changed, current, unchanged = [], {}, []
        for candidate in candidates:
            current[candidate.source_file] = raw_store.unchanged_load(con, candidate)
            if current[candidate.source_file]:
                unchanged.append(f"{candidate.source_file} (sha256 {candidate.sha256[:12]})")
            else:
                changed.append(candidate)
        if unchanged:  # one line, not one event per file: a quiet night writes few events
            context.log.info(f"Unchanged since their last load, skipped: {', '.join(unchanged)}")

        # Archive and parse every changed file before loading any, so a file that cannot be
        # read at all lands nothing, while its bytes are kept.
        loaded_at = raw_store.now()
        parsed = []
        for candidate in changed:
            load_id = raw_store.new_load_id(candidate, loaded_at)
            kept = raw_store.archive(candidate, settings.landing_dir, load_id)
            try:
                result = parse_export(
                    candidate.path,
                    reference,
                    indicator=settings.statbank_indicators.get(candidate.source_file),
                    sheet=settings.excel_sheet,
                    limits=settings.read_limits,
                )
            except ExportFormatError as error:
                raise dg.Failure(
                    description=f"Cannot read the barometer export {error}",
                    allow_retries=False,  # the same bytes will fail the same way
                    metadata={
                        "file": candidate.source_file,
                        "line": error.line or "",
                        "column": error.column or "",
                        "archived_at": str(kept),
                    },
                ) from None
            except (OSError, MemoryError):
                raise  # the machine, not the file: a retry may succeed
            except Exception as error:
                # Parsing is a function of the bytes: whatever else goes wrong with this file
                # goes wrong again, so it is not retried (nor archived once more per attempt).
                raise dg.Failure(
                    description=(
                        f"Cannot read the barometer export {candidate.source_file}: "
                        f"{type(error).__name__}: {error}"
                    ),
                    allow_retries=False,
                    metadata={"file": candidate.source_file, "archived_at": str(kept)},
                ) from error
            for warning in result.warnings:
                context.log.warning(warning)
            parsed.append((candidate, load_id, result, kept))
        settings.kill_point("extract")  # tests: archived in landing/, no load recorded
        loads = [
            raw_store.append_load(con, candidate, load_id, loaded_at, result, kept)
            for candidate, load_id, result, kept in parsed
        ]
        raw_store.set_current_loads(
            con, {**current, **{load.source_file: load.load_id for load in loads}}, loaded_at
        )
        totals = {
            key: con.execute(f"select count(*) from {table}").fetchall()[0][0]
            for key, table in [
                (VALUES, raw_store.BAROMETER_TABLE),
                (LOADS, raw_store.LOADS_TABLE),
                (CURRENT, raw_store.CURRENT_TABLE),
                (REJECTS, raw_store.REJECTS_TABLE),
            ]
        }

    skipped = Counter()
    for load in loads:
        skipped.update(load.skipped)
        context.log.info(
            f"{load.source_file}: {load.extracted} values read, {load.loaded} loaded, "
            f"{sum(load.skipped.values())} skipped, {load.rejected} rejected (load {load.load_id})"
        )
    yield dg.MaterializeResult(
        asset_key=VALUES,
        metadata={
            "files_seen": len(candidates),
            "files_loaded": len(loads),
            "files_unchanged": len(candidates) - len(loads),
            "rows_extracted": sum(load.extracted for load in loads),
            "rows_loaded": sum(load.loaded for load in loads),
            "rows_skipped": skipped.total(),
            "rows_skipped_by_reason": dict(sorted(skipped.items())),
            "rows_rejected": sum(load.rejected for load in loads),
            "dagster/row_count": totals[VALUES],
            "loads": dg.MetadataValue.md(_loads_table(loads)),
        },
    )
    yield dg.MaterializeResult(asset_key=LOADS, metadata={"dagster/row_count": totals[LOADS]})
    yield dg.MaterializeResult(asset_key=CURRENT, metadata={"dagster/row_count": totals[CURRENT]})
    yield dg.MaterializeResult(
        asset_key=REJECTS,
        metadata={
            "dagster/row_count": totals[REJECTS],
            "rejected_tonight": sum(load.rejected for load in loads),
        },
    )


def _loads_table(loads: list[raw_store.FileLoad]) -> str:
    if not loads:
        return "No file changed since the last load."
    lines = [
        "| file | read | loaded | skipped | rejected | load_id | sha256 |",
        "|---|---:|---:|---:|---:|---|---|",
    ]
    lines += [
        f"| {x.source_file} | {x.extracted} | {x.loaded} | {sum(x.skipped.values())} "
        f"| {x.rejected} | {x.load_id} "
        f"| {x.source_sha256[:12]} |"
        for x in loads
    ]
    return "\n".join(lines)
