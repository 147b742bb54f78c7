"""Alert delivery: a Teams or Slack incoming webhook, e-mail over SMTP, and a local JSON-lines log.

Plain Python (no Dagster import), so the sensors, the CLI and tests share one delivery path. Not
dagster-slack or dagster-msteams: dagster-slack posts through the Slack Web API with a bot token,
not an incoming webhook; dagster-msteams (0.29.27) drags in ``requests`` and Dagster, has no
retries, and builds either a legacy hero card or an Adaptive Card of one text block, with no
facts, sample table or run button.

Every channel is retried with exponential backoff; one that still fails is recorded, never
raised, so a broken webhook cannot hide the e-mail, and the local line is always written last.
"""

from __future__ import annotations

import json
import logging
import math
import smtplib
import ssl
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import httpx

from orchestration.automation.alert_messages import (
    clip,
    email_message,
    slack_payload,
    teams_payload,
)
from orchestration.variables import ALERT_VARIABLES, alert_rules, values_or_raise

log = logging.getLogger("orchestration.automation.alerts")

KINDS = ("run_failure", "check_failure", "data_change")
SEVERITIES = ("error", "warning", "info")
WEBHOOK_FORMATS = ("teams", "slack")
MAX_SAMPLE_ROWS = 10
DEFAULT_UI_URL = "http://127.0.0.1:3000"


def _utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _jsonable(value: Any) -> Any:
    """Sample cells may be dates, decimals or NaN from DuckDB: strict JSON has none of them."""
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    return value if value is None or isinstance(value, str | int | bool) else str(value)


@dataclass(frozen=True)
class Alert:
    kind: str
    severity: str
    title: str
    summary: str
    facts: dict[str, str] = field(default_factory=dict)
    sample: list[dict] = field(default_factory=list)
    run_url: str | None = None
    created_at: str = field(default_factory=_utc_now)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"alert kind must be one of {', '.join(KINDS)}, not {self.kind!r}")
        if self.severity not in SEVERITIES:
            raise ValueError(
                f"alert severity must be one of {', '.join(SEVERITIES)}, not {self.severity!r}"
            )
        # A chat message is no place for a long table: the run in the UI has the rest.
        object.__setattr__(self, "sample", list(self.sample[:MAX_SAMPLE_ROWS]))

    def to_json(self) -> dict:
        return {
            "kind": self.kind,
            "severity": self.severity,
            "title": self.title,
            "summary": self.summary,
            "facts": {str(k): str(v) for k, v in self.facts.items()},
            "sample": [{str(k): _jsonable(v) for k, v in row.items()} for row in self.sample],
            "run_url": self.run_url,
            "created_at": self.created_at,
        }


def run_url(ui_url: str, run_id: str) -> str:
    return f"{ui_url.rstrip('/')}/runs/{run_id}"


# -- configuration ---------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class AlertConfig:
    alerts_path: Path
    webhook_url: str | None = field(default=None, repr=False)  # the URL is the secret
    webhook_format: str = "teams"
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_user: str | None = None
    smtp_password: str | None = field(default=None, repr=False)
    smtp_starttls: bool = False
    smtp_from: str | None = None
    smtp_to: tuple[str, ...] = ()
    ui_url: str = DEFAULT_UI_URL
    value_change_points: float = 5.0
    attempts: int = 3
    backoff: float = 1.0  # seconds before the 2nd attempt, doubled before each later one
    # Seconds per HTTP request or SMTP conversation: two channels hanging through every attempt
    # must still fit in a Dagster sensor evaluation (60 s).
    timeout: float = 5.0

    def __post_init__(self) -> None:
        if self.webhook_format not in WEBHOOK_FORMATS:  # fail at start-up, not at the first alert
            raise ValueError(f"webhook_format must be teams or slack, not {self.webhook_format!r}")

    @classmethod
    def from_env(cls, env: Mapping[str, str], alerts_path: Path) -> AlertConfig:
        """Read the ALERT_* variables from ``env`` (settings.py passes ``os.environ``).

        Each is checked by its rule in ``variables.py``; a bad one raises ``ConfigError``.
        """
        v = values_or_raise(env, ALERT_VARIABLES, alert_rules)
        # Logging in over a plain connection would send the password in clear: TLS by default.
        starttls = v["ALERT_SMTP_STARTTLS"]
        starttls = bool(v["ALERT_SMTP_USER"]) if starttls is None else starttls
        return cls(
            alerts_path=alerts_path,
            webhook_url=v["ALERT_WEBHOOK_URL"],
            webhook_format=v["ALERT_WEBHOOK_FORMAT"],
            smtp_host=v["ALERT_SMTP_HOST"],
            smtp_port=v["ALERT_SMTP_PORT"] or (587 if starttls else 25),
            smtp_user=v["ALERT_SMTP_USER"],
            smtp_password=v["ALERT_SMTP_PASSWORD"],
            smtp_starttls=starttls,
            smtp_from=v["ALERT_SMTP_FROM"],
            smtp_to=v["ALERT_SMTP_TO"] or (),
            ui_url=v["DAGSTER_UI_URL"].rstrip("/"),
            value_change_points=v["ALERT_VALUE_CHANGE_POINTS"],
        )


