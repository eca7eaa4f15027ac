"""Embedded Airbyte: run Airbyte-protocol source connectors as subprocesses into DuckDB.

This is the local stand-in for an Airbyte server. Like Airbyte, it runs the connector's
``discover`` then ``read`` with a configured catalog and the saved state, reads one JSON
message per line from the connector's stdout, and commits records only together with a STATE
checkpoint that covers them. Any Python connector that speaks the protocol runs the same way
(``airbyte-source-faker`` is tested like this).

Throughput: the connector's output is read in blocks, and a run of one stream's RECORD lines
goes to that stream's buffer file in one write (no Python step per record); DuckDB parses each
line once when the buffer loads. Loads and commits run on a writer thread, in order, while the
reading thread goes on reading, so the connector, the reader and DuckDB work at the same time;
records commit by size or age (``CommitPolicy``), each commit with the latest STATE it covers.

Failure handling: a connector that exits non-zero, is killed, reports a TRACE error, or
writes a line that is not a valid protocol message fails the sync. Whatever no STATE covers is
discarded; what its STATEs cover is committed with them, so the next sync resumes from the
last one and nothing is lost or duplicated.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import subprocess
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from embedded_airbyte.buffers import StreamBuffer
from embedded_airbyte.commits import CommitPolicy
from embedded_airbyte.connector_process import write_private
from embedded_airbyte.destination import DuckDBDestination, StreamTarget
from embedded_airbyte.environments import install_connector
from embedded_airbyte.protocol import ConnectorCheckFailed, ProtocolError, SyncFailed, UnparsableLine, configured_stream, parse_line, tail
from embedded_airbyte.schema import Column, SchemaChange, columns_from_json_schema, schema_changes
from embedded_airbyte.session import ReadSession, ReadSettings, read_args
from embedded_airbyte.streams import Connection, Source, SyncMode

__all__ = [
    "CommitPolicy",
    "ConnectorCheckFailed",
    "EmbeddedAirbyte",
    "ProtocolError",
    "StreamSyncResult",
    "SyncFailed",
    "SyncResult",
    "UnparsableLine",
]


DEFAULT_BATCH_SIZE = 50_000


DEFAULT_SILENCE_TIMEOUT = 3600.0
"""Seconds a source may write nothing before it is stopped (a slow API page, a large query's first row)."""


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
        commits: CommitPolicy | None = None,
        silence_setting: str = "silence_timeout",
        memory_limit: str | None = None,
    ):
        self.warehouse_path = Path(warehouse_path)
        self.connector_cache = Path(connector_cache) if connector_cache else self.warehouse_path.parent / "connectors"
        """Where PyPI connectors are installed, one virtual environment each."""
        self.batch_size = batch_size
        self.log = logger or logging.getLogger("embedded_airbyte")
        self.progress_every = progress_every
        self.silence_timeout = silence_timeout
        """A source that writes nothing for this long is stopped and the sync fails naming it (Airbyte's heartbeat)."""
        self.commits = commits or CommitPolicy()
        self.silence_setting = silence_setting
        self.memory_limit = memory_limit
        """DuckDB's memory limit for the destination (None: DuckDB's default, 80% of the machine)."""
        """What a silence error calls the timeout (the setting a user changes)."""

    def command(self, source: Source) -> tuple[str, ...]:
        """The connector's command; a PyPI connector is installed into its own virtual environment first."""
        if source.pypi:
            return (str(install_connector(source.pypi, source.command[0], self.connector_cache)),)
        return source.command

    # ---- spec / check / discover ------------------------------------------------------
    def spec(self, source: Source) -> dict[str, Any]:
        return self._single_message(source, ["spec"], None, "SPEC")["spec"]

    def check(self, source: Source, config: Mapping[str, Any]) -> None:
        status = self._single_message(source, ["check"], config, "CONNECTION_STATUS")["connectionStatus"]
        if status.get("status") != "SUCCEEDED":
            raise ConnectorCheckFailed(f"{source.name} check failed: {status.get('message')}")

    def discover(self, source: Source, config: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
        catalog = self._single_message(source, ["discover"], config, "CATALOG")["catalog"]
        return {stream["name"]: stream for stream in catalog.get("streams", [])}

    def _single_message(self, source: Source, command: list[str], config: Mapping[str, Any] | None, wanted: str) -> dict[str, Any]:
        with tempfile.TemporaryDirectory(prefix="airbyte-") as tmp:
            args = list(command)
            if config is not None:
                args += ["--config", write_private(Path(tmp) / "config.json", config)]
            proc = subprocess.run([*self.command(source), *args], capture_output=True, timeout=600)
        found, errors = None, []
        for number, line in enumerate(proc.stdout.splitlines(), 1):
            message = parse_line(line, number, f"{source.name} {command[0]}")
            if message.get("type") == wanted and found is None:
                found = message
            elif message.get("type") == "TRACE" and message["trace"].get("type") == "ERROR":
                errors.append(message["trace"]["error"].get("message", ""))
        if proc.returncode != 0 or found is None:
            detail = "; ".join(errors) or tail(proc.stderr.decode(errors="replace"))
            raise SyncFailed(f"{source.name} {command[0]} failed (exit code {proc.returncode}): {detail}")
        return found

    # ---- read ------------------------------------------------------------------------
    def sync(self, connection: Connection, config: Mapping[str, Any], streams: Sequence[str] | None = None) -> SyncResult:
        """Sync ``streams`` (default: all) of ``connection``."""
        started = time.perf_counter()
        started_at = dt.datetime.now(dt.UTC)
        source = Source(self.command(connection.source))
        discovered = self.discover(source, config)
        targets, drift = {}, {}
        for spec in connection.only(streams):
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
            targets[spec.name] = StreamTarget(connection.name, connection.namespace, spec, spec.columns or tuple(found_columns))
        catalog = {"streams": [configured_stream(discovered[name], t.spec) for name, t in targets.items()]}
        settings = ReadSettings(self.batch_size, self.progress_every, self.silence_timeout, self.commits, self.silence_setting)

        destination = DuckDBDestination(self.warehouse_path, self.memory_limit)
        try:
            sync_id = destination.next_sync_id()
            for target in targets.values():
                destination.prepare(target)
            state = destination.stored_state(connection.name, list(targets.values()))
            with tempfile.TemporaryDirectory(prefix=f"airbyte-{connection.name}-") as tmp:
                folder = Path(tmp)
                buffers = {name: StreamBuffer(t, folder, state=destination.stream_state(t)) for name, t in targets.items()}
                args = read_args(folder, config, catalog, state)
                session = ReadSession(connection.name, source, args, buffers, destination, sync_id, settings, self.log)
                try:
                    session.run(folder)
                except BaseException as error:
                    for buffer in buffers.values():
                        buffer.close()
                        destination.drop_stage(buffer.target)
                        destination.record_run(
                            sync_id,
                            buffer.target,
                            started_at,
                            "failed",
                            buffer.read,
                            buffer.committed,
                            None,
                            destination.stream_state(buffer.target),
                            str(error)[:2000],
                        )
                    raise
            results = {}
            for name, buffer in buffers.items():
                buffer.close()
                destination.drop_stage(buffer.target)
                rows = destination.row_count(buffer.target)
                destination.record_run(
                    sync_id, buffer.target, started_at, "succeeded", buffer.read, buffer.committed, rows, buffer.state, None
                )
                results[name] = StreamSyncResult(
                    connection=connection.name,
                    namespace=connection.namespace,
                    stream=name,
                    sync_mode=buffer.target.spec.sync_mode,
                    records_synced=buffer.committed,
                    rows_in_table=rows,
                    duration_seconds=time.perf_counter() - started,
                    cursor=buffer.state if buffer.target.spec.sync_mode is not SyncMode.FULL_REFRESH_OVERWRITE else None,
                    columns=buffer.target.columns,
                    schema_drift=drift[name],
                    records_superseded=buffer.superseded,
                    conflicting_keys=buffer.conflicting_keys,
                    conflict_sample=buffer.conflict_sample,
                )
            return SyncResult(connection.name, sync_id, results, time.perf_counter() - started)
        finally:
            destination.close()
