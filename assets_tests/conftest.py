"""Shared fixtures: a simulated marketplace at fixed instants and an embedded Airbyte into a temp DuckDB."""

from __future__ import annotations

import dataclasses
import datetime as dt
import sys
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from data_platform.ingestion.connections import ConnectionSpec, load_connections
from data_platform.ingestion.runner import EmbeddedAirbyte, SyncResult
from data_platform.simulation import DirtSwitches, SimulationConfig, simulate

START = dt.date(2026, 10, 1)
T0 = dt.datetime(2026, 10, 20, 12, 0, tzinfo=dt.timezone.utc)
T1 = dt.datetime(2026, 10, 24, 18, 0, tzinfo=dt.timezone.utc)


@dataclasses.dataclass
class Marketplace:
    """A simulated marketplace plus an embedded Airbyte syncing it into a DuckDB warehouse."""

    root: Path
    config: SimulationConfig
    warehouse: Path

    @property
    def connections(self) -> dict[str, ConnectionSpec]:
        return {c.name: c for c in load_connections()}

    def simulate(self, as_of: dt.datetime, **dirt) -> None:
        if dirt:
            self.config = dataclasses.replace(self.config, dirt=dataclasses.replace(self.config.dirt, **dirt))
        simulate(self.config, self.root / "source_systems", as_of)

    def sync(self, connection: str, streams=None, *, config: dict | None = None, **kwargs) -> SyncResult:
        spec = self.connections[connection]
        resolved = spec.embedded_source.resolved_config({"source_systems": str(self.root / "source_systems")})
        config = {**resolved, **(config or {})}
        return EmbeddedAirbyte(self.warehouse, batch_size=kwargs.pop("batch_size", 5_000)).sync(spec, config, streams, **kwargs)

    def query(self, sql: str, params=None):
        with duckdb.connect(str(self.warehouse), read_only=True) as conn:
            return conn.execute(sql, params or []).fetchall()

    def scalar(self, sql: str, params=None):
        return self.query(sql, params)[0][0]

    def source_db(self, sql: str):
        import sqlite3

        with sqlite3.connect(self.root / "source_systems" / "shop_db.sqlite") as db:
            return db.execute(sql).fetchall()


@pytest.fixture
def marketplace(tmp_path: Path) -> Marketplace:
    config = SimulationConfig(seed=7, scale=0.5, start_date=START, dirt=DirtSwitches())
    market = Marketplace(tmp_path, config, tmp_path / "warehouse.duckdb")
    market.simulate(T0)
    return market


HERE = Path(__file__).parent


def killed_after(lines: int, connection: ConnectionSpec) -> list[str]:
    """The connection's connector command, SIGKILLed after it wrote ``lines`` lines of ``read`` output."""
    return [sys.executable, str(HERE / "killing_wrapper.py"), str(lines), *connection.embedded_source.command]


PROD_ENV = {
    "DATA_PLATFORM_ENV": "prod",
    "SNOWFLAKE_ACCOUNT": "xy12345.eu-west-1",
    "SNOWFLAKE_USER": "DAGSTER",
    "SNOWFLAKE_PASSWORD": "placeholder-snowflake-password",
    "AIRBYTE_WORKSPACE_ID": "ws-placeholder",
    "AIRBYTE_CLIENT_ID": "client-placeholder",
    "AIRBYTE_CLIENT_SECRET": "placeholder-airbyte-secret",
}


@pytest.fixture(scope="session")
def prod_manifest():
    """The deploy step: `DATA_PLATFORM_ENV=prod data-platform prepare-dbt` (dbt parse, no connection)."""
    import os
    import subprocess

    proc = subprocess.run(
        [sys.executable, "-m", "data_platform.cli", "prepare-dbt"], env={**os.environ, **PROD_ENV}, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


@pytest.fixture
def platform(tmp_path, monkeypatch):
    """(settings, definitions, ephemeral instance) of a local platform in a temp data folder."""
    from data_platform.definitions import build_definitions
    from data_platform.environment import resolve_settings

    monkeypatch.setenv("DATA_PLATFORM_DATA_DIR", str(tmp_path))
    settings = resolve_settings({"DATA_PLATFORM_DATA_DIR": str(tmp_path)})
    return settings, build_definitions(settings), dg.DagsterInstance.ephemeral()


@pytest.fixture
def receiver():
    """A real HTTP endpoint on 127.0.0.1 recording what is POSTed to it (webhook, Slack API stand-in)."""
    from .webhook_receiver import WebhookReceiver

    hook = WebhookReceiver()
    yield hook
    hook.close()


def run_main_job(defs, instance, selection: dg.AssetSelection | None = None) -> dg.ExecuteInProcessResult:
    """The main job over ``selection`` (default: everything but the simulated source systems,
    which the test simulates itself) for the days START..T0, not raising on failure."""
    from data_platform.automation.partitions import range_tags
    from data_platform.definitions import MAIN_JOB

    selection = selection or (dg.AssetSelection.all() - dg.AssetSelection.groups("source_systems"))
    return defs.resolve_job_def(MAIN_JOB).execute_in_process(
        instance=instance, raise_on_error=False, asset_selection=list(selection.resolve(defs.resolve_asset_graph())),
        tags=range_tags(START.isoformat(), T0.date().isoformat()),
    )


class AlertingSensor:
    """Ticks the real ``check_failure_alert_sensor`` with a sink pointed at the receiver (as its
    webhook, and as Slack's Web API through dagster-slack) and at a local SMTP server, keeping
    the cursor between ticks."""

    def __init__(self, defs, instance, receiver, smtp, log_path: Path):
        from data_platform.quality.alerts import AlertSink

        self.defs, self.instance, self.receiver, self.smtp, self.log_path = defs, instance, receiver, smtp, log_path
        self.sink = AlertSink(
            log_path=str(log_path), webhook_url=receiver.url, slack_token="xoxb-test-token", slack_api_url=receiver.base_url,
            smtp_host="127.0.0.1", smtp_port=smtp.port, smtp_starttls=False,
        )
        self.sensor = defs.get_sensor_def("check_failure_alert_sensor")
        self.cursor = None
        self.tick()  # the first tick starts from now

    def tick(self) -> None:
        context = dg.build_sensor_context(
            instance=self.instance, cursor=self.cursor, repository_def=self.defs.get_repository_def(), resources={"alerts": self.sink}
        )
        self.cursor = self.sensor.evaluate_tick(context).cursor

    def webhook_alerts(self, asset: str, check: str) -> list[dict]:
        return [b for b in self.receiver.bodies if b.get("check") == check and b.get("asset") == asset]

    def emails(self, asset: str, check: str) -> list:
        return [(to, message) for _, to, message in self.smtp.messages if f"check {check} failed on {asset}" in message["Subject"]]

    def slack_posts(self, asset: str, check: str) -> list[dict]:
        return [
            body for (path, _), body in zip(self.receiver.requests, self.receiver.bodies)
            if path.endswith("chat.postMessage") and f"{check} failed on {asset}" in body["text"]
        ]


@pytest.fixture
def smtp():
    """A real SMTP server on 127.0.0.1 keeping the messages it receives."""
    from .smtp_receiver import SmtpReceiver

    server = SmtpReceiver()
    yield server
    server.close()


@pytest.fixture
def alerting(platform, receiver, smtp, tmp_path):
    _, defs, instance = platform
    return AlertingSensor(defs, instance, receiver, smtp, tmp_path / "alerts" / "alerts.jsonl")
