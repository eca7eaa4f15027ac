"""Run a command as its own process group, and take the whole group down on Ctrl-C or SIGTERM.

``dagster dev`` starts a webserver and a daemon, which start code servers (gRPC), which start
run workers. On SIGINT it stops the webserver and the daemon, but the code servers only exit
when their parent's heartbeat times out, 40-50 s later, and a SIGTERM (a container or a
process manager stopping it) leaves them all behind. ``run_process_group`` starts the command
in a new session, forwards the first SIGINT/SIGTERM to it as SIGINT (its graceful shutdown),
and once the leader has exited or ``grace_seconds`` have passed, terminates whatever is left of
the group (SIGTERM, then SIGKILL after ``term_seconds``). A second signal skips the grace.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

SIGNALS = (signal.SIGINT, signal.SIGTERM)


def run_process_group(
    argv: Sequence[str], *, env: Mapping[str, str] | None = None, grace_seconds: float = 3.0, term_seconds: float = 2.0
) -> int:
    """Run ``argv`` until it exits or this process is signalled; return its exit code, or 0
    when a signal asked for the stop and the group went down."""
    proc = subprocess.Popen(list(argv), env=None if env is None else dict(env), start_new_session=True)
    received: list[int] = []

    def on_signal(signum: int, _frame) -> None:
        received.append(signum)
        if len(received) == 1:
            _send(proc.pid, signal.SIGINT, group=False)
        else:
            _send(proc.pid, signal.SIGKILL, group=True)

    previous = {s: signal.signal(s, on_signal) for s in SIGNALS}
    try:
        deadline = None
        while proc.poll() is None:
            if received and deadline is None:
                deadline = time.monotonic() + grace_seconds
            if deadline is not None and time.monotonic() >= deadline:
                break
            time.sleep(0.05)
        stop_group(proc.pid, term_seconds)
        code = proc.wait()
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
    return 0 if received else code


def stop_group(pgid: int, term_seconds: float = 2.0) -> None:
    """SIGTERM every process left in group ``pgid``, then SIGKILL those still alive after ``term_seconds``."""
    if not group_alive(pgid):
        return
    _send(pgid, signal.SIGTERM, group=True)
    deadline = time.monotonic() + term_seconds
    while group_alive(pgid) and time.monotonic() < deadline:
        time.sleep(0.05)
    if group_alive(pgid):
        _send(pgid, signal.SIGKILL, group=True)


def group_members(pgid: int) -> list[int]:
    """Live (not zombie) processes of group ``pgid``, from ``/proc``: a zombie answers
    ``killpg(pgid, 0)`` until its parent reaps it, and in a container nobody may."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] != "Z" and int(fields[2]) == pgid:
            members.append(int(stat.parent.name))
    return members


def group_alive(pgid: int) -> bool:
    if Path("/proc/self/stat").exists():
        return bool(group_members(pgid))
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def _send(pid: int, sig: int, *, group: bool) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, sig) if group else os.kill(pid, sig)
