"""Airbyte connections as code: load and validate a domain's ``connections.yaml``.

The file declares how things are ingested: per connection its production connection id, the
embedded source that stands in for it locally, its schedule, and per stream the sync mode and
cursor. What a stream holds and who owns it (description, owners, columns, primary key,
freshness SLA) is its data contract (``governance/contracts``), read in here so that assets,
the embedded runner, the production sync and the checks see one declaration.
"""

from __future__ import annotations

import dataclasses
import re
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from data_platform.governance.contracts import ContractError, StreamContract, contract_for
from data_platform.yaml_text import load_yaml
from embedded_airbyte.schema import Column
from embedded_airbyte.streams import Connection, Source, Stream, SyncMode

__all__ = ["ConnectionSpec", "ConnectionsFileError", "EmbeddedSource", "StreamSpec", "SyncMode", "load_connections"]

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


class ConnectionsFileError(ValueError):
    """``connections.yaml`` is invalid; the message names the connection and stream."""


@dataclasses.dataclass(frozen=True)
class StreamSpec:
    """How Airbyte moves a stream (name, sync mode, cursor), and its data contract: the one
    declaration of what the stream holds and who answers for it, read through the properties below."""

    name: str
    sync_mode: SyncMode
    contract: StreamContract
    cursor_field: str | None = None

    @property
    def description(self) -> str:
        return self.contract.description

    @property
    def primary_key(self) -> tuple[str, ...]:
        return self.contract.primary_key

    @property
    def columns(self) -> tuple[Column, ...]:
        """Declared columns. Empty (a contract without properties): typed from the source's discovered schema at sync time."""
        return tuple(c.column for c in self.contract.columns)

    @property
    def owners(self) -> tuple[str, ...]:
        return self.contract.owners

    @property
    def freshness_warn_minutes(self) -> int:
        return self.contract.freshness_warn_minutes

    @property
    def freshness_error_minutes(self) -> int:
        """How old the newest data (and the last sync) may be: the contract's latency SLA."""
        return self.contract.freshness_error_minutes

    @property
    def freshness_column(self) -> str | None:
        """The column whose newest value the SLA is about; None: judged on syncs only (quiet dimensions)."""
        return self.contract.freshness_column

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def stream(self) -> Stream:
        """The stream as the embedded runner moves it."""
        return Stream(self.name, self.sync_mode, self.cursor_field, self.primary_key, self.columns)


@dataclasses.dataclass(frozen=True)
class EmbeddedSource:
    """How to run the source connector locally, with its config: a Python module of this
    package, a command, or a pinned PyPI connector installed into its own virtual environment."""

    command: tuple[str, ...]
    config: Mapping[str, Any]
    pypi: str | None = None
    """``name==version`` of a PyPI connector; ``command`` is then its executable's name."""

    def resolved_config(self, variables: Mapping[str, str]) -> dict[str, Any]:
        """The config with ``{placeholders}`` (e.g. ``{source_systems}``) filled in."""
        return {k: v.format(**variables) if isinstance(v, str) else v for k, v in self.config.items()}

    @property
    def source(self) -> Source:
        return Source(self.command, self.pypi)


