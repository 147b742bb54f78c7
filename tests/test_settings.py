"""Configuration: every variable is checked at start, and a bad one stops everything in one line."""

import os
import subprocess
import sys

import pytest

from orchestration.automation.alerts import AlertConfig
from orchestration.settings import DEV_PSEUDONYM_KEY, PROJECT_ROOT, ConfigError, Settings
from orchestration.variables import ALERT_VARIABLES, SETTINGS_VARIABLES

BIN = os.path.dirname(sys.executable)
SECRETS = {
    "BAROMETER_PSEUDONYM_KEY",
    "ALERT_WEBHOOK_URL",
    "ALERT_SMTP_PASSWORD",
    "BAROMETER_PG_DSN",
}
# A host is needed before the other SMTP variables mean anything.
SMTP = {
    "ALERT_SMTP_HOST": "smtp.kk.dk",
    "ALERT_SMTP_FROM": "barometer@kk.dk",
    "ALERT_SMTP_TO": "a@kk.dk",
}
FILE = PROJECT_ROOT / "README.md"  # a file, so no folder can be created beneath it

# (variable, bad value, other variables it needs, what the error must say)
BAD_VALUES = [
    ("BAROMETER_WAREHOUSE_DIR", f"{FILE}/warehouse", {}, "can be created"),
    ("BAROMETER_WAREHOUSE_DIR", str(FILE), {}, "a folder"),
    ("BAROMETER_SOURCE_DIR", f"{FILE}/barometer", {}, "readable folder"),
    ("BAROMETER_DROP_DIR", str(FILE), {}, "readable folder"),
    ("BAROMETER_SOURCE_URL", "ftp://dst.dk/export.csv", {}, "http(s) URLs"),
    ("BAROMETER_SOURCE_URL", "https://dst.dk/a.csv www.dst.dk/b.csv", {}, "http(s) URLs"),
    ("BAROMETER_STATBANK_INDICATORS", "statbank.csv:1.2", {}, "file.csv=1.2"),
    ("BAROMETER_STATBANK_INDICATORS", "statbank.csv=", {}, "file.csv=1.2"),
    ("BAROMETER_EXCEL_SHEET", "Ark1/2024", {}, "at most 31 characters"),
    ("BAROMETER_MAX_REJECT_SHARE", "2", {}, "up to but not including 1"),
    ("BAROMETER_MAX_REJECT_SHARE", "1", {}, "up to but not including 1"),
    ("BAROMETER_MAX_REJECT_SHARE", "-0.1", {}, "a share from 0"),
    ("BAROMETER_MAX_REJECT_SHARE", "1%", {}, "a share"),
    ("BAROMETER_DOWNLOAD_MAX_BYTES", "0", {}, "at least 1"),
    ("BAROMETER_DOWNLOAD_MAX_BYTES", "50MB", {}, "whole number of bytes"),
    ("BAROMETER_FILE_MAX_BYTES", "0", {}, "at least 1"),
    ("BAROMETER_CSV_MAX_LINE_CHARS", "100k", {}, "whole number of characters"),
    ("BAROMETER_XLSX_MAX_UNCOMPRESSED_BYTES", "-1", {}, "at least 1"),
    ("BAROMETER_DOWNLOAD_TIMEOUT", "0", {}, "above 0"),
    ("BAROMETER_DOWNLOAD_TIMEOUT", "nan", {}, "above 0"),
    ("CASES_SOURCE_DIR", f"{FILE}/cases", {}, "readable folder"),
    ("BAROMETER_PSEUDONYM_KEY", "hemmelig", {}, "at least 16 characters"),
    ("BAROMETER_CASE_RETENTION_YEARS", "0", {}, "from 1 to 100"),
    ("BAROMETER_CASE_RETENTION_YEARS", "ten", {}, "whole number of years"),
    ("BAROMETER_MIN_CELL", "0", {}, "at least 3"),
    ("BAROMETER_MIN_CELL", "-1", {}, "at least 3"),
    ("BAROMETER_MIN_CELL", "2", {}, "Danmarks Statistik"),
    ("BAROMETER_MIN_CELL", "abc", {}, "whole number"),
    ("BAROMETER_MIN_CELL", "5.5", {}, "whole number"),
    ("BAROMETER_DUCKDB_MEMORY_LIMIT", "banana", {}, "DuckDB memory size"),
    ("BAROMETER_DUCKDB_MEMORY_LIMIT", "2", {}, "DuckDB memory size"),
    ("BAROMETER_DUCKDB_MEMORY_LIMIT", "1MB", {}, "at least 100MiB"),
    ("BAROMETER_REPORT_MUNICIPALITY", "000", {}, "code of a municipality"),
    ("BAROMETER_REPORT_MUNICIPALITY", "999", {}, "municipalities.csv"),
    ("BAROMETER_REPORT_MUNICIPALITY", "Aarhus", {}, "like 101 or 751"),
    ("BAROMETER_PAGES_PORT", "0", {}, "a port from 1 to 65535"),
    ("BAROMETER_PAGES_PORT", "http", {}, "a port from 1 to 65535"),
    ("BAROMETER_REPORT_ALL", "sometimes", {}, "true or false"),
    ("DAGSTER_HOME", ".dagster", {}, "absolute path"),
    ("DAGSTER_HOME", "/nonexistent/dagster-home", {}, "existing"),
    ("BAROMETER_ENGINE", "sqlite", {}, "'duckdb'"),
    ("BAROMETER_PG_DSN", "db.kk.dk", {"BAROMETER_ENGINE": "postgres"}, "connection string"),
    (
        "BAROMETER_PG_DSN",
        "host=db.kk.dk sslcert=/x",
        {"BAROMETER_ENGINE": "postgres"},
        "no options",
    ),
    ("BAROMETER_PG_DSN", "host=db.kk.dk", {}, "unset while BAROMETER_ENGINE is not postgres"),
    ("ALERT_WEBHOOK_URL", "hooks.slack.com/services/T0/B0/s3cret", {}, "http(s) URL"),
    ("ALERT_WEBHOOK_FORMAT", "discord", {}, "'teams'"),
    ("ALERT_SMTP_HOST", "smtp://smtp.kk.dk", SMTP, "host name"),
    ("ALERT_SMTP_PORT", "70000", SMTP, "from 1 to 65535"),
    ("ALERT_SMTP_PORT", "smtp", SMTP, "from 1 to 65535"),
    ("ALERT_SMTP_FROM", "barometer", SMTP, "e-mail address"),
    ("ALERT_SMTP_FROM", "barometer@kk.dk", {}, "unset while ALERT_SMTP_HOST is unset"),
    ("ALERT_SMTP_TO", "a@kk.dk; b", SMTP, "e-mail addresses"),
    ("ALERT_SMTP_USER", "alerts", {}, "unset while ALERT_SMTP_HOST is unset"),
    ("ALERT_SMTP_PASSWORD", "pa55word-s3cret", SMTP, "together with ALERT_SMTP_USER"),
    ("ALERT_SMTP_STARTTLS", "maybe", SMTP, "true or false"),
    ("DAGSTER_UI_URL", "127.0.0.1:3000", {}, "http(s) URL"),
    ("ALERT_VALUE_CHANGE_POINTS", "-5", {}, "above 0"),
    ("ALERT_VALUE_CHANGE_POINTS", "fem", {}, "above 0"),
    ("BAROMETER_READER_GROUP", "no-such-group-here", {}, "an existing group"),
    ("BAROMETER_BACKUP_DIR", str(FILE / "backups"), {}, "can be created"),
    ("BAROMETER_BACKUP_KEEP", "0", {}, "from 1 to 1000"),
]


