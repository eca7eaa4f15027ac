"""``data-platform run`` never waits in silence: while the warehouse pool's slot is held by a live
run of another process, it says every few seconds which step waits, for which pool, held by which
run, and SIGTERM stops it at once."""

from __future__ import annotations

import os
import selectors
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import dagster as dg

from data_platform.automation.domain_chain import LAUNCHED_BY_TAG
from data_platform.cli import INSTANCE_TEMPLATE
from data_platform.dead_runs import HOST_TAG, PID_TAG

from ..support.fixture_domains import fixture_environment

DATA_PLATFORM = str(Path(sys.executable).with_name("data-platform"))


def hold_the_warehouse_slot(home: Path) -> str:
    """A run of another live process (this test's) holding the pool's only slot, as a
    ``data-platform dev`` run mid-step would."""
    with dg.DagsterInstance.from_config(str(home)) as instance:
        run_id = str(uuid.uuid4())
        tags = {PID_TAG: str(os.getpid()), HOST_TAG: socket.gethostname(), LAUNCHED_BY_TAG: "the UI"}
        instance.add_run(dg.DagsterRun(job_name="shop_end_to_end", run_id=run_id, status=dg.DagsterRunStatus.STARTED, tags=tags))
        instance.event_log_storage.initialize_concurrency_limit_to_default("warehouse")
        claimed = instance.event_log_storage.claim_concurrency_slot("warehouse", run_id, "airbyte_shop_files")
        assert claimed.is_claimed
        return run_id


def test_a_run_waiting_for_the_warehouse_slot_says_who_holds_it_and_stops_on_sigterm(tmp_path):
    environment = {**os.environ, **fixture_environment(tmp_path, ("shop",))}
    environment.pop("DAGSTER_HOME", None)
    home = tmp_path / "data" / "dagster_home"
    home.mkdir(parents=True)
    (home / "dagster.yaml").write_text(INSTANCE_TEMPLATE.read_text())
    holder = hold_the_warehouse_slot(home)
    command = subprocess.Popen([DATA_PLATFORM, "run"], env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    said, deadline = [], time.monotonic() + 180
    with selectors.DefaultSelector() as selector:
        selector.register(command.stdout, selectors.EVENT_READ)
        while time.monotonic() < deadline and command.poll() is None:
            if selector.select(timeout=1) and (line := command.stdout.readline()):
                said.append(line)
                if line.startswith("waiting "):
                    break
    waiting = [line for line in said if line.startswith("waiting ")]
    assert waiting, "".join(said)[-3000:]
    assert f"held by run {holder} (the UI" in waiting[0] and "process " in waiting[0] and "alive" in waiting[0], waiting[0]
    assert "needs a slot of pool 'warehouse'" in waiting[0] and "SIGTERM stops this command" in waiting[0]
    command.send_signal(signal.SIGTERM)
    started = time.monotonic()
    command.wait(timeout=30)
    assert time.monotonic() - started < 15, "SIGTERM stops it"
    assert command.returncode != 0
    assert "stopped while waiting for a slot of pool 'warehouse'" in command.stdout.read()
    with dg.DagsterInstance.from_config(str(home)) as instance:
        stopped = [r for r in instance.get_runs() if r.run_id != holder]
        assert stopped and all(r.status == dg.DagsterRunStatus.FAILURE for r in stopped), "its run says it was stopped"
        assert instance.event_log_storage.get_concurrency_info("warehouse").active_run_ids == {holder}, "the holder keeps its slot"