# -- channels --------------------------------------------------------------------------------


class DeliveryError(Exception):
    """A failure worth another attempt, with a reason already fit for the log."""


class PermanentError(DeliveryError):
    """A failure that another attempt will not fix (a 4xx answer, a rejected login)."""


class _Redact(logging.Filter):
    """httpx logs every request's full URL at INFO, and a webhook URL is a credential."""

    def __init__(self, url: str):
        super().__init__()
        self.urls = {url, str(httpx.URL(url))}

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if any(url in message for url in self.urls):
            for url in self.urls:
                message = message.replace(url, "<webhook url>")
            record.msg, record.args = message, ()
        return True


class Channel(Protocol):
    name: str

    def send(self, alert: Alert) -> None: ...


class WebhookChannel:
    name = "webhook"

    def __init__(self, url: str, webhook_format: str = "teams", timeout: float = 5.0):
        if webhook_format not in WEBHOOK_FORMATS:
            raise ValueError(f"webhook format must be teams or slack, not {webhook_format!r}")
        self.url, self.format, self.timeout = url, webhook_format, timeout

    def payload(self, alert: Alert) -> dict:
        return teams_payload(alert) if self.format == "teams" else slack_payload(alert)

    def send(self, alert: Alert) -> None:
        redact = _Redact(self.url)
        httpx_log = logging.getLogger("httpx")
        httpx_log.addFilter(redact)
        try:
            response = httpx.post(self.url, json=self.payload(alert), timeout=self.timeout)
        except httpx.HTTPError as exc:
            reason = str(exc) or "no details"
            for url in redact.urls:  # httpx messages can quote the URL too
                reason = reason.replace(url, "<webhook url>")
            raise DeliveryError(f"{type(exc).__name__}: {reason}") from None
        finally:
            httpx_log.removeFilter(redact)
        if response.is_success:  # Slack answers 200 "ok", Teams Workflows 202
            return
        reason = f"HTTP {response.status_code}: {clip(response.text.strip(), 200)}"
        if response.status_code == 429 or response.status_code >= 500:
            raise DeliveryError(reason)
        raise PermanentError(reason)


class EmailChannel:
    name = "email"

    def __init__(
        self,
        host: str,
        port: int,
        sender: str,
        recipients: tuple[str, ...],
        user: str | None = None,
        password: str | None = None,
        starttls: bool = False,
        timeout: float = 5.0,
        ssl_context: ssl.SSLContext | None = None,
    ):
        self.host, self.port, self.sender, self.recipients = host, port, sender, recipients
        self.user, self._password, self.starttls = user, password, starttls
        self.timeout, self.ssl_context = timeout, ssl_context

    def send(self, alert: Alert) -> None:
        message = email_message(alert, self.sender, self.recipients)
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                if self.starttls:
                    smtp.starttls(context=self.ssl_context or ssl.create_default_context())
                if self.user:
                    smtp.login(self.user, self._password or "")
                smtp.send_message(message, to_addrs=list(self.recipients))
        except (
            smtplib.SMTPAuthenticationError,
            smtplib.SMTPSenderRefused,
            smtplib.SMTPRecipientsRefused,
        ) as exc:
            raise PermanentError(f"{type(exc).__name__}: {exc}") from None