# That every variable is documented, and nothing else, is tests/test_docs.py's business.
def test_every_variable_has_a_bad_value_test():
    tabled = {v.name for v in SETTINGS_VARIABLES + ALERT_VARIABLES}
    assert tabled == {name for name, *_ in BAD_VALUES}


@pytest.mark.parametrize(
    ("name", "value", "needs", "says"),
    BAD_VALUES,
    ids=[f"{name}={value}" for name, value, *_ in BAD_VALUES],
)
def test_a_bad_value_is_refused_in_one_line_naming_variable_value_and_rule(
    name, value, needs, says
):
    env = {**needs, name: value}

    with pytest.raises(ConfigError) as refused:
        Settings.from_env(env)

    message = str(refused.value)
    assert "\n" not in message
    assert message.startswith(f"{name} must be ")
    assert says in message
    if name in SECRETS:
        assert value not in message and "not a hidden value" in message
    else:
        assert message.endswith(f"not {value!r}")


def test_defaults_are_valid_and_unchanged():
    settings = Settings.from_env({})

    assert settings.min_cell == 5
    assert settings.case_retention_years == 15
    assert settings.max_reject_share == 0.01
    assert settings.duckdb_memory_limit == "1GB"
    assert settings.warehouse_dir == PROJECT_ROOT / "warehouse"
    assert settings.pseudonym_key == DEV_PSEUDONYM_KEY and settings.uses_default_pseudonym_key
    assert (settings.drop_dir, settings.source_urls, settings.dagster_home) == (None, (), None)
    assert (settings.engine, settings.dbt_target) == ("duckdb", "warehouse")
    assert not any(key.startswith("PG") for key in settings.subprocess_env())