@dataclasses.dataclass(frozen=True)
class ConnectionSpec:
    name: str
    description: str
    destination_namespace: str
    owners: tuple[str, ...]
    group: str
    source_system: str
    """Name of the operational system the connection reads (an upstream asset)."""
    streams: tuple[StreamSpec, ...]
    embedded_source: EmbeddedSource
    connection_id: str | None = None
    connection_id_env: str | None = None
    expect_rows_every_sync: bool = False
    """A successful sync that moves 0 rows is flagged (e.g. a full-refresh source that can never be empty)."""
    sync_schedule: str = "0 * * * *"
    """Cron (UTC) of the connection's ingestion schedule."""

    def stream(self, name: str) -> StreamSpec:
        for stream in self.streams:
            if stream.name == name:
                return stream
        raise KeyError(f"connection {self.name!r} has no stream {name!r}; it has {[s.name for s in self.streams]}")

    @property
    def embedded(self) -> Connection:
        """The connection as the embedded runner syncs it."""
        return Connection(self.name, self.destination_namespace, self.embedded_source.source, tuple(s.stream for s in self.streams))

    def production_connection_id(self, connection_ids: Mapping[str, str]) -> str:
        """The Airbyte connection id: the variable named in the file (``settings.airbyte.connection_ids``) wins over the literal id."""
        value = connection_ids.get(self.connection_id_env or "") or self.connection_id
        if not value:
            raise ConnectionsFileError(
                f"connection {self.name!r} has no production Airbyte connection id: set the environment "
                f"variable {self.connection_id_env} or 'connection_id' in its domain's connections.yaml"
            )
        return value


def load_connections(path: Path, contracts_dir: Path, validated: Path | None = None) -> tuple[ConnectionSpec, ...]:
    """The connections of ``path``, their streams described by the contracts in ``contracts_dir``
    (``validated``: see ``contracts.load_contract``)."""
    try:
        document = load_yaml(path.read_text())
    except yaml.YAMLError as error:
        raise ConnectionsFileError(f"{path} is not valid YAML: {error}") from error
    if not isinstance(document, dict) or not isinstance(document.get("connections"), dict):
        raise ConnectionsFileError(f"{path} must have a top-level 'connections' mapping")
    connections = tuple(_connection(name, body or {}, path, contracts_dir, validated) for name, body in document["connections"].items())
    seen: dict[tuple[str, str], str] = {}
    for connection in connections:
        for stream in connection.streams:
            where = (connection.destination_namespace, stream.name)
            if where in seen:
                raise ConnectionsFileError(
                    f"{path}: streams {seen[where]} and {connection.name}.{stream.name} both land in {'.'.join(where)}"
                )
            seen[where] = f"{connection.name}.{stream.name}"
    return connections


def _connection(name: str, body: Mapping[str, Any], path: Path, contracts_dir: Path, validated: Path | None) -> ConnectionSpec:
    where = f"{path.name}: connection {name!r}"
    if not _NAME.match(name):
        raise ConnectionsFileError(f"{where}: names are lowercase snake_case")
    _require(body, ("destination_namespace", "source_system", "embedded_source", "streams"), where)
    _moved_to_contract(body, ("owners", "freshness"), where)
    production = body.get("production") or {}
    embedded_source = embedded_source_of(body, where, path.parent)
    streams = tuple(
        _stream(stream_name, stream_body or {}, f"{where}, stream {stream_name!r}", body["destination_namespace"], contracts_dir, validated)
        for stream_name, stream_body in body["streams"].items()
    )
    if not streams:
        raise ConnectionsFileError(f"{where}: declares no streams")
    embedded_source = dataclasses.replace(embedded_source, config=with_declared_streams(embedded_source.config, streams))
    owners = tuple(dict.fromkeys(o for s in streams for o in s.owners))
    return ConnectionSpec(
        name=name,
        description=body.get("description", ""),
        destination_namespace=body["destination_namespace"],
        owners=owners,
        group=body.get("group", f"ingestion_{name}"),
        source_system=body["source_system"],
        streams=streams,
        embedded_source=embedded_source,
        connection_id=production.get("connection_id"),
        connection_id_env=production.get("connection_id_env"),
        expect_rows_every_sync=bool(body.get("expect_rows_every_sync", False)),
        sync_schedule=_cron(body.get("sync_schedule", "0 * * * *"), where),
    )


