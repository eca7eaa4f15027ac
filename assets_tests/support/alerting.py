"""The real alert sensor, ticked by a test against receivers on 127.0.0.1."""

from __future__ import annotations

import json
import time
from pathlib import Path

import dagster as dg


class AlertingSensor:
    """Ticks the real ``failure_alert_sensor`` with a sink pointed at the receiver (as its
    webhook, and as Slack's Web API through dagster-slack) and at a local SMTP server, keeping
    the cursor between ticks. It starts as a sensor that has been running all along: its cursor
    lies past everything the instance holds (a first tick's catch-up has tests of its own)."""

    def __init__(self, defs, instance, receiver, smtp, log_path: Path):
        from data_platform.alerting.sink import AlertSink

        self.defs, self.instance, self.receiver, self.smtp, self.log_path = defs, instance, receiver, smtp, log_path
        self.sink = AlertSink(
            log_path=str(log_path),
            webhook_url=receiver.url,
            slack_token="xoxb-test-token",
            slack_api_url=receiver.base_url,
            smtp_host="127.0.0.1",
            smtp_port=smtp.port,
            smtp_starttls=False,
        )
        from data_platform.alerting.check_records import latest_record_id
        from data_platform.alerting.sensors import SENSOR_NAME

        self.sensor = defs.get_sensor_def(SENSOR_NAME)
        checks = list(defs.resolve_asset_graph().asset_check_keys)
        self.cursor = json.dumps({"after": latest_record_id(instance, checks), "runs_after": time.time(), "heartbeat": None})
        self.tick()

    def tick(self) -> None:
        context = dg.build_sensor_context(
            instance=self.instance, cursor=self.cursor, repository_def=self.defs.get_repository_def(), resources={"alerts": self.sink}
        )
        self.last_tick = self.sensor.evaluate_tick(context)
        self.cursor = self.last_tick.cursor

    def heartbeat(self) -> dict:
        """The metadata of the heartbeat the last tick recorded (the daemon writes it; a test reads it from the tick)."""
        (event,) = [e for e in self.last_tick.asset_events if e.asset_key.path[:2] == ["platform", "alerting_heartbeat"]]
        return {k: v.value for k, v in event.metadata.items()}

    def webhook_alerts(self, asset: str, check: str) -> list[dict]:
        return [b for b in self.receiver.bodies if b.get("check") == check and b.get("asset") == asset]

    def emails(self, asset: str, check: str) -> list:
        return [(to, message) for _, to, message in self.smtp.messages if f"check {check} failed on {asset}" in message["Subject"]]

    def slack_posts(self, asset: str, check: str) -> list[dict]:
        return [
            body
            for (path, _), body in zip(self.receiver.requests, self.receiver.bodies, strict=True)
            if path.endswith("chat.postMessage") and f"{check} failed on {asset}" in body["text"]
        ]
