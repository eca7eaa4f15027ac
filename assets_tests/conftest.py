"""Shared set-up of the suite.

Lanes: ``unit/`` (pure logic, milliseconds), ``integration/`` (real runs in-process, real
connector subprocesses, local stand-ins), ``e2e/`` (real processes: the README command,
``dagster dev`` with its daemon, ``dagster definitions validate``, a PyPI install). Each test is
marked with its folder's lane, so ``pytest -m "not e2e"`` is the fast lane.

What is costly is made once per session, whichever worker asks first, and shared: the
production dbt manifest, the built warehouse (each test gets a copy), the simulated sources.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import dagster as dg
import pytest

from .support.platforms import (
    SHARED_ROOT_VARIABLE,
    T0,
    Marketplace,
    Platform,
    build_platform,
    check_evaluations,
    materializations,
    only_run_id,
    shared_build,
    shared_root,
    using,
)

HERE = Path(__file__).parent
SUPPORT = HERE / "support"
LANES = ("unit", "integration", "e2e")
LONGEST_FIRST = (
    "test_readme_command.py", "test_backfill_with_daemon.py", "test_transformation_run.py", "test_partitions_and_automation.py",
    "test_warehouse_pool.py", "test_production_on_emulator.py", "test_dirty_sources.py", "test_blast_radius.py",
    "test_definitions_validate.py", "test_domains_cli.py", "test_domains.py",
)  # fmt: skip
"""Files in the order their cost suggests, so that the two workers finish together."""
AFTER_THE_BUILD = ("test_readme_command.py",)
"""Heavy though it does not need the build: run once the build no longer competes for the two cores."""
SHARED_ROOT = pytest.StashKey[Path]()
BUILDER = pytest.StashKey[subprocess.Popen]()

PROD_ENV = {
    "DATA_PLATFORM_ENV": "prod",
    "SNOWFLAKE_ACCOUNT": "xy12345.eu-west-1",
    "SNOWFLAKE_USER": "DAGSTER",
    "SNOWFLAKE_PASSWORD": "placeholder-snowflake-password",
    "AIRBYTE_WORKSPACE_ID": "ws-placeholder",
    "AIRBYTE_CLIENT_ID": "client-placeholder",
    "AIRBYTE_CLIENT_SECRET": "placeholder-airbyte-secret",
}


def pytest_configure(config: pytest.Config) -> None:
    """In the controlling process: a folder the workers share, and the warehouse build started in
    the background at once, so no worker sits waiting for it (unless only unit tests were asked for)."""
    if hasattr(config, "workerinput") or os.environ.get(SHARED_ROOT_VARIABLE):
        return
    root = Path(tempfile.mkdtemp(prefix="data-platform-tests-"))
    os.environ[SHARED_ROOT_VARIABLE] = str(root)
    config.stash[SHARED_ROOT] = root
    asked = [Path(a.split("::")[0]).resolve() for a in config.args] or [HERE]
    if all(HERE / "unit" in (path, *path.parents) for path in asked):
        return
    with (root / "built_platform.log").open("w") as log:
        config.stash[BUILDER] = subprocess.Popen(
            [sys.executable, "-m", "assets_tests.support.platforms", str(root)],
            cwd=HERE.parent,
            stdout=log,
            stderr=subprocess.STDOUT,
        )


def pytest_unconfigure(config: pytest.Config) -> None:
    builder = config.stash.get(BUILDER, None)
    if builder is not None and builder.poll() is None:
        builder.kill()
        builder.wait()
    if SHARED_ROOT in config.stash:
        shutil.rmtree(config.stash[SHARED_ROOT], ignore_errors=True)
        os.environ.pop(SHARED_ROOT_VARIABLE, None)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark each test with its lane. Order the files for two workers: first the lighter ones that
    do not need the built warehouse (it is being built in the background meanwhile), then the
    rest; in each group the longest first. A file's tests stay together (``--dist loadfile``)."""
    for item in items:
        lane = next((p for p in Path(item.path).relative_to(HERE).parts if p in LANES), None)
        if lane:
            item.add_marker(getattr(pytest.mark, lane))
    needs_build = {item.path for item in items if "built_platform" in getattr(item, "fixturenames", ())}
    first_seen = {path: n for n, path in reversed(list(enumerate(item.path for item in items)))}
    group = {path: path in needs_build or path.name in AFTER_THE_BUILD for path in first_seen}
    rank = {path: LONGEST_FIRST.index(path.name) if path.name in LONGEST_FIRST else len(LONGEST_FIRST) for path in first_seen}
    items.sort(key=lambda item: (group[item.path], rank[item.path], first_seen[item.path]))


