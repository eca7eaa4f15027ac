"""Alerts to the owning team: failed asset checks and failed runs.

Open-source Dagster has no alert on a failed check, and a failed check does not fail its run
(so run-failure notifications never fire for it). ``check_failure_alert_sensor`` reads new
failed check executions each tick and sends one alert per failure: the cursor remembers the
last execution seen, and an alert's identity (check, partition, root run) is remembered so a
retried step or a re-executed run does not alert again.

Sinks (``AlertSink`` resource): a JSON-lines log file always; a webhook (generic JSON or a
Slack incoming webhook) when configured; Slack through dagster-slack when a bot token is set,
posted to the owner's channel named in the stream's data contract (``support`` with
``tool: slack``), else to a default channel; an email to the owners' addresses when an SMTP
server is configured. Each sink is tried on its own: one that is down (an SMTP relay that
refuses, a webhook that times out) never stops the others or the other alerts of the tick; the
alert is retried on that sink at the next ticks, and each sink delivers each alert once. The
sensor records a heartbeat asset every few minutes, with the sinks that are failing; its
freshness policy turns it stale when the sensor stops, so silence is visible.
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
from dagster_slack import SlackResource

from data_platform.automation.partitions import partition_label
from data_platform.governance.contracts import SLACK_CHANNEL_METADATA
from data_platform.quality.check_records import failed_checks_since, latest_record_id

HEARTBEAT_KEY = dg.AssetKey(["platform", "alerting_heartbeat"])
HEARTBEAT_EVERY = dt.timedelta(minutes=5)
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
    email_from: str = "data-platform-alerts@marketplace.example"

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


def deliver(sink: AlertSink, alert: Alert, identity: str, sent: list[str], failing: dict[str, dict]) -> list[str]:
    """Send ``alert`` to each sink that has not delivered it yet; return the sinks still owing it.

    ``sent`` remembers ``sink|identity`` pairs, so each sink delivers each alert once;
    ``failing`` (sink -> failures, last error, since when) is what the heartbeat shows."""
    owing = []
    for name, send in sink.channels():
        key = f"{name}|{identity}"
        if key in sent:
            continue
        error = _attempt(send, alert)
        if error is None:
            remember(sent, key)
            failing.pop(name, None)
        else:
            owing.append(name)
            entry = failing.setdefault(name, {"failures": 0, "since": dt.datetime.now(dt.UTC).isoformat()})
            entry["failures"] += 1
            entry["last_error"] = error
    return owing


def _slack_text(alert: Alert) -> str:
    where = f"{alert.asset}" + (f" [{alert.partition}]" if alert.partition else "")
    return f":rotating_light: {alert.severity} {alert.title} on {where} (owners: {', '.join(alert.owners) or 'unowned'}): {alert.description or ''}"


def _slack_channels(node: Any) -> tuple[str, ...]:
    channel = node.metadata.get(SLACK_CHANNEL_METADATA) if node is not None else None
    return (str(getattr(channel, "value", channel)),) if channel else ()


def _metadata(evaluation: dg.AssetCheckEvaluation) -> dict[str, Any]:
    return {k: getattr(v, "value", v) for k, v in evaluation.metadata.items()}


def alert_identity(asset: str, check: str, partition: str | None, root_run_id: str) -> str:
    """What makes two failures the same alert: the check, the partition, and the run they
    descend from (a retried step or a re-executed run shares its root run)."""
    return f"{asset}:{check}|{partition}|{root_run_id}"


def remember(sent: list[str], identity: str, limit: int = REMEMBERED_ALERTS) -> bool:
    """Record ``identity`` as alerted; False if it already was. Keeps the newest ``limit``."""
    if identity in sent:
        return False
    sent.append(identity)
    del sent[:-limit]
    return True


def check_failure_alert_sensor() -> dg.SensorDefinition:
    @dg.sensor(
        name="check_failure_alert_sensor",
        minimum_interval_seconds=30,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="One alert per failed asset check to the owning team (log file, webhook/Slack); heartbeat every 5 minutes.",
    )
    def _sensor(context: dg.SensorEvaluationContext, alerts: AlertSink):
        graph = context.repository_def.asset_graph
        check_keys = list(graph.asset_check_keys)
        cursor = json.loads(context.cursor) if context.cursor else None
        if cursor is None:  # first tick: start from now, do not replay history
            cursor = {"after": latest_record_id(context.instance, check_keys), "sent": [], "heartbeat": None}
        sent = list(cursor["sent"])
        failing: dict[str, dict] = json.loads(json.dumps(cursor.get("failing") or {}))
        failing_before = json.loads(json.dumps(failing))
        pending: list[dict] = []
        # alerts a sink failed to deliver at an earlier tick: that sink (and only it) tries again
        for waiting in cursor.get("pending") or []:
            if deliver(alerts, Alert(**waiting["alert"]), waiting["identity"], sent, failing):
                pending.append(waiting)
        for failure in failed_checks_since(context.instance, check_keys, cursor["after"]):
            evaluation = failure.evaluation
            run = context.instance.get_run_by_id(failure.run_id)
            root = (run.tags.get("dagster/root_run_id") if run else None) or failure.run_id
            node = graph.get(evaluation.asset_key) if graph.has(evaluation.asset_key) else None
            partitioned = node is not None and node.partitions_def is not None
            # a run's partitions describe a check only on a partitioned asset
            partition = evaluation.partition or (partition_label(run.tags) if run and partitioned else None)
            identity = alert_identity(evaluation.asset_key.to_user_string(), evaluation.check_name, partition, root)
            cursor["after"] = failure.record_id
            alert = Alert(
                kind="check_failed",
                title=f"check {evaluation.check_name} failed",
                owners=tuple(node.owners) if node else (),
                severity=evaluation.severity.value,
                asset=evaluation.asset_key.to_user_string(),
                check=evaluation.check_name,
                partition=partition,
                run_id=failure.run_id,
                description=evaluation.description,
                metadata=_metadata(evaluation),
                channels=_slack_channels(node),
            )
            owing = deliver(alerts, alert, identity, sent, failing)
            if owing:
                pending.append({"identity": identity, "alert": json.loads(json.dumps(dataclasses.asdict(alert), default=str))})
            context.log.info(f"alert {identity}: " + (f"not yet delivered by {owing}" if owing else "delivered"))
        for name, state in sorted(failing.items()):
            context.log.error(
                f"alert sink {name} is failing ({state['failures']} attempt(s) since {state['since']}): {state['last_error']}"
            )
        if len(pending) > PENDING_LIMIT:
            context.log.error(f"{len(pending) - PENDING_LIMIT} alert(s) dropped after waiting too long for a failing sink")
            pending = pending[-PENDING_LIMIT:]
        cursor.update(sent=sent, failing=failing, pending=pending)
        events = []
        now = dt.datetime.now(dt.UTC)
        if (
            cursor["heartbeat"] is None
            or now - dt.datetime.fromisoformat(cursor["heartbeat"]) >= HEARTBEAT_EVERY
            or failing
            or failing != failing_before
        ):
            cursor["heartbeat"] = now.isoformat()
            events.append(
                dg.AssetMaterialization(
                    HEARTBEAT_KEY,
                    metadata={
                        "alerts_remembered": len(sent),
                        "alerts_waiting_for_a_sink": len(pending),
                        "failing_sinks": dg.MetadataValue.json(failing),
                    },
                )
            )
        return dg.SensorResult(cursor=json.dumps(cursor), asset_events=events)

    return _sensor


def heartbeat_spec() -> dg.AssetSpec:
    return dg.AssetSpec(
        HEARTBEAT_KEY,
        description="Recorded by check_failure_alert_sensor every 5 minutes; stale means alerting has stopped.",
        group_name="platform",
        kinds={"dagster"},
        owners=["team:data-platform"],
        freshness_policy=dg.FreshnessPolicy.time_window(fail_window=dt.timedelta(minutes=15), warn_window=dt.timedelta(minutes=10)),
    )
