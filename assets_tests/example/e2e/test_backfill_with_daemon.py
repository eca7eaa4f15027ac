"""End to end with a real Dagster instance: the webserver and the daemon load the domains' code
locations from ``workspace.yaml`` and run a 3-day backfill of the daily models of both domains
(growth's ROAS reads commerce's orders across locations), launched through the webserver's
GraphQL API as the UI does."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import dagster as dg

from data_platform.settings import REPO_ROOT

from ...support.live_dagster import free_port, graphql, wait_for

DAILY_ASSETS_BY_DOMAIN = {
    "commerce": [
        ["trusted", "fct_orders"],
        ["trusted", "fct_order_lines"],
        ["marts", "mart_daily_gmv"],
        ["marts", "mart_merchant_commission"],
    ],
    "growth": [["trusted", "fct_web_events"], ["marts", "mart_web_funnel"], ["marts", "mart_marketing_roas"]],
}
"""One backfill per domain, as an operator launches them from each domain's code location. (One
backfill across both fails in Dagster 1.13: its daemon groups a single-run backfill's partitions
by partitions definition and policy, not by code location, and submits both domains' assets as
one run to one location; see the README, "Partitions, backfills".)"""
DAILY_ASSETS = [path for paths in DAILY_ASSETS_BY_DOMAIN.values() for path in paths]
PARTITIONS = [f"2026-10-{day}" for day in range(13, 16)]
"""Three days inside the built platform's simulated history ."""


def test_a_backfill_launched_on_a_running_instance_materializes_every_partition_once(built_platform, tmp_path):
    """The webserver and the daemon as deployed: two processes on one instance, both loading
    ``workspace.yaml``. The backfill is requested from the webserver before the daemon starts, so
    the daemon's first iteration (it wakes every 30 s) picks it up."""
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(REPO_ROOT / "platform" / "data_platform" / "instance" / "dagster.yaml", home / "dagster.yaml")
    data = tmp_path / "data"
    env = {**os.environ, "DAGSTER_HOME": str(home), "DATA_PLATFORM_DATA_DIR": str(data), "DATA_PLATFORM_SIM_SCALE": "0.3"}
    port = free_port()
    workspace = str(REPO_ROOT / "workspace.yaml")
    log = tmp_path / "dagster.log"
    bin_dir = Path(sys.executable).parent
    servers: list[subprocess.Popen] = []

    def start(*command: str) -> None:
        with log.open("a") as out:
            servers.append(subprocess.Popen(command, env=env, cwd=REPO_ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True))

    try:
        start(str(bin_dir / "dagster-webserver"), "-w", workspace, "-h", "127.0.0.1", "-p", str(port))
        built_platform.copy(data)  # raw data and the unpartitioned models the daily ones read
        loaded = """{ workspaceOrError { ... on Workspace { locationEntries { locationOrLoadError { __typename } } } } }"""

        def code_location_loaded() -> bool:
            entries = graphql(port, loaded)["workspaceOrError"]["locationEntries"]
            return len(entries) == Path(workspace).read_text().count("location_name:") and all(
                e["locationOrLoadError"]["__typename"] == "RepositoryLocation" for e in entries
            )

        wait_for(code_location_loaded, 120, "the webserver did not load the code location", servers, log)
        backfill_ids = []
        for paths in DAILY_ASSETS_BY_DOMAIN.values():
            launched = graphql(
                port,
                """mutation($params: LaunchBackfillParams!) { launchPartitionBackfill(backfillParams: $params) {
                     __typename ... on LaunchBackfillSuccess { backfillId } ... on PythonError { message } ... on InvalidSubsetError { message } } }""",
                {"params": {"assetSelection": [{"path": p} for p in paths], "partitionNames": PARTITIONS}},
            )["launchPartitionBackfill"]
            assert launched["__typename"] == "LaunchBackfillSuccess", launched
            backfill_ids.append(launched["backfillId"])
        start(str(bin_dir / "dagster-daemon"), "run", "-w", workspace)
        query = """query($id: String!) { runsOrError(filter: {tags: [{key: "dagster/backfill", value: $id}]}) {
                     ... on Runs { results { runId status } } } }"""

        def finished_runs() -> list[dict]:
            runs = [graphql(port, query, {"id": backfill_id})["runsOrError"]["results"] for backfill_id in backfill_ids]
            if all(runs) and all(r["status"] in ("SUCCESS", "FAILURE", "CANCELED") for domain_runs in runs for r in domain_runs):
                return [r for domain_runs in runs for r in domain_runs]
            return []

        runs = wait_for(finished_runs, 300, "the backfill's run did not finish", servers, log, interval=1)
    finally:
        for server in servers:
            os.killpg(server.pid, signal.SIGTERM)
        for server in servers:
            server.wait(timeout=60)

    assert [r["status"] for r in runs] == ["SUCCESS", "SUCCESS"], (
        "each domain's range of partitions is one run (single-run backfill policy)"
    )
    backfill_runs = {r["runId"] for r in runs}
    with dg.DagsterInstance.from_config(str(home)) as instance:
        for path in DAILY_ASSETS:
            records = instance.fetch_materializations(dg.AssetRecordsFilter(asset_key=dg.AssetKey(path)), limit=1000).records
            in_backfill = Counter(r.partition_key for r in records if r.run_id in backfill_runs)
            assert in_backfill == Counter(PARTITIONS), f"{'/'.join(path)}: {in_backfill}"
