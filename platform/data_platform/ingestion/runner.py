"""Embedded Airbyte: run Airbyte-protocol source connectors as subprocesses into DuckDB.

This is the local stand-in for an Airbyte server. Like Airbyte, it runs the connector's
``discover`` then ``read`` with a configured catalog and the saved state, reads one JSON
message per line from the connector's stdout, and lets the destination commit records
only together with the STATE checkpoint that follows them. Any Python connector that speaks
the protocol runs the same way (``airbyte-source-faker`` is tested like this).

Failure handling: a connector that exits non-zero, is killed, reports a TRACE error, or
writes a line that is not a valid protocol message fails the sync. Whatever was not yet
checkpointed is discarded; committed checkpoints (data and state together) stay, so the next
sync resumes from the last one and nothing is lost or duplicated.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import logging
import os
import signal
import subprocess
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, Any

import duckdb
import orjson

from data_platform.ingestion.connections import ConnectionSpec, EmbeddedSource, StreamSpec, SyncMode
from data_platform.ingestion.connector_venvs import install_connector
from data_platform.ingestion.destination import DuckDBDestination, StreamTarget
from data_platform.ingestion.schema import Column, SchemaChange, columns_from_json_schema, schema_changes

DEFAULT_BATCH_SIZE = 50_000
_SNIPPET = 300


class SyncFailed(RuntimeError):
    """A sync did not complete. Committed checkpoints are kept; everything after them was discarded."""


class ProtocolError(SyncFailed):
    """The connector wrote something that is not a valid Airbyte protocol message."""


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


@dataclasses.dataclass
class _StreamProgress:
    target: StreamTarget
    buffer_path: Path
    buffer: IO[bytes]
    buffered: int = 0
    lines: list[int] = dataclasses.field(default_factory=list)
    """The connector's line number of each buffered record (to name a bad one)."""
    loaded: int = 0
    read: int = 0
    committed: int = 0
    superseded: int = 0
    conflicting_keys: int = 0
    conflict_sample: tuple[str, ...] = ()
    state: Mapping[str, Any] | None = None


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
    ):
        self.warehouse_path = Path(warehouse_path)
        self.connector_cache = Path(connector_cache) if connector_cache else self.warehouse_path.parent / "connectors"
        """Where PyPI connectors are installed, one virtual environment each."""
        self.batch_size = batch_size
        self.log = logger or logging.getLogger("data_platform.ingestion")
        self.progress_every = progress_every

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
        catalog = {"streams": [_configured_stream(discovered[name], t.spec) for name, t in targets.items()]}

        destination = DuckDBDestination(self.warehouse_path)
        try:
            sync_id = destination.next_sync_id()
            for target in targets.values():
                destination.prepare(target)
            state = destination.stored_state(connection.name, list(targets.values()))
            with tempfile.TemporaryDirectory(prefix=f"airbyte-{connection.name}-") as tmp:
                folder = Path(tmp)
                progress = {
                    name: _StreamProgress(
                        t, folder / f"{name}.jsonl", (folder / f"{name}.jsonl").open("wb"), state=destination.stream_state(t)
                    )
                    for name, t in targets.items()
                }
                try:
                    self._read(connection, source, config, catalog, state, folder, progress, destination, sync_id)
                except BaseException as error:
                    for item in progress.values():
                        item.buffer.close()
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

        def load(item: _StreamProgress) -> None:
            item.buffer.close()
            if item.buffered:
                try:
                    destination.load_buffer(item.target, item.buffer_path, sync_id, item.loaded)
                except duckdb.Error as error:
                    raise _bad_record(item, where, error) from None
                item.loaded += item.buffered
                item.buffered = 0
                item.lines.clear()
            item.buffer = item.buffer_path.open("wb")

        def checkpoint(item: _StreamProgress, stream_state: Mapping[str, Any] | None, final: bool = False) -> None:
            load(item)
            figures = destination.commit(item.target, stream_state, final=final)
            item.committed += figures.staged
            item.superseded += figures.superseded
            item.conflicting_keys += figures.conflicting_keys
            item.conflict_sample = (*item.conflict_sample, *figures.conflict_sample)[:5]
            item.state = stream_state

        def buffer(item: _StreamProgress, line: bytes, number: int) -> None:
            item.buffer.write(line)
            item.lines.append(number)
            item.buffered += 1
            item.read += 1
            if item.buffered >= self.batch_size:
                load(item)
            if item.read % self.progress_every == 0:
                self.log.info("%s.%s: %s records read", connection.name, item.target.name, f"{item.read:,}")

        by_name = {name.encode(): item for name, item in progress.items()}
        trace_errors: list[str] = []
        with (folder / "stderr.log").open("w+b") as stderr:
            proc = subprocess.Popen([*source.command, *args], stdout=subprocess.PIPE, stderr=stderr, bufsize=1 << 20)
            assert proc.stdout is not None
            number = 0
            try:
                for number, line in enumerate(proc.stdout, 1):
                    # fast path: a RECORD in the canonical shape goes to its stream's buffer unparsed;
                    # DuckDB parses it once when the buffer loads, and a bad one is named then
                    if line.startswith(_RECORD_PREFIX):
                        item = by_name.get(line[_PREFIX_LENGTH : line.find(b'"', _PREFIX_LENGTH)])
                        if item is not None:
                            buffer(item, line, number)
                            continue
                    message = _parse_line(line, number, where)
                    kind = message.get("type")
                    if kind == "RECORD":
                        record = message.get("record")
                        stream = record.get("stream") if isinstance(record, dict) else None
                        item = progress.get(stream) if isinstance(stream, str) else None
                        if item is None:
                            raise ProtocolError(
                                f"{where}: line {number} is a RECORD for stream {stream!r}, which is not in the configured catalog "
                                f"({sorted(progress)}): {_snippet(line)}"
                            )
                        _check_record(record, number, where, stream, line)
                        buffer(item, line, number)
                    elif kind == "STATE":
                        for stream, stream_state in _state_by_stream(message, number, where, progress):
                            checkpoint(progress[stream], stream_state)
                    elif kind == "LOG":
                        log = message.get("log") or {}
                        self.log.log(_LOG_LEVELS.get(log.get("level"), logging.INFO), "%s: %s", _name(source), log.get("message"))
                    elif kind == "TRACE":
                        trace = message.get("trace") or {}
                        if trace.get("type") == "ERROR":
                            trace_errors.append(str((trace.get("error") or {}).get("message")))
                    elif kind not in ("CONTROL", "SPEC", "CATALOG", "CONNECTION_STATUS"):
                        raise ProtocolError(f"{where}: line {number} has unknown message type {kind!r}: {_snippet(line)}")
            except BaseException:
                _stop(proc)
                raise
            returncode = proc.wait()
            for item in progress.values():  # a malformed record is named before any other failure, as if parsed on arrival
                load(item)
            stderr.seek(0)
            stderr_tail = _tail(stderr.read().decode(errors="replace"))
        if returncode != 0 or trace_errors:
            how = f"was killed by {signal.Signals(-returncode).name}" if returncode < 0 else f"exited with code {returncode}"
            pending = {name: item.read - item.committed for name, item in progress.items() if item.read > item.committed}
            raise SyncFailed(
                f"{where}: source {_name(source)} {how} after {number} lines"
                + (f"; it reported: {' | '.join(trace_errors)}" if trace_errors else "")
                + (f"; stderr: {stderr_tail}" if stderr_tail else "")
                + (f". Discarded records read after the last checkpoint: {pending}" if pending else "")
                + ". Committed checkpoints and their state are kept; the next sync resumes from them."
            )
        # an append-only stream cannot take records that no STATE covers: the next sync would read
        # them again from the old state and append them a second time
        uncovered = {
            name: item.read - item.committed
            for name, item in progress.items()
            if item.target.spec.sync_mode is SyncMode.INCREMENTAL_APPEND and item.read > item.committed
        }
        if uncovered:
            raise SyncFailed(
                f"{where}: source {_name(source)} emitted records with no STATE message after them, for incremental append "
                f"stream(s) {uncovered}: committing them would duplicate them on the next sync, so they were discarded. "
                "Committed checkpoints are kept; the connector must emit a STATE after its records."
            )
        for item in progress.values():
            if item.target.spec.sync_mode is SyncMode.INCREMENTAL_APPEND_DEDUP and item.read > item.committed:
                self.log.warning(
                    "%s.%s: %d records after the last STATE message are committed without a new checkpoint "
                    "(deduplicated: reading them again next time cannot duplicate them)",
                    connection.name,
                    item.target.name,
                    item.read - item.committed,
                )
            checkpoint(item, item.state, final=True)


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
        raise ProtocolError(f"{where}: line {number} is not valid JSON ({error}): {_snippet(line)}") from None
    if not isinstance(message, dict) or not isinstance(message.get("type"), str):
        raise ProtocolError(f"{where}: line {number} is not an Airbyte message (no 'type'): {_snippet(line)}")
    return message