# --- built once per session, shared by the workers -------------------------------------------
# (the local dbt manifest needs nothing here: the platform parses it under a lock when stale)


@pytest.fixture(scope="session")
def prod_manifest(tmp_path_factory) -> Path:
    """The production manifests, built as the deploy step builds them: ``DATA_PLATFORM_ENV=prod
    data-platform prepare-dbt`` (dbt parse for Snowflake, placeholder credentials, no connection);
    returned as one merged document of the example domains' projects."""
    import json

    from .support.example import merged_manifest

    def prepare(_folder: Path) -> None:
        proc = subprocess.run(
            [sys.executable, "-m", "data_platform.cli", "prepare-dbt"],
            env={**os.environ, **PROD_ENV},
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert proc.returncode == 0, proc.stdout + proc.stderr

    shared_build(shared_root(tmp_path_factory), "prod_manifest", prepare)
    merged = tmp_path_factory.mktemp("prod_manifest") / "manifest.json"
    merged.write_text(json.dumps(merged_manifest("snowflake")))
    return merged


# --- the warehouse, built once --------------------------------------------------------------


@pytest.fixture(scope="session")
def built_platform(tmp_path_factory) -> Platform:
    """Simulated to T0 and materialized over START..T0 (every stream, model, check): read-only; copy it to change it."""
    return Platform(shared_build(shared_root(tmp_path_factory), "built_platform", build_platform))


@pytest.fixture(scope="session")
def build_history(built_platform, tmp_path_factory) -> tuple[list[dg.AssetCheckEvaluation], dict[str, dg.AssetMaterialization]]:
    """The build run's check evaluations and materializations (read from a copy: opening an instance may write to it)."""
    with built_platform.copy(tmp_path_factory.mktemp("history")).instance() as instance:
        run_id = only_run_id(instance)
        return check_evaluations(instance, run_id), materializations(instance, run_id)


@pytest.fixture
def platform(built_platform, tmp_path) -> Platform:
    """A private copy of the built platform, with the process environment pointed at it."""
    with using(built_platform.copy(tmp_path / "data")) as copy:
        yield copy


@pytest.fixture
def instance(platform):
    with platform.instance() as instance:
        yield instance


@pytest.fixture
def empty_platform(tmp_path):
    """A platform with nothing simulated or synced yet, for tests that need their own history."""
    with using(Platform(tmp_path / "data")) as fresh:
        yield fresh


# --- a simulated marketplace and an embedded Airbyte, without Dagster ----------------------


@pytest.fixture(scope="session")
def simulated_sources(tmp_path_factory) -> Path:
    """The marketplace's source systems at T0, simulated once per session."""
    return shared_build(
        shared_root(tmp_path_factory), "sources_t0", lambda folder: Marketplace(folder, folder / "warehouse.duckdb").simulate(T0)
    )


@pytest.fixture
def marketplace(simulated_sources, tmp_path) -> Marketplace:
    shutil.copytree(simulated_sources, tmp_path, dirs_exist_ok=True)
    return Marketplace(tmp_path, tmp_path / "warehouse.duckdb")


def killed_after(lines: int, connection) -> list[str]:
    """The connection's connector command, SIGKILLed after it wrote ``lines`` lines of ``read`` output."""
    return [sys.executable, str(SUPPORT / "killing_wrapper.py"), str(lines), *connection.embedded_source.command]


# --- alerting: real receivers on 127.0.0.1 and the real sensor -------------------------------


@pytest.fixture
def receiver():
    """A real HTTP endpoint on 127.0.0.1 recording what is POSTed to it (webhook, Slack API stand-in)."""
    from .support.webhook_receiver import WebhookReceiver

    hook = WebhookReceiver()
    yield hook
    hook.close()


@pytest.fixture
def smtp():
    """A real SMTP server on 127.0.0.1 keeping the messages it receives."""
    from .support.smtp_receiver import SmtpReceiver

    server = SmtpReceiver()
    yield server
    server.close()


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


@pytest.fixture
def alerting(platform, instance, receiver, smtp, tmp_path):
    return AlertingSensor(platform.defs, instance, receiver, smtp, tmp_path / "alerts" / "alerts.jsonl")
