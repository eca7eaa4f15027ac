"""The connector as a process: its config written privately, a watchdog for silence, and a stop
that takes its workers with it."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import orjson

from embedded_airbyte.protocol import SyncFailed
from embedded_airbyte.streams import Source


def write_private(path: Path, content: Any) -> str:
    """Connector config can hold secrets: readable by this user only, never logged."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(orjson.dumps(content))
    return str(path)


def kill(proc: subprocess.Popen) -> None:
    """Kill the connector and every process of its group (its workers)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(ProcessLookupError):
        proc.kill()


def stop(proc: subprocess.Popen) -> None:
    kill(proc)
    with contextlib.suppress(Exception):
        proc.wait(timeout=10)


def exit_status_within(proc: subprocess.Popen, seconds: float) -> int | None:
    """The connector's exit status if it ends within ``seconds`` (None: still running)."""
    try:
        return proc.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        return None


def how_it_ended(status: int) -> str:
    """A process's exit status in words: ``was killed by SIGKILL``, ``exited with code 1``."""
    return f"was killed by {signal.Signals(-status).name}" if status < 0 else f"exited with code {status}"


def died_mid_line(where: str, source: Source, status: int, lines: int, failure: Exception) -> SyncFailed:
    """``lines``: the number of the cut line, the last one read."""
    how = how_it_ended(status)
    return SyncFailed(
        f"{where}: source {source.name} {how} after {lines - 1} lines, its last line cut short "
        f"({str(failure).rsplit(': ', 1)[-1]}). "
        "Committed checkpoints and their state are kept; the next sync resumes from them."
    )


class SilenceWatchdog:
    """Stops a source that writes nothing for ``timeout`` seconds: a connector that hangs (a
    deadlocked worker pool, a server that never answers) would otherwise hold the sync, its run and
    the warehouse slot for ever. Airbyte's platform does the same with its heartbeat."""

    def __init__(self, proc: subprocess.Popen, timeout: float):
        self.proc, self.timeout, self.fired = proc, timeout, False
        self.last = time.monotonic()
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="airbyte-silence-watchdog", daemon=True)
        self._thread.start()

    def heard(self) -> None:
        self.last = time.monotonic()

    def _watch(self) -> None:
        while not self._stopped.wait(min(5.0, self.timeout / 4)):
            if self.proc.poll() is not None:
                return
            if time.monotonic() - self.last > self.timeout:
                self.fired = True
                kill(self.proc)
                return

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join(timeout=1)
