"""Dagster's default run launcher, plus the health check run monitoring needs on one host.

Outside Kubernetes (``deploy/dagster.yaml``) each run worker is a process the code server starts.
Dagster's ``DefaultRunLauncher`` cannot say whether that process is still alive, so the daemon's
run monitoring skips its runs: a run worker killed by the OOM killer or a reboot leaves its run
*started* for ever, holding its pool slot, and run retries never fire. This launcher answers the
question Dagster's run monitoring asks (``check_run_worker_health``) from the process id the run
worker itself reports with the event that starts the run: gone or a zombie is FAILED, so the
daemon marks the run failed and ``run_retries`` launch it again. On Kubernetes the chart's
``K8sRunLauncher`` answers the same question from the pod.

A run worker on another host (a code server reached over the network) cannot be looked at from
here: it is reported RUNNING, never FAILED on a guess, and left to ``max_runtime_seconds``.

Private names (``WorkerStatus``, ``CheckRunHealthResult``, the gRPC tag) are imported here only:
Dagster exposes run launchers as an extension point but not these types; they are stable since 1.0.
"""

from __future__ import annotations

import json
import socket

import dagster as dg
from dagster._core.launcher.base import CheckRunHealthResult, WorkerStatus
from dagster._core.storage.tags import GRPC_INFO_TAG

from data_platform.dead_runs import process_alive

LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1", "0.0.0.0"}


class HostRunLauncher(dg.DefaultRunLauncher):
    """``DefaultRunLauncher`` that run monitoring can ask about its run workers (same host only)."""

    @property
    def supports_check_run_worker_health(self) -> bool:
        return True

    def check_run_worker_health(self, run: dg.DagsterRun) -> CheckRunHealthResult:
        if not _served_from_this_host(run):
            return CheckRunHealthResult(WorkerStatus.RUNNING, "its run worker runs on another host: not judged from here")
        pid = run_worker_pid(self._instance, run.run_id)
        if pid is None:  # not started yet: run monitoring's start timeout covers a worker that never starts
            return CheckRunHealthResult(WorkerStatus.RUNNING, "its run worker has not reported a process yet")
        if process_alive(pid, None):
            return CheckRunHealthResult(WorkerStatus.RUNNING, run_worker_id=str(pid))
        return CheckRunHealthResult(
            WorkerStatus.FAILED,
            f"its run worker (process {pid}) is gone: killed (SIGKILL, the OOM killer) or its host restarted",
            run_worker_id=str(pid),
        )


def run_worker_pid(instance: dg.DagsterInstance, run_id: str) -> int | None:
    """The process of the run's worker: the one that reported the run started (its latest start).

    Step processes (the multiprocess executor's) report process ids too; they come and go while
    the worker lives, so only the process that emitted RUN_START counts."""
    starts = instance.all_logs(run_id, of_type=dg.DagsterEventType.RUN_START)
    pids = [record.dagster_event.pid for record in starts if record.dagster_event and record.dagster_event.pid]
    return pids[-1] if pids else None


def _served_from_this_host(run: dg.DagsterRun) -> bool:
    info = run.tags.get(GRPC_INFO_TAG)
    if not info:
        return True  # launched in process (no code server)
    grpc = json.loads(info)
    host = grpc.get("host")
    return grpc.get("socket") is not None or host in LOCAL_HOSTS or host == socket.gethostname()
