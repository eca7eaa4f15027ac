"""The embedded runner against connectors that misbehave as real ones do (a scripted connector:
lines that are not JSON, malformed records, records outside the catalog, error traces, a source
that goes silent), and what it keeps: checkpoints committed, the failing line named, never a row
twice. The platform's own tests: no example data."""

from __future__ import annotations

import dataclasses
import sys
import threading
from pathlib import Path

import duckdb
import orjson
import pytest

from embedded_airbyte import Column, CommitPolicy, Connection, EmbeddedAirbyte, ProtocolError, Source, Stream, SyncFailed, SyncMode
from embedded_airbyte.destination import DuckDBDestination

from ..conftest import SUPPORT

STREAM = {
    "name": "payments",
    "json_schema": {"type": "object", "properties": {"id": {"type": "integer"}, "amount": {"type": "number"}}},
    "supported_sync_modes": ["full_refresh", "incremental"],
}


REFUNDS = {**STREAM, "name": "refunds"}


PAYMENT_COLUMNS = (Column("id", "integer"), Column("amount", "number"))


def scripted(tmp_path, lines: list[str], exit_code: int = 0, refunds: bool = False) -> tuple[EmbeddedAirbyte, Connection, dict]:
    """A connection whose connector prints ``lines``: stream ``payments`` (append), and with
    ``refunds`` a second stream, deduplicated on ``id``. Every STATE commits (``CommitPolicy(0, 0)``)
    unless a test sets the runner's ``commits``."""
    second = Stream("refunds", SyncMode.INCREMENTAL_APPEND_DEDUP, "id", ("id",), PAYMENT_COLUMNS)
    connection = Connection(
        "scripted",
        "raw_scripted",
        Source((sys.executable, str(SUPPORT / "scripted_source.py"))),
        (Stream("payments", SyncMode.INCREMENTAL_APPEND, "id", (), PAYMENT_COLUMNS), *([second] if refunds else [])),
    )
    config = {"streams": [STREAM, *([REFUNDS] if refunds else [])], "lines": lines, "exit_code": exit_code}
    return EmbeddedAirbyte(tmp_path / "scripted.duckdb", commits=CommitPolicy(0, 0)), connection, config


def record(data, stream="payments") -> str:
    return orjson.dumps({"type": "RECORD", "record": {"stream": stream, "data": data, "emitted_at": 1_700_000_000_000}}).decode()


def state(cursor, stream="payments") -> str:
    return orjson.dumps(
        {
            "type": "STATE",
            "state": {"type": "STREAM", "stream": {"stream_descriptor": {"name": stream}, "stream_state": {"cursor": cursor}}},
        }
    ).decode()


def test_a_line_that_is_not_json_fails_naming_the_line(tmp_path):
    runner, connection, config = scripted(tmp_path, [record({"id": 1, "amount": 2}), state(1), "Traceback (most recent call last):"])
    with pytest.raises(ProtocolError) as error:
        runner.sync(connection, config)
    message = str(error.value)
    assert "connection 'scripted'" in message and "line 3 is not valid JSON" in message and "at byte 0 of the line" in message
    assert "34 bytes" in message and "Traceback" not in message, "what the line is, not what it holds"


def test_a_malformed_record_fails_naming_the_stream_and_line(tmp_path):
    runner, connection, config = scripted(tmp_path, [record({"id": 1, "amount": 2}), record(["not", "an", "object"])])
    with pytest.raises(ProtocolError, match=r"stream 'payments': line 2 is a malformed RECORD .*its 'data' is an array"):
        runner.sync(connection, config)


def test_a_truncated_record_is_named_by_its_line_and_its_checkpoint_is_not_committed(tmp_path):
    """A RECORD in the canonical shape is not parsed in Python on arrival: DuckDB parses it when its
    buffer loads. A broken one must still be named by the connector's line, and stop its checkpoint."""
    truncated = record({"id": 3, "amount": 1})[:-20]
    runner, connection, config = scripted(
        tmp_path, [record({"id": 1, "amount": 1}), state(1), record({"id": 2, "amount": 1}), truncated, state(3)]
    )
    with pytest.raises(ProtocolError, match=r"line 4 is not valid JSON"):
        runner.sync(connection, config)
    with duckdb.connect(str(tmp_path / "scripted.duckdb")) as conn:
        assert conn.execute("select id from raw_scripted.payments").fetchall() == [(1,)], "only the first checkpoint landed"


def test_a_record_whose_emitted_at_is_text_fails_naming_the_stream_and_line(tmp_path):
    text_instant = record({"id": 2, "amount": 1}).replace("1700000000000", '"1700000000000"')
    runner, connection, config = scripted(tmp_path, [record({"id": 1, "amount": 1}), text_instant, state(2)])
    with pytest.raises(ProtocolError, match=r"stream 'payments': line 2 is a malformed RECORD"):
        runner.sync(connection, config)


