"""What an alert looks like in each channel: a Slack or Teams webhook body, an e-mail.

Pure rendering of an ``Alert``, no delivery and no Dagster; ``alerts.py`` sends what this builds.
"""

from __future__ import annotations

import html
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from orchestration.automation.alerts import Alert


def _columns(sample: list[dict]) -> list[str]:
    return list(dict.fromkeys(key for row in sample for key in row))


def _cell(value: Any) -> str:
    return "" if value is None else str(value)


def sample_table(sample: list[dict]) -> str:
    """A fixed-width text table: readable in a code block, an e-mail and a terminal alike."""
    if not sample:
        return ""
    columns = _columns(sample)
    rows = [[_cell(row.get(c)) for c in columns] for row in sample]
    widths = [max(len(c), *(len(r[i]) for r in rows)) for i, c in enumerate(columns)]

    def line(cells: list[str]) -> str:
        return "  ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True))

    rule = "  ".join("-" * width for width in widths)
    return "\n".join([line(columns), rule, *(line(r) for r in rows)]).rstrip()


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _slack_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


_SLACK_ICON = {"error": ":red_circle:", "warning": ":warning:", "info": ":information_source:"}
_TEAMS_COLOR = {"error": "Attention", "warning": "Warning", "info": "Default"}


def slack_payload(alert: Alert) -> dict:
    """Block Kit for a Slack incoming webhook, within Slack's limits (header 150, text 3000)."""
    blocks: list[dict] = [
        {"type": "header", "text": {"type": "plain_text", "text": clip(alert.title, 150)}},
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": clip(_slack_escape(alert.summary), 3000)},
        },
    ]
    fields = [
        {"type": "mrkdwn", "text": clip(f"*{_slack_escape(k)}*\n{_slack_escape(v)}", 2000)}
        for k, v in alert.to_json()["facts"].items()
    ]
    for start in range(0, len(fields), 10):  # at most 10 fields per section
        blocks.append({"type": "section", "fields": fields[start : start + 10]})
    if alert.sample:
        table = clip(_slack_escape(sample_table(alert.sample)), 2900)
        blocks.append(
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": f"*Sample* ({len(alert.sample)} rows)\n```{table}```",
                },
            }
        )
    if alert.run_url:
        blocks.append(
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "text": {"type": "plain_text", "text": "Open the run in Dagster"},
                        "url": alert.run_url,
                    }
                ],
            }
        )
    blocks.append(
        {
            "type": "context",
            "elements": [
                {
                    "type": "mrkdwn",
                    "text": f"{alert.severity} · {alert.kind} · {alert.created_at}",
                }
            ],
        }
    )
    # "text" is what notifications and screen readers show.
    return {"text": f"{_SLACK_ICON[alert.severity]} {alert.title}", "blocks": blocks}


def _teams_sample(sample: list[dict]) -> list[dict]:
    """Adaptive Card 1.4 has no Table element: one column per field, one line per row."""
    columns = _columns(sample)
    return [
        {
            "type": "TextBlock",
            "text": f"Sample ({len(sample)} rows)",
            "weight": "Bolder",
            "spacing": "Medium",
        },
        {
            "type": "ColumnSet",
            "columns": [
                {
                    "type": "Column",
                    "width": "auto",
                    "items": [
                        {"type": "TextBlock", "text": column, "weight": "Bolder", "size": "Small"},
                        *(
                            {
                                "type": "TextBlock",
                                "text": _cell(row.get(column)) or "–",
                                "size": "Small",
                                "spacing": "None",
                            }
                            for row in sample
                        ),
                    ],
                }
                for column in columns
            ],
        },
    ]


def teams_payload(alert: Alert) -> dict:
    """A message with an Adaptive Card, as Teams incoming webhooks and Workflows accept."""
    data = alert.to_json()
    body: list[dict] = [
        {
            "type": "TextBlock",
            "text": alert.title,
            "weight": "Bolder",
            "size": "Medium",
            "color": _TEAMS_COLOR[alert.severity],
            "wrap": True,
        },
        # Teams' markdown joins single line breaks: make each summary line its own paragraph.
        {"type": "TextBlock", "text": alert.summary.replace("\n", "\n\n"), "wrap": True},
    ]
    if data["facts"]:
        body.append(
            {
                "type": "FactSet",
                "facts": [{"title": k, "value": v} for k, v in data["facts"].items()],
            }
        )
    if alert.sample:
        body += _teams_sample(data["sample"])
    body.append(
        {
            "type": "TextBlock",
            "text": f"{alert.severity} · {alert.kind} · {alert.created_at}",
            "size": "Small",
            "isSubtle": True,
            "wrap": True,
        }
    )
    card: dict[str, Any] = {
        "type": "AdaptiveCard",
        "version": "1.4",
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "body": body,
        "msteams": {"width": "Full"},  # room for the sample table
    }
    if alert.run_url:
        card["actions"] = [
            {"type": "Action.OpenUrl", "title": "Open the run in Dagster", "url": alert.run_url}
        ]
    return {
        "type": "message",
        "attachments": [
            {"contentType": "application/vnd.microsoft.card.adaptive", "content": card}
        ],
    }


def email_message(alert: Alert, sender: str, recipients: tuple[str, ...]) -> EmailMessage:
    data = alert.to_json()
    table = sample_table(data["sample"])
    text = [alert.title, "", alert.summary, ""]
    text += [f"{k}: {v}" for k, v in data["facts"].items()]
    if table:
        text += ["", f"Sample ({len(alert.sample)} rows):", table]
    if alert.run_url:
        text += ["", f"Open the run in Dagster: {alert.run_url}"]
    text += ["", "--", f"{alert.severity} · {alert.kind} · {alert.created_at}"]

    esc = html.escape
    parts = [f"<h2>{esc(alert.title)}</h2>", f"<p>{esc(alert.summary)}</p>".replace("\n", "<br>")]
    if data["facts"]:
        rows = "".join(
            f"<tr><th align='left'>{esc(k)}</th><td>{esc(v)}</td></tr>"
            for k, v in data["facts"].items()
        )
        parts.append(f"<table>{rows}</table>")
    if data["sample"]:
        columns = _columns(data["sample"])
        head = "".join(f"<th>{esc(c)}</th>" for c in columns)
        rows = "".join(
            "<tr>" + "".join(f"<td>{esc(_cell(r.get(c)))}</td>" for c in columns) + "</tr>"
            for r in data["sample"]
        )
        parts.append(
            f"<p><b>Sample ({len(data['sample'])} rows)</b></p>"
            f"<table border='1' cellpadding='4' cellspacing='0'><tr>{head}</tr>{rows}</table>"
        )
    if alert.run_url:
        parts.append(f"<p><a href='{esc(alert.run_url)}'>Open the run in Dagster</a></p>")
    parts.append(
        f"<p><small>{esc(f'{alert.severity} · {alert.kind} · {alert.created_at}')}</small></p>"
    )

    message = EmailMessage()
    # A header may not contain line breaks: a multi-line title would break the message.
    message["Subject"] = "[barometer] " + " ".join(alert.title.split())
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = make_msgid(domain="barometer.local")
    message.set_content("\n".join(text) + "\n")
    message.add_alternative("<html><body>" + "\n".join(parts) + "</body></html>", subtype="html")
    return message
