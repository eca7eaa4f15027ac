"""``data-platform run`` killed with SIGKILL mid-ingestion (the OOM killer, a reboot): the next
run completes, and says which run it released and that its warehouse pool slot was freed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from data_platform.settings import REPO_ROOT

AS_OF = "2026-10-20T12:00:00Z"


def test_a_run_killed_mid_ingestion_leaves_nothing_stuck(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"}
    env.update(
        DATA_PLATFORM_DATA_DIR=str(tmp_path),
        DATA_PLATFORM_SIM_SCALE="0.2",
        DATA_PLATFORM_SIM_HISTORY_DAYS="3",
        DATA_PLATFORM_SIM_AS_OF=AS_OF,
    )
    log = tmp_path / "killed.log"
    with log.open("w") as out:
        first = subprocess.Popen(
            [sys.executable, "-m", "data_platform.cli", "run"], env=env, stdout=out, stderr=subprocess.STDOUT, cwd=REPO_ROOT
        )
        deadline = time.monotonic() + 240
        while "airbyte_shop_db - raw_shop." not in log.read_text():  # the shop sync is under way
            assert first.poll() is None and time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.2)
        first.send_signal(signal.SIGKILL)  # no handler runs: the run stays "started", its pool slot claimed
        first.wait()
    again = subprocess.run(
        [sys.executable, "-m", "data_platform.cli", "run"], env=env, capture_output=True, text=True, timeout=280, cwd=REPO_ROOT
    )
    assert again.returncode == 0, (again.stdout + again.stderr)[-3000:]
    assert "marked failed and its pool slots freed" in again.stdout
    assert "run succeeded" in again.stdout
