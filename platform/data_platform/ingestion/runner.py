"""Embedded Airbyte: run Airbyte-protocol source connectors as subprocesses into DuckDB.

This is the local stand-in for an Airbyte server. Like Airbyte, it runs the connector's
``discover`` then ``read`` with a configured catalog and the saved state, reads one JSON
message per line from the connector's stdout, and lets the destination commit records
only together with the STATE checkpoint that follows them. Any Python connector that speaks
the protocol runs the same way (``airbyte-source-faker`` is tested like this).

Throughput: the connector's output is read in blocks, and a run of one stream's RECORD lines
goes to that stream's buffer file in one write (no Python step per record); DuckDB parses each
line once when the buffer loads. Loads and commits run on a writer thread, in order, while the
reading thread goes on reading, so the connector, the reader and DuckDB work at the same time.

Failure handling: a connector that exits non-zero, is killed, reports a TRACE error, or
writes a line that is not a valid protocol message fails the sync. Whatever was not yet
checkpointed is discarded; committed checkpoints (data and state together) stay, so the next
sync resumes from the last one and nothing is lost or duplicated.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import functools
import logging
import os
import queue
import re
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

import orjson

from data_platform.ingestion.connections import ConnectionSpec, EmbeddedSource, StreamSpec, SyncMode
from data_platform.ingestion.connector_venvs import install_connector
from data_platform.ingestion.destination import DuckDBDestination, RecordsRejected, StreamTarget
from data_platform.ingestion.schema import Column, SchemaChange, columns_from_json_schema, schema_changes

DEFAULT_BATCH_SIZE = 50_000


DEFAULT_SILENCE_TIMEOUT = 3600.0
"""Seconds a source may write nothing before it is stopped (a slow API page, a large query's first row)."""


class SyncFailed(RuntimeError):
    """A sync did not complete. Committed checkpoints are kept; everything after them was discarded."""


class ProtocolError(SyncFailed):
    """The connector wrote something that is not a valid Airbyte protocol message."""


class UnparsableLine(ProtocolError):
    """A line that is not JSON: a connector's bug, or the last line of one killed while writing it."""


class ConnectorCheckFailed(SyncFailed):
    """The connector's ``check`` reported that it cannot reach its source."""


@dataclasses.dataclass(frozen=True)
class StreamSyncResult:
    connection: str
    namespace: str
    stream: str
    sync_mode: SyncMode
    records_synced: int
    rows_in_table: int
    duration_seconds: float
    cursor: Mapping[str, Any] | None
    columns: tuple[Column, ...]
    schema_drift: tuple[SchemaChange, ...]
    records_superseded: int = 0
    """Records sent but not inserted: older versions of a key (deduplicated streams)."""
    conflicting_keys: int = 0
    conflict_sample: tuple[str, ...] = ()

    @property
    def table(self) -> str:
        return f"{self.namespace}.{self.stream}"


@dataclasses.dataclass(frozen=True)
class SyncResult:
    connection: str
    sync_id: int
    streams: Mapping[str, StreamSyncResult]
    duration_seconds: float

    @property
    def records_synced(self) -> int:
        return sum(s.records_synced for s in self.streams.values())


@dataclasses.dataclass(frozen=True)
class _Chunk:
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
class _StreamProgress:
    """One stream during a read. The reading thread buffers and seals chunks; the writer thread
    commits them and updates ``state`` and the fields after it (read those after ``_Writer.finish``)."""

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

    def seal(self) -> _Chunk | None:
        """Close the buffer as a chunk (None when it holds no record) and start the next one."""
        self.buffer.close()
        chunk = None
        if self.buffered:
            chunk = _Chunk(self._path(), self.sealed, tuple((first, count) for first, count in self.runs))
            self.sealed, self.buffered, self.runs = self.sealed + self.buffered, 0, []
        self.buffer = self._path().open("wb")
        return chunk

    def close(self) -> None:
        self.buffer.close()


class _Writer:
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


class EmbeddedAirbyte:
    """Runs connector commands; one instance per warehouse file."""

    def __init__(
        self,
        warehouse_path: Path | str,
        *,
        batch_size: int = DEFAULT_BATCH_SIZE,
        logger: logging.Logger | None = None,
        progress_every: int = 250_000,
        connector_cache: Path | str | None = None,
        silence_timeout: float = DEFAULT_SILENCE_TIMEOUT,
    ):
        self.warehouse_path = Path(warehouse_path)
        self.connector_cache = Path(connector_cache) if connector_cache else self.warehouse_path.parent / "connectors"
        """Where PyPI connectors are installed, one virtual environment each."""
        self.batch_size = batch_size
        self.log = logger or logging.getLogger("data_platform.ingestion")
        self.progress_every = progress_every
        self.silence_timeout = silence_timeout
        """A source that writes nothing for this long is stopped and the sync fails naming it (Airbyte's heartbeat)."""

    def command(self, source: EmbeddedSource) -> tuple[str, ...]:
        """The connector's command; a PyPI connector is installed into its own virtual environment first."""
        if source.pypi:
            return (str(install_connector(source.pypi, source.command[0], self.connector_cache)),)
        return source.command

    # ---- spec / check / discover ------------------------------------------------------
    def spec(self, source: EmbeddedSource) -> dict[str, Any]:
        return self._single_message(source, ["spec"], None, "SPEC")["spec"]

    def check(self, source: EmbeddedSource, config: Mapping[str, Any]) -> None:
        status = self._single_message(source, ["check"], config, "CONNECTION_STATUS")["connectionStatus"]
        if status.get("status") != "SUCCEEDED":
            raise ConnectorCheckFailed(f"{_name(source)} check failed: {status.get('message')}")

    def discover(self, source: EmbeddedSource, config: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
        catalog = self._single_message(source, ["discover"], config, "CATALOG")["catalog"]
        return {stream["name"]: stream for stream in catalog.get("streams", [])}

    def _single_message(self, source: EmbeddedSource, command: list[str], config: Mapping[str, Any] | None, wanted: str) -> dict[str, Any]:
        with tempfile.TemporaryDirectory(prefix="airbyte-") as tmp:
            args = list(command)
            if config is not None:
                args += ["--config", _write_private(Path(tmp) / "config.json", config)]
            proc = subprocess.run([*self.command(source), *args], capture_output=True, timeout=600)
        found, errors = None, []
        for number, line in enumerate(proc.stdout.splitlines(), 1):
            message = _parse_line(line, number, f"{_name(source)} {command[0]}")
            if message.get("type") == wanted and found is None:
                found = message
            elif message.get("type") == "TRACE" and message["trace"].get("type") == "ERROR":
                errors.append(message["trace"]["error"].get("message", ""))
        if proc.returncode != 0 or found is None:
            detail = "; ".join(errors) or _tail(proc.stderr.decode(errors="replace"))
            raise SyncFailed(f"{_name(source)} {command[0]} failed (exit code {proc.returncode}): {detail}")
        return found

    # ---- read ------------------------------------------------------------------------
    def sync(
        self,
        connection: ConnectionSpec,
        config: Mapping[str, Any],
        streams: Sequence[str] | None = None,
    ) -> SyncResult:
        """Sync ``streams`` (default: all) of ``connection``."""
        started = time.perf_counter()
        started_at = dt.datetime.now(dt.UTC)
        source = dataclasses.replace(connection.embedded_source, command=self.command(connection.embedded_source), pypi=None)
        specs = [connection.stream(name) for name in streams] if streams else list(connection.streams)
        discovered = self.discover(source, config)
        targets, drift = {}, {}
        for spec in specs:
            if spec.name not in discovered:
                raise SyncFailed(
                    f"connection {connection.name!r}: the source offers no stream {spec.name!r} (it offers {sorted(discovered)})"
                )
            found_columns = columns_from_json_schema(discovered[spec.name].get("json_schema", {}))
            drift[spec.name] = (
                tuple(schema_changes({c.name: c.type for c in spec.columns}, {c.name: c.type for c in found_columns}))
                if spec.columns
                else ()
            )
            for difference in drift[spec.name]:
                self.log.warning("%s.%s schema drift: %s", connection.name, spec.name, difference.message)
            targets[spec.name] = StreamTarget(connection.name, connection.destination_namespace, spec, spec.columns or tuple(found_columns))
        catalog = {"streams": [configured_stream(discovered[name], t.spec) for name, t in targets.items()]}

        destination = DuckDBDestination(self.warehouse_path)
        try:
            sync_id = destination.next_sync_id()
            for target in targets.values():
                destination.prepare(target)
            state = destination.stored_state(connection.name, list(targets.values()))
            with tempfile.TemporaryDirectory(prefix=f"airbyte-{connection.name}-") as tmp:
                folder = Path(tmp)
                progress = {name: _StreamProgress(t, folder, state=destination.stream_state(t)) for name, t in targets.items()}
                try:
                    self._read(connection, source, config, catalog, state, folder, progress, destination, sync_id)
                except BaseException as error:
                    for item in progress.values():
                        item.close()
                        destination.drop_stage(item.target)
                        destination.record_run(
                            sync_id,
                            item.target,
                            started_at,
                            "failed",
                            item.read,
                            item.committed,
                            None,
                            destination.stream_state(item.target),
                            str(error)[:2000],
                        )
                    raise
            results = {}
            for name, item in progress.items():
                item.close()
                destination.drop_stage(item.target)
                rows = destination.row_count(item.target)
                destination.record_run(sync_id, item.target, started_at, "succeeded", item.read, item.committed, rows, item.state, None)
                results[name] = StreamSyncResult(
                    connection=connection.name,
                    namespace=connection.destination_namespace,
                    stream=name,
                    sync_mode=item.target.spec.sync_mode,
                    records_synced=item.committed,
                    rows_in_table=rows,
                    duration_seconds=time.perf_counter() - started,
                    cursor=item.state if item.target.spec.sync_mode is not SyncMode.FULL_REFRESH_OVERWRITE else None,
                    columns=item.target.columns,
                    schema_drift=drift[name],
                    records_superseded=item.superseded,
                    conflicting_keys=item.conflicting_keys,
                    conflict_sample=item.conflict_sample,
                )
            return SyncResult(connection.name, sync_id, results, time.perf_counter() - started)
        finally:
            destination.close()

    def _read(
        self,
        connection: ConnectionSpec,
        source: EmbeddedSource,
        config: Mapping[str, Any],
        catalog: Mapping[str, Any],
        state: list[dict[str, Any]],
        folder: Path,
        progress: dict[str, _StreamProgress],
        destination: DuckDBDestination,
        sync_id: int,
    ) -> None:
        args = [
            "read",
            "--config",
            _write_private(folder / "config.json", config),
            "--catalog",
            _write_private(folder / "catalog.json", catalog),
        ]
        if state:
            args += ["--state", _write_private(folder / "state.json", state)]
        where = f"connection {connection.name!r}"

        @contextlib.contextmanager
        def loading(item: _StreamProgress, chunk: _Chunk | None) -> Iterator[None]:
            """Around a load of ``chunk``: records DuckDB refused become the error naming the bad
            line; a chunk loaded is deleted."""
            try:
                yield
            except RecordsRejected as error:  # raised only for a chunk's records
                raise _bad_record(item.target.name, chunk, where, error) from None  # type: ignore[arg-type]
            if chunk is not None:
                chunk.path.unlink()

        def load(item: _StreamProgress, chunk: _Chunk | None) -> None:
            if chunk is not None:
                with loading(item, chunk):
                    destination.load_buffer(item.target, chunk.path, sync_id, chunk.first_record)

        def commit(item: _StreamProgress, chunk: _Chunk | None, stream_state: Mapping[str, Any] | None, final: bool) -> None:
            if item.target.spec.sync_mode is SyncMode.INCREMENTAL_APPEND:
                with loading(item, chunk):
                    figures = destination.append_checkpoint(item.target, chunk.path if chunk else None, sync_id, stream_state)
            else:
                load(item, chunk)
                figures = destination.commit(item.target, stream_state, final=final)
            item.committed += figures.staged
            item.superseded += figures.superseded
            item.conflicting_keys += figures.conflicting_keys
            item.conflict_sample = (*item.conflict_sample, *figures.conflict_sample)[:5]
            item.state = stream_state

        def buffer(item: _StreamProgress, lines: bytes, first: int, count: int) -> None:
            before = item.read
            item.add(lines, first, count)
            if item.buffered >= self.batch_size and item.target.spec.sync_mode is not SyncMode.INCREMENTAL_APPEND:
                # an append-only stream's buffer stays a file until its checkpoint loads it
                chunk = item.seal()
                writer.submit(functools.partial(load, item, chunk))
            if item.read // self.progress_every > before // self.progress_every:
                self.log.info("%s.%s: %s records read", connection.name, item.target.name, f"{item.read:,}")

        def load_pending() -> None:
            """Load every stream's records since its last checkpoint into its stage, the stream with
            the earliest first, so that a malformed one is named before any later failure. (Those of
            an append-only stream are never committed from there: no STATE covers them.)"""
            for item in sorted(progress.values(), key=lambda i: i.runs[0][0] if i.runs else 0):
                writer.submit(functools.partial(load, item, item.seal()))
            writer.finish()

        by_name = {name.encode(): item for name, item in progress.items()}
        trace_errors: list[str] = []
        with (folder / "stderr.log").open("w+b") as stderr:
            # its own process group: a connector's worker processes (a multiprocessing pool) inherit its
            # stdout, and stopping only the connector would leave them holding the pipe open for ever
            proc = subprocess.Popen(
                [*source.command, *args], stdout=subprocess.PIPE, stderr=stderr, bufsize=1 << 20, start_new_session=True
            )
            assert proc.stdout is not None
            writer = _Writer(on_failure=functools.partial(_kill, proc))
            watchdog = _SilenceWatchdog(proc, self.silence_timeout)
            number = 0
            try:
                try:
                    for first, line, stream_name, count in _pieces(proc.stdout, by_name):
                        watchdog.heard()
                        writer.raise_failure()
                        number = first + count - 1
                        # fast path: a run of RECORDs of one stream in the canonical shape goes to its buffer
                        # unparsed; DuckDB parses each line once when the buffer loads, and a bad one is named then
                        if stream_name is not None:
                            buffer(by_name[stream_name], line, first, count)
                            continue
                        message = _parse_line(line, number, where)
                        kind = message.get("type")
                        if kind == "RECORD":
                            record = message.get("record")
                            stream = record.get("stream") if isinstance(record, dict) else None
                            item = progress.get(stream) if isinstance(stream, str) else None
                            if item is None:
                                raise ProtocolError(
                                    f"{where}: line {number} is a RECORD for stream {stream!r}, which is not in the configured "
                                    f"catalog ({sorted(progress)}): {_described(line)}"
                                )
                            _check_record(record, number, where, stream, line)
                            buffer(item, line, number, 1)
                        elif kind == "STATE":
                            for stream, stream_state in _state_by_stream(message, number, where, progress):
                                item, chunk = progress[stream], progress[stream].seal()
                                writer.submit(functools.partial(commit, item, chunk, stream_state, False))
                        elif kind == "LOG":
                            log = message.get("log") or {}
                            self.log.log(_LOG_LEVELS.get(log.get("level"), logging.INFO), "%s: %s", _name(source), log.get("message"))
                        elif kind == "TRACE":
                            trace = message.get("trace") or {}
                            if trace.get("type") == "ERROR":
                                trace_errors.append(str((trace.get("error") or {}).get("message")))
                        elif kind not in ("CONTROL", "SPEC", "CATALOG", "CONNECTION_STATUS"):
                            raise ProtocolError(f"{where}: line {number} has unknown message type {_kind(kind)}: {_described(line)}")
                except Exception as failure:
                    # a connector killed mid-line (the OOM killer, a SIGKILL) leaves a cut last line:
                    # that is its death, not a protocol error, when it is found dead or failed at once
                    died = _exit_status_within(proc, 2.0) if isinstance(failure, UnparsableLine) else None
                    _stop(proc)
                    # the checkpoints before the failure commit, and a malformed record before it is named first
                    load_pending()
                    if died:
                        raise _died_mid_line(where, source, died, number, failure) from None
                    raise
                returncode = proc.wait()
                try:
                    load_pending()
                except UnparsableLine as failure:  # a cut RECORD line, buffered unparsed, refused when loaded
                    if returncode:
                        raise _died_mid_line(where, source, returncode, number, failure) from None
                    raise
            except BaseException:
                _stop(proc)
                raise
            finally:
                watchdog.stop()
                writer.close()
                proc.stdout.close()
            stderr.seek(0)
            stderr_tail = _tail(stderr.read().decode(errors="replace"))
        if returncode != 0 or trace_errors:
            how = f"was killed by {signal.Signals(-returncode).name}" if returncode < 0 else f"exited with code {returncode}"
            if watchdog.fired:
                how = f"wrote nothing for {self.silence_timeout:g} s (DATA_PLATFORM_CONNECTOR_SILENCE_SECONDS) and was stopped"
            pending = {name: item.read - item.committed for name, item in progress.items() if item.read > item.committed}
            raise SyncFailed(
                f"{where}: source {_name(source)} {how} after {number} lines"
                + (f"; it reported: {' | '.join(trace_errors)}" if trace_errors else "")
                + (f"; stderr: {stderr_tail}" if stderr_tail else "")
                + (f". Discarded records read after the last checkpoint: {pending}" if pending else "")
                + ". Committed checkpoints and their state are kept; the next sync resumes from them."
            )
        # records after the last STATE (a connector that checkpoints before its records, or never):
        # committed with the last state, not discarded; reading them again next time repeats nothing
        # (deduplicated streams keep one version per key, append streams never append a row they hold)
        for item in progress.values():
            trailing = item.read - item.committed
            if trailing > 0 and item.target.spec.sync_mode is not SyncMode.FULL_REFRESH_OVERWRITE:
                self.log.warning(
                    "%s.%s: %d records after the last STATE message are committed without a new checkpoint "
                    "(the next sync may read them again; the destination absorbs the repeat)",
                    connection.name,
                    item.target.name,
                    trailing,
                )
            if item.target.spec.sync_mode is SyncMode.INCREMENTAL_APPEND:
                figures = destination.append_checkpoint(item.target, None, sync_id, item.state, from_stage=True)
                item.committed += figures.staged
                item.superseded += figures.superseded
            else:
                commit(item, None, item.state, final=True)


_LOG_LEVELS = {
    "FATAL": logging.CRITICAL,
    "ERROR": logging.ERROR,
    "WARN": logging.WARNING,
    "INFO": logging.INFO,
    "DEBUG": logging.DEBUG,
    "TRACE": logging.DEBUG,
}


def _parse_line(line: bytes, number: int, where: str) -> dict[str, Any]:
    try:
        message = orjson.loads(line)
    except orjson.JSONDecodeError as error:
        raise UnparsableLine(f"{where}: line {number} is not valid JSON ({_json_error(error)}): {_described(line)}") from None
    if not isinstance(message, dict) or not isinstance(message.get("type"), str):
        raise ProtocolError(f"{where}: line {number} is not an Airbyte message (no 'type'): {_described(line)}")
    return message


_RECORD_PREFIX = b'{"type":"RECORD","record":{"stream":"'
"""How Airbyte's CDK (and most connectors) start a RECORD line: the stream's name follows."""
_PREFIX_LENGTH = len(_RECORD_PREFIX)
_READ_SIZE = 1 << 20


class _SilenceWatchdog:
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
                _kill(self.proc)
                return

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join(timeout=1)


def _pieces(output: IO[bytes], streams: Collection[bytes]) -> Iterator[tuple[int, bytes, bytes | None, int]]:
    """The connector's output as (first line number, bytes, stream, lines) pieces, without a
    Python step per record: a run of consecutive lines that start like a RECORD of one of
    ``streams`` is one piece (a regular expression finds where the run ends), every other line
    is a piece of its own with stream None. Each piece ends with a newline (the last line of the
    output gets one)."""
    run_end = {name: re.compile(b"\n(?!" + re.escape(_RECORD_PREFIX + name + b'"') + b")") for name in streams}
    number, carried = 0, []  # the start of a line the blocks read so far have not ended
    while True:
        block = output.read1(_READ_SIZE)  # type: ignore[attr-defined]
        if not block:
            if not carried:
                return
            data, carried = b"".join(carried) + b"\n", []
        else:
            last = block.rfind(b"\n")
            if last < 0:  # a line longer than a block: keep its parts, searching only new blocks
                carried.append(block)
                continue
            data = b"".join([*carried, block[: last + 1]]) if carried else block[: last + 1]
            carried = [block[last + 1 :]] if last + 1 < len(block) else []
        end = len(data)
        position = 0
        while position < end:
            if data.startswith(_RECORD_PREFIX, position):
                quote = data.find(b'"', position + _PREFIX_LENGTH, end)
                pattern = run_end.get(data[position + _PREFIX_LENGTH : quote]) if quote > 0 else None
                if pattern is not None:
                    stop = pattern.search(data, position, end).end()  # type: ignore[union-attr]
                    count = data.count(b"\n", position, stop)
                    yield number + 1, data[position:stop], data[position + _PREFIX_LENGTH : quote], count
                    number += count
                    position = stop
                    continue
            stop = data.index(b"\n", position, end) + 1
            number += 1
            yield number, data[position:stop], None, 1
            position = stop


def _check_record(record: Mapping[str, Any], number: int, where: str, stream: str, line: bytes) -> None:
    if not isinstance(record.get("data"), dict) or not isinstance(record.get("emitted_at"), int | float):
        raise ProtocolError(
            f"{where}, stream {stream!r}: line {number} is a malformed RECORD "
            f"(it needs an object 'data' and a numeric 'emitted_at'; its 'data' is {_json_type(record.get('data'))}, its 'emitted_at' "
            f"{_json_type(record.get('emitted_at'))}): {_described(line)}"
        )


def _bad_record(stream: str, chunk: _Chunk, where: str, error: Exception) -> SyncFailed:
    """The error for a buffer DuckDB refused: a protocol error naming the first line Python's checks
    reject by the connector's line number, or, when every line passes them, DuckDB's own message
    with the lines the buffer held."""
    with chunk.path.open("rb") as lines:
        for line, number in zip(lines, chunk.line_numbers(), strict=False):
            try:
                message = _parse_line(line, number, where)
                _check_record(message.get("record") or {}, number, where, stream, line)
            except ProtocolError as found:
                return found
    lines = f"lines {chunk.runs[0][0]}-{chunk.runs[-1][0] + chunk.runs[-1][1] - 1}" if chunk.runs else "no line"
    return SyncFailed(f"{where}, stream {stream!r}: the warehouse could not load the records of {lines}: {_without_values(str(error))}")


def _state_by_stream(message: Mapping[str, Any], number: int, where: str, progress: Mapping[str, _StreamProgress]) -> list[tuple[str, Any]]:
    state = message.get("state") or {}
    kind = state.get("type", "LEGACY")
    if kind == "STREAM":
        descriptor = (state.get("stream") or {}).get("stream_descriptor") or {}
        pairs = [(descriptor.get("name"), (state.get("stream") or {}).get("stream_state"))]
    elif kind == "GLOBAL":
        pairs = [
            (s["stream_descriptor"]["name"], {"shared_state": state["global"].get("shared_state"), **(s.get("stream_state") or {})})
            for s in (state.get("global") or {}).get("stream_states", [])
        ]
    else:
        raise ProtocolError(f"{where}: line {number} is a {_kind(kind)} state message; only STREAM and GLOBAL states are supported")
    for stream, _ in pairs:
        if stream not in progress:
            raise ProtocolError(f"{where}: line {number} is a STATE for stream {stream!r}, which is not in the configured catalog")
    return pairs


def configured_stream(discovered: Mapping[str, Any], spec: StreamSpec) -> dict[str, Any]:
    configured: dict[str, Any] = {
        "stream": discovered,
        "sync_mode": spec.sync_mode.source_sync_mode,
        "destination_sync_mode": spec.sync_mode.destination_sync_mode,
    }
    if spec.cursor_field:
        configured["cursor_field"] = [spec.cursor_field]
    if spec.primary_key:
        configured["primary_key"] = [[k] for k in spec.primary_key]
    return configured


def _write_private(path: Path, content: Any) -> str:
    """Connector config can hold secrets: readable by this user only, never logged."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(orjson.dumps(content))
    return str(path)


def _kill(proc: subprocess.Popen) -> None:
    """Kill the connector and every process of its group (its workers)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(ProcessLookupError):
        proc.kill()


def _stop(proc: subprocess.Popen) -> None:
    _kill(proc)
    with contextlib.suppress(Exception):
        proc.wait(timeout=10)


def _described(line: bytes) -> str:
    """What a line is, never what it holds: a record's values may be personal data, and an error
    travels to Dagster's event log, alerts and ``sync_runs``."""
    kind = re.match(rb'\s*\{\s*"type"\s*:\s*"([A-Z_]{1,30})"', line)
    size = len(line.rstrip(b"\n"))
    return f"{size:,} bytes" + (f", a {kind[1].decode()} message" if kind else "") + " (its content is not shown)"


def _died_mid_line(where: str, source: EmbeddedSource, status: int, lines: int, failure: Exception) -> SyncFailed:
    """``lines``: the number of the cut line, the last one read."""
    how = f"was killed by {signal.Signals(-status).name}" if status < 0 else f"exited with code {status}"
    return SyncFailed(
        f"{where}: source {_name(source)} {how} after {lines - 1} lines, its last line cut short "
        f"({str(failure).rsplit(': ', 1)[-1]}). "
        "Committed checkpoints and their state are kept; the next sync resumes from them."
    )


def _exit_status_within(proc: subprocess.Popen, seconds: float) -> int | None:
    """The connector's exit status if it ends within ``seconds`` (None: still running)."""
    try:
        return proc.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        return None


def _kind(kind: object) -> str:
    """A message type as the connector sent it, when it looks like one (else it could be data)."""
    return repr(kind) if isinstance(kind, str) and re.fullmatch(r"[A-Za-z_]{1,30}", kind) else f"of {_json_type(kind)}"


def _json_type(value: object) -> str:
    return {dict: "an object", list: "an array", str: "a string", bool: "a boolean", type(None): "missing or null"}.get(
        type(value), "a number" if isinstance(value, int | float) else type(value).__name__
    )


def _json_error(error: Exception) -> str:
    """orjson's reason and position (line, column, byte), which name no content."""
    return str(error).split(": line ")[0] + (f" at byte {error.pos} of the line" if isinstance(getattr(error, "pos", None), int) else "")


_QUOTED = re.compile(r"'[^'\n]*'")


def _without_values(message: str) -> str:
    """A warehouse error without the values it quotes (DuckDB names the value it could not convert,
    and a JSON reader its input): kept are the reason, the column and the position."""
    message = re.split(r"\bInput:", message)[0].strip()
    return _QUOTED.sub("<value withheld>", message)


def _tail(text: str, lines: int = 5) -> str:
    return " / ".join(text.strip().splitlines()[-lines:])


def _name(source: EmbeddedSource) -> str:
    command = list(source.command)
    if len(command) >= 3 and command[1] == "-m":
        return command[2].rsplit(".", 1)[-1]
    return Path(command[0]).name if command else "source"
