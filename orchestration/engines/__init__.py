"""What only one engine needs, one folder each (duckdb/, postgres/); what both share is here."""

# What readers are shown on each engine: a failed night leaves it as it was, and the alerts and
# fault messages say so in these words.
_PUBLISHED_PLACE = {
    "duckdb": "serving.duckdb",
    "postgres": "schema marts on the PostgreSQL server",
}


def published_place(engine: str) -> str:
    """The published data of ``engine`` (``Settings.engine``), as alerts and faults name it."""
    return _PUBLISHED_PLACE[engine]