def test_good_values_are_read(tmp_path):
    env = {
        "BAROMETER_WAREHOUSE_DIR": str(tmp_path / "not" / "yet" / "there"),
        "BAROMETER_SOURCE_URL": "https://a.dk/1.csv, http://b.dk/2.xlsx",
        "BAROMETER_STATBANK_INDICATORS": "beskaeft.csv=1.2;dansk.CSV=Danskprøve",
        "BAROMETER_MIN_CELL": "3",
        "BAROMETER_MAX_REJECT_SHARE": "0",
        "BAROMETER_DUCKDB_MEMORY_LIMIT": "512MiB",
        "BAROMETER_PSEUDONYM_KEY": "a-long-secret-of-the-municipality",
        "DAGSTER_HOME": str(tmp_path),
        "BAROMETER_ENGINE": "Postgres",
        "BAROMETER_PG_DSN": "postgresql://nightly:s3cret@db.kk.dk:5433/barometer?sslmode=require",
    }

    settings = Settings.from_env(env)

    assert settings.warehouse_dir == tmp_path / "not" / "yet" / "there"
    assert not settings.warehouse_dir.exists()  # checked, not created: nothing is written
    assert settings.source_urls == ("https://a.dk/1.csv", "http://b.dk/2.xlsx")
    assert settings.statbank_indicators == {"beskaeft.csv": "1.2", "dansk.CSV": "Danskprøve"}
    assert (settings.min_cell, settings.max_reject_share) == (3, 0.0)
    assert not settings.uses_default_pseudonym_key
    assert (settings.engine, settings.dbt_target) == ("postgres", "postgres")
    assert "s3cret" not in repr(settings)
    assert {k: v for k, v in settings.subprocess_env().items() if k.startswith("PG")} == {
        "PGHOST": "db.kk.dk",
        "PGPORT": "5433",
        "PGDATABASE": "barometer",
        "PGUSER": "nightly",
        "PGPASSWORD": "s3cret",
        "PGSSLMODE": "require",
    }


def test_alert_config_reads_through_the_same_rules(tmp_path):
    with pytest.raises(ConfigError, match="^ALERT_SMTP_PORT must be a port from 1 to 65535"):
        AlertConfig.from_env({**SMTP, "ALERT_SMTP_PORT": "0"}, tmp_path / "alerts.jsonl")
    config = AlertConfig.from_env({**SMTP, "ALERT_SMTP_STARTTLS": "off"}, tmp_path / "a.jsonl")
    assert (config.smtp_port, config.smtp_starttls) == (25, False)


