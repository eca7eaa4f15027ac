"""No failure goes unalerted, and none is alerted twice, whoever delivers it.

The platform's own alert sensor and deliverer, on a small graph of their own (the platform's
tests do not need the example): an asset with a check that fails, a job that fails, a webhook
receiver on 127.0.0.1 standing in for Slack's incoming webhook.
"""

from __future__ import annotations

import datetime as dt
import json

import dagster as dg
import pytest

from data_platform.alerting.check_records import failed_checks_of_run
from data_platform.alerting.delivery import Channels, DeliveredLedger, check_alert, deliver_all, run_alert
from data_platform.alerting.sensors import SENSOR_NAME, failure_alert_sensor
from data_platform.alerting.sink import AlertSink


@dg.asset(owners=["team:shop"], tags={"domain": "shop"})
def orders() -> None: ...


@dg.asset_check(asset=orders, name="primary_key_unique")
def orders_unique() -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=False, severity=dg.AssetCheckSeverity.ERROR, description="2 keys appear twice")


@dg.op
def always_fails() -> None:
    raise RuntimeError("the source refused the connection")


@dg.job
def broken_job() -> None:
    always_fails()


def definitions(lookback: dt.timedelta) -> dg.Definitions:
    return dg.Definitions(
        assets=[orders],
        asset_checks=[orders_unique],
        jobs=[broken_job],
        sensors=[failure_alert_sensor("shop", {"shop": "#shop-data"}, lookback)],
    )


@pytest.fixture
def sink(receiver, tmp_path) -> AlertSink:
    return AlertSink(log_path=str(tmp_path / "alerts.jsonl"), webhook_url=receiver.url, slack_default_channel="#data-platform-alerts")


@pytest.fixture
def instance():
    with dg.instance_for_test() as instance:
        yield instance


def tick(defs: dg.Definitions, instance, sink, cursor=None):
    context = dg.build_sensor_context(
        instance=instance, cursor=cursor, repository_def=defs.get_repository_def(), resources={"alerts": sink}
    )
    return defs.get_sensor_def(SENSOR_NAME).evaluate_tick(context)


def failures_while_no_daemon_ran(instance) -> tuple[str, str]:
    checked = dg.materialize([orders, orders_unique], instance=instance, raise_on_error=False)
    failed = broken_job.execute_in_process(instance=instance, raise_on_error=False)
    assert not failed.success
    return checked.run_id, failed.run_id


def test_the_first_tick_alerts_the_failures_that_happened_before_it_within_the_lookback(instance, sink, receiver):
    check_run, failed_run = failures_while_no_daemon_ran(instance)
    tick(definitions(dt.timedelta(hours=24)), instance, sink)
    kinds = {(b["kind"], b["run_id"]) for b in receiver.bodies}
    assert kinds == {("check_failed", check_run), ("run_failed", failed_run)}


def test_a_failure_older_than_the_lookback_is_left_alone(instance, sink, receiver):
    failures_while_no_daemon_ran(instance)
    tick(definitions(dt.timedelta(0)), instance, sink)
    assert receiver.bodies == []


def test_later_ticks_alert_each_failure_once(instance, sink, receiver):
    defs = definitions(dt.timedelta(hours=24))
    first = tick(defs, instance, sink)
    failures_while_no_daemon_ran(instance)
    second = tick(defs, instance, sink, first.cursor)
    tick(defs, instance, sink, second.cursor)
    assert sorted(b["kind"] for b in receiver.bodies) == ["check_failed", "run_failed"]


def test_every_alert_names_its_channel(instance, sink, receiver):
    failures_while_no_daemon_ran(instance)
    tick(definitions(dt.timedelta(hours=24)), instance, sink)
    channels = {b["kind"]: b["channels"] for b in receiver.bodies}
    assert channels == {"check_failed": ["#shop-data"], "run_failed": ["#data-platform-alerts"]}


