"""Alerts end to end: a failed night and a changed indicator reach a webhook, an inbox and
alerts.jsonl, through `barometer refresh` (no daemon) and through the sensors (daemon)."""

import json

import dagster as dg
import pytest
from conftest import use_folders

from orchestration.automation.alerting import (
    alert_on_data_changes,
    alert_on_failed_checks,
    alert_on_run_failure,
)
from orchestration.cli import main
from orchestration.definitions import build_definitions

NONWESTERN = "Indvandrere og efterkommere med ikke-vestlig oprindelse"
EMPLOYMENT = "barometer_1_arbejde.csv"
COPENHAGEN_2024 = f"1.2;Beskæftigelsesfrekvens;101;København;2024;{NONWESTERN};"


def as_fractions(settings) -> None:
    """Indicator 1.2 delivered as fractions (58,4 -> 0,584): the raw gate must stop it."""
    path = settings.source_dir / EMPLOYMENT
    lines = path.read_text(encoding="utf-8").splitlines()
    for n, line in enumerate(lines[1:], start=1):
        cells = line.split(";")
        if cells[1] == "1.2" and cells[7] != "..":
            cells[7] = f"{float(cells[7].replace(',', '.')) / 100:.3f}".replace(".", ",")
            lines[n] = ";".join(cells)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def copenhagen_reaches_the_target(settings) -> None:
    """Copenhagen's 2024 employment rate jumps from 62,5 to 67,5: met, and +5.5 on 2023."""
    path = settings.source_dir / EMPLOYMENT
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace(COPENHAGEN_2024 + "62,5;", COPENHAGEN_2024 + "67,5;"), "utf-8")


@pytest.fixture
def channels(monkeypatch, webhook, smtp):
    """Point the alert channels at the loopback webhook and SMTP servers."""
    controller, mailbox = smtp
    monkeypatch.setenv("ALERT_WEBHOOK_URL", webhook.url)
    monkeypatch.setenv("ALERT_WEBHOOK_FORMAT", "slack")
    monkeypatch.setenv("ALERT_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("ALERT_SMTP_PORT", str(controller.port))
    monkeypatch.setenv("ALERT_SMTP_FROM", "barometer@kk.dk")
    monkeypatch.setenv("ALERT_SMTP_TO", "integrationsdata@kk.dk")
    monkeypatch.setenv("DAGSTER_UI_URL", "http://dagster.example:3000")
    return webhook, mailbox


def settings_with_channels(published_copy, monkeypatch):
    """The copy's folders again, now that the channel variables are set."""
    return use_folders(monkeypatch, published_copy.warehouse_dir, published_copy.source_dir)


def local_alerts(settings) -> list[dict]:
    path = settings.warehouse_dir / "alerts.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_failed_night_reaches_webhook_inbox_and_alerts_file(published_copy, monkeypatch, channels):
    webhook, mailbox = channels
    settings = settings_with_channels(published_copy, monkeypatch)
    as_fractions(settings)

    assert main(["refresh"]) == 1

    (payload,) = webhook.bodies
    text = json.dumps(payload, ensure_ascii=False)
    assert (
        "Nightly refresh failed: check great_expectations on raw/barometer_indicator_values" in text
    )
    assert "expect_column_values_to_be_between on value" in text
    assert "http://dagster.example:3000/runs/" in text
    assert "101                nonwestern" in text and "0.625" in text  # failing rows, sampled
    ((sender, recipients, content, _),) = mailbox.messages
    assert (sender, recipients) == ("barometer@kk.dk", ["integrationsdata@kk.dk"])
    assert b"Nightly refresh failed" in content
    (line,) = local_alerts(settings)
    assert line["alert"]["kind"] == "run_failure"
    assert line["delivered"] == ["webhook", "email"] and line["failed"] == {}


def test_changed_indicator_reaches_webhook_inbox_and_alerts_file(
    published_copy, monkeypatch, channels
):
    webhook, mailbox = channels
    settings = settings_with_channels(published_copy, monkeypatch)
    copenhagen_reaches_the_target(settings)

    assert main(["refresh"]) == 0

    (payload,) = webhook.bodies
    text = json.dumps(payload, ensure_ascii=False)
    assert "Copenhagen: 2 indicator change(s)" in text
    assert "1.2 Employment rate 2024: status missed → met" in text
    assert "1.2 Employment rate 2024: 62.0 → 67.5 (+5.5 on the year before)" in text
    assert len(mailbox.messages) == 1
    (line,) = local_alerts(settings)
    assert line["alert"]["kind"] == "data_change"
    assert {(c["change"], c["indicator_code"], c["year"]) for c in line["alert"]["sample"]} == {
        ("status", "1.2", 2024),
        ("value", "1.2", 2024),
    }


def test_sensors_alert_on_a_failed_run_its_checks_and_data_changes(
    published_copy, monkeypatch, channels
):
    webhook, _ = channels
    settings = settings_with_channels(published_copy, monkeypatch)
    with dg.instance_for_test() as instance:
        # A good night first, then the bad one: the daemon's view of two real runs.
        copenhagen_reaches_the_target(settings)
        good = refresh_in(instance, settings)
        as_fractions(settings)
        bad = refresh_in(instance, settings)
        assert good.success and not bad.success

        failure = dg.build_run_status_sensor_context(
            sensor_name="alert_on_run_failure",
            dagster_instance=instance,
            dagster_run=bad.dagster_run,
            dagster_event=run_event(instance, bad, dg.DagsterEventType.RUN_FAILURE),
            resources={"settings": settings},
        ).for_run_failure()
        alert_on_run_failure(failure)
        success = dg.build_run_status_sensor_context(
            sensor_name="alert_on_data_changes",
            dagster_instance=instance,
            dagster_run=good.dagster_run,
            dagster_event=run_event(instance, good, dg.DagsterEventType.RUN_SUCCESS),
            resources={"settings": settings},
        )
        alert_on_data_changes(success)
        checks = dg.build_sensor_context(
            instance=instance,
            resources={"settings": settings},
            repository_def=build_definitions(settings).get_repository_def(),
        )
        alert_on_failed_checks(checks)

    titles = [body["text"] for body in webhook.bodies]
    assert any("Nightly refresh failed" in t for t in titles)
    assert any("Copenhagen: 2 indicator change(s)" in t for t in titles)
    assert any(
        "Check failed: great_expectations on raw/barometer_indicator_values" in t for t in titles
    )
    kinds = sorted(line["alert"]["kind"] for line in local_alerts(settings))
    assert kinds == ["check_failure", "data_change", "run_failure"]


def run_event(instance, result, event_type):
    (entry,) = instance.all_logs(result.run_id, of_type=event_type)
    return entry.dagster_event


def refresh_in(instance, settings):
    from orchestration.automation.run import run_nightly_refresh

    return run_nightly_refresh(settings, instance)
