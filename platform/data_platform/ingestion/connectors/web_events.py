"""Source connector for the event collector's landing files (like source-s3 on JSONL).

Files are named by arrival day and hold events in arrival order, so the incremental cursor
is ``received_at``: a late event has an old ``event_timestamp`` but a new ``received_at``
and is picked up by the next sync. Duplicate deliveries are passed through as they are
(the stream is append-only); deduplication belongs to the staging layer.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import orjson

from data_platform.ingestion.connectors._source import Checkpoint, Record, Source, checkpoints, stream_entry
from data_platform.ingestion.schema import Column

STREAM = "web_events"
COLUMNS = {
    "event_id": "string",
    "event_type": "string",
    "event_timestamp": "timestamp_with_timezone",
    "received_at": "timestamp_with_timezone",
    "session_id": "string",
    "anonymous_id": "string",
    "customer_id": "integer",
    "platform": "string",
    "payload": "string",
}
CHECKPOINT_EVERY = 10_000


def _folder(config: Mapping[str, Any]) -> Path:
    folder = Path(config["events_path"])
    if not folder.is_dir():
        raise FileNotFoundError(f"event landing folder {folder} does not exist (run the simulation first)")
    return folder


def check(config: Mapping[str, Any]) -> str | None:
    try:
        _folder(config)
    except FileNotFoundError as error:
        return str(error)
    return None


def discover(config: Mapping[str, Any]) -> list[dict[str, Any]]:
    _folder(config)
    properties = {name: Column(name, kind).json_schema for name, kind in COLUMNS.items()}
    return [stream_entry(STREAM, properties, "received_at", ["event_id"])]


def read(config: Mapping[str, Any], stream: str, mode: str, state: Mapping[str, Any] | None) -> Iterator[Record | Checkpoint]:
    if stream != STREAM:
        raise ValueError(f"unknown stream {stream!r}")
    after = (state or {}).get("cursor") or ""

    def events() -> Iterator[Record]:
        for path in sorted(_folder(config).glob("received_date=*.jsonl")):
            if path.stem.split("=", 1)[1] < after[:10]:
                continue
            with path.open("rb") as lines:
                for line in lines:
                    event = orjson.loads(line)
                    if event["received_at"] > after:
                        yield event

    if mode == "incremental":
        yield from checkpoints(events(), "received_at", int(config.get("checkpoint_interval", CHECKPOINT_EVERY)), after or None)
    else:
        yield from events()


SPEC = {
    "type": "object",
    "required": ["events_path"],
    "properties": {
        "checkpoint_interval": {"type": "integer", "description": "Emit a STATE message at least every N records."},
        "events_path": {"type": "string", "description": "Folder of received_date=YYYY-MM-DD.jsonl files."},
    },
}
source = Source(name="source-web-events", spec=SPEC, check=check, discover=discover, read=read)

if __name__ == "__main__":
    sys.exit(source.run())
