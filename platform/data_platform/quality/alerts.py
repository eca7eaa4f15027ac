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
server is configured. The sensor also records a heartbeat asset every few
minutes; its freshness policy turns it stale when the sensor stops, so silence is visible.
"""

import dataclasses
import datetime as dt
import email.message
import json
import smtplib
import urllib.request
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_slack import SlackResource

from data_platform.automation.partitions import partition_label
from data_platform.governance.contracts import SLACK_CHANNEL_METADATA
from data_platform.quality.check_records import failed_checks_since, latest_record_id

HEARTBEAT_KEY = dg.AssetKey(["platform", "alerting_heartbeat"])
HEARTBEAT_EVERY = dt.timedelta(minutes=5)
REMEMBERED_ALERTS = 500


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

    def send(self, alert: Alert) -> None:
        payload = alert.as_dict()
        path = Path(self.log_path)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a") as out:
            out.write(json.dumps(payload, default=str) + "\n")
        if self.webhook_url:
            body = {**payload, "text": _slack_text(alert)}
            request = urllib.request.Request(
                self.webhook_url, data=json.dumps(body, default=str).encode(), headers={"content-type": "application/json"}
            )
            with urllib.request.urlopen(request, timeout=self.timeout_seconds) as response:
                response.read()
        if self.slack_token:
            self._post_to_slack(alert)
        if self.smtp_host:
            self._email(alert)

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
            if not remember(sent, identity):
                continue
            alerts.send(
                Alert(
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
            )
            context.log.info(f"alert sent: {identity}")
        cursor["sent"] = sent
        events = []
        now = dt.datetime.now(dt.UTC)
        if cursor["heartbeat"] is None or now - dt.datetime.fromisoformat(cursor["heartbeat"]) >= HEARTBEAT_EVERY:
            cursor["heartbeat"] = now.isoformat()
            events.append(dg.AssetMaterialization(HEARTBEAT_KEY, metadata={"alerts_remembered": len(cursor["sent"])}))
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
