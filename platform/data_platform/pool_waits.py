"""Say what a run of this process waits for, while it waits.

A step of the warehouse pool waits while another run holds the pool's slot (locally the limit is
1: DuckDB has one writer). Dagster records that once, then every five minutes, in the run's event
log; a terminal running ``data-platform run`` would show a command that looks hung. This thread
prints, every few seconds while a step of this process waits, which step waits for which pool,
which run holds the slot and whether that run's process is alive, and how to stop; and a Ctrl-C
or SIGTERM that comes while it only waits stops it (``_stop_waiting``).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable

import dagster as dg

from data_platform.automation.domain_chain import LAUNCHED_BY_TAG
from data_platform.dead_runs import HOST_TAG, PID_TAG, process_alive


def interrupted() -> bool:
    """Whether Ctrl-C or SIGTERM came during a Dagster execution. Dagster captures the signal and
    raises it only at its next step boundary; a step queued on a pool never reaches one. Dagster
    offers no public way to ask, hence its private flag here, in this one place."""
    from dagster._utils.interrupts import check_captured_interrupt

    return check_captured_interrupt()


class PoolWaitAnnouncer:
    def __init__(self, instance: dg.DagsterInstance, pool: str, *, every: float = 10.0, say: Callable[[str], None] = print):
        self.instance, self.pool, self.every, self.say = instance, pool, every, say
        self._stop = threading.Event()
        self._mine: dict[str, bool] = {}
        self._thread = threading.Thread(target=self._watch, name="pool-wait-announcer", daemon=True)

    def __enter__(self) -> PoolWaitAnnouncer:
        self._thread.start()
        return self

    def __exit__(self, *_) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _watch(self) -> None:
        waiting_since: float | None = None
        last_said = 0.0
        while not self._stop.wait(1.0):
            try:
                info = self.instance.event_log_storage.get_concurrency_info(self.pool)
            except Exception:  # the storage is busy or closing: ask again next second
                continue
            waiting = [p for p in info.pending_steps if p.assigned_timestamp is None and self._is_mine(p.run_id)]
            holding = any(self._is_mine(slot.run_id) for slot in info.claimed_slots)
            if waiting and not holding and interrupted():
                self._stop_waiting({p.run_id for p in waiting})
            if not waiting:
                waiting_since = None
                continue
            now = time.monotonic()
            waiting_since = waiting_since or now
            if now - waiting_since >= 3 and now - last_said >= self.every:
                last_said = now
                self.say(self._message(waiting[0].step_key, now - waiting_since, info.claimed_slots))

    def _stop_waiting(self, run_ids: set[str]) -> None:
        """Ctrl-C or SIGTERM while this process's steps only wait: Dagster's in-process executor
        keeps the signal for its next step and would wait on; nothing of this process is in a
        step of the pool, so its runs are marked failed, their queued claims withdrawn, and the
        process ends (143, as for SIGTERM)."""
        for run_id in sorted(run_ids):
            run = self.instance.get_run_by_id(run_id)
            if run is not None and not run.is_finished:
                self.instance.report_run_failed(run, message=f"stopped by a signal while waiting for a slot of pool '{self.pool}'")
            self.instance.event_log_storage.free_concurrency_slots_for_run(run_id)
        self.say(f"stopped while waiting for a slot of pool '{self.pool}': run(s) {', '.join(sorted(run_ids))} marked failed")
        os._exit(143)

    def _is_mine(self, run_id: str) -> bool:
        if run_id not in self._mine:
            run = self.instance.get_run_by_id(run_id)
            self._mine[run_id] = bool(run and run.tags.get(PID_TAG) == str(os.getpid()))
        return self._mine[run_id]

    def _message(self, step: str, seconds: float, claimed) -> str:
        holders = []
        for slot in claimed:
            run = self.instance.get_run_by_id(slot.run_id)
            tags = run.tags if run else {}
            pid = tags.get(PID_TAG)
            alive = "" if not pid else (f", process {pid} alive" if process_alive(pid, tags.get(HOST_TAG)) else f", process {pid} gone")
            launched = tags.get(LAUNCHED_BY_TAG) or (run.job_name if run else "?")
            holders.append(f"run {slot.run_id} ({launched}, step {slot.step_key}{alive})")
        held = "; ".join(holders) or "no run (the slot is being handed over)"
        return (
            f"waiting {seconds:.0f} s: step {step} needs a slot of pool '{self.pool}', held by {held}. "
            "It goes on when that run ends; Ctrl-C or SIGTERM stops this command."
        )
