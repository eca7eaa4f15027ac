"""Alerts survive a broken sink: an unreachable SMTP relay stops neither the webhook nor Slack
nor the other alerts of the tick, shows on the heartbeat, and once it is back each alert is
emailed once, with no repeat on the sinks that had delivered it."""

from __future__ import annotations

import socket

import dagster as dg

from data_platform.alerting.sink import AlertSink

from ...support.alerting import AlertingSensor

STALE = ("raw_shop/orders", "raw_shop/payments", "raw_web/web_events")


def unused_port() -> int:
    with socket.socket() as probe:  # bound then closed: nothing listens there
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class DeadRelay:
    port = unused_port()


def test_an_unreachable_smtp_relay_stops_no_other_sink_or_alert_and_is_retried_once_back(platform, instance, receiver, smtp, tmp_path):
    alerting = AlertingSensor(platform.defs, instance, receiver, DeadRelay(), tmp_path / "alerts.jsonl")
    keys = [dg.AssetKey(asset.split("/")) for asset in STALE]  # the sources stopped at T0: their freshness checks fail
    platform.run_job(instance, "ingest_shop_db", asset_selection=keys[:2])
    platform.run_job(instance, "ingest_web_events", asset_selection=keys[2:])
    alerting.tick()
    for asset in STALE:
        assert len(alerting.webhook_alerts(asset, "data_freshness")) == 1, asset
        assert len(alerting.slack_posts(asset, "data_freshness")) == 1, asset
    heartbeat = alerting.heartbeat()
    failing = heartbeat["failing_sinks"]
    assert list(failing) == ["email"] and "Connection refused" in failing["email"]["last_error"]
    assert heartbeat["alerts_waiting_for_a_sink"] >= len(STALE)

    alerting.smtp = smtp  # the relay is back
    alerting.sink = AlertSink(**{**alerting.sink.model_dump(), "smtp_port": smtp.port})
    alerting.tick()
    assert alerting.heartbeat()["failing_sinks"] == {} and alerting.heartbeat()["alerts_waiting_for_a_sink"] == 0
    alerting.tick()
    for asset in STALE:
        assert len(alerting.emails(asset, "data_freshness")) == 1, asset
        assert len(alerting.webhook_alerts(asset, "data_freshness")) == 1, "the webhook had delivered it: no repeat"


def test_one_failing_sink_does_not_stop_the_others_when_sending_directly(tmp_path, receiver):
    from data_platform.alerting.sink import Alert

    sink = AlertSink(log_path=str(tmp_path / "a.jsonl"), webhook_url=receiver.url, smtp_host="127.0.0.1", smtp_port=unused_port())
    errors = sink.send(Alert(kind="run_failed", title="run of x failed", owners=("a@example.com",), severity="ERROR"))
    assert list(errors) == ["email"]
    assert len(receiver.bodies) == 1 and (tmp_path / "a.jsonl").read_text().count("\n") == 1
