"""Source connector for the ad platforms' daily cost reports (CSV locally, an ads API in production).

The schema is discovered from the newest report's header, so a column the ad platform
renames or drops shows up as schema drift rather than as silently missing data.
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
    stream_entry,
)
from embedded_airbyte.schema import Column

STREAM = "marketing_spend"
KNOWN_TYPES = {
    "spend_date": "date",
    "impressions": "integer",
    "clicks": "integer",
    "spend_eur": "number",
    "cost_micros": "integer",
    "reported_at": "timestamp_with_timezone",
}
CHECKPOINT_EVERY = 500


def _reports(config: Mapping[str, Any]) -> list[Path]:
    folder = Path(config["reports_path"])
    if not folder.is_dir():
        raise FileNotFoundError(f"report folder {folder} does not exist (run the simulation first)")
    return sorted(folder.glob("report_date=*.csv"))


def check(config: Mapping[str, Any]) -> str | None:
    try:
        _reports(config)
    except FileNotFoundError as error:
        return str(error)
    return None


def _header(config: Mapping[str, Any]) -> list[str]:
    """The newest report's header; an empty report (no header) is passed over."""
    for path in reversed(_reports(config)):
        if header := csv_header(path):
            return header
    return [c for c in KNOWN_TYPES if c != "cost_micros"]


def discover(config: Mapping[str, Any]) -> list[dict[str, Any]]:
    properties = {column: Column(column, KNOWN_TYPES.get(column, "string")).json_schema for column in _header(config)}
    return [stream_entry(STREAM, properties, "reported_at", ["spend_date", "channel", "campaign_id"])]


def read(config: Mapping[str, Any], stream: str, mode: str, state: Mapping[str, Any] | None) -> Iterator[Record | Checkpoint]:
    if stream != STREAM:
        raise ValueError(f"unknown stream {stream!r}")
    after = instant((state or {}).get("cursor"))

    def rows() -> Iterator[Record | Log]:
        for path in _reports(config):
            yield from csv_records(path, KNOWN_TYPES, "reported_at", after)

    if mode == "incremental":
        previous = (state or {}).get("cursor")
        yield from checkpoints(rows(), "reported_at", int(config.get("checkpoint_interval", CHECKPOINT_EVERY)), previous)
    else:
        yield from rows()


SPEC = {
    "type": "object",
    "required": ["reports_path"],
    "properties": {
        "checkpoint_interval": {"type": "integer", "description": "Emit a STATE message at least every N records."},
        "reports_path": {"type": "string", "description": "Folder of report_date=YYYY-MM-DD.csv files."},
    },
}
source = Source(name="source-marketing-spend", spec=SPEC, check=check, discover=discover, read=read)

if __name__ == "__main__":
    sys.exit(source.run())