def test_a_record_for_a_stream_outside_the_catalog_fails_naming_it(tmp_path):
    runner, connection, config = scripted(tmp_path, [record({"id": 1}, stream="refunds")])
    with pytest.raises(ProtocolError, match=r"line 1 is a RECORD for stream 'refunds', which is not in the configured catalog"):
        runner.sync(connection, config)


def test_a_source_reporting_an_error_fails_the_sync_with_its_message(tmp_path):
    trace = orjson.dumps(
        {"type": "TRACE", "trace": {"type": "ERROR", "emitted_at": 0, "error": {"message": "password authentication failed"}}}
    ).decode()
    runner, connection, config = scripted(tmp_path, [record({"id": 1, "amount": 1}), trace], exit_code=1)
    with pytest.raises(SyncFailed, match=r"exited with code 1.*password authentication failed"):
        runner.sync(connection, config)


def test_checkpointed_records_survive_a_later_protocol_error(tmp_path):
    lines = [record({"id": 1, "amount": 1}), record({"id": 2, "amount": 1}), state(2), record({"id": 3, "amount": 1}), "{oops"]
    runner, connection, config = scripted(tmp_path, lines)
    with pytest.raises(ProtocolError):
        runner.sync(connection, config)
    import duckdb

    with duckdb.connect(str(tmp_path / "scripted.duckdb")) as conn:
        assert conn.execute("select id from raw_scripted.payments order by id").fetchall() == [(1,), (2,)]
        assert orjson.loads(conn.execute("select state from airbyte_internal.sync_state").fetchone()[0]) == {"cursor": 2}


def test_a_value_that_does_not_fit_its_column_is_nulled_and_recorded_in_airbyte_meta(tmp_path):
    runner, connection, config = scripted(tmp_path, [record({"id": 1, "amount": "twelve"}), state(1)])
    runner.sync(connection, config)
    import duckdb

    with duckdb.connect(str(tmp_path / "scripted.duckdb")) as conn:
        amount, meta = conn.execute("select amount, _airbyte_meta from raw_scripted.payments").fetchone()
    assert amount is None
    assert orjson.loads(meta)["changes"] == [{"field": "amount", "change": "NULLED", "reason": "DESTINATION_TYPECAST_ERROR"}]


def interleaved(count: int) -> list[str]:
    """Records of two streams taking turns in runs of 1 to 3 lines, each stream checkpointed every 40 records."""
    lines, sent = [], {"payments": 0, "refunds": 0}
    for n in range(count):
        stream = "payments" if (n // (1 + n % 3)) % 2 else "refunds"
        sent[stream] += 1
        lines.append(record({"id": sent[stream], "amount": n}, stream=stream))
        if sent[stream] % 40 == 0:
            lines.append(state(sent[stream], stream))
    return [*lines, state(sent["payments"]), state(sent["refunds"], "refunds")]


def test_interleaved_streams_land_each_in_its_own_table_once(tmp_path):
    lines = interleaved(1_000)
    runner, connection, config = scripted(tmp_path, lines, refunds=True)
    runner.batch_size = 7  # the deduplicated stream's buffer loads several times between its checkpoints
    result = runner.sync(connection, config)
    sent = {s: sum(f'"stream":"{s}"' in line and '"RECORD"' in line for line in lines) for s in ("payments", "refunds")}
    assert {name: s.records_synced for name, s in result.streams.items()} == sent
    with duckdb.connect(str(tmp_path / "scripted.duckdb")) as conn:
        for stream, count in sent.items():
            assert conn.execute(f"select count(*), count(distinct id), max(id) from raw_scripted.{stream}").fetchone() == (
                count,
                count,
                count,
            )


def test_a_malformed_record_deep_in_interleaved_streams_is_named_by_its_own_line(tmp_path):
    lines = interleaved(1_000)
    bad = next(i for i, line in enumerate(lines) if i > 700 and '"stream":"refunds"' in line and '"RECORD"' in line)
    lines[bad] = record([orjson.loads(lines[bad])["record"]["data"]], stream="refunds")  # data in a list: not an object
    runner, connection, config = scripted(tmp_path, lines, refunds=True)
    with pytest.raises(ProtocolError, match=rf"stream 'refunds': line {bad + 1} is a malformed RECORD"):
        runner.sync(connection, config)
    checkpoint_before = max(
        orjson.loads(line)["state"]["stream"]["stream_state"]["cursor"] for line in lines[:bad] if '"name":"refunds"' in line
    )
    with duckdb.connect(str(tmp_path / "scripted.duckdb")) as conn:
        last = orjson.loads(conn.execute("select state from airbyte_internal.sync_state where stream = 'refunds'").fetchone()[0])
        assert last["cursor"] == checkpoint_before, "the checkpoints before the bad line are kept, none after it"
        assert conn.execute("select max(id) from raw_scripted.refunds").fetchone()[0] == last["cursor"], "data and state agree"


def writer_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name == "airbyte-destination"]


