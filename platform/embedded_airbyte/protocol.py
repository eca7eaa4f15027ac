"""The Airbyte protocol as a connector writes it: one JSON message per line on its stdout.

Reading is fast because most lines are never parsed in Python: a run of RECORD lines of one
stream, in the shape Airbyte's CDK writes them, is handed on as one block of bytes (``pieces``)
for the destination to parse. Every other line is parsed and checked here. Errors name the
line and what kind of message it was, never what it held: a record's values may be personal data.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Collection, Iterator, Mapping
from typing import IO, Any

import orjson

from embedded_airbyte.streams import Stream


class SyncFailed(RuntimeError):
    """A sync did not complete. Committed checkpoints are kept; everything after them was discarded."""


class ProtocolError(SyncFailed):
    """The connector wrote something that is not a valid Airbyte protocol message."""


class UnparsableLine(ProtocolError):
    """A line that is not JSON: a connector's bug, or the last line of one killed while writing it."""


class ConnectorCheckFailed(SyncFailed):
    """The connector's ``check`` reported that it cannot reach its source."""


LOG_LEVELS = {
    "FATAL": logging.CRITICAL,
    "ERROR": logging.ERROR,
    "WARN": logging.WARNING,
    "INFO": logging.INFO,
    "DEBUG": logging.DEBUG,
    "TRACE": logging.DEBUG,
}


def parse_line(line: bytes, number: int, where: str) -> dict[str, Any]:
    try:
        message = orjson.loads(line)
    except orjson.JSONDecodeError as error:
        raise UnparsableLine(f"{where}: line {number} is not valid JSON ({json_error(error)}): {described(line)}") from None
    if not isinstance(message, dict) or not isinstance(message.get("type"), str):
        raise ProtocolError(f"{where}: line {number} is not an Airbyte message (no 'type'): {described(line)}")
    return message


RECORD_PREFIX = b'{"type":"RECORD","record":{"stream":"'
"""How Airbyte's CDK (and most connectors) start a RECORD line: the stream's name follows."""

_PREFIX_LENGTH = len(RECORD_PREFIX)

_READ_SIZE = 1 << 20


def pieces(output: IO[bytes], streams: Collection[bytes]) -> Iterator[tuple[int, bytes, bytes | None, int]]:
    """The connector's output as (first line number, bytes, stream, lines) pieces, without a
    Python step per record: a run of consecutive lines that start like a RECORD of one of
    ``streams`` is one piece (a regular expression finds where the run ends), every other line
    is a piece of its own with stream None. Each piece ends with a newline (the last line of the
    output gets one)."""
    run_end = {name: re.compile(b"\n(?!" + re.escape(RECORD_PREFIX + name + b'"') + b")") for name in streams}
    number, carried = 0, []  # the start of a line the blocks read so far have not ended
    while True:
        block = output.read1(_READ_SIZE)  # type: ignore[attr-defined]
        if not block:
            if not carried:
                return
            data, carried = b"".join(carried) + b"\n", []
        else:
            last = block.rfind(b"\n")
            if last < 0:  # a line longer than a block: keep its parts, searching only new blocks
                carried.append(block)
                continue
            data = b"".join([*carried, block[: last + 1]]) if carried else block[: last + 1]
            carried = [block[last + 1 :]] if last + 1 < len(block) else []
        end = len(data)
        position = 0
        while position < end:
            if data.startswith(RECORD_PREFIX, position):
                quote = data.find(b'"', position + _PREFIX_LENGTH, end)
                pattern = run_end.get(data[position + _PREFIX_LENGTH : quote]) if quote > 0 else None
                if pattern is not None:
                    stop = pattern.search(data, position, end).end()  # type: ignore[union-attr]
                    count = data.count(b"\n", position, stop)
                    yield number + 1, data[position:stop], data[position + _PREFIX_LENGTH : quote], count
                    number += count
                    position = stop
                    continue
            stop = data.index(b"\n", position, end) + 1
            number += 1
            yield number, data[position:stop], None, 1
            position = stop


