"""Alert delivery against real servers on 127.0.0.1: an HTTP webhook receiver and an SMTP server."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import ipaddress
import json
import logging
import ssl
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from loopback import Mailbox, free_port

from orchestration.automation.alerts import (
    Alert,
    AlertConfig,
    EmailChannel,
    deliver,
    run_url,
)

RUN_URL = run_url("http://127.0.0.1:3000/", "5f1c2a9e-run")
SAMPLE = [
    {"municipality_code": "101", "indicator_code": "1.2", "year": 2024, "value": 584.0},
    {"municipality_code": "147", "indicator_code": "1.2", "year": 2024, "value": None},
]


@pytest.fixture
def alert() -> Alert:
    return Alert(
        kind="check_failure",
        severity="error",
        title="Nightly refresh failed: raw/barometer_indicator_values",
        summary="The raw gate failed, so nothing was published.\nYesterday's data is still served.",
        facts={
            "job": "nightly_refresh",
            "asset": "raw/barometer_indicator_values",
            "check": "ge_raw_barometer_indicator_values",
            "failed expectations": "values within range per unit",
        },
        sample=SAMPLE,
        run_url=RUN_URL,
    )


def _config(tmp_path: Path, **overrides) -> AlertConfig:
    return AlertConfig(alerts_path=tmp_path / "alerts.jsonl", backoff=0.01, timeout=2, **overrides)


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _parsed(content: bytes) -> email.message.EmailMessage:
    return email.message_from_bytes(content, policy=email.policy.default)


# -- webhooks ----------------------------------------------------------------------------------


def test_teams_webhook_receives_an_adaptive_card(tmp_path, webhook, alert, caplog):
    config = _config(tmp_path, webhook_url=webhook.url, webhook_format="teams")

    with caplog.at_level(logging.INFO):
        deliveries = deliver(alert, config)

    assert "HTTP Request: POST <webhook url>" in caplog.text  # httpx's own log line, redacted
    assert "s3cret" not in caplog.text

    assert [(d.channel, d.ok, d.attempts) for d in deliveries] == [
        ("webhook", True, 1),
        ("local", True, 1),
    ]
    (message,) = webhook.bodies
    assert message["type"] == "message"
    (attachment,) = message["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert (card["type"], card["version"]) == ("AdaptiveCard", "1.4")
    assert card["$schema"] == "http://adaptivecards.io/schemas/adaptive-card.json"
    title, summary, facts, *rest = card["body"]
    assert title["text"] == alert.title
    assert (title["weight"], title["color"]) == ("Bolder", "Attention")
    assert summary["wrap"] is True and "nothing was published" in summary["text"]
    assert facts["type"] == "FactSet"
    assert {f["title"]: f["value"] for f in facts["facts"]} == alert.facts
    (table,) = [element for element in rest if element["type"] == "ColumnSet"]
    columns = {
        column["items"][0]["text"]: [item["text"] for item in column["items"][1:]]
        for column in table["columns"]
    }
    assert columns["municipality_code"] == ["101", "147"]
    assert columns["value"] == ["584.0", "–"]
    assert card["actions"] == [
        {"type": "Action.OpenUrl", "title": "Open the run in Dagster", "url": RUN_URL}
    ]


def test_slack_webhook_receives_blocks(tmp_path, webhook, alert):
    config = _config(tmp_path, webhook_url=webhook.url, webhook_format="slack")

    assert deliver(alert, config)[0].ok

    (message,) = webhook.bodies
    assert alert.title in message["text"]
    blocks = message["blocks"]
    assert blocks[0] == {"type": "header", "text": {"type": "plain_text", "text": alert.title}}
    assert (
        blocks[1]["text"]["type"] == "mrkdwn"
        and "nothing was published" in blocks[1]["text"]["text"]
    )
    fields = [f["text"] for f in blocks[2]["fields"]]
    assert "*asset*\nraw/barometer_indicator_values" in fields
    table = blocks[3]["text"]["text"]
    assert "```" in table and "municipality_code" in table and "584.0" in table
    (button,) = next(b for b in blocks if b["type"] == "actions")["elements"]
    assert button["url"] == RUN_URL


def test_webhook_answering_500_twice_is_retried_and_delivered(tmp_path, webhook, alert, caplog):
    webhook.statuses += [500, 500]
    config = _config(tmp_path, webhook_url=webhook.url)

    with caplog.at_level(logging.WARNING, logger="orchestration.automation.alerts"):
        webhook_delivery, _ = deliver(alert, config)

    assert (webhook_delivery.ok, webhook_delivery.attempts) == (True, 3)
    assert len(webhook.bodies) == 3
    warnings = [r.getMessage() for r in caplog.records]
    assert len(warnings) == 2 and all("webhook" in w and "HTTP 500" in w for w in warnings)
    assert _lines(config.alerts_path)[0]["delivered"] == ["webhook"]


def test_webhook_rejecting_the_request_is_not_retried(tmp_path, webhook, alert):
    webhook.statuses.append(400)

    webhook_delivery, _ = deliver(alert, _config(tmp_path, webhook_url=webhook.url))

    assert (webhook_delivery.ok, webhook_delivery.attempts) == (False, 1)
    assert webhook_delivery.error.startswith("HTTP 400")


def test_down_webhook_fails_while_email_and_local_still_deliver(tmp_path, smtp, alert, caplog):
    controller, mailbox = smtp
    down_url = f"http://127.0.0.1:{free_port()}/hook/s3cret"
    config = _config(
        tmp_path,
        webhook_url=down_url,
        smtp_host="127.0.0.1",
        smtp_port=controller.port,
        smtp_from="barometer@kk.dk",
        smtp_to=("data-team@kk.dk",),
    )

    with caplog.at_level(logging.WARNING, logger="orchestration.automation.alerts"):
        deliveries = deliver(alert, config)

    by_channel = {d.channel: d for d in deliveries}
    assert (by_channel["webhook"].ok, by_channel["webhook"].attempts) == (False, 3)
    assert by_channel["email"].ok and by_channel["local"].ok
    assert len(mailbox.messages) == 1
    assert len(caplog.records) == 3
    assert "s3cret" not in caplog.text  # the webhook URL is a credential
    (line,) = _lines(config.alerts_path)
    assert line["delivered"] == ["email"]
    assert line["failed"]["webhook"].startswith("ConnectError: ")  # one reason, not a traceback


# -- e-mail ------------------------------------------------------------------------------------


def test_email_without_starttls(tmp_path, smtp, alert):
    controller, mailbox = smtp
    config = _config(
        tmp_path,
        smtp_host="127.0.0.1",
        smtp_port=controller.port,
        smtp_from="barometer@kk.dk",
        smtp_to=("data-team@kk.dk", "analyst@kk.dk"),
    )

    assert [d.channel for d in deliver(alert, config) if d.ok] == ["email", "local"]

    ((sender, recipients, content, tls),) = mailbox.messages
    assert (sender, recipients, tls) == (
        "barometer@kk.dk",
        ["data-team@kk.dk", "analyst@kk.dk"],
        None,
    )
    message = _parsed(content)
    assert message["Subject"] == f"[barometer] {alert.title}"
    assert message["To"] == "data-team@kk.dk, analyst@kk.dk"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    for body in (text, html):
        assert alert.title in body
        assert "raw/barometer_indicator_values" in body and "failed expectations" in body
        assert "municipality_code" in body and "584.0" in body
        assert RUN_URL in body


def _self_signed(tmp_path: Path) -> tuple[Path, Path]:
    pytest.importorskip(
        "cryptography", reason="cryptography is needed to make a self-signed certificate"
    )
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=1))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def test_email_with_starttls_and_login(tmp_path, alert, caplog):
    cert_path, key_path = _self_signed(tmp_path)
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(cert_path, key_path)
    logins = []

    def authenticator(server, session, envelope, mechanism, auth_data):
        from aiosmtpd.smtp import AuthResult

        logins.append((auth_data.login, auth_data.password))
        return AuthResult(success=auth_data.password == b"pa55word")

    mailbox = Mailbox()
    controller = Controller(
        mailbox,
        hostname="127.0.0.1",
        port=free_port(),
        tls_context=server_context,
        require_starttls=True,
        authenticator=authenticator,
        auth_require_tls=True,
    )
    controller.start()
    try:
        channel = EmailChannel(
            "127.0.0.1",
            controller.port,
            "barometer@kk.dk",
            ("data-team@kk.dk",),
            user="alerts",
            password="pa55word",
            starttls=True,
            timeout=5,
            ssl_context=ssl.create_default_context(cafile=str(cert_path)),
        )
        channel.send(alert)
    finally:
        controller.stop()

    assert logins == [(b"alerts", b"pa55word")]
    ((_, recipients, content, tls),) = mailbox.messages
    assert recipients == ["data-team@kk.dk"] and tls is not None  # sent inside TLS
    assert _parsed(content)["Subject"] == f"[barometer] {alert.title}"


# -- the local log -----------------------------------------------------------------------------


def test_local_line_is_json_with_the_alert_and_the_results(tmp_path, alert):
    config = _config(tmp_path)  # no remote channel configured: the local line is still written

    (local,) = deliver(alert, config)
    deliver(alert, config)

    assert (local.channel, local.ok) == ("local", True)
    first, second = _lines(config.alerts_path)
    assert first == second
    assert first["alert"] == alert.to_json()
    assert first["alert"]["sample"][0]["value"] == 584.0 and first["alert"]["run_url"] == RUN_URL
    assert (first["delivered"], first["failed"], first["deliveries"]) == ([], {}, [])


def test_local_failure_is_reported_not_raised_and_the_alert_goes_to_stderr(tmp_path, alert, capsys):
    (tmp_path / "not-a-dir").write_text("")
    config = AlertConfig(
        alerts_path=tmp_path / "not-a-dir" / "alerts.jsonl", attempts=2, backoff=0.01
    )

    (local,) = deliver(alert, config)

    # A file system error is not retried: waiting mends no full or read-only disk.
    assert (local.ok, local.attempts) == (False, 1) and "File exists" in local.error
    err = capsys.readouterr().err
    assert f"not written to {config.alerts_path}" in err
    assert alert.title in err and alert.summary in err


# -- the model and the configuration -----------------------------------------------------------


def test_alert_is_checked_and_its_sample_kept_small():
    with pytest.raises(ValueError, match="kind"):
        Alert(kind="oops", severity="error", title="t", summary="s")
    big = Alert(
        kind="data_change",
        severity="info",
        title="t",
        summary="s",
        sample=[{"i": i} for i in range(25)],
    )
    assert len(big.sample) == 10
    odd = Alert(
        kind="data_change",
        severity="info",
        title="t",
        summary="s",
        sample=[{"value": float("nan"), "year": dt.date(2024, 1, 1)}],
    )
    assert json.loads(json.dumps(odd.to_json(), allow_nan=False))["sample"] == [
        {"value": "nan", "year": "2024-01-01"}
    ]
    assert big.created_at.endswith("+00:00")
    assert run_url("http://ui:3000/", "abc") == "http://ui:3000/runs/abc"


def test_config_from_env(tmp_path):
    env = {
        "ALERT_WEBHOOK_URL": "https://example.invalid/hook/s3cret",
        "ALERT_WEBHOOK_FORMAT": "Slack",
        "ALERT_SMTP_HOST": "smtp.kk.dk",
        "ALERT_SMTP_USER": "alerts",
        "ALERT_SMTP_PASSWORD": "pa55word",
        "ALERT_SMTP_FROM": "barometer@kk.dk",
        "ALERT_SMTP_TO": "a@kk.dk, b@kk.dk",
        "DAGSTER_UI_URL": "http://dagster.kk.dk/",
        "ALERT_VALUE_CHANGE_POINTS": "2.5",
    }

    config = AlertConfig.from_env(env, tmp_path / "alerts.jsonl")

    assert config.webhook_format == "slack"
    assert (config.smtp_starttls, config.smtp_port) == (True, 587)  # login implies TLS
    assert config.smtp_to == ("a@kk.dk", "b@kk.dk")
    assert (config.ui_url, config.value_change_points) == ("http://dagster.kk.dk", 2.5)
    assert "s3cret" not in repr(config) and "pa55word" not in repr(config)

    defaults = AlertConfig.from_env({}, tmp_path / "alerts.jsonl")
    assert (defaults.webhook_url, defaults.smtp_host, defaults.webhook_format) == (
        None,
        None,
        "teams",
    )
    assert (defaults.smtp_port, defaults.smtp_starttls, defaults.ui_url) == (
        25,
        False,
        "http://127.0.0.1:3000",
    )
    with pytest.raises(ValueError, match="ALERT_WEBHOOK_FORMAT must be 'teams'.*'slack'"):
        AlertConfig.from_env({"ALERT_WEBHOOK_FORMAT": "discord"}, tmp_path)
    with pytest.raises(ValueError, match="ALERT_SMTP_STARTTLS must be true or false"):
        AlertConfig.from_env({"ALERT_SMTP_STARTTLS": "maybe"}, tmp_path)
    with pytest.raises(ValueError, match="webhook_format"):
        AlertConfig(alerts_path=tmp_path, webhook_format="teams-legacy")
    with pytest.raises(ValueError, match="ALERT_SMTP_TO must be the recipients when"):
        AlertConfig.from_env(
            {"ALERT_SMTP_HOST": "smtp.kk.dk", "ALERT_SMTP_FROM": "a@kk.dk"}, tmp_path
        )
