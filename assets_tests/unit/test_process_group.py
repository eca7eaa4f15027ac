"""``data-platform dev`` stops with every process it started, on Ctrl-C and on SIGTERM.

The stand-in for ``dagster dev`` behaves as the real one does on stop: the leader exits on
SIGINT, but leaves behind children that ignore SIGINT (code servers waiting for a heartbeat
timeout), one of which also ignores SIGTERM. The real ``dagster dev`` is stopped the same way
in the browser suite."""

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from data_platform.process_group import group_members

LEADER = textwrap.dedent(
    """
    import signal, subprocess, sys, time
    folder = sys.argv[1]
    child = "import os, signal, sys, time\\n" \\
        "signal.signal(signal.SIGINT, signal.SIG_IGN)\\n" \\
        "if sys.argv[2] == 'stubborn': signal.signal(signal.SIGTERM, signal.SIG_IGN)\\n" \\
        "open(sys.argv[1], 'w').write(str(os.getpid()))\\n" \\
        "time.sleep(600)\\n"
    for name in ("code_server", "stubborn"):
        subprocess.Popen([sys.executable, "-c", child, f"{folder}/{name}.pid", name])
    def stop(signum, frame):
        time.sleep(0.3)
        sys.exit(0)
    signal.signal(signal.SIGINT, stop)
    time.sleep(600)
    """
)

SUPERVISOR = "import sys; from data_platform.process_group import run_process_group; sys.exit(run_process_group(sys.argv[1:], grace_seconds=2, term_seconds=1))"


def _wait_for(predicate, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_a_signal_stops_the_command_and_every_process_it_started(tmp_path, sig):
    supervisor = subprocess.Popen([sys.executable, "-c", SUPERVISOR, sys.executable, "-c", LEADER, str(tmp_path)])
    try:
        assert _wait_for(lambda: all((tmp_path / f"{n}.pid").exists() for n in ("code_server", "stubborn")), 30)
        time.sleep(0.2)  # the pid files are written before the handlers are set only in theory: give them a beat
        children = [int((tmp_path / f"{n}.pid").read_text()) for n in ("code_server", "stubborn")]
        pgid = os.getpgid(children[0])
        assert pgid != os.getpgid(0), "the command runs in its own process group"
        started = time.monotonic()
        supervisor.send_signal(sig)
        assert supervisor.wait(timeout=10) == 0
        assert time.monotonic() - started < 10
        assert group_members(pgid) == [], "no process of the group is left"
    finally:
        if supervisor.poll() is None:
            supervisor.kill()


def test_a_command_that_exits_on_its_own_returns_its_code_and_leaves_nothing():
    leader = (
        "import os, subprocess, sys; subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)']); "
        "print(os.getpid(), flush=True); sys.exit(3)"
    )
    supervisor = subprocess.run(
        [sys.executable, "-c", SUPERVISOR, sys.executable, "-c", leader], timeout=30, capture_output=True, text=True
    )
    assert supervisor.returncode == 3
    assert group_members(int(supervisor.stdout.strip())) == [], "its child went down with it"
