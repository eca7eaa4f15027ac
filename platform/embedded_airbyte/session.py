"""One ``read`` of a source connector into the destination: the connector's output scanned,
records buffered per stream, and committed with the STATE that vouches for them.

Commits follow Airbyte's destinations: records are flushed by size or age, not at every STATE
checkpoint, and a commit stores, in the same transaction, the latest STATE its records cover.
Exactly-once needs no more than that: a committed state never lies past its committed records,
and a crash of this process loses at most the open window, which the next sync reads again
from the committed state. A connector that fails (exits, is killed, writes garbage) loses
nothing it checkpointed: the window up to its last STATE commits before the sync fails.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import logging
import subprocess
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from embedded_airbyte.buffers import Chunk, StreamBuffer, Writer
from embedded_airbyte.commits import CommitPolicy
from embedded_airbyte.connector_process import SilenceWatchdog, died_mid_line, exit_status_within, how_it_ended, kill, stop, write_private
from embedded_airbyte.destination import DuckDBDestination, RecordsRejected
from embedded_airbyte.protocol import (
    LOG_LEVELS,
    ProtocolError,
    SyncFailed,
    UnparsableLine,
    check_record,
    described,
    kind_of,
    parse_line,
    pieces,
    state_by_stream,
    tail,
    without_values,
)
from embedded_airbyte.streams import Source, SyncMode


@dataclasses.dataclass(frozen=True)
class ReadSettings:
    batch_size: int
    """A deduplicated or full-refresh stream's buffer is loaded into its stage every this many records."""
    progress_every: int
    silence_timeout: float
    commits: CommitPolicy
    silence_setting: str = "silence_timeout"
    """What the error calls the silence timeout: the setting a user changes."""


