"""Metadata that lets the Dagster UI answer "what is in this table" and "how are we doing"."""

import dagster as dg
import duckdb

PREVIEW_ROWS = 5

# Copenhagen's latest year per indicator: the first thing an analyst asks after a refresh.
_COPENHAGEN_STATUS = """
select
    g.indicator_code as indicator,
    i.indicator_name_en as name,
    g.year,
    g.value,
    g.target_value as target,
    g.target_year,
    g.status,
    g.development
from marts.fct_target_gap as g
inner join marts.dim_indicator as i using (indicator_code)
where g.municipality_code = '101'
qualify g.year = max(g.year) over (partition by g.indicator_code)
order by g.indicator_code
"""


def table_metadata(con: duckdb.DuckDBPyConnection, key: dg.AssetKey) -> dict:
    """Row count and a preview of the relation behind an asset key (``schema/table``)."""
    relation = ".".join(key.path)
    metadata = {
        "dagster/row_count": con.execute(f"select count(*) from {relation}").fetchall()[0][0],
        "preview": dg.MetadataValue.md(
            con.execute(f"select * from {relation} limit {PREVIEW_ROWS}")
            .df()
            .to_markdown(index=False)
        ),
    }
    if relation == "marts.fct_target_gap":
        metadata["copenhagen"] = dg.MetadataValue.md(
            con.execute(_COPENHAGEN_STATUS).df().to_markdown(index=False)
        )
    return metadata
