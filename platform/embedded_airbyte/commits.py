"""When buffered records commit: by size or age, as Airbyte's destinations flush."""

from __future__ import annotations

import dataclasses
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from embedded_airbyte.buffers import StreamBuffer

DEFAULT_COMMIT_BYTES = 256 << 20
"""A stream's records commit at the first STATE after this many bytes of them were read (chosen
by measurement: docs/embedded-airbyte.md)."""
DEFAULT_COMMIT_SECONDS = 60.0
"""... or at the first STATE this long after its last commit: a slow source still lands steadily."""


@dataclasses.dataclass(frozen=True)
class CommitPolicy:
    """When a stream's records commit: at a STATE, once ``bytes`` of records or ``seconds`` have
    passed since its last commit. ``CommitPolicy(0, 0)`` commits at every STATE."""

    bytes: int = DEFAULT_COMMIT_BYTES
    seconds: float = DEFAULT_COMMIT_SECONDS

    def due(self, buffer: StreamBuffer) -> bool:
        """Whether the stream's open window commits at the STATE just read."""
        return buffer.window_bytes >= self.bytes or time.monotonic() - buffer.window_opened >= self.seconds