def configured_channels(config: AlertConfig) -> list[Channel]:
    channels: list[Channel] = []
    if config.webhook_url:
        channels.append(WebhookChannel(config.webhook_url, config.webhook_format, config.timeout))
    if config.smtp_host and config.smtp_from and config.smtp_to:
        channels.append(
            EmailChannel(
                config.smtp_host,
                config.smtp_port,
                config.smtp_from,
                config.smtp_to,
                user=config.smtp_user,
                password=config.smtp_password,
                starttls=config.smtp_starttls,
                timeout=config.timeout,
            )
        )
    return channels


# -- delivery --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Delivery:
    channel: str
    ok: bool
    attempts: int
    error: str | None = None


def _attempt(
    channel: str, send: Callable[[], None], attempts: int, backoff: float, secrets: list[str]
) -> Delivery:
    """Call ``send`` up to ``attempts`` times, waiting backoff, 2*backoff, ... in between."""
    error = "not attempted"
    for attempt in range(1, max(1, attempts) + 1):
        try:
            send()
            if attempt > 1:
                log.info("alert delivered via %s on attempt %d", channel, attempt)
            return Delivery(channel, True, attempt)
        except Exception as exc:  # a broken channel, whatever the cause, must not stop the others
            if isinstance(exc, DeliveryError):
                error = str(exc)
            else:
                error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            for secret in secrets:
                error = error.replace(secret, "***")
            final = isinstance(exc, PermanentError) or attempt >= attempts
            log.warning(
                "alert via %s failed (attempt %d of %d%s): %s",
                channel,
                attempt,
                attempts,
                ", giving up" if final else "",
                error,
            )
            if final:
                return Delivery(channel, False, attempt, error)
            time.sleep(backoff * 2 ** (attempt - 1))
    return Delivery(channel, False, max(1, attempts), error)


def write_local(path: Path, alert: Alert, deliveries: list[Delivery]) -> None:
    """Append one JSON line: the alert, and where it went. Delivered/failed name remote channels."""
    record = {
        "alert": alert.to_json(),
        "delivered": [d.channel for d in deliveries if d.ok],
        "failed": {d.channel: d.error for d in deliveries if not d.ok},
        "deliveries": [asdict(d) for d in deliveries],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as file:
        file.write(json.dumps(record, ensure_ascii=False) + "\n")  # one write: one whole line


def deliver(alert: Alert, config: AlertConfig) -> list[Delivery]:
    """Send through every configured channel, then log locally. Never raises."""
    secrets = [s for s in (config.webhook_url, config.smtp_password) if s]
    deliveries = [
        _attempt(ch.name, lambda ch=ch: ch.send(alert), config.attempts, config.backoff, secrets)
        for ch in configured_channels(config)
    ]
    local = _attempt(
        "local",
        lambda: _write_local_or_give_up(config.alerts_path, alert, deliveries),
        config.attempts,
        config.backoff,
        secrets,
    )
    if not local.ok:
        # alerts.jsonl may sit on the very disk that filled up: the alert must not be lost
        # with it, so it goes to standard error, where cron's mail or the daemon's log has it.
        print(
            f"barometer alert ({alert.severity}, not written to {config.alerts_path}: "
            f"{local.error}): {alert.title}\n{alert.summary}",
            file=sys.stderr,
            flush=True,
        )
    return [*deliveries, local]


def _write_local_or_give_up(path: Path, alert: Alert, deliveries: list[Delivery]) -> None:
    try:
        write_local(path, alert, deliveries)
    except OSError as error:  # a full or read-only disk is not fixed by waiting
        raise PermanentError(f"{path}: {error.strerror or error}") from None
