"""Source connector for the event collector's landing files (like source-s3 on JSONL).

Files are named by arrival day and hold events in arrival order, so the incremental cursor
is ``received_at``: a late event has an old ``event_timestamp`` but a new ``received_at``
and is picked up by the next sync. Duplicate deliveries are passed through as they are
(the stream is append-only); deduplication belongs to the staging layer.

A blank line is skipped and counted. A line that is not a JSON event does not stop the stream:
it is emitted as a record with no ``event_id`` whose ``payload`` holds the file, the line
number and the text, so the contract check quarantines it where a person can read it, and a
LOG message names the file and line. The state remembers (up to 1,000 of) the bad lines it
emitted, so a later sync need not emit them again; those it forgets come again, and the
destination, which never appends a row it already holds, keeps them once.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import orjson

from embedded_airbyte.connectors.sdk import Checkpoint, Log, Record, Source, checkpoints, instant, resume_after, stream_entry
from embedded_airbyte.schema import Column

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
    previous = (state or {}).get("cursor")
    after = resume_after(state, config)  # the checkpoint minus the lookback: events that arrived out of order are read again
    reported = set((state or {}).get("malformed_lines_emitted") or [])
    emitted: list[str] = []

    def events() -> Iterator[Record | Log]:
        blank = 0
        for path in sorted(_folder(config).glob("received_date=*.jsonl")):
            if after is not None and path.stem.split("=", 1)[1] < after.date().isoformat():
                continue
            with path.open("rb") as lines:
                for number, line in enumerate(lines, 1):
                    if not line.strip():
                        blank += 1
                        continue
                    try:
                        event = orjson.loads(line)
                        if not isinstance(event, dict):
                            raise ValueError("not a JSON object")
                    except ValueError as error:
                        where = f"{path.name}:{number}"
                        if where in reported:
                            continue
                        emitted.append(where)
                        yield Log(f"{path.name} line {number} is not a JSON event ({error}): kept for the contract check to quarantine")
                        text = line.decode(errors="replace").rstrip("\n")
                        yield {"payload": orjson.dumps({"file": path.name, "line": number, "text": text[:10_000]}).decode()}
                        continue
                    # (a first sync reads every event: no instant to parse)
                    if after is None or (received := instant(event.get("received_at"))) is None or received > after:
                        yield event
        if blank:
            yield Log(f"{blank} blank line(s) skipped")

    def with_bad_lines_remembered(items: Iterator[Record | Checkpoint | Log]) -> Iterator[Record | Checkpoint | Log]:
        for item in items:
            if isinstance(item, Checkpoint):
                item["malformed_lines_emitted"] = sorted(reported | set(emitted))[-1000:]
            yield item

    if mode == "incremental":
        every = int(config.get("checkpoint_interval", CHECKPOINT_EVERY))
        yield from with_bad_lines_remembered(checkpoints(events(), "received_at", every, previous))
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