def test_alerts_delivered_without_a_daemon_are_not_repeated_by_the_sensor(instance, sink, receiver):
    check_run, _ = failures_while_no_daemon_ran(instance)
    defs = definitions(dt.timedelta(hours=24))
    graph = defs.resolve_asset_graph()
    delivered = [check_alert(instance, graph, f, Channels("#data-platform-alerts")) for f in failed_checks_of_run(instance, check_run)]
    assert deliver_all(sink, delivered, DeliveredLedger(instance), {}) == []  # what data-platform run does after each run
    tick(defs, instance, sink)
    assert [b["kind"] for b in receiver.bodies].count("check_failed") == 1


def test_a_run_whose_process_stopped_is_labelled_interrupted_not_failed(instance):
    run = dg.DagsterRun(
        job_name="commerce_end_to_end",
        run_id="stopped-by-a-shutdown",
        status=dg.DagsterRunStatus.FAILURE,
        tags={"dagster/failure_reason": "RUN_WORKER_RESTART"},
    )
    _, alert = run_alert(instance, None, run, Channels("#data-platform-alerts"))
    assert (alert.kind, alert.severity, alert.channels) == ("run_interrupted", "WARN", ("#data-platform-alerts",))
    assert "not a failure of the data" in alert.title


def test_the_heartbeat_reports_alerts_waiting_for_a_sink(instance, tmp_path):
    dead = AlertSink(log_path=str(tmp_path / "alerts.jsonl"), webhook_url="http://127.0.0.1:9/never", timeout_seconds=1)
    failures_while_no_daemon_ran(instance)
    result = tick(definitions(dt.timedelta(hours=24)), instance, dead)
    (heartbeat,) = result.asset_events
    assert heartbeat.metadata["alerts_waiting_for_a_sink"].value == 2
    assert "webhook" in json.loads(json.dumps(heartbeat.metadata["failing_sinks"].value))
    assert heartbeat.metadata["alerts_waiting_by_sink"].value == {"webhook": 2}


def test_the_heartbeat_names_a_sink_alerts_wait_for_though_it_was_not_tried_in_the_tick(instance, tmp_path, monkeypatch):
    """A tick whose delivery budget is spent tries no sink: none failed in it, yet alerts wait."""
    import data_platform.alerting.sensors as sensors

    monkeypatch.setattr(sensors, "TICK_BUDGET_SECONDS", -1.0)
    sink = AlertSink(log_path=str(tmp_path / "alerts.jsonl"), webhook_url="http://127.0.0.1:9/never", timeout_seconds=1)
    failures_while_no_daemon_ran(instance)
    (heartbeat,) = tick(definitions(dt.timedelta(hours=24)), instance, sink).asset_events
    assert heartbeat.metadata["failing_sinks"].value == {}, "no sink was tried"
    assert heartbeat.metadata["alerts_waiting_by_sink"].value == {"log": 2, "webhook": 2}


def test_runs_of_other_locations_never_hold_the_cursor_back(instance):
    from data_platform.alerting.delivery import failed_runs_since

    for _ in range(3):
        broken_job.execute_in_process(instance=instance, raise_on_error=False)
    mine, last = failed_runs_since(instance, 0.0, belongs=lambda run: False, limit=2)
    rest, _ = failed_runs_since(instance, last, belongs=lambda run: True, limit=2)
    assert mine == [] and last > 0
    assert len(rest) == 1, "the page of runs another location owns was passed, not read again"


def test_a_run_interrupted_mid_step_is_alerted_as_interrupted_in_its_channel(instance, sink, receiver):
    # what a step raises when ``dagster dev`` or the run worker is stopped under it (SIGINT/SIGTERM)
    from dagster._core.errors import DagsterExecutionInterruptedError

    @dg.op
    def stopped_under_it() -> None:
        raise DagsterExecutionInterruptedError("the run worker was stopped")

    @dg.job(name="broken_job")
    def interrupted() -> None:
        stopped_under_it()

    run = interrupted.execute_in_process(instance=instance, raise_on_error=False)
    tick(definitions(dt.timedelta(hours=24)), instance, sink)
    (alert,) = [b for b in receiver.bodies if b["run_id"] == run.run_id]
    assert (alert["kind"], alert["severity"], alert["channels"]) == ("run_interrupted", "WARN", ["#data-platform-alerts"])


