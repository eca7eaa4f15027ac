"""What a process killed mid-run leaves behind, released before the next run.

``data-platform run`` executes its runs in its own process. Killed with SIGKILL (the OOM
killer, a reboot), it cannot end them: they stay *started* for ever, and the warehouse pool's
only local slot stays claimed, so every later run waits for it. Each run the command makes
carries its process id and host (``platform/pid``, ``platform/host``); before running, the
command marks the runs whose process is gone as failed and frees the pool slots they held, and
frees slots still held by runs that have finished. Runs launched by the daemon are Dagster's run
monitoring's to judge (``run_monitoring`` in the instance's ``dagster.yaml``).
"""

from __future__ import annotations

import dataclasses
import os
import socket

import dagster as dg

PID_TAG = "platform/pid"
HOST_TAG = "platform/host"


def process_tags() -> dict[str, str]:
    """Tags naming this process, for the runs it executes itself."""
    return {PID_TAG: str(os.getpid()), HOST_TAG: socket.gethostname()}


@dataclasses.dataclass(frozen=True)
class Released:
    run_id: str
    reason: str


def release_dead_runs(instance: dg.DagsterInstance) -> list[Released]:
    """Mark this host's runs whose process is gone as failed, and free the pool slots held by runs
    that are not running any more; what was released, and why."""
    released = []
    candidates = {r.dagster_run.run_id: r.dagster_run for r in instance.get_run_records(dg.RunsFilter(statuses=UNFINISHED))}
    for run_id in instance.event_log_storage.get_concurrency_run_ids():
        if run_id not in candidates:
            run = instance.get_run_by_id(run_id)
            if run is None or run.is_finished:
                instance.event_log_storage.free_concurrency_slots_for_run(run_id)
                released.append(Released(run_id, "it had finished but still held a pool slot"))
    for run in candidates.values():
        pid, host = run.tags.get(PID_TAG), run.tags.get(HOST_TAG)
        if not pid or host != socket.gethostname() or _alive(int(pid)):
            continue
        instance.report_run_failed(run, message=f"its process {pid} is gone (killed: SIGKILL, the OOM killer or a reboot)")
        instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
        released.append(Released(run.run_id, f"its process {pid} is gone; marked failed and its pool slots freed"))
    return released


def process_alive(pid: str | int, host: str | None) -> bool:
    """Whether the process a run's tags name is alive (a process of another host: assumed so)."""
    return host not in (None, socket.gethostname()) or _alive(int(pid))


UNFINISHED = [dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.NOT_STARTED, dg.DagsterRunStatus.CANCELING]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return not _zombie(pid)


def _zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return False