def check_record(record: Mapping[str, Any], number: int, where: str, stream: str, line: bytes) -> None:
    if not isinstance(record.get("data"), dict) or not isinstance(record.get("emitted_at"), int | float):
        raise ProtocolError(
            f"{where}, stream {stream!r}: line {number} is a malformed RECORD "
            f"(it needs an object 'data' and a numeric 'emitted_at'; its 'data' is {json_type(record.get('data'))}, its 'emitted_at' "
            f"{json_type(record.get('emitted_at'))}): {described(line)}"
        )


def state_by_stream(message: Mapping[str, Any], number: int, where: str, streams: Collection[str]) -> list[tuple[str, Any]]:
    """The (stream, state) pairs of a STATE message: one for a STREAM state, one per stream for a GLOBAL one."""
    state = message.get("state") or {}
    kind = state.get("type", "LEGACY")
    if kind == "STREAM":
        descriptor = (state.get("stream") or {}).get("stream_descriptor") or {}
        pairs = [(descriptor.get("name"), (state.get("stream") or {}).get("stream_state"))]
    elif kind == "GLOBAL":
        pairs = [
            (s["stream_descriptor"]["name"], {"shared_state": state["global"].get("shared_state"), **(s.get("stream_state") or {})})
            for s in (state.get("global") or {}).get("stream_states", [])
        ]
    else:
        raise ProtocolError(f"{where}: line {number} is a {kind_of(kind)} state message; only STREAM and GLOBAL states are supported")
    for stream, _ in pairs:
        if stream not in streams:
            raise ProtocolError(f"{where}: line {number} is a STATE for stream {stream!r}, which is not in the configured catalog")
    return pairs


def configured_stream(discovered: Mapping[str, Any], spec: Stream) -> dict[str, Any]:
    """The stream as the configured catalog of ``read`` names it, from the stream ``discover`` found."""
    configured: dict[str, Any] = {
        "stream": discovered,
        "sync_mode": spec.sync_mode.source_sync_mode,
        "destination_sync_mode": spec.sync_mode.destination_sync_mode,
    }
    if spec.cursor_field:
        configured["cursor_field"] = [spec.cursor_field]
    if spec.primary_key:
        configured["primary_key"] = [[k] for k in spec.primary_key]
    return configured


def described(line: bytes) -> str:
    """What a line is, never what it holds: a record's values may be personal data, and an error
    travels to Dagster's event log, alerts and ``sync_runs``."""
    kind = re.match(rb'\s*\{\s*"type"\s*:\s*"([A-Z_]{1,30})"', line)
    size = len(line.rstrip(b"\n"))
    return f"{size:,} bytes" + (f", a {kind[1].decode()} message" if kind else "") + " (its content is not shown)"


def kind_of(kind: object) -> str:
    """A message type as the connector sent it, when it looks like one (else it could be data)."""
    return repr(kind) if isinstance(kind, str) and re.fullmatch(r"[A-Za-z_]{1,30}", kind) else f"of {json_type(kind)}"


def json_type(value: object) -> str:
    return {dict: "an object", list: "an array", str: "a string", bool: "a boolean", type(None): "missing or null"}.get(
        type(value), "a number" if isinstance(value, int | float) else type(value).__name__
    )


def json_error(error: Exception) -> str:
    """orjson's reason and position (line, column, byte), which name no content."""
    return str(error).split(": line ")[0] + (f" at byte {error.pos} of the line" if isinstance(getattr(error, "pos", None), int) else "")


_QUOTED = re.compile(r"'[^'\n]*'")


def without_values(message: str) -> str:
    """A warehouse error without the values it quotes (DuckDB names the value it could not convert,
    and a JSON reader its input): kept are the reason, the column and the position."""
    message = re.split(r"\bInput:", message)[0].strip()
    return _QUOTED.sub("<value withheld>", message)


def tail(text: str, lines: int = 5) -> str:
    return " / ".join(text.strip().splitlines()[-lines:])