def test_a_check_that_fails_after_a_later_runs_check_is_still_alerted(instance, sink, receiver):
    """A run's check executions are numbered when the run is planned, not when they fail: a long
    run's check can fail after a later run's was alerted, and must be alerted too."""
    ticks = []

    @dg.asset(key=["long_run"])
    def long_run(context) -> None:
        # meanwhile, a later run fails its check and the sensor ticks
        dg.materialize([orders, orders_unique], instance=context.instance, raise_on_error=False)
        ticks.append(tick(defs, context.instance, sink, ticks[-1].cursor))

    @dg.asset_check(asset=long_run, name="rows_expected")
    def long_run_check() -> dg.AssetCheckResult:
        return dg.AssetCheckResult(passed=False, severity=dg.AssetCheckSeverity.ERROR, description="no rows")

    defs = dg.Definitions(
        assets=[orders, long_run],
        asset_checks=[orders_unique, long_run_check],
        sensors=[failure_alert_sensor("shop", {}, dt.timedelta(hours=24))],
    )
    ticks.append(tick(defs, instance, sink))
    earlier = dg.materialize([long_run, long_run_check], instance=instance, raise_on_error=False)
    assert [b["check"] for b in receiver.bodies] == ["primary_key_unique"], "the later run's failure, alerted mid-run"
    tick(defs, instance, sink, ticks[-1].cursor)
    alerted = {(b["check"], b["run_id"]) for b in receiver.bodies if b["kind"] == "check_failed"}
    assert ("rows_expected", earlier.run_id) in alerted and len(alerted) == 2


class HangingWebhook:
    """A webhook that accepts connections and never answers (counts them)."""

    def __init__(self):
        import socket
        import threading

        self.server = socket.socket()
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(64)
        self.held: list = []
        self.url = f"http://127.0.0.1:{self.server.getsockname()[1]}/hook"
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                connection, _ = self.server.accept()
            except OSError:
                return
            self.held.append(connection)

    def close(self):
        self.server.close()
        for connection in self.held:
            connection.close()


def test_a_webhook_that_never_answers_costs_one_timeout_per_tick_and_each_alert_arrives_once_when_it_is_back(instance, receiver, tmp_path):
    hanging = HangingWebhook()
    try:
        for _ in range(10):
            dg.materialize([orders, orders_unique], instance=instance, raise_on_error=False)
        defs = definitions(dt.timedelta(hours=24))
        stuck = AlertSink(log_path=str(tmp_path / "alerts.jsonl"), webhook_url=hanging.url, timeout_seconds=1)
        first = tick(defs, instance, stuck)
        assert len(hanging.held) == 1, "one attempt on the hanging sink in the tick, not one per alert"
        (heartbeat,) = first.asset_events
        assert heartbeat.metadata["alerts_waiting_for_a_sink"].value == 10
        assert heartbeat.metadata["alerts_waiting_by_sink"].value == {"webhook": 10}, "the sink they wait for is named"
        healthy = AlertSink(log_path=str(tmp_path / "alerts.jsonl"), webhook_url=receiver.url)
        second = tick(defs, instance, healthy, first.cursor)
        tick(defs, instance, healthy, second.cursor)
    finally:
        hanging.close()
    assert len(receiver.bodies) == 10 and len({b["run_id"] for b in receiver.bodies}) == 10
    assert len((tmp_path / "alerts.jsonl").read_text().splitlines()) == 10, "the log sink delivered each once, at the first tick"