_RECORD_PREFIX = b'{"type":"RECORD","record":{"stream":"'
"""How Airbyte's CDK (and most connectors) start a RECORD line: the stream's name follows."""
_PREFIX_LENGTH = len(_RECORD_PREFIX)


def _check_record(record: Mapping[str, Any], number: int, where: str, stream: str, line: bytes) -> None:
    if not isinstance(record.get("data"), dict) or not isinstance(record.get("emitted_at"), int | float):
        raise ProtocolError(
            f"{where}, stream {stream!r}: line {number} is a malformed RECORD "
            f"(it needs an object 'data' and a numeric 'emitted_at'): {_snippet(line)}"
        )


def _bad_record(item: _StreamProgress, where: str, error: Exception) -> ProtocolError:
    """The protocol error for a buffer DuckDB refused: the first line Python's checks reject, named
    by the connector's line number, or DuckDB's own message when every line passes them."""
    with item.buffer_path.open("rb") as lines:
        for index, line in enumerate(lines):
            number = item.lines[index]
            try:
                message = _parse_line(line, number, where)
                _check_record(message.get("record") or {}, number, where, item.target.name, line)
            except ProtocolError as found:
                return found
    return ProtocolError(f"{where}, stream {item.target.name!r}: a RECORD the warehouse cannot load: {error}")


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
        raise ProtocolError(
            f"{where}: line {number} is a {kind} state message; only STREAM and GLOBAL states are supported: {_snippet(orjson.dumps(message))}"
        )
    for stream, _ in pairs:
        if stream not in progress:
            raise ProtocolError(f"{where}: line {number} is a STATE for stream {stream!r}, which is not in the configured catalog")
    return pairs


def _configured_stream(discovered: Mapping[str, Any], spec: StreamSpec) -> dict[str, Any]:
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


def _stop(proc: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError):
        proc.kill()
    with contextlib.suppress(Exception):
        proc.wait(timeout=10)


def _snippet(line: bytes) -> str:
    text = line.decode(errors="replace").rstrip("\n")
    return repr(text if len(text) <= _SNIPPET else text[:_SNIPPET] + "…")


def _tail(text: str, lines: int = 5) -> str:
    return " / ".join(text.strip().splitlines()[-lines:])


def _name(source: EmbeddedSource) -> str:
    command = list(source.command)
    if len(command) >= 3 and command[1] == "-m":
        return command[2].rsplit(".", 1)[-1]
    return Path(command[0]).name if command else "source"