def _stream(name: str, body: Mapping[str, Any], where: str, namespace: str, contracts_dir: Path, validated: Path | None) -> StreamSpec:
    _require(body, ("sync_mode",), where)
    _moved_to_contract(body, ("columns", "primary_key", "description", "data_freshness", "owners"), where)
    try:
        mode = SyncMode(body["sync_mode"])
    except ValueError:
        raise ConnectionsFileError(f"{where}: sync_mode {body['sync_mode']!r} is not one of {[m.value for m in SyncMode]}") from None
    try:
        contract = contract_for(namespace, name, contracts_dir, validated)
        columns = tuple(c.column for c in contract.columns)
    except (ContractError, ValueError) as error:
        raise ConnectionsFileError(f"{where}: {error}") from None
    names = {c.name for c in columns}
    primary_key = contract.primary_key
    cursor = body.get("cursor_field")
    if mode is not SyncMode.FULL_REFRESH_OVERWRITE and not cursor:
        raise ConnectionsFileError(f"{where}: {mode.value} needs a cursor_field")
    if mode is SyncMode.INCREMENTAL_APPEND_DEDUP and not primary_key:
        raise ConnectionsFileError(f"{where}: {mode.value} needs a primary_key")
    for field in (*primary_key, *([cursor] if cursor else [])):
        if columns and field not in names:
            raise ConnectionsFileError(f"{where}: {field!r} is used as cursor or primary key but is not a declared column")
    return StreamSpec(name=name, sync_mode=mode, contract=contract, cursor_field=cursor)


def embedded_source_of(body: Mapping[str, Any], where: str, folder: Path) -> EmbeddedSource:
    """The connection's ``embedded_source``: the connector that reads the source locally."""
    source = body.get("embedded_source") or {}
    if "module" in source:
        command = (sys.executable, "-m", source["module"])
    elif "command" in source:
        command = tuple(source["command"])
    elif "pypi" in source and "executable" in source:
        command = (source["executable"],)
    else:
        raise ConnectionsFileError(f"{where}: embedded_source needs 'module', 'command', or 'pypi' with 'executable'")
    return EmbeddedSource(command=command, config=_with_domain_dir(source.get("config") or {}, folder), pypi=source.get("pypi"))


DECLARED_STREAMS = "{streams}"
"""A connector config value that stands for the streams as declared: each stream's cursor, primary
key and column types, from its entry in ``connections.yaml`` and its data contract. A connector
that needs them (the CSV-files connector: a CSV file has no types) reads them there, so they are
written once, in the contract, never again in its config."""


def with_declared_streams(config: Mapping[str, Any], streams: Sequence[StreamSpec]) -> dict[str, Any]:
    declared = {
        s.name: {
            **({"cursor_field": s.cursor_field} if s.cursor_field else {}),
            "primary_key": list(s.primary_key),
            "types": {c.name: c.type for c in s.columns},
        }
        for s in streams
    }
    return {k: declared if v == DECLARED_STREAMS else v for k, v in config.items()}


def _with_domain_dir(config: Mapping[str, Any], folder: Path) -> dict[str, Any]:
    """``{domain_dir}`` in a config value is the domain's folder (sample files a domain ships)."""
    return {k: v.replace("{domain_dir}", str(folder)) if isinstance(v, str) else v for k, v in config.items()}


def _moved_to_contract(body: Mapping[str, Any], keys: Sequence[str], where: str) -> None:
    found = [k for k in keys if k in body]
    if found:
        raise ConnectionsFileError(f"{where}: {', '.join(found)} belong in the stream's data contract (governance/contracts), not here")


def _cron(value: str, where: str) -> str:
    """Five cron fields (Dagster validates the expression itself when it builds the schedule)."""
    if not isinstance(value, str) or len(value.split()) != 5:
        raise ConnectionsFileError(f"{where}: sync_schedule {value!r} is not a five-field cron expression")
    return value


def _require(body: Mapping[str, Any], keys: Sequence[str], where: str) -> None:
    missing = [k for k in keys if k not in body]
    if missing:
        raise ConnectionsFileError(f"{where}: missing {', '.join(missing)}")