class ReadSession:
    """Runs ``read`` once; ``buffers`` (one per stream) hold the figures afterwards."""

    def __init__(
        self,
        connection: str,
        source: Source,
        args: list[str],
        buffers: Mapping[str, StreamBuffer],
        destination: DuckDBDestination,
        sync_id: int,
        settings: ReadSettings,
        log: logging.Logger,
    ):
        self.connection, self.source, self.args = connection, source, args
        self.buffers, self.destination, self.sync_id = buffers, destination, sync_id
        self.settings, self.log = settings, log
        self.where = f"connection {connection!r}"
        self.line = 0
        """The number of the last line read from the connector."""

    # ---- on the writer thread ----------------------------------------------------------
    @contextlib.contextmanager
    def _loading(self, buffer: StreamBuffer, chunks: list[Chunk]) -> Iterator[None]:
        """Around a load of ``chunks``: records DuckDB refused become the error naming the bad
        line; chunks loaded are deleted."""
        try:
            yield
        except RecordsRejected as error:  # raised only for a chunk's records
            raise _bad_record(buffer.target.name, chunks, self.where, error) from None
        for chunk in chunks:
            chunk.path.unlink()

    def _load(self, buffer: StreamBuffer, chunk: Chunk | None) -> None:
        if chunk is not None:
            with self._loading(buffer, [chunk]):
                self.destination.load_buffer(buffer.target, chunk.path, self.sync_id, chunk.first_record)

    def _commit(
        self, buffer: StreamBuffer, waiting: list[Chunk], state: Mapping[str, Any] | None, final: bool, covered: int | None
    ) -> None:
        """Commit the stream's records and ``state`` in one transaction: an append-only stream's
        ``waiting`` chunks, else its stage (after ``covered``, when given, its records are dropped:
        no STATE vouches for them)."""
        target = buffer.target
        if target.spec.sync_mode is SyncMode.INCREMENTAL_APPEND:
            with self._loading(buffer, waiting):
                figures = self.destination.append_checkpoint(target, [c.path for c in waiting], self.sync_id, state)
        else:
            if covered is not None:
                self.destination.discard_after(target, covered)
            figures = self.destination.commit(target, state, final=final)
        buffer.committed += figures.staged
        buffer.superseded += figures.superseded
        buffer.conflicting_keys += figures.conflicting_keys
        buffer.conflict_sample = (*buffer.conflict_sample, *figures.conflict_sample)[:5]
        buffer.state = state

    # ---- on the reading thread ---------------------------------------------------------
    def _buffer(self, buffer: StreamBuffer, lines: bytes, first: int, count: int) -> None:
        before = buffer.read
        buffer.add(lines, first, count)
        if buffer.buffered >= self.settings.batch_size and buffer.target.spec.sync_mode is not SyncMode.INCREMENTAL_APPEND:
            # an append-only stream's buffer stays a file until its commit loads it
            self.writer.submit(functools.partial(self._load, buffer, buffer.seal()))
        every = self.settings.progress_every
        if buffer.read // every > before // every:
            self.log.info("%s.%s: %s records read", self.connection, buffer.target.name, f"{buffer.read:,}")

    def _checkpoint(self, buffer: StreamBuffer, state: Mapping[str, Any] | None) -> None:
        """A STATE for the stream: what is buffered is sealed at it, committed when the window is due."""
        chunk = buffer.seal()
        if buffer.target.spec.sync_mode is SyncMode.INCREMENTAL_APPEND:
            if chunk is not None:
                buffer.waiting.append(chunk)
        else:
            self.writer.submit(functools.partial(self._load, buffer, chunk))
        buffer.cover(state)
        if buffer.target.spec.sync_mode is not SyncMode.FULL_REFRESH_OVERWRITE and self.settings.commits.due(buffer):
            self._submit_window(buffer, covered=None)

    def _submit_window(self, buffer: StreamBuffer, covered: int | None) -> None:
        state, waiting = buffer.close_window()
        self.writer.submit(functools.partial(self._commit, buffer, waiting, state, False, covered))

    def _commit_covered(self) -> None:
        """After a failure: each incremental stream's records up to its last STATE commit with it."""
        for buffer in self.buffers.values():
            if buffer.covered_state is not None and buffer.target.spec.sync_mode is not SyncMode.FULL_REFRESH_OVERWRITE:
                self._submit_window(buffer, covered=buffer.covered)

    def _load_pending(self) -> None:
        """Load every stream's records since its last STATE into its stage, the stream with the
        earliest first, so that a malformed one is named before any later failure. (Those of an
        append-only stream are committed from there only at the end of a successful read.)"""
        for buffer in sorted(self.buffers.values(), key=lambda b: b.runs[0][0] if b.runs else 0):
            self.writer.submit(functools.partial(self._load, buffer, buffer.seal()))
        self.writer.finish()

    def run(self, folder: Path) -> None:
        by_name = {name.encode(): buffer for name, buffer in self.buffers.items()}
        trace_errors: list[str] = []
        with (folder / "stderr.log").open("w+b") as stderr:
            # its own process group: a connector's worker processes (a multiprocessing pool) inherit its
            # stdout, and stopping only the connector would leave them holding the pipe open for ever
            proc = subprocess.Popen(
                [*self.source.command, *self.args], stdout=subprocess.PIPE, stderr=stderr, bufsize=1 << 20, start_new_session=True
            )
            assert proc.stdout is not None
            self.writer = Writer(on_failure=functools.partial(kill, proc))
            watchdog = SilenceWatchdog(proc, self.settings.silence_timeout)
            try:
                try:
                    self._scan(proc, by_name, watchdog, trace_errors)
                except Exception as failure:
                    # a connector killed mid-line (the OOM killer, a SIGKILL) leaves a cut last line:
                    # that is its death, not a protocol error, when it is found dead or failed at once
                    died = exit_status_within(proc, 2.0) if isinstance(failure, UnparsableLine) else None
                    stop(proc)
                    # the checkpoints before the failure commit, and a malformed record before it is named first
                    self._commit_covered()
                    self._load_pending()
                    if died:
                        raise died_mid_line(self.where, self.source, died, self.line, failure) from None
                    raise
                returncode = proc.wait()
                if returncode != 0 or trace_errors:
                    self._commit_covered()
                try:
                    self._load_pending()
                except UnparsableLine as failure:  # a cut RECORD line, buffered unparsed, refused when loaded
                    if returncode:
                        raise died_mid_line(self.where, self.source, returncode, self.line, failure) from None
                    raise
            except BaseException:
                stop(proc)
                raise
            finally:
                watchdog.stop()
                self.writer.close()
                proc.stdout.close()
            stderr.seek(0)
            stderr_tail = tail(stderr.read().decode(errors="replace"))
        if returncode != 0 or trace_errors:
            how = how_it_ended(returncode)
            if watchdog.fired:
                how = f"wrote nothing for {self.settings.silence_timeout:g} s ({self.settings.silence_setting}) and was stopped"
            pending = {name: b.read - b.committed for name, b in self.buffers.items() if b.read > b.committed}
            raise SyncFailed(
                f"{self.where}: source {self.source.name} {how} after {self.line} lines"
                + (f"; it reported: {' | '.join(trace_errors)}" if trace_errors else "")
                + (f"; stderr: {stderr_tail}" if stderr_tail else "")
                + (f". Discarded records read after the last checkpoint: {pending}" if pending else "")
                + ". Committed checkpoints and their state are kept; the next sync resumes from them."
            )
        self._finish()

    def _scan(
        self, proc: subprocess.Popen, by_name: Mapping[bytes, StreamBuffer], watchdog: SilenceWatchdog, trace_errors: list[str]
    ) -> None:
        assert proc.stdout is not None
        for first, line, stream_name, count in pieces(proc.stdout, by_name):
            watchdog.heard()
            self.writer.raise_failure()
            self.line = number = first + count - 1
            # fast path: a run of RECORDs of one stream in the canonical shape goes to its buffer
            # unparsed; DuckDB parses each line once when the buffer loads, and a bad one is named then
            if stream_name is not None:
                self._buffer(by_name[stream_name], line, first, count)
                continue
            message = parse_line(line, number, self.where)
            kind = message.get("type")
            if kind == "RECORD":
                record = message.get("record")
                stream = record.get("stream") if isinstance(record, dict) else None
                buffer = self.buffers.get(stream) if isinstance(stream, str) else None
                if buffer is None:
                    raise ProtocolError(
                        f"{self.where}: line {number} is a RECORD for stream {stream!r}, which is not in the configured "
                        f"catalog ({sorted(self.buffers)}): {described(line)}"
                    )
                check_record(record, number, self.where, stream, line)  # type: ignore[arg-type]
                self._buffer(buffer, line, number, 1)
            elif kind == "STATE":
                for stream, stream_state in state_by_stream(message, number, self.where, self.buffers):
                    self._checkpoint(self.buffers[stream], stream_state)
            elif kind == "LOG":
                log = message.get("log") or {}
                self.log.log(LOG_LEVELS.get(log.get("level"), logging.INFO), "%s: %s", self.source.name, log.get("message"))
            elif kind == "TRACE":
                trace = message.get("trace") or {}
                if trace.get("type") == "ERROR":
                    trace_errors.append(str((trace.get("error") or {}).get("message")))
            elif kind not in ("CONTROL", "SPEC", "CATALOG", "CONNECTION_STATUS"):
                raise ProtocolError(f"{self.where}: line {number} has unknown message type {kind_of(kind)}: {described(line)}")

    def _finish(self) -> None:
        """The source finished: every stream's records commit with its latest state, those after
        the last STATE (a connector that checkpoints before its records, or never) included; reading
        them again next time repeats nothing (deduplicated streams keep one version per key, append
        streams never append a row they hold)."""
        for buffer in self.buffers.values():
            trailing = buffer.read - buffer.covered
            mode = buffer.target.spec.sync_mode
            if trailing > 0 and mode is not SyncMode.FULL_REFRESH_OVERWRITE:
                self.log.warning(
                    "%s.%s: %d records after the last STATE message are committed without a new checkpoint "
                    "(the next sync may read them again; the destination absorbs the repeat)",
                    self.connection,
                    buffer.target.name,
                    trailing,
                )
            state, waiting = buffer.close_window()
            state = state if state is not None else buffer.state
            if mode is SyncMode.INCREMENTAL_APPEND:
                if waiting:
                    self._commit(buffer, waiting, state, False, None)
                figures = self.destination.append_checkpoint(buffer.target, [], self.sync_id, state, from_stage=True)
                buffer.committed += figures.staged
                buffer.superseded += figures.superseded
                buffer.state = state
            else:
                self._commit(buffer, [], state, True, None)