def run(*command: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("BAROMETER_", "ALERT_"))}
    return subprocess.run(
        command, env={**clean, **env}, capture_output=True, text=True, cwd=PROJECT_ROOT
    )


@pytest.mark.parametrize("command", [["refresh"], ["prepare"]])
def test_the_cli_stops_with_one_line_and_exit_code_2(command, tmp_path):
    warehouse = tmp_path / "warehouse"
    bad = {"BAROMETER_MIN_CELL": "0", "BAROMETER_WAREHOUSE_DIR": str(warehouse)}

    finished = run(f"{BIN}/barometer", *command, env=bad)

    assert finished.returncode == 2
    assert finished.stdout == ""
    assert finished.stderr == (
        "barometer: configuration error: BAROMETER_MIN_CELL must be a whole number of at least "
        "3 (Danmarks Statistik's smallest publishable cell), not '0'\n"
    )
    assert not warehouse.exists()  # stopped before anything was written


def test_the_dagster_code_location_fails_to_load_with_the_sentence():
    finished = run(
        sys.executable, "-c", "import orchestration.definitions",
        env={"BAROMETER_DUCKDB_MEMORY_LIMIT": "banana"},
    )  # fmt: skip

    assert finished.returncode != 0
    assert finished.stderr.splitlines()[-1] == (
        "orchestration.variables.ConfigError: BAROMETER_DUCKDB_MEMORY_LIMIT must be a DuckDB "
        "memory size of at least 100MiB, like 2GB, 512MiB or 80%, not 'banana'"
    )


def test_check_config_lists_every_setting_source_and_verdict_and_hides_secrets():
    env = {
        "BAROMETER_MIN_CELL": "1",
        "BAROMETER_MAX_REJECT_SHARE": "2",
        "BAROMETER_PSEUDONYM_KEY": "kort",
        "ALERT_WEBHOOK_URL": "https://hooks.example/s3cret",
        "BAROMETER_DUCKDB_MEMORY_LIMIT": "4GB",
    }

    finished = run(f"{BIN}/barometer", "check-config", env=env)

    assert finished.returncode == 2
    lines = {line.split()[0]: line for line in finished.stdout.splitlines()}
    for variable in SETTINGS_VARIABLES + ALERT_VARIABLES:
        assert variable.name in lines
    assert lines["BAROMETER_DUCKDB_MEMORY_LIMIT"].split()[1:] == ["environment", "'4GB'", "ok"]
    assert lines["BAROMETER_MIN_CELL"].split()[1:3] == ["environment", "'1'"]
    assert "REFUSED: BAROMETER_MIN_CELL must be a whole number of at least 3" in finished.stdout
    assert "REFUSED: BAROMETER_MAX_REJECT_SHARE" in lines["BAROMETER_MAX_REJECT_SHARE"]
    assert "REFUSED" in lines["BAROMETER_PSEUDONYM_KEY"]
    assert lines["ALERT_WEBHOOK_URL"].split()[1:] == ["environment", "a", "hidden", "value", "ok"]
    assert lines["BAROMETER_WAREHOUSE_DIR"].split()[1:] == ["default", "'warehouse'", "ok"]
    assert "kort" not in finished.stdout and "s3cret" not in finished.stdout
    assert finished.stdout.endswith("settings, 3 refused.\n")


def test_check_config_says_whether_the_pseudonym_key_is_the_development_key():
    development = run(f"{BIN}/barometer", "check-config", env={})
    own = run(f"{BIN}/barometer", "check-config", env={"BAROMETER_PSEUDONYM_KEY": "x" * 40})

    assert development.returncode == own.returncode == 0
    assert "Pseudonym key: the development key" in development.stdout
    assert "Pseudonym key: a secret key of your own" in own.stdout
    assert "x" * 40 not in own.stdout
