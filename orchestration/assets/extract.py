"""Extract: land the barometer exports of the source folder in the raw layer."""

import dagster as dg
from dagster_duckdb import DuckDBResource

from orchestration import raw_store
from orchestration.settings import Settings
from orchestration.sources.barometer import ExportFormatError, parse_barometer_file


@dg.asset(
    key=["raw", "barometer_indicator_values"],
    group_name="extract",
    kinds={"python", "duckdb"},
    description=(
        "Integrationsbarometer exports from the source folder, parsed and appended to "
        "raw.barometer_indicator_values with load_id, source_file, source_sha256 and loaded_at. "
        "A file whose content is unchanged since its last load is skipped."
    ),
    required_resource_keys={"settings", "duckdb"},
)
def barometer_indicator_values(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    settings: Settings = context.resources.settings
    duckdb: DuckDBResource = context.resources.duckdb
    files = sorted(settings.source_dir.glob("*.csv"))
    if not files:
        raise dg.Failure(f"No barometer export (*.csv) found in {settings.source_dir}")

    with duckdb.get_connection() as con:
        raw_store.ensure_raw_tables(con)
        # Parse every changed file before loading any, so a broken file lands nothing.
        changed = []
        for path in files:
            sha256 = raw_store.file_sha256(path)
            if raw_store.latest_sha256(con, path.name) == sha256:
                context.log.info(f"{path.name} is unchanged since its last load: skipped")
                continue
            try:
                changed.append((path, sha256, parse_barometer_file(path)))
            except ExportFormatError as error:
                raise dg.Failure(
                    description=f"Cannot read the barometer export {error}",
                    metadata={"file": str(path), "line": error.line, "column": error.column or ""},
                ) from None
        loads = [
            raw_store.append_barometer_load(con, p.name, sha, rows) for p, sha, rows in changed
        ]
        total_rows = con.execute(f"select count(*) from {raw_store.BAROMETER_TABLE}").fetchone()[0]

    for load in loads:
        context.log.info(f"Loaded {load.rows} rows from {load.source_file} as {load.load_id}")
    return dg.MaterializeResult(
        metadata={
            "files_seen": len(files),
            "files_loaded": len(loads),
            "files_unchanged": len(files) - len(loads),
            "rows_loaded": sum(load.rows for load in loads),
            "dagster/row_count": total_rows,
            "loads": dg.MetadataValue.md(_loads_table(loads)),
        }
    )


def _loads_table(loads: list[raw_store.FileLoad]) -> str:
    if not loads:
        return "No file changed since the last load."
    lines = ["| file | rows | load_id | sha256 |", "|---|---:|---|---|"]
    lines += [
        f"| {x.source_file} | {x.rows} | {x.load_id} | {x.source_sha256[:12]} |" for x in loads
    ]
    return "\n".join(lines)
