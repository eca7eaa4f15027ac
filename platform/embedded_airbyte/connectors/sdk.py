"""The source side of the Airbyte protocol, for the embedded connectors.

A connector is a program: ``spec``, ``check --config F``, ``discover --config F`` and
``read --config F --catalog F [--state F]``, writing one JSON message per line to stdout.
This module parses that command line and writes the messages; each connector supplies
its spec, check, discover and per-stream read. Records are written with orjson straight
to a buffered stdout (buffered even under ``PYTHONUNBUFFERED``, which would otherwise cost a
system call per record), flushed at the end of the command.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import datetime as dt
import io
import sys
import time
import traceback
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import orjson

Record = dict[str, Any]


class Checkpoint(dict):
    """A stream state the connector may emit after the records before it."""


class Log(str):
    """A message the connector logs in the middle of a read (a LOG message; ``level`` WARN)."""

    level = "WARN"


SAFETY_LAG = dt.timedelta(minutes=5)
"""A checkpoint never lies later than the connector's clock minus this: a row stamped in the last
minutes (or ahead of this clock, within a source's skew) may have company still being written
with an earlier stamp, so such rows are emitted but read again next time."""
LOOKBACK = dt.timedelta(hours=1)
"""An incremental read starts this far before its checkpoint (``lookback_seconds`` in a connector's
config): rows that arrived out of cursor order, or committed late with an earlier stamp, are read
again; the destination absorbs the repeats (deduplicated streams by key and version, append
streams by never appending a row they already hold)."""


def resume_after(state: Mapping[str, Any] | None, config: Mapping[str, Any]) -> dt.datetime | None:
    """Where an incremental read starts: the state's cursor minus the lookback (None: from the start)."""
    moment = instant((state or {}).get("cursor"))
    if moment is None:
        return None
    return moment - dt.timedelta(seconds=float(config.get("lookback_seconds", LOOKBACK.total_seconds())))


def instant(value: Any) -> dt.datetime | None:
    """A cursor value as an instant (ISO 8601; no zone means UTC), or None when it is not one.

    Cursor values are compared as instants, never as text: ``2026-11-21 19:45:13`` sorts before
    ``2026-11-21T08:00:00Z`` as text but is eleven hours later."""
    if not isinstance(value, str):
        return None
    try:  # the common case first: Python 3.11 reads ISO 8601 with a "Z" itself
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        if not value.strip():
            return None
        try:
            parsed = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


ReadStream = Callable[[Mapping[str, Any], str, str, Mapping[str, Any] | None], Iterator[Record | Checkpoint]]
"""(config, stream name, source sync mode, previous stream state) -> records and checkpoints."""


class Source:
    def __init__(
        self,
        *,
        name: str,
        spec: Mapping[str, Any],
        check: Callable[[Mapping[str, Any]], str | None],
        discover: Callable[[Mapping[str, Any]], list[dict[str, Any]]],
        read: ReadStream,
    ):
        self.name, self.spec, self.check, self.discover, self.read = name, spec, check, discover, read
        self._out: io.BufferedWriter | None = None

    def emit(self, message: Mapping[str, Any]) -> None:
        self._output().write(orjson.dumps(message) + b"\n")

    def _output(self) -> io.BufferedWriter:
        """Standard output through a 1 MiB buffer of our own (``sys.stdout.buffer`` is unbuffered
        under ``PYTHONUNBUFFERED``); opened when first written, so it is the stdout of the command."""
        if self._out is None:
            self._out = open(sys.stdout.fileno(), "wb", buffering=1 << 20, closefd=False)  # noqa: SIM115 - flushed in run()
        return self._out

    def log(self, level: str, message: str) -> None:
        self.emit({"type": "LOG", "log": {"level": level, "message": message}})

    def run(self, argv: list[str] | None = None) -> int:
        parser = argparse.ArgumentParser(prog=self.name)
        commands = parser.add_subparsers(dest="command", required=True)
        commands.add_parser("spec")
        for command in ("check", "discover", "read"):
            sub = commands.add_parser(command)
            sub.add_argument("--config", required=True)
            if command == "read":
                sub.add_argument("--catalog", required=True)
                sub.add_argument("--state")
        args = parser.parse_args(argv)
        try:
            if args.command == "spec":
                self.emit({"type": "SPEC", "spec": {"connectionSpecification": self.spec}})
                return 0
            config = _load(args.config)
            if args.command == "check":
                problem = self.check(config)
                status = {"status": "FAILED", "message": problem} if problem else {"status": "SUCCEEDED"}
                self.emit({"type": "CONNECTION_STATUS", "connectionStatus": status})
            elif args.command == "discover":
                self.emit({"type": "CATALOG", "catalog": {"streams": self.discover(config)}})
            else:
                self._read(config, _load(args.catalog), _load(args.state) if args.state else [])
            return 0
        except Exception as error:  # reported the Airbyte way: a TRACE error message, then a non-zero exit
            self.emit(
                {
                    "type": "TRACE",
                    "trace": {
                        "type": "ERROR",
                        "emitted_at": time.time() * 1000,
                        "error": {
                            "message": f"{self.name}: {error}",
                            "internal_message": repr(error),
                            "stack_trace": traceback.format_exc(),
                            "failure_type": "system_error",
                        },
                    },
                }
            )
            return 1
        finally:
            if self._out is not None:
                self._out.flush()

    def _read(self, config: Mapping[str, Any], catalog: Mapping[str, Any], state: list[Mapping[str, Any]]) -> None:
        states = {s["stream"]["stream_descriptor"]["name"]: s["stream"].get("stream_state") for s in state if s.get("type") == "STREAM"}
        for configured in catalog["streams"]:
            stream = configured["stream"]["name"]
            mode = configured["sync_mode"]
            emitted_at = int(time.time() * 1000)
            prefix = (
                b'{"type":"RECORD","record":{"stream":' + orjson.dumps(stream) + b',"emitted_at":' + str(emitted_at).encode() + b',"data":'
            )
            write = self._output().write
            for item in self.read(config, stream, mode, states.get(stream) if mode == "incremental" else None):
                if isinstance(item, Log):
                    self.log(item.level, f"{stream}: {item}")
                elif isinstance(item, Checkpoint):
                    self.emit(
                        {
                            "type": "STATE",
                            "state": {"type": "STREAM", "stream": {"stream_descriptor": {"name": stream}, "stream_state": dict(item)}},
                        }
                    )
                else:
                    write(prefix + orjson.dumps(item) + b"}}\n")


def _load(path: str) -> Any:
    with open(path, "rb") as f:
        return orjson.loads(f.read())


CONVERT: dict[str, Callable[[str], Any]] = {
    "integer": int,
    "number": float,
    "boolean": lambda v: {"true": True, "false": False}[v.strip().lower()],
}
"""Text to the Airbyte column type's value (CSV cells); other types stay text."""


def csv_records(
    path: Path, types: Mapping[str, str], cursor: str | None = None, after: dt.datetime | None = None
) -> Iterator[Record | Log]:
    """The rows of one CSV file as records typed by ``types`` (column -> Airbyte type), those
    with ``cursor`` at or before ``after`` left out. UTF-8 with or without a byte-order mark (a
    BOM would otherwise glue itself to the first column's name). An empty file, a row of empty
    cells and values beyond the header are logged with the file and line, never silently
    dropped; a value that does not convert is sent as text (the destination nulls it and
    records the change)."""
    with path.open(newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        if not reader.fieldnames:
            yield Log(f"{path.name} is empty (no header, no rows): skipped")
            return
        reader.fieldnames = [name.strip() for name in reader.fieldnames]
        for row in reader:
            if None in row:  # more values than the header has columns
                yield Log(f"{path.name} line {reader.line_num}: {len(row[None])} value(s) beyond the header, dropped from the record")
                del row[None]
            if not any(v not in (None, "") for v in row.values()):
                yield Log(f"{path.name} line {reader.line_num}: no value in any column, skipped")
                continue
            moment = instant(row.get(cursor)) if cursor else None
            if after is not None and moment is not None and moment <= after:
                continue
            for column, value in row.items():
                convert = CONVERT.get(types.get(column, ""))
                if value is None or value == "":
                    row[column] = None
                elif convert:
                    with contextlib.suppress(ValueError, KeyError):
                        row[column] = convert(value)
            yield row


def csv_header(path: Path) -> list[str]:
    """The file's column names (empty for an empty file)."""
    with path.open(newline="", encoding="utf-8-sig") as f:
        return [name.strip() for name in next(csv.reader(f), None) or []]


def stream_entry(name: str, properties: Mapping[str, Any], cursor: str | None, primary_key: list[str]) -> dict[str, Any]:
    """An ``AirbyteStream`` of a discovered catalog."""
    modes = ["full_refresh", "incremental"] if cursor else ["full_refresh"]
    entry: dict[str, Any] = {
        "name": name,
        "json_schema": {"$schema": "http://json-schema.org/draft-07/schema#", "type": "object", "properties": dict(properties)},
        "supported_sync_modes": modes,
        "source_defined_primary_key": [[k] for k in primary_key],
    }
    if cursor:
        entry["source_defined_cursor"] = True
        entry["default_cursor_field"] = [cursor]
    return entry


def checkpoints(
    rows: Iterator[Record | Log], cursor: str, every: int, previous: str | None = None, now: dt.datetime | None = None
) -> Iterator[Record | Checkpoint | Log]:
    """Yield ``rows`` with a checkpoint about every ``every`` rows and at the end.

    The checkpoint is the highest cursor value read so far, never the last one (rows need not come
    in cursor order), and it never moves back (a lookback re-read starts below it). A checkpoint
    in the middle of a read is placed only before a row that raises the highest value, so that,
    for rows in cursor order, resuming after it can skip none. A read with no new rows still ends
    with a checkpoint (the ``previous`` cursor), as Airbyte sources do.

    A checkpoint never lies past the connector's clock minus ``SAFETY_LAG``: a row whose cursor is
    later (a source that wrote year 2999, a clock ahead of this one, a row of the last minutes) or
    is not a timestamp at all is still emitted (the contract check flags the absurd ones), but the
    state stays at the last trustworthy value, so the row is read again next time (the destination
    absorbs the repeat) and every later legitimate change still arrives.
    """
    limit = (now or dt.datetime.now(dt.UTC)) - SAFETY_LAG
    since, best, best_at, held_back = 0, previous, instant(previous), 0
    for row in rows:
        if isinstance(row, Log):
            yield row
            continue
        value = row.get(cursor)
        moment = instant(value)
        trusted = moment is not None and moment <= limit
        raises = trusted and (best_at is None or moment > best_at)  # type: ignore[operator]
        if raises and since >= every and best is not None:
            yield Checkpoint(cursor_field=cursor, cursor=best)
            since = 0
        yield row
        since += 1
        if raises:
            best, best_at = value, moment
        elif not trusted:
            held_back += 1
    if held_back:
        yield Log(
            f"{held_back} record(s) carry a {cursor} later than this read's clock minus {SAFETY_LAG.total_seconds() / 60:g} min, "
            f"or not a timestamp: emitted, but the state stays at {best!r}, so they are read again next time"
        )
    if best is not None:
        yield Checkpoint(cursor_field=cursor, cursor=best)
