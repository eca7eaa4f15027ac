"""What a sync needs to know: the connector to run, and per stream how it moves and lands.

Plain values, nothing about who owns a stream or what it means: a platform that knows more
(contracts, owners, asset keys) builds these from its own declarations.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Sequence

from embedded_airbyte.schema import Column


class SyncMode(str, enum.Enum):
    """Airbyte's sync modes, named as in its UI (source mode + destination mode)."""

    FULL_REFRESH_OVERWRITE = "full_refresh_overwrite"
    INCREMENTAL_APPEND = "incremental_append"
    INCREMENTAL_APPEND_DEDUP = "incremental_append_dedup"

    @property
    def source_sync_mode(self) -> str:
        return "full_refresh" if self is SyncMode.FULL_REFRESH_OVERWRITE else "incremental"

    @property
    def destination_sync_mode(self) -> str:
        return {"full_refresh_overwrite": "overwrite", "incremental_append": "append"}.get(self.value, "append_dedup")


@dataclasses.dataclass(frozen=True)
class Stream:
    """One stream of a connection: how it is read and where its rows are kept apart."""

    name: str
    sync_mode: SyncMode = SyncMode.FULL_REFRESH_OVERWRITE
    cursor_field: str | None = None
    primary_key: tuple[str, ...] = ()
    columns: tuple[Column, ...] = ()
    """Declared columns; empty: typed from the source's discovered schema at sync time."""


@dataclasses.dataclass(frozen=True)
class Source:
    """How to start the source connector: a command, or a pinned PyPI connector (``pypi`` is
    ``name==version``, ``command`` its executable's name) installed into an environment of its own."""

    command: tuple[str, ...]
    pypi: str | None = None

    @property
    def name(self) -> str:
        """What errors call the connector: a module's last part, else the executable's name."""
        command = list(self.command)
        if len(command) >= 3 and command[1] == "-m":
            return command[2].rsplit(".", 1)[-1]
        return command[0].rsplit("/", 1)[-1] if command else "source"


@dataclasses.dataclass(frozen=True)
class Connection:
    """A source connector and the streams of it a sync moves into ``namespace`` (a schema)."""

    name: str
    namespace: str
    source: Source
    streams: tuple[Stream, ...]

    def stream(self, name: str) -> Stream:
        for stream in self.streams:
            if stream.name == name:
                return stream
        raise KeyError(f"connection {self.name!r} has no stream {name!r} (it has {[s.name for s in self.streams]})")

    def only(self, names: Sequence[str] | None) -> tuple[Stream, ...]:
        """The streams named (all when None)."""
        return tuple(self.stream(n) for n in names) if names else self.streams