def _bad_record(stream: str, chunks: list[Chunk], where: str, error: Exception) -> SyncFailed:
    """The error for buffers DuckDB refused: a protocol error naming the first line Python's checks
    reject by the connector's line number, or, when every line passes them, DuckDB's own message
    with the lines the buffers held."""
    for chunk in chunks:
        with chunk.path.open("rb") as lines:
            for line, number in zip(lines, chunk.line_numbers(), strict=False):
                try:
                    message = parse_line(line, number, where)
                    check_record(message.get("record") or {}, number, where, stream, line)
                except ProtocolError as found:
                    return found
    runs = [run for chunk in chunks for run in chunk.runs]
    lines = f"lines {runs[0][0]}-{runs[-1][0] + runs[-1][1] - 1}" if runs else "no line"
    return SyncFailed(f"{where}, stream {stream!r}: the warehouse could not load the records of {lines}: {without_values(str(error))}")


def read_args(folder: Path, config: Mapping[str, Any], catalog: Mapping[str, Any], state: list[dict[str, Any]]) -> list[str]:
    """``read``'s arguments; the files (config may hold secrets) readable by this user only."""
    args = ["read", "--config", write_private(folder / "config.json", config), "--catalog", write_private(folder / "catalog.json", catalog)]
    if state:
        args += ["--state", write_private(folder / "state.json", state)]
    return args