def test_of_two_malformed_records_the_earlier_line_is_named_and_no_writer_is_left_running(tmp_path):
    bad_refund = record(["not an object"], stream="refunds")
    bad_payment = record(["not an object"])
    runner, connection, config = scripted(tmp_path, [bad_refund, bad_payment], refunds=True)
    with pytest.raises(ProtocolError, match=r"stream 'refunds': line 1 is a malformed RECORD"):
        runner.sync(connection, config)
    assert writer_threads() == []


def test_a_malformed_record_is_named_before_a_later_line_that_is_not_json(tmp_path):
    lines = [record({"id": n, "amount": 1}) for n in range(1, 20)]
    lines[9] = record(["not an object"])
    runner, connection, config = scripted(tmp_path, [*lines, "Traceback (most recent call last):"])
    with pytest.raises(ProtocolError, match=r"line 10 is a malformed RECORD"):
        runner.sync(connection, config)
    assert writer_threads() == []


@pytest.mark.parametrize("records", [1, 0], ids=["after records", "with no record"])
def test_a_warehouse_failure_at_a_checkpoint_is_reported_as_itself(tmp_path, monkeypatch, records):
    """Not as a bad record: the records were fine, the warehouse was not."""

    def disk_full(self, target, state, generation):
        raise duckdb.IOException("could not write: no space left on device")

    monkeypatch.setattr(DuckDBDestination, "_store_state", disk_full)
    runner, connection, config = scripted(tmp_path, [*[record({"id": 1, "amount": 2})] * records, state(1)])
    with pytest.raises(duckdb.IOException, match="no space left on device"):
        runner.sync(connection, config)
    assert writer_threads() == []


def test_a_sync_gives_back_duckdbs_checkpoint_threshold(tmp_path):
    """The sync raises the threshold while it commits; another connection of the same process to the
    same file shares that global setting, and must find it as it was."""
    runner, connection, config = scripted(tmp_path, [record({"id": 1, "amount": 2}), state(1)])
    with duckdb.connect(str(tmp_path / "scripted.duckdb"), config={"custom_user_agent": "dagster"}) as other:
        before = other.execute("select current_setting('checkpoint_threshold')").fetchone()[0]
        runner.sync(connection, config)
        assert other.execute("select current_setting('checkpoint_threshold')").fetchone()[0] == before
        assert other.execute("select count(*) from raw_scripted.payments").fetchone()[0] == 1


def test_two_syncs_open_at_once_give_the_threshold_back_when_the_last_one_closes(tmp_path):
    with duckdb.connect(str(tmp_path / "w.duckdb"), config={"custom_user_agent": "dagster"}) as other:

        def threshold() -> str:
            return other.execute("select current_setting('checkpoint_threshold')").fetchone()[0]

        before = threshold()
        first, second = DuckDBDestination(tmp_path / "w.duckdb"), DuckDBDestination(tmp_path / "w.duckdb")
        raised = threshold()
        assert raised != before
        first.close()
        assert threshold() == raised, "the second sync is still committing"
        second.close()
        assert threshold() == before


def test_two_versions_of_a_key_with_no_cursor_value_are_recorded_as_a_conflict_not_a_failed_sync(tmp_path):
    """A source that sends one key twice, differently, with its cursor column empty: the sync
    commits (a NULL cursor value must not break the conflicts ledger) and records the conflict."""
    from embedded_airbyte.bookkeeping import NO_CURSOR

    stream = Stream("refunds", SyncMode.INCREMENTAL_APPEND_DEDUP, "changed", ("id",), (*PAYMENT_COLUMNS, Column("changed", "integer")))
    _, connection, _ = scripted(tmp_path, [])
    connection = dataclasses.replace(connection, streams=(stream,))
    schema = {"type": "object", "properties": {"id": {"type": "integer"}, "amount": {"type": "number"}, "changed": {"type": "integer"}}}
    lines = [
        record({"id": 7, "amount": 2, "changed": None}, "refunds"),
        record({"id": 7, "amount": 3, "changed": None}, "refunds"),
        state(None, "refunds"),
    ]
    config = {"streams": [{**STREAM, "name": "refunds", "json_schema": schema}], "lines": lines, "exit_code": 0}
    result = EmbeddedAirbyte(tmp_path / "nulls.duckdb").sync(connection, config)
    assert result.streams["refunds"].conflicting_keys == 1
    with duckdb.connect(str(tmp_path / "nulls.duckdb"), read_only=True) as conn:
        assert conn.execute("select key_json, cursor_value from airbyte_internal.conflicting_versions").fetchall() == [("[7]", NO_CURSOR)]


