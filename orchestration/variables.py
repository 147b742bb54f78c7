"""Every environment variable of the warehouse, in one table: its default, parser and rule.

``Settings.from_env``, ``AlertConfig.from_env`` and ``barometer check-config`` all read through
this table, so a variable is validated once, at start, before any file is read or written, and a
bad value stops everything with one sentence: the variable, the value and what is allowed.
Each parser (text in, value out) is in ``variable_parsers.py``. Plain Python: no Dagster, and
no project imports but the parsers (settings.py and alerts.py import this module).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from orchestration.variable_parsers import (
    LIBPQ_VARIABLES,
    choice,
    dagster_home,
    directory,
    duckdb_size,
    email,
    emails,
    flag,
    hostname,
    libpq_dsn,
    municipality_code,
    number,
    reader_group,
    share,
    sheet_name,
    statbank_items,
    text_of_at_least,
    url,
    urls,
    whole,
)

# Danmarks Statistik publishes no figure resting on fewer than 3 persons: a smaller threshold
# would let a published count identify someone.
SMALLEST_CELL_ALLOWED = 3


class ConfigError(ValueError):
    """A variable with a value that is not allowed; the message is one line for the operator."""

    def __init__(self, variable: str, value: str | None, allowed: str, *, secret: bool = False):
        self.variable, self.allowed = variable, allowed
        super().__init__(f"{variable} must be {allowed}, not {shown(value, secret)}")


def shown(value: str | None, secret: bool) -> str:
    """A value as an error or a listing may show it: secrets never, only that they are set."""
    if value is None:
        return "unset"
    return "a hidden value" if secret else repr(value)


# -- the table ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Variable:
    name: str
    default: str | None  # used when the variable is unset or blank; None: no value
    parse: Callable[[str], Any]
    allowed: str  # what is allowed, in words: the end of the error sentence
    secret: bool = False


SETTINGS_VARIABLES = (
    Variable("BAROMETER_WAREHOUSE_DIR", "warehouse", directory(writable=True),
             "a folder that exists or can be created, and is writable"),
    Variable("BAROMETER_SOURCE_DIR", "seeds/barometer", directory(writable=False),
             "a readable folder (or one that can be created)"),
    Variable("BAROMETER_DROP_DIR", None, directory(writable=False),
             "a readable folder (or one that can be created)"),
    Variable("BAROMETER_SOURCE_URL", None, urls,
             "http(s) URLs separated by spaces, commas or semicolons"),
    Variable("BAROMETER_STATBANK_INDICATORS", None, statbank_items,
             "items like file.csv=1.2, separated by spaces, commas or semicolons"),
    Variable("BAROMETER_EXCEL_SHEET", None, sheet_name,
             "an Excel sheet name: at most 31 characters, none of [ ] : * ? / \\"),
    Variable("BAROMETER_MAX_REJECT_SHARE", "0.01", share,
             "a share from 0 up to but not including 1 (0.01 = 1 %)"),
    Variable("BAROMETER_DOWNLOAD_MAX_BYTES", "50000000", whole(1),
             "a whole number of bytes, at least 1"),
    Variable("BAROMETER_DOWNLOAD_TIMEOUT", "30", number(0, 3600),
             "a number of seconds above 0 and at most 3600"),
    Variable("BAROMETER_FILE_MAX_BYTES", "50000000", whole(1),
             "a whole number of bytes, at least 1"),
    Variable("BAROMETER_CSV_MAX_LINE_CHARS", "100000", whole(1),
             "a whole number of characters, at least 1"),
    Variable("BAROMETER_XLSX_MAX_UNCOMPRESSED_BYTES", "200000000", whole(1),
             "a whole number of bytes, at least 1"),
    Variable("CASES_SOURCE_DIR", "seeds/cases", directory(writable=False),
             "a readable folder (or one that can be created)"),
    Variable("BAROMETER_PSEUDONYM_KEY", None, text_of_at_least(16),
             "a secret of at least 16 characters (unset, the development key is used)",
             secret=True),
    Variable("BAROMETER_CASE_RETENTION_YEARS", "15", whole(1, 100),
             "a whole number of years from 1 to 100 (case data older than that is erased)"),
    Variable("BAROMETER_MIN_CELL", "5", whole(SMALLEST_CELL_ALLOWED),
             f"a whole number of at least {SMALLEST_CELL_ALLOWED} "
             "(Danmarks Statistik's smallest publishable cell)"),
    Variable("BAROMETER_DUCKDB_MEMORY_LIMIT", "1GB", duckdb_size,
             "a DuckDB memory size of at least 100MiB, like 2GB, 512MiB or 80%"),
    Variable("BAROMETER_REPORT_MUNICIPALITY", "101", municipality_code,
             "the code of a municipality (like 101 or 751) in seeds/reference/municipalities.csv"),
    Variable("BAROMETER_PAGES_PORT", "3001", whole(1, 65535),
             "a port from 1 to 65535 (`make dev` serves report/ and docs/ there, on 127.0.0.1)"),
    Variable("BAROMETER_REPORT_ALL", "false", flag, "true or false"),
    Variable("DAGSTER_HOME", None, dagster_home,
             "the absolute path of an existing, writable folder"),
    Variable("BAROMETER_ENGINE", "duckdb", choice("duckdb", "postgres"),
             "'duckdb' (the embedded warehouse file) or 'postgres' (a PostgreSQL server)"),
    Variable("BAROMETER_PG_DSN", None, libpq_dsn,
             "a libpq connection string or URI (host=... dbname=... or postgresql://...) with "
             f"no options but {', '.join(LIBPQ_VARIABLES)}", secret=True),
    Variable("BAROMETER_READER_GROUP", None, reader_group,
             "an existing group that the user running the night belongs to"),
    Variable("BAROMETER_BACKUP_DIR", None, directory(writable=True),
             "a folder that exists or can be created, and is writable (unset: a folder "
             "<warehouse>-backups beside the warehouse folder)"),
    Variable("BAROMETER_BACKUP_KEEP", "7", whole(1, 1000),
             "a whole number of backups to keep, from 1 to 1000"),
)  # fmt: skip

ALERT_VARIABLES = (
    Variable("ALERT_WEBHOOK_URL", None, url, "an http(s) URL", secret=True),
    Variable("ALERT_WEBHOOK_FORMAT", "teams", choice("teams", "slack"),
             "'teams' (Adaptive Card, for a Teams incoming webhook or Workflows) or 'slack' "
             "(Block Kit, for a Slack incoming webhook)"),
    Variable("ALERT_SMTP_HOST", None, hostname, "a host name like smtp.kk.dk"),
    Variable("ALERT_SMTP_PORT", None, whole(1, 65535),
             "a port from 1 to 65535 (unset: 587 with STARTTLS, else 25)"),
    Variable("ALERT_SMTP_FROM", None, email, "one e-mail address"),
    Variable("ALERT_SMTP_TO", None, emails, "e-mail addresses separated by commas"),
    Variable("ALERT_SMTP_USER", None, str, "a login name"),
    Variable("ALERT_SMTP_PASSWORD", None, str, "a password", secret=True),
    Variable("ALERT_SMTP_STARTTLS", None, flag, "true or false"),
    Variable("DAGSTER_UI_URL", "http://127.0.0.1:3000", url, "an http(s) URL"),
    Variable("ALERT_VALUE_CHANGE_POINTS", "5", number(0), "a number above 0"),
)  # fmt: skip


@dataclass(frozen=True)
class Reading:
    """One variable as read: where its text came from, its value, or why it was refused."""

    variable: Variable
    text: str | None  # what the environment holds, None when unset or blank
    value: Any = None
    error: ConfigError | None = None

    @property
    def source(self) -> str:
        return "environment" if self.text is not None else "default"


def read(env: Mapping[str, str], variables: tuple[Variable, ...]) -> list[Reading]:
    """Every variable read and checked; errors are collected, not raised, so all can be shown."""
    readings = []
    for variable in variables:
        text = (env.get(variable.name) or "").strip() or None
        raw = text if text is not None else variable.default
        try:
            value = None if raw is None else variable.parse(raw)
        except (ValueError, KeyError, IndexError):
            error = ConfigError(variable.name, text, variable.allowed, secret=variable.secret)
            readings.append(Reading(variable, text, error=error))
        else:
            readings.append(Reading(variable, text, value))
    return readings


def alert_rules(readings: list[Reading]) -> list[ConfigError]:
    """What the alert variables mean together: e-mail needs a host, a sender and recipients."""
    text = {r.variable.name: r.text for r in readings}
    needed = [("ALERT_SMTP_FROM", "the sender's address"), ("ALERT_SMTP_TO", "the recipients")]
    if text["ALERT_SMTP_HOST"]:
        errors = [
            ConfigError(name, None, f"{what} when ALERT_SMTP_HOST is set")
            for name, what in needed
            if not text[name]
        ]
    else:
        errors = [
            ConfigError(name, text[name], "unset while ALERT_SMTP_HOST is unset (no e-mail)")
            for name in ("ALERT_SMTP_FROM", "ALERT_SMTP_TO", "ALERT_SMTP_USER")
            if text[name]
        ]
    if text["ALERT_SMTP_PASSWORD"] and not text["ALERT_SMTP_USER"]:
        errors.append(
            ConfigError(
                "ALERT_SMTP_PASSWORD",
                text["ALERT_SMTP_PASSWORD"],
                "set only together with ALERT_SMTP_USER",
                secret=True,
            )
        )
    return errors


def engine_rules(readings: list[Reading]) -> list[ConfigError]:
    """A server named while the warehouse is DuckDB is a mistake to say, not to ignore."""
    text = {r.variable.name: r.text for r in readings}
    if text["BAROMETER_PG_DSN"] and (text["BAROMETER_ENGINE"] or "duckdb").lower() != "postgres":
        return [
            ConfigError(
                "BAROMETER_PG_DSN",
                text["BAROMETER_PG_DSN"],
                "unset while BAROMETER_ENGINE is not postgres",
                secret=True,
            )
        ]
    return []


def values_or_raise(
    env: Mapping[str, str],
    variables: tuple[Variable, ...],
    rules: Callable[[list[Reading]], list[ConfigError]] = lambda readings: [],
) -> dict[str, Any]:
    """The parsed values by name; the first refused variable raises its ConfigError."""
    readings = read(env, variables)
    for error in [r.error for r in readings if r.error] + rules(readings):
        raise error
    return {reading.variable.name: reading.value for reading in readings}
