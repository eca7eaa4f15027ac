"""The production instance (``deploy/dagster.yaml``) on a real PostgreSQL server, under the real
daemon, in the production topology: a code server of its own (``dagster code-server start``, as
each user deployment is), the webserver and the daemon reaching it over gRPC.

What is injected is what production does to a deployment: the daemon killed with SIGKILL in the
middle of a backfill (a pod evicted, a host rebooted) and restarted; a run worker killed with
SIGKILL mid-run (the OOM killer). The run is held mid-flight deterministically by setting the
warehouse pool's limit to 0 with Dagster's own CLI (``dagster instance concurrency set``): its
step waits for a slot, its process alive, until the test gives the pool a slot back.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest
import yaml

from data_platform.dead_runs import process_alive
from data_platform.deployment.throwaway_postgres import PostgresServer, postgres_server
from data_platform.instance.run_launcher import run_worker_pid
from data_platform.settings import REPO_ROOT

from ..support.live_dagster import free_port, graphql, locations, wait_for

BIN = Path(sys.executable).parent
ASSET = ["platform", "cost_per_team_daily"]
PARTITIONS = ["2026-11-02", "2026-11-03", "2026-11-04"]
"""Days of the platform's own daily asset (cost per team): it needs no domain and no source."""
POOL = "warehouse"


@pytest.fixture(scope="module")
def postgres() -> Iterator[PostgresServer]:
    with postgres_server() as server:
        yield server


class Deployment:
    """A code server, the webserver and the daemon on one Postgres-backed instance."""

    def __init__(self, root: Path, postgres: PostgresServer, database: str, monitoring_poll_seconds: int | None = None):
        self.home = root / "dagster_home"
        self.home.mkdir()
        instance = yaml.safe_load((REPO_ROOT / "deploy" / "dagster.yaml").read_text())
        if monitoring_poll_seconds is not None:  # the one value changed: 30 s in production, less to keep the test short
            instance["run_monitoring"]["poll_interval_seconds"] = monitoring_poll_seconds
        (self.home / "dagster.yaml").write_text(yaml.safe_dump(instance))
        self.env = {
            **os.environ,
            **postgres.create_database(database),
            "DAGSTER_HOME": str(self.home),
            "DATA_PLATFORM_DATA_DIR": str(root / "data"),
            "DATA_PLATFORM_DOMAINS_DIR": str(root / "domains"),  # none: the platform's own location only
            "DATA_PLATFORM_PARTITIONS_START": "2026-10-01",
        }
        (root / "domains").mkdir()
        self.code_port, self.port = free_port(), free_port()
        self.workspace = root / "workspace.yaml"
        self.workspace.write_text(f"load_from:\n  - grpc_server: {{host: localhost, port: {self.code_port}, location_name: platform}}\n")
        self.log = root / "dagster.log"
        self.processes: dict[str, subprocess.Popen] = {}

    def start(self, name: str, *command: str) -> None:
        with self.log.open("a") as out:
            self.processes[name] = subprocess.Popen(
                command, env=self.env, cwd=REPO_ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )

    def start_code_server(self) -> None:
        self.start("code", str(BIN / "dagster"), "code-server", "start", "-h", "localhost", "-p", str(self.code_port),
                   "-m", "data_platform.platform_location")  # fmt: skip

    def start_servers(self) -> None:
        self.start_code_server()
        self.start("webserver", str(BIN / "dagster-webserver"), "-w", str(self.workspace), "-h", "127.0.0.1", "-p", str(self.port))
        wait_for(lambda: locations(self.port) == {"platform": "RepositoryLocation"}, 180, "the code location did not load",
                 list(self.processes.values()), self.log)  # fmt: skip

    def start_daemon(self) -> None:
        self.start("daemon", str(BIN / "dagster-daemon"), "run", "-w", str(self.workspace))

    def kill(self, name: str) -> None:
        process = self.processes.pop(name)
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)

    def set_pool_limit(self, limit: int) -> None:
        subprocess.run(
            [str(BIN / "dagster"), "instance", "concurrency", "set", POOL, str(limit)], env=self.env, check=True, capture_output=True
        )

    def wait(self, condition, timeout: float, what: str):
        return wait_for(condition, timeout, what, list(self.processes.values()), self.log, interval=0.5)

    def stop(self) -> None:
        for process in self.processes.values():
            os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes.values():
            process.wait(timeout=60)

    def instance(self) -> dg.DagsterInstance:
        os.environ.update({k: v for k, v in self.env.items() if k.startswith("DAGSTER_PG_")})
        return dg.DagsterInstance.from_config(str(self.home))


@pytest.fixture
def deployment_factory(tmp_path, postgres) -> Iterator:
    started: list[Deployment] = []

    def make(name: str, **options) -> Deployment:
        deployment = Deployment(tmp_path, postgres, name, **options)
        started.append(deployment)
        return deployment

    saved = dict(os.environ)
    try:
        yield make
    finally:
        for deployment in started:
            deployment.stop()
        os.environ.clear()
        os.environ.update(saved)


def runs_with_tag(instance: dg.DagsterInstance, key: str, value: str) -> list[dg.DagsterRun]:
    return list(instance.get_runs(dg.RunsFilter(tags={key: value})))


def materialized_partitions(instance: dg.DagsterInstance) -> Counter:
    records = instance.fetch_materializations(dg.AssetRecordsFilter(asset_key=dg.AssetKey(ASSET)), limit=1000).records
    return Counter(r.partition_key for r in records)


