"""Source connector for CSV files in a folder: one stream per file name (``<stream>.csv`` or ``<stream>/*.csv``).

A generic connector a domain can use without writing one: a team drops extracts in a folder
(a shared drive, a bucket synced locally, the sample files a scaffolded domain ships). The
config names each stream's cursor, primary key and column types; values are typed here, and a
value that does not convert is sent as text (the destination nulls it and records the change).
Incremental reads resume a lookback before the saved cursor (``lookback_seconds``, default an
hour; the destination absorbs the repeats), with checkpoints (``sdk.checkpoints``).

Config::

    {"path": "/folder", "streams": {"items": {"cursor_field": "updated_at", "primary_key": ["id"],
                                              "types": {"id": "integer", "price_eur": "number"}}}}
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from embedded_airbyte.connectors.sdk import (
    Checkpoint,
    Log,
    Record,
    Source,
    checkpoints,
    csv_header,
    csv_records,
    instant,
    resume_after,
    stream_entry,
)
from embedded_airbyte.schema import Column

CHECKPOINT_EVERY = 1000


def _files(config: Mapping[str, Any], stream: str) -> list[Path]:
    folder = Path(config["path"])
    if not folder.is_dir():
        raise FileNotFoundError(f"folder {folder} does not exist")
    return sorted([*folder.glob(f"{stream}.csv"), *(folder / stream).glob("*.csv")])


def check(config: Mapping[str, Any]) -> str | None:
    if not Path(config["path"]).is_dir():
        return f"folder {config['path']} does not exist"
    return None


def _header(paths: list[Path]) -> list[str]:
    return next((header for path in reversed(paths) if (header := csv_header(path))), [])


def discover(config: Mapping[str, Any]) -> list[dict[str, Any]]:
    entries = []
    for stream, options in (config.get("streams") or {}).items():
        types = options.get("types") or {}
        columns = _header(_files(config, stream)) or list(types)
        properties = {c: Column(c, types.get(c, "string")).json_schema for c in columns}
        entries.append(stream_entry(stream, properties, options.get("cursor_field"), list(options.get("primary_key") or [])))
    return entries


def read(config: Mapping[str, Any], stream: str, mode: str, state: Mapping[str, Any] | None) -> Iterator[Record | Checkpoint]:
    options = (config.get("streams") or {}).get(stream)
    if options is None:
        raise ValueError(f"unknown stream {stream!r}; the config declares {sorted(config.get('streams') or {})}")
    types = options.get("types") or {}
    cursor = options.get("cursor_field")
    after = resume_after(state, config) if cursor else None  # the checkpoint minus the lookback

    def rows() -> Iterator[Record | Log]:
        for path in _files(config, stream):
            yield from csv_records(path, types, cursor, after)

    if mode == "incremental" and cursor:
        # checkpoints need the rows in cursor order; files need not be: the logs first, then the rows by instant
        read = list(rows())
        logs = [r for r in read if isinstance(r, Log)]
        records = sorted((r for r in read if not isinstance(r, Log)), key=lambda r: str(instant(r.get(cursor)) or ""))
        yield from checkpoints(
            iter([*logs, *records]), cursor, int(config.get("checkpoint_interval", CHECKPOINT_EVERY)), (state or {}).get("cursor")
        )
    else:
        yield from rows()


SPEC = {
    "type": "object",
    "required": ["path", "streams"],
    "properties": {
        "path": {"type": "string", "description": "Folder of <stream>.csv files (or <stream>/ folders of CSV files)."},
        "streams": {"type": "object", "description": "Per stream: cursor_field, primary_key (list), types (column -> Airbyte type)."},
        "checkpoint_interval": {"type": "integer", "description": "Emit a STATE message at least every N records."},
        "lookback_seconds": {"type": "number", "description": "Re-read this far before the saved cursor (default 3600)."},
    },
}
source = Source(name="source-csv-files", spec=SPEC, check=check, discover=discover, read=read)

if __name__ == "__main__":
    sys.exit(source.run())
