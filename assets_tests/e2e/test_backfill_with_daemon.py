"""End to end with a real Dagster instance: ``dagster dev`` (webserver + daemon) loads the local
code location from ``workspace.yaml`` and runs a 7-day backfill of the daily models, launched
through the webserver's GraphQL API as the UI does."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from pathlib import Path

import dagster as dg

from data_platform.environment import REPO_ROOT

from ..support.platforms import Platform, build_platform, shared_build, shared_root

DAILY_ASSETS = [
    ["trusted", "fct_orders"], ["trusted", "fct_order_lines"], ["trusted", "fct_web_events"],
    ["marts", "mart_daily_gmv"], ["marts", "mart_merchant_commission"], ["marts", "mart_web_funnel"], ["marts", "mart_marketing_roas"],
]  # fmt: skip
PARTITIONS = [f"2026-10-{day}" for day in range(13, 20)]
"""Seven days inside the built platform's simulated history."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def graphql(port: int, query: str, variables: dict | None = None) -> dict:
    body = json.dumps({"query": query, "variables": variables or {}}).encode()
    request = urllib.request.Request(f"http://127.0.0.1:{port}/graphql", data=body, headers={"content-type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        answer = json.load(response)
    assert "errors" not in answer, answer
    return answer["data"]


def wait_for(condition, timeout: float, what: str, server: subprocess.Popen, log: Path, interval: float = 0.5):
    """Poll ``condition`` until it is truthy; fail at once, with the log's tail, if dagster dev exits."""
    deadline = time.monotonic() + timeout
    while True:
        if server.poll() is not None:
            raise AssertionError(f"dagster dev exited with {server.returncode}:\n{log.read_text()[-3000:]}")
        try:
            if value := condition():
                return value
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} after {timeout:.0f} s:\n{log.read_text()[-3000:]}")
        time.sleep(interval)


def test_a_backfill_launched_on_a_running_instance_materializes_every_partition_once(tmp_path_factory, tmp_path):
    data = tmp_path / "data"
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(REPO_ROOT / "platform" / "data_platform" / "instance" / "dagster.yaml", home / "dagster.yaml")
    env = {**os.environ, "DAGSTER_HOME": str(home), "DATA_PLATFORM_DATA_DIR": str(data), "DATA_PLATFORM_SIM_SCALE": "0.3"}
    port = free_port()
    log = tmp_path / "dagster_dev.log"
    dagster = os.path.join(os.path.dirname(sys.executable), "dagster")
    with log.open("w") as out:
        server = subprocess.Popen(
            [dagster, "dev", "-w", str(REPO_ROOT / "workspace.yaml"), "-p", str(port)],
            env=env, cwd=REPO_ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    try:
        # while dagster dev starts: the raw data and the unpartitioned models the daily ones read
        built = Platform(shared_build(shared_root(tmp_path_factory), "built_platform", build_platform))
        built.copy(data)
        wait_for(lambda: graphql(port, "{ version }")["version"], 180, "dagster dev did not answer", server, log)
        launched = graphql(
            port,
            """mutation($params: LaunchBackfillParams!) { launchPartitionBackfill(backfillParams: $params) {
                 __typename ... on LaunchBackfillSuccess { backfillId } ... on PythonError { message } ... on InvalidSubsetError { message } } }""",
            {"params": {"assetSelection": [{"path": p} for p in DAILY_ASSETS], "partitionNames": PARTITIONS}},
        )["launchPartitionBackfill"]
        assert launched["__typename"] == "LaunchBackfillSuccess", launched
        backfill_id = launched["backfillId"]
        query = "query($id: String!) { partitionBackfillOrError(backfillId: $id) { ... on PartitionBackfill { status } } }"

        def finished() -> str | None:
            status = graphql(port, query, {"id": backfill_id})["partitionBackfillOrError"]["status"]
            return None if status in ("REQUESTED", "CANCELING") else status

        assert wait_for(finished, 600, "the backfill did not finish", server, log, interval=1) in ("COMPLETED", "COMPLETED_SUCCESS")
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=60)

    with dg.DagsterInstance.from_config(str(home)) as instance:
        runs = instance.get_run_records(dg.RunsFilter(tags={"dagster/backfill": backfill_id}))
        assert len(runs) == 1, "a range of partitions is one run (single-run backfill policy)"
        assert runs[0].dagster_run.status == dg.DagsterRunStatus.SUCCESS
        for path in DAILY_ASSETS:
            records = instance.fetch_materializations(dg.AssetRecordsFilter(asset_key=dg.AssetKey(path)), limit=1000).records
            in_backfill = Counter(r.partition_key for r in records if r.run_id == runs[0].dagster_run.run_id)
            assert in_backfill == Counter(PARTITIONS), f"{'/'.join(path)}: {in_backfill}"