def test_a_backfill_survives_the_daemon_killed_mid_run_and_restarted(deployment_factory):
    deployment = deployment_factory("backfill_daemon_killed")
    deployment.start_servers()
    deployment.set_pool_limit(0)  # the backfill's run will start and wait on the pool
    launched = graphql(
        deployment.port,
        """mutation($params: LaunchBackfillParams!) { launchPartitionBackfill(backfillParams: $params) {
             __typename ... on LaunchBackfillSuccess { backfillId } ... on PythonError { message } } }""",
        {"params": {"assetSelection": [{"path": ASSET}], "partitionNames": PARTITIONS}},
    )["launchPartitionBackfill"]
    assert launched["__typename"] == "LaunchBackfillSuccess", launched
    backfill_id = launched["backfillId"]
    deployment.start_daemon()
    with deployment.instance() as instance:
        started = deployment.wait(
            lambda: [r for r in runs_with_tag(instance, "dagster/backfill", backfill_id) if r.status == dg.DagsterRunStatus.STARTED],
            240,
            "the backfill's run did not start",
        )
        deployment.kill("daemon")  # SIGKILL, mid-backfill: its run is started and waiting on the pool
        deployment.start_daemon()
        deployment.set_pool_limit(1)

        def backfill_status():  # as the UI reads it
            query = """query($id: String!) { partitionBackfillOrError(backfillId: $id) { ... on PartitionBackfill { status } } }"""
            status = graphql(deployment.port, query, {"id": backfill_id})["partitionBackfillOrError"]["status"]
            return status if status != "REQUESTED" else None

        status = deployment.wait(backfill_status, 300, "the backfill did not finish after the daemon's restart")
        runs = runs_with_tag(instance, "dagster/backfill", backfill_id)
        assert status == "COMPLETED_SUCCESS"
        assert [r.run_id for r in runs] == [started[0].run_id], "the restarted daemon launched no second run"
        assert runs[0].is_success
        assert materialized_partitions(instance) == Counter(PARTITIONS), "every partition once, none lost, none twice"


def test_a_run_worker_killed_with_its_host_is_failed_by_run_monitoring_and_retried(deployment_factory):
    """The host restarted mid-run: daemon, code server and run worker killed (SIGKILL), so no
    process is left to report the run ended. (A run worker killed alone is reported by its code
    server: "terminated by signal 9".) Back up, run monitoring asks the launcher, which finds the
    worker's process gone; the run fails, run retries launch it again on the restarted code server."""
    deployment = deployment_factory("worker_killed", monitoring_poll_seconds=2)
    deployment.start_servers()
    deployment.set_pool_limit(0)
    deployment.start_daemon()
    launched = graphql(
        deployment.port,
        """mutation($params: ExecutionParams!) { launchRun(executionParams: $params) {
             __typename ... on LaunchRunSuccess { run { runId } } ... on PythonError { message } } }""",
        {
            "params": {
                "selector": {"repositoryLocationName": "platform", "repositoryName": "__repository__", "jobName": "showback_job"},
                "executionMetadata": {"tags": [{"key": "dagster/partition", "value": PARTITIONS[0]}]},
            }
        },
    )["launchRun"]
    assert launched["__typename"] == "LaunchRunSuccess", launched
    run_id = launched["run"]["runId"]

    with deployment.instance() as instance:
        deployment.wait(lambda: instance.get_run_by_id(run_id).status == dg.DagsterRunStatus.STARTED, 240, "the run did not start")
        pid = deployment.wait(lambda: run_worker_pid(instance, run_id), 30, "the run worker reported no process")
        # the host restarted: the daemon, the code server and its run worker killed (SIGKILL), then
        # restarted, the daemon last, as a supervisor brings them back (a retry needs its code
        # server: Dagster's run retries do not try again when the location is unreachable)
        deployment.kill("daemon")
        deployment.kill("code")  # the code server and its run worker (one process group)
        # SIGKILL to a group is delivered at once but each member dies on its own time: wait for it
        deployment.wait(lambda: not process_alive(pid, None), 10, "the run worker outlived its host's SIGKILL")
        deployment.start_code_server()
        deployment.wait(lambda: locations(deployment.port) == {"platform": "RepositoryLocation"}, 180, "the code server did not come back")
        deployment.start_daemon()
        deployment.set_pool_limit(1)
        failed = deployment.wait(
            lambda: (run := instance.get_run_by_id(run_id)).status == dg.DagsterRunStatus.FAILURE and run,
            120,
            "run monitoring did not fail the run whose worker was killed",
        )
        retry = deployment.wait(
            lambda: [r for r in runs_with_tag(instance, "dagster/parent_run_id", run_id) if r.is_finished],
            240,
            "run retries did not launch the run again",
        )
        messages = [e.message for e in instance.all_logs(run_id) if e.message]
        assert any(f"run worker (process {pid}) is gone" in m for m in messages), "\n".join(messages)
        assert failed.tags.get("dagster/will_retry") == "true"
        assert [r.status for r in retry] == [dg.DagsterRunStatus.SUCCESS]
        assert retry[0].tags["dagster/partition"] == PARTITIONS[0]
        assert materialized_partitions(instance) == Counter([PARTITIONS[0]]), "materialized once, by the retry"
