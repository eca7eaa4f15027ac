"""A run whose process was killed (SIGKILL, the OOM killer) releases what it held: the next
``data-platform run`` marks it failed and frees its warehouse pool slot, and says so."""

from __future__ import annotations

import socket
import subprocess
import sys

import dagster as dg
import pytest

from data_platform.dead_runs import HOST_TAG, PID_TAG, release_dead_runs


@pytest.fixture
def instance():
    with dg.instance_for_test() as instance:
        instance.event_log_storage.set_concurrency_slots("warehouse", 1)
        yield instance


def dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def started_run(instance, run_id: str, pid: int, host: str | None = None) -> dg.DagsterRun:
    run = dg.DagsterRun(
        job_name="commerce_end_to_end",
        run_id=run_id,
        status=dg.DagsterRunStatus.STARTED,
        tags={PID_TAG: str(pid), HOST_TAG: host or socket.gethostname()},
    )
    instance.add_run(run)
    instance.event_log_storage.claim_concurrency_slot("warehouse", run_id, "airbyte_shop_db")
    return run


def test_a_run_whose_process_is_gone_is_marked_failed_and_its_pool_slot_freed(instance):
    started_run(instance, "killed-run", dead_pid())
    (released,) = release_dead_runs(instance)
    assert released.run_id == "killed-run" and "is gone" in released.reason
    assert instance.get_run_by_id("killed-run").status == dg.DagsterRunStatus.FAILURE
    assert instance.event_log_storage.get_concurrency_info("warehouse").claimed_slots == []


def test_a_run_whose_process_is_alive_is_left_alone(instance):
    import os

    started_run(instance, "running", os.getpid())
    assert release_dead_runs(instance) == []
    assert instance.get_run_by_id("running").status == dg.DagsterRunStatus.STARTED


def test_a_run_of_another_host_is_left_to_dagsters_run_monitoring(instance):
    started_run(instance, "elsewhere", dead_pid(), host="another-host")
    assert release_dead_runs(instance) == []
