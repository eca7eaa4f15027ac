"""End to end with a real Dagster instance: `dagster dev` (webserver + daemon) runs a 7-day backfill."""

from __future__ import annotations

import datetime as dt
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

import dagster as dg
import pytest

from data_platform.environment import REPO_ROOT

DAILY_ASSETS = [
    ["trusted", "fct_orders"], ["trusted", "fct_order_lines"], ["trusted", "fct_web_events"],
    ["marts", "mart_daily_gmv"], ["marts", "mart_merchant_commission"], ["marts", "mart_web_funnel"], ["marts", "mart_marketing_roas"],
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def graphql(port: int, query: str, variables: dict | None = None) -> dict:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql", data=json.dumps({"query": query, "variables": variables or {}}).encode(), headers={"content-type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        body = json.load(response)
    assert "errors" not in body, body
    return body["data"]


@pytest.mark.e2e
def test_a_backfill_launched_on_a_running_instance_materializes_every_partition_once(tmp_path):
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(REPO_ROOT / "platform" / "data_platform" / "instance" / "dagster.yaml", home / "dagster.yaml")
    env = {**os.environ, "DAGSTER_HOME": str(home), "DATA_PLATFORM_DATA_DIR": str(tmp_path / "data"), "DATA_PLATFORM_SIM_SCALE": "0.3"}
    # raw data and the unpartitioned models the daily ones read
    prepared = subprocess.run([sys.executable, "-m", "data_platform.cli", "run"], env=env, capture_output=True, text=True, timeout=900, cwd=REPO_ROOT)
    assert prepared.returncode == 0, prepared.stdout[-2000:]

    port = free_port()
    dagster = os.path.join(os.path.dirname(sys.executable), "dagster")
    server = subprocess.Popen(
        [dagster, "dev", "-w", str(REPO_ROOT / "workspace.yaml"), "-p", str(port)],
        env=env, cwd=REPO_ROOT, stdout=open(tmp_path / "dagster_dev.log", "w"), stderr=subprocess.STDOUT, start_new_session=True,
    )
    try:
        deadline = time.time() + 180
        while True:
            try:
                if graphql(port, "{ version }")["version"]:
                    break
            except Exception:
                if time.time() > deadline or server.poll() is not None:
                    raise AssertionError("dagster dev did not come up:\n" + (tmp_path / "dagster_dev.log").read_text()[-3000:])
                time.sleep(2)
        today = dt.datetime.now(dt.timezone.utc).date()
        partitions = [(today - dt.timedelta(days=d)).isoformat() for d in range(7, 0, -1)]
        launched = graphql(
            port,
            """mutation($params: LaunchBackfillParams!) { launchPartitionBackfill(backfillParams: $params) {
                 __typename ... on LaunchBackfillSuccess { backfillId } ... on PythonError { message } ... on InvalidSubsetError { message } } }""",
            {"params": {"assetSelection": [{"path": p} for p in DAILY_ASSETS], "partitionNames": partitions}},
        )["launchPartitionBackfill"]
        assert launched["__typename"] == "LaunchBackfillSuccess", launched
        backfill_id = launched["backfillId"]

        deadline = time.time() + 600
        while True:
            status = graphql(port, "query($id: String!) { partitionBackfillOrError(backfillId: $id) { ... on PartitionBackfill { status } } }", {"id": backfill_id})[
                "partitionBackfillOrError"
            ]["status"]
            if status not in ("REQUESTED", "CANCELING"):
                break
            assert time.time() < deadline, f"backfill still {status} after 10 minutes"
            time.sleep(3)
        assert status in ("COMPLETED", "COMPLETED_SUCCESS"), status
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
            assert in_backfill == Counter(partitions), f"{'/'.join(path)}: {in_backfill}"
