"""A connector that replays a recorded read: for the benchmark, the destination's work without the source's.

``python -m benchmarks.replay RECORDING discover|read ...``: ``discover`` prints
the catalog recorded in ``RECORDING.catalog.json``, ``read`` copies ``RECORDING`` (the messages a
real connector wrote for the same configured catalog and state) to stdout. Other arguments
(``--config``, ``--catalog``) are accepted and ignored.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path


def catalog_path(recording: Path) -> Path:
    """Where the catalog that goes with ``recording`` is kept (a CATALOG message)."""
    return recording.with_suffix(".catalog.json")


def main(argv: list[str]) -> int:
    recording, command = Path(argv[0]), argv[1]
    source = catalog_path(recording) if command == "discover" else recording
    with source.open("rb") as messages:
        shutil.copyfileobj(messages, sys.stdout.buffer, 1 << 20)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
