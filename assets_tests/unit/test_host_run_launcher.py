"""``HostRunLauncher`` answers run monitoring's question about a run's worker: FAILED only when
the worker's process is known, on this host, and gone; never on a guess. (The whole path, under
the daemon on Postgres, is ``e2e/test_postgres_deployment.py``.)"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import dagster as dg
import pytest
from dagster._core.launcher.base import WorkerStatus  # the status type run monitoring reads; private in Dagster
from dagster._core.storage.tags import GRPC_INFO_TAG

from data_platform.instance import run_launcher
from data_platform.instance.run_launcher import HostRunLauncher


@pytest.fixture
def launcher(tmp_path):
    with dg.instance_for_test(temp_dir=str(tmp_path)) as instance:
        launcher = HostRunLauncher()
        launcher.register_instance(instance)
        yield launcher


def a_run(launcher, host: str) -> dg.DagsterRun:
    return dg.DagsterRun(job_name="j", run_id="r1", tags={GRPC_INFO_TAG: json.dumps({"host": host, "port": 4000})})


def gone_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_run_monitoring_can_ask_it():
    assert HostRunLauncher().supports_check_run_worker_health


def test_a_worker_whose_process_is_gone_is_failed_naming_the_process(launcher, monkeypatch):
    pid = gone_pid()
    monkeypatch.setattr(run_launcher, "run_worker_pid", lambda instance, run_id: pid)
    result = launcher.check_run_worker_health(a_run(launcher, "localhost"))
    assert result.status == WorkerStatus.FAILED and f"process {pid}" in result.msg


def test_a_worker_alive_is_running(launcher, monkeypatch):
    monkeypatch.setattr(run_launcher, "run_worker_pid", lambda instance, run_id: os.getpid())
    assert launcher.check_run_worker_health(a_run(launcher, "127.0.0.1")).status == WorkerStatus.RUNNING


def test_a_worker_on_another_host_is_never_failed_on_a_guess(launcher, monkeypatch):
    monkeypatch.setattr(run_launcher, "run_worker_pid", lambda instance, run_id: gone_pid())
    result = launcher.check_run_worker_health(a_run(launcher, "code-server.other-host.internal"))
    assert result.status == WorkerStatus.RUNNING and "another host" in result.msg


def test_a_worker_that_has_not_reported_its_process_yet_is_left_to_the_start_timeout(launcher, monkeypatch):
    monkeypatch.setattr(run_launcher, "run_worker_pid", lambda instance, run_id: None)
    assert launcher.check_run_worker_health(a_run(launcher, "localhost")).status == WorkerStatus.RUNNING
