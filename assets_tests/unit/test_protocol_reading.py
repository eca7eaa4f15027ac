"""How the embedded runner cuts a connector's output into pieces, and how connectors read cursor instants.

The runner reads the connector's stdout in blocks and hands whole runs of one stream's RECORD
lines to that stream's buffer; every other line is parsed on its own. These claims pin that the
cutting neither loses, reorders nor renumbers a line, whatever the block boundaries."""

from __future__ import annotations

import datetime as dt
import io

import orjson
import pytest

from embedded_airbyte import protocol
from embedded_airbyte.connectors.sdk import instant


def record(stream: str, n: int) -> bytes:
    return orjson.dumps({"type": "RECORD", "record": {"stream": stream, "emitted_at": 1, "data": {"id": n}}}) + b"\n"


STATE = b'{"type":"STATE","state":{"type":"STREAM","stream":{"stream_descriptor":{"name":"a"},"stream_state":{"cursor":3}}}}\n'
OUTPUT = [
    record("a", 1),
    record("a", 2),
    record("b", 1),
    STATE,
    record("a", 3),
    b'{"record":{"stream":"a","emitted_at":1,"data":{"id":4}},"type":"RECORD"}\n',  # a RECORD in another key order
    record("ab", 1),  # a stream whose name starts like another's
    record("a", 5),
    b"\n",
    record("b", 2),
    record("b", 3).replace(b"\n", b"\r\n"),  # a line ended the Windows way
    record("b", 4)[:-1] + b" " * 3000 + b"\n",  # a line longer than some blocks
    record("b", 5),
    b'{"type":"LOG","log":{"level":"INFO","message":"done"}}',  # the last line, with no newline
]


def pieces(data: bytes, block: int, monkeypatch) -> list[tuple[int, bytes, bytes | None, int]]:
    monkeypatch.setattr(protocol, "_READ_SIZE", block)
    return list(protocol.pieces(io.BufferedReader(io.BytesIO(data), buffer_size=block), [b"a", b"b"]))


@pytest.mark.parametrize("block", [1, 7, 64, 1 << 20])
def test_pieces_put_every_line_back_in_order_with_its_number(block, monkeypatch):
    found = pieces(b"".join(OUTPUT), block, monkeypatch)
    assert b"".join(p[1] for p in found) == b"".join(OUTPUT) + b"\n", "every byte once, in order; the last line gets its newline"
    numbers = [first + i for first, _, _, count in found for i in range(count)]
    assert numbers == list(range(1, len(OUTPUT) + 1)), "each line keeps its number in the connector's output"


@pytest.mark.parametrize("block", [1, 7, 1 << 20])
def test_a_run_holds_only_canonical_records_of_its_own_stream(block, monkeypatch):
    for _, data, stream, count in pieces(b"".join(OUTPUT), block, monkeypatch):
        lines = data.splitlines(keepends=True)
        assert len(lines) == count
        if stream is None:
            assert count == 1
        else:
            assert all(orjson.loads(line)["record"]["stream"] == stream.decode() for line in lines)
            assert all(line.startswith(b'{"type":"RECORD"') for line in lines)


def test_consecutive_records_of_one_stream_come_as_one_piece(monkeypatch):
    found = pieces(b"".join(OUTPUT), 1 << 20, monkeypatch)
    assert [(stream, count) for _, _, stream, count in found] == [
        (b"a", 2),
        (b"b", 1),
        (None, 1),  # STATE
        (b"a", 1),
        (None, 1),  # another key order: parsed on its own
        (None, 1),  # stream "ab" is not configured here: parsed on its own (and refused by the runner)
        (b"a", 1),
        (None, 1),  # the blank line
        (b"b", 4),
        (None, 1),  # LOG
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-21T08:00:00Z", dt.datetime(2026, 11, 21, 8, tzinfo=dt.UTC)),
        ("2026-11-21T08:00:00.123z", dt.datetime(2026, 11, 21, 8, 0, 0, 123000, tzinfo=dt.UTC)),
        (" 2026-11-21T08:00:00+01:00 ", dt.datetime(2026, 11, 21, 7, tzinfo=dt.UTC)),
        ("2026-11-21 19:45:13", dt.datetime(2026, 11, 21, 19, 45, 13, tzinfo=dt.UTC)),
        ("", None),
        ("  ", None),
        ("yesterday", None),
        (1_700_000_000, None),
    ],
)
def test_a_cursor_value_is_read_as_an_instant_with_utc_for_no_zone(text, expected):
    assert instant(text) == expected
