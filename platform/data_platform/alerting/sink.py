"""An alert, and the sinks that deliver it to the owning team (the ``alerts`` resource).

Sinks (``AlertSink`` resource): a JSON-lines log file always; a webhook (generic JSON or a
Slack incoming webhook) when configured; Slack through dagster-slack when a bot token is set,
posted to the owner's channel named in the stream's data contract (``support`` with
``tool: slack``), else to a default channel; an email to the owners' addresses when an SMTP
server is configured. Each sink is tried on its own: one that is down (an SMTP relay that
refuses, a webhook that times out) never stops the others or the other alerts of the tick; the
alert is retried on that sink at the next ticks (``deliver``), and each sink delivers each alert once.
"""

import dataclasses
import datetime as dt
import email.message
import json
import smtplib
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import dagster as dg

REMEMBERED_ALERTS = 2000
"""Per sink and alert: an alert delivered by the webhook and not yet by email is remembered for the webhook only."""
PENDING_LIMIT = 200
"""Alerts waiting for a sink that failed, retried each tick; the oldest are dropped (and logged) beyond this."""


@dataclasses.dataclass(frozen=True)
class Alert:
    kind: str
    """check_failed or run_failed"""
    title: str
    owners: tuple[str, ...]
    severity: str
    asset: str | None = None
    check: str | None = None
    partition: str | None = None
    run_id: str | None = None
    description: str | None = None
    metadata: dict[str, Any] = dataclasses.field(default_factory=dict)
    channels: tuple[str, ...] = ()
    """The owners' Slack channels (from the data contract); empty: the sink's default channel."""

    def as_dict(self) -> dict[str, Any]:
        return {"at": dt.datetime.now(dt.UTC).isoformat(), **dataclasses.asdict(self)}


class AlertSink(dg.ConfigurableResource):
    """Where alerts go: a JSON-lines file, plus a webhook (JSON body; Slack's ``text`` included)."""

    log_path: str
    webhook_url: str | None = None
    timeout_seconds: float = 10.0
    slack_token: str | None = None
    """A Slack bot token (from an EnvVar): alerts are posted with dagster-slack's client."""
    slack_default_channel: str | None = None
    slack_api_url: str | None = None
    """Slack's Web API unless set (a proxy, or a stand-in in tests)."""
    smtp_host: str | None = None
    """Email the owners' addresses through this SMTP server (none: no email)."""
    smtp_port: int = 587
    smtp_starttls: bool = True
    smtp_user: str | None = None
    smtp_password: str | None = None
    email_from: str = "data-platform-alerts@localhost"

    def channels(self) -> list[tuple[str, Callable[[Alert], None]]]:
        """The configured sinks, by name, each sending one alert (and raising when it cannot)."""
        channels: list[tuple[str, Callable[[Alert], None]]] = [("log", self._log)]
        if self.webhook_url:
            channels.append(("webhook", self._post_webhook))
        if self.slack_token:
            channels.append(("slack", self._post_to_slack))
        if self.smtp_host:
            channels.append(("email", self._email))
        return channels

    def send(self, alert: Alert) -> dict[str, str]:
        """Send ``alert`` to every sink; a sink that fails does not stop the others. Returns the failed sinks' errors."""
        return {name: error for name, error in ((n, _attempt(send, alert)) for n, send in self.channels()) if error}

    def _log(self, alert: Alert) -> None:
        path = Path(self.log_path)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a") as out:
            out.write(json.dumps(alert.as_dict(), default=str) + "\n")

    def _post_webhook(self, alert: Alert) -> None:
        body = {**alert.as_dict(), "text": _slack_text(alert)}
        request = urllib.request.Request(
            str(self.webhook_url), data=json.dumps(body, default=str).encode(), headers={"content-type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=self.timeout_seconds) as response:
            response.read()

    def _email(self, alert: Alert) -> None:
        recipients = [o for o in alert.owners if "@" in o]
        if not recipients:
            return
        message = email.message.EmailMessage()
        message["Subject"] = f"[{alert.severity}] {alert.title}" + (f" on {alert.asset}" if alert.asset else "")
        message["From"] = self.email_from
        message["To"] = ", ".join(recipients)
        message.set_content(_slack_text(alert) + "\n\n" + json.dumps(alert.as_dict(), default=str, indent=2))
        with smtplib.SMTP(self.smtp_host, self.smtp_port, timeout=self.timeout_seconds) as smtp:
            if self.smtp_starttls:
                smtp.starttls()
            if self.smtp_user:
                smtp.login(self.smtp_user, self.smtp_password or "")
            smtp.send_message(message)

    def _post_to_slack(self, alert: Alert) -> None:
        from dagster_slack import SlackResource  # at send time: loading definitions does not need Slack's SDK

        client = SlackResource(token=self.slack_token).get_client()
        client.timeout = int(self.timeout_seconds)
        if self.slack_api_url:
            client.base_url = self.slack_api_url.rstrip("/") + "/"
        channels = alert.channels or ((self.slack_default_channel,) if self.slack_default_channel else ())
        for channel in channels:
            client.chat_postMessage(channel=channel, text=_slack_text(alert))


def _attempt(send: Callable[[Alert], None], alert: Alert) -> str | None:
    try:
        send(alert)
    except Exception as error:  # any sink failure: reported, never raised into the tick
        return f"{type(error).__name__}: {error}"[:500]
    return None


def deliver(sink: AlertSink, alert: Alert, identity: str, sent, failing: dict[str, dict], down: set[str] | None = None) -> list[str]:
    """Send ``alert`` to each sink that has not delivered it yet; return the sinks still owing it.

    ``sent`` remembers ``sink|identity`` pairs (a list, or the instance's ``DeliveredLedger``
    shared by every deliverer), so each sink delivers each alert once;
    ``failing`` (sink -> failures, last error, since when) is what the heartbeat shows; ``down``:
    sinks not to try again now (one that failed once in a tick waits for the next tick, so a sink
    that hangs costs one timeout per tick, not one per alert)."""
    owing = []
    down = set() if down is None else down
    for name, send in sink.channels():
        key = f"{name}|{identity}"
        if key in sent:
            continue
        if name in down:
            owing.append(name)
            continue
        error = _attempt(send, alert)
        if error is None:
            sent.remember(key) if hasattr(sent, "remember") else remember(sent, key)
            failing.pop(name, None)
        else:
            owing.append(name)
            down.add(name)
            entry = failing.setdefault(name, {"failures": 0, "since": dt.datetime.now(dt.UTC).isoformat()})
            entry["failures"] += 1
            entry["last_error"] = error
    return owing


def _slack_text(alert: Alert) -> str:
    where = f"{alert.asset}" + (f" [{alert.partition}]" if alert.partition else "")
    return f":rotating_light: {alert.severity} {alert.title} on {where} (owners: {', '.join(alert.owners) or 'unowned'}): {alert.description or ''}"


def remember(sent: list[str], identity: str, limit: int = REMEMBERED_ALERTS) -> bool:
    """Record ``identity`` as alerted; False if it already was. Keeps the newest ``limit``."""
    if identity in sent:
        return False
    sent.append(identity)
    del sent[:-limit]
    return True
