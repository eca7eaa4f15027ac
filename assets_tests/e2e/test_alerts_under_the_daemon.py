"""Alerts under Dagster's real daemon, with a webhook that accepts and never answers: each tick
stays within Dagster's sensor limit (one timeout per tick, not one per alert, the rest kept in
the cursor), the heartbeat names the sink ten alerts wait for, and once the webhook answers
again each of the ten failed checks reaches each sink exactly once."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import dagster as dg
import pytest

from data_platform.alerting.sensors import heartbeat_key

CHECKS = 10
LOCATION = """
import datetime as dt
import os

import dagster as dg

from data_platform.alerting.sensors import failure_alert_sensor, heartbeat_spec
from data_platform.alerting.sink import AlertSink


@dg.asset(owners=["team:shop"], tags={"domain": "shop"})
def orders() -> None: ...


@dg.asset_check(asset=orders, name="primary_key_unique")
def orders_unique() -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=False, severity=dg.AssetCheckSeverity.ERROR, description="2 keys appear twice")


defs = dg.Definitions(
    assets=[orders, heartbeat_spec("shop")],
    asset_checks=[orders_unique],
    sensors=[failure_alert_sensor("shop", {"shop": "#shop-data"}, dt.timedelta(hours=24))],
    resources={"alerts": AlertSink(log_path=os.environ["ALERT_LOG"], webhook_url=os.environ["ALERT_WEBHOOK"], timeout_seconds=5)},
)
"""


class SwitchableWebhook:
    """An HTTP endpoint on 127.0.0.1 that first accepts connections and never answers (a hung
    receiver), then, once ``answer()`` is called, answers 200 and keeps each JSON body it got."""

    def __init__(self):
        self.server = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.server.getsockname()[1]}/hook"
        self.answering = False
        self.held: list[socket.socket] = []
        self.bodies: list[dict] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def answer(self) -> None:
        self.answering = True

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self.server.accept()
            except OSError:
                return
            if not self.answering:
                self.held.append(connection)  # never read, never answered: the client's timeout decides
                continue
            threading.Thread(target=self._serve, args=(connection,), daemon=True).start()

    def _serve(self, connection: socket.socket) -> None:
        with connection:
            data = b""
            while b"\r\n\r\n" not in data:
                data += connection.recv(65536)
            head, body = data.split(b"\r\n\r\n", 1)
            length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length"))
            while len(body) < length:
                body += connection.recv(65536)
            self.bodies.append(json.loads(body))
            connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}")

    def close(self) -> None:
        self.server.close()
        for connection in self.held:
            connection.close()


def wait_for(condition, timeout: float, what: str, daemon: subprocess.Popen, log: Path):
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        assert daemon.poll() is None, f"the daemon exited:\n{log.read_text()[-3000:]}"
        assert time.monotonic() < deadline, f"{what} after {timeout:.0f} s:\n{log.read_text()[-3000:]}"
        time.sleep(1)
    return value


@pytest.mark.timeout(420)
def test_ten_failed_checks_and_a_hung_webhook_under_the_daemon_each_alert_reaches_each_sink_once(tmp_path, monkeypatch):
    home, location, alert_log = tmp_path / "home", tmp_path / "location.py", tmp_path / "alerts.jsonl"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    location.write_text(textwrap.dedent(LOCATION))
    webhook = SwitchableWebhook()
    environment = {**os.environ, "DAGSTER_HOME": str(home), "ALERT_LOG": str(alert_log), "ALERT_WEBHOOK": webhook.url}
    for name in ("DAGSTER_HOME", "ALERT_LOG", "ALERT_WEBHOOK"):
        monkeypatch.setenv(name, environment[name])
    code = {}
    exec(compile(textwrap.dedent(LOCATION), str(location), "exec"), code)  # the location's own objects, to fail its check
    with dg.DagsterInstance.get() as instance:
        for _ in range(CHECKS):
            dg.materialize([code["orders"], code["orders_unique"]], instance=instance, raise_on_error=False)
    log = tmp_path / "daemon.log"
    with log.open("w") as out:
        daemon = subprocess.Popen(
            [str(Path(sys.executable).with_name("dagster-daemon")), "run", "-f", str(location)],
            env=environment,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        with dg.DagsterInstance.get() as instance:

            def heartbeat_waiting():
                records = instance.fetch_materializations(heartbeat_key("shop"), limit=1).records
                metadata = records[0].asset_materialization.metadata if records else {}
                waiting = metadata.get("alerts_waiting_by_sink")
                return waiting.value if waiting and waiting.value else None

            waiting = wait_for(heartbeat_waiting, 150, "no heartbeat named a sink with waiting alerts", daemon, log)
            assert waiting == {"webhook": CHECKS}, waiting
            assert len(webhook.held) == 1, "one attempt on the hung webhook in the tick, not one per alert"
            webhook.answer()
            wait_for(lambda: len({b["run_id"] for b in webhook.bodies}) == CHECKS, 150, "the alerts did not all arrive", daemon, log)
            ticks = len(instance.get_ticks(*_sensor_origin(instance)))
            wait_for(lambda: len(instance.get_ticks(*_sensor_origin(instance))) >= ticks + 1, 90, "no later tick", daemon, log)
            failed = [t for t in instance.get_ticks(*_sensor_origin(instance)) if t.status.value == "FAILURE"]
            assert not failed, [t.error.message[:500] if t.error else t for t in failed]
    finally:
        os.killpg(daemon.pid, signal.SIGTERM)
        daemon.wait(timeout=60)
        webhook.close()
    assert len(webhook.bodies) == CHECKS, "each alert once, none repeated by a later tick"
    assert len(alert_log.read_text().splitlines()) == CHECKS, "the log sink too"


def _sensor_origin(instance) -> tuple[str, str]:
    """The alert sensor's (origin id, selector id), as its ticks are stored."""
    from data_platform.alerting.sensors import SENSOR_NAME

    (state,) = [s for s in instance.all_instigator_state() if s.name == SENSOR_NAME]
    return state.instigator_origin_id, state.selector_id
