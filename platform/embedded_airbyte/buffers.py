"""Records on their way to the destination: a buffer file per stream, sealed into chunks, and
the writer thread that loads and commits them in order while the connector is still read."""

from __future__ import annotations

import contextlib
import dataclasses
import queue
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from embedded_airbyte.destination import StreamTarget


@dataclasses.dataclass(frozen=True)
class Chunk:
    """A sealed buffer file of one stream's RECORD lines, waiting to be loaded."""

    path: Path
    first_record: int
    """How many records of the stream this sync sealed before this chunk (numbers its lines in the stage)."""
    runs: tuple[tuple[int, int], ...]
    """The connector's line numbers of the records, as runs (first line, records), to name a bad one."""

    def line_numbers(self) -> Iterator[int]:
        for first, count in self.runs:
            yield from range(first, first + count)


@dataclasses.dataclass
class StreamBuffer:
    """One stream during a read. The reading thread buffers and seals chunks; the writer thread
    commits them and updates ``state`` and the fields after it (read those after ``Writer.finish``)."""

    target: StreamTarget
    folder: Path
    read: int = 0
    buffered: int = 0
    sealed: int = 0
    runs: list[list[int]] = dataclasses.field(default_factory=list)
    state: Mapping[str, Any] | None = None
    committed: int = 0
    superseded: int = 0
    conflicting_keys: int = 0
    conflict_sample: tuple[str, ...] = ()
    # the commit window, kept by the reading thread: what the latest STATE covers and is not committed yet
    covered_state: Mapping[str, Any] | None = None
    """The latest STATE read for the stream (None: none since the last commit was submitted)."""
    covered: int = 0
    """Records read before that STATE: the stream's records 1..covered are what it vouches for."""
    window_bytes: int = 0
    """Bytes of records read since the last commit was submitted."""
    window_opened: float = dataclasses.field(default_factory=time.monotonic)
    waiting: list[Chunk] = dataclasses.field(default_factory=list)
    """An append-only stream's chunks sealed at STATEs since the last commit: loaded only when committed."""

    def __post_init__(self) -> None:
        self.buffer = self._path().open("wb")

    def _path(self) -> Path:
        return self.folder / f"{self.target.name}.{self.sealed}.jsonl"

    def add(self, lines: bytes, first: int, count: int) -> None:
        """Buffer ``count`` RECORD lines that were lines ``first``.. of the connector's output."""
        self.buffer.write(lines)
        if self.runs and self.runs[-1][0] + self.runs[-1][1] == first:
            self.runs[-1][1] += count
        else:
            self.runs.append([first, count])
        self.buffered += count
        self.read += count
        self.window_bytes += len(lines)

    def cover(self, state: Mapping[str, Any] | None) -> None:
        """A STATE for this stream was read: it vouches for every record read so far."""
        self.covered_state, self.covered = state, self.read

    def close_window(self) -> tuple[Mapping[str, Any] | None, list[Chunk]]:
        """The state and waiting chunks of the window, handed to a commit; a new window opens."""
        state, waiting = self.covered_state, self.waiting
        self.covered_state, self.waiting, self.window_bytes, self.window_opened = None, [], 0, time.monotonic()
        return state, waiting

    def seal(self) -> Chunk | None:
        """Close the buffer as a chunk (None when it holds no record) and start the next one."""
        self.buffer.close()
        chunk = None
        if self.buffered:
            chunk = Chunk(self._path(), self.sealed, tuple((first, count) for first, count in self.runs))
            self.sealed, self.buffered, self.runs = self.sealed + self.buffered, 0, []
        self.buffer = self._path().open("wb")
        return chunk

    def close(self) -> None:
        self.buffer.close()


class Writer:
    """Runs the destination's loads and commits on a thread of its own, one at a time, in the
    order they were submitted, while the reading thread goes on reading the connector (DuckDB
    releases the interpreter while it works). At most ``depth`` sealed buffers wait, so a slow
    warehouse slows the read instead of piling buffer files up on disk. After a failure the rest
    is skipped (it came later) and ``on_failure`` runs, to stop the connector so that the reading
    thread hears of it at once.

    Only this thread touches the destination until ``close`` has joined it: the reading thread
    calls ``close`` on every way out, interrupts included."""

    def __init__(self, on_failure: Callable[[], None], depth: int = 4):
        self._queue: queue.Queue[Callable[[], None] | None] = queue.Queue(maxsize=depth)
        self._on_failure = on_failure
        self._closing = False
        self.failure: Exception | None = None
        self._thread = threading.Thread(target=self._run, name="airbyte-destination", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while (work := self._queue.get()) is not None:
            if self.failure is not None or self._closing:
                continue
            try:
                work()
            except Exception as error:  # handed to the reading thread, which raises it
                # (without this frame, whose ``self`` would make the error and the writer a cycle)
                self.failure = error.with_traceback(error.__traceback__.tb_next if error.__traceback__ else None)
                with contextlib.suppress(Exception):
                    self._on_failure()

    def submit(self, work: Callable[[], None]) -> None:
        self.raise_failure()
        self._queue.put(work)

    def raise_failure(self) -> None:
        if self.failure is not None:
            raise self.failure

    def finish(self) -> None:
        """Wait for everything submitted; raise the first failure."""
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join()
        self.raise_failure()

    def close(self) -> None:
        """Skip whatever still waits and join the thread, even when an interrupt arrives meanwhile
        (it is raised once the thread is gone: the destination must not be used by two threads)."""
        self._closing = True
        interrupted: BaseException | None = None
        while self._thread.is_alive():
            try:
                with contextlib.suppress(queue.Full):
                    self._queue.put_nowait(None)
                self._thread.join(timeout=0.1)
            except BaseException as error:  # re-raised below, once the thread is gone
                interrupted = error
        if interrupted is not None:
            raise interrupted