def test_a_source_that_goes_silent_is_stopped_and_named_and_its_checkpoint_kept(tmp_path):
    runner, connection, config = scripted(tmp_path, [record({"id": 1, "amount": 2}), state(1), record({"id": 2, "amount": 3})])
    runner.silence_timeout = 1.0
    config["hang"] = True
    with pytest.raises(SyncFailed) as error:
        runner.sync(connection, config)
    message = str(error.value)
    assert "wrote nothing for 1 s (silence_timeout) and was stopped" in message
    assert "Discarded records read after the last checkpoint: {'payments': 1}" in message
    with duckdb.connect(str(tmp_path / "scripted.duckdb"), read_only=True) as conn:
        assert conn.execute("select id from raw_scripted.payments").fetchall() == [(1,)], "the checkpointed record stays"


@pytest.mark.timeout(60)
def test_a_source_whose_worker_process_hangs_holding_its_output_is_stopped_with_the_worker(tmp_path):
    runner, connection, config = scripted(tmp_path, [record({"id": 1, "amount": 2}), state(1)])
    runner.silence_timeout = 1.0
    config.update(hang="worker", worker_pid_file=str(tmp_path / "worker.pid"))
    with pytest.raises(SyncFailed, match="wrote nothing for 1 s"):
        runner.sync(connection, config)
    worker = Path(config["worker_pid_file"]).read_text()
    status = Path("/proc", worker, "status")
    assert not status.exists() or "State:\tZ" in status.read_text(), "the connector's worker was stopped with it"


MARKER = {"id": 7, "amount": 1, "email": "marker.pii@example.invalid", "phone": "+34 600 111 222"}
"""Personal data a connector sends: no error, log line or event may carry any of it."""


def assert_no_marker(text: str) -> None:
    for value in ("marker.pii", "600 111 222"):
        assert value not in text, f"record content in: {text}"


@pytest.mark.parametrize("cut_at", ["record", "state"])
def test_a_connector_killed_mid_line_is_reported_as_killed_and_its_checkpoint_kept(tmp_path, cut_at):
    """The OOM killer mid-write: the last line is cut short. That is the connector's death, not a
    line of bad JSON, and the cut line's content (a record's personal data) is not quoted."""
    cut = record(MARKER)[:60] if cut_at == "record" else state(2)[:30]
    runner, connection, config = scripted(tmp_path, [record({"id": 1, "amount": 2}), state(1), record(MARKER)])
    config["cut"] = cut
    with pytest.raises(SyncFailed) as error:
        runner.sync(connection, config)
    message = str(error.value)
    assert "was killed by SIGKILL after 3 lines, its last line cut short" in message, message
    assert "Committed checkpoints and their state are kept" in message
    assert_no_marker(message)
    with duckdb.connect(str(tmp_path / "scripted.duckdb"), read_only=True) as conn:
        assert conn.execute("select id from raw_scripted.payments").fetchall() == [(1,)], "the checkpointed record stays"


BAD_LINES = {
    "not json": f"oops {MARKER['email']} {MARKER['phone']}",
    "a cut record": record(MARKER)[:-3],
    "a record whose data is text": record({"id": 7}).replace('{"id":7}', orjson.dumps(str(MARKER)).decode()),
    "a record of a stream outside the catalog": record(MARKER, stream="refunds"),
    "an unknown message type": orjson.dumps({"type": "GOSSIP", "gossip": MARKER}).decode(),
    "a type that is data": orjson.dumps({"type": MARKER["email"]}).decode(),
    "a legacy state": orjson.dumps({"type": "STATE", "state": {"type": "LEGACY", "data": MARKER}}).decode(),
}


@pytest.mark.parametrize("bad", BAD_LINES, ids=list(BAD_LINES))
def test_a_protocol_error_names_the_line_never_its_content(tmp_path, bad):
    runner, connection, config = scripted(tmp_path, [record({"id": 1, "amount": 2}), state(1), BAD_LINES[bad], state(2)])
    with pytest.raises(ProtocolError) as error:
        runner.sync(connection, config)
    assert "line 3" in str(error.value), str(error.value)
    assert_no_marker(str(error.value))


def test_a_warehouse_error_keeps_its_reason_not_the_values_it_quotes():
    from embedded_airbyte.protocol import without_values as _without_values

    duckdb_says = "Conversion Error: Could not convert string 'marker.pii@example.invalid' to INT32 in column \"amount\""
    reading_json = 'Invalid Input Error: Malformed JSON at byte 3 of input: unexpected character.  Input: {"e": "marker.pii"}'
    assert _without_values(duckdb_says) == 'Conversion Error: Could not convert string <value withheld> to INT32 in column "amount"'
    assert _without_values(reading_json) == "Invalid Input Error: Malformed JSON at byte 3 of input: unexpected character."
