"""Cursors kept as a trusted system keeps them: the checkpoint is the highest cursor read, never
later than the connector's clock minus a safety lag; reads start a lookback before it; and the
destination absorbs what is read again, so nothing is lost and nothing lands twice (a connector
that checkpoints before its records, rows out of order, rows it must send at every sync)."""

from __future__ import annotations

import datetime as dt

import duckdb

from embedded_airbyte.connectors import csv_files
from embedded_airbyte.connectors.sdk import SAFETY_LAG, Checkpoint, checkpoints

from .test_connector_protocol import record, scripted, state

NOW = dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.UTC)


def at(minutes: float) -> str:
    """An instant ``minutes`` after NOW (negative: before), as a source writes it."""
    return (NOW + dt.timedelta(minutes=minutes)).isoformat().replace("+00:00", "Z")


def states(rows: list[dict], every: int = 1000, previous: str | None = None) -> list[str]:
    return [item["cursor"] for item in checkpoints(iter(rows), "at", every, previous, now=NOW) if isinstance(item, Checkpoint)]


def rows_in(tmp_path) -> list[tuple]:
    with duckdb.connect(str(tmp_path / "scripted.duckdb"), read_only=True) as conn:
        return conn.execute("select id, amount from raw_scripted.payments order by id, amount").fetchall()


# --- the checkpoint --------------------------------------------------------------------------


def test_the_checkpoint_is_the_highest_cursor_read_not_the_last_one():
    assert states([{"at": at(-60)}, {"at": at(-30)}, {"at": at(-50)}]) == [at(-30)]


def test_a_cursor_within_the_safety_lag_or_ahead_of_the_clock_is_not_a_checkpoint():
    lag = SAFETY_LAG.total_seconds() / 60
    assert states([{"at": at(-60)}, {"at": at(-lag / 2)}, {"at": at(+3)}]) == [at(-60)], "a row of the last minutes waits"


def test_the_checkpoint_never_moves_back_when_a_lookback_reads_older_rows():
    assert states([{"at": at(-90)}, {"at": at(-70)}], previous=at(-60)) == [at(-60)]


def test_a_checkpoint_mid_read_comes_before_a_row_that_raises_the_highest_cursor():
    emitted = list(checkpoints(iter([{"at": at(-50)}, {"at": at(-40)}, {"at": at(-45)}, {"at": at(-30)}]), "at", 2, None, now=NOW))
    assert [item.get("cursor") if isinstance(item, Checkpoint) else item["at"] for item in emitted] == [
        at(-50),
        at(-40),
        at(-45),
        at(-40),  # before at(-30): every row so far is at or below it
        at(-30),
        at(-30),
    ]


# --- the read starts a lookback before it ----------------------------------------------------


def test_a_row_committed_late_with_an_earlier_stamp_is_read_by_the_next_sync(tmp_path):
    (tmp_path / "items.csv").write_text(f"id,updated_at\n1,{at(-120)}\n2,{at(-60)}\n3,{at(-75)}\n")
    config = {"path": str(tmp_path), "streams": {"items": {"cursor_field": "updated_at", "primary_key": ["id"]}}}
    read = list(csv_files.read(config, "items", "incremental", {"cursor": at(-60)}))
    assert [r["id"] for r in read if not isinstance(r, Checkpoint)] == ["3", "2"], "within the hour's lookback, in cursor order"
    assert [r["cursor"] for r in read if isinstance(r, Checkpoint)] == [at(-60)]


# --- the destination absorbs what is read again -------------------------------------------------


def test_records_after_a_state_that_lies_past_them_land_and_land_once(tmp_path):
    """A connector that emits its final STATE before its records: they are committed with it,
    not discarded, and reading them again next sync appends nothing."""
    lines = [record({"id": 1, "amount": 1}), state(300), *(record({"id": i, "amount": i}) for i in range(2, 302))]
    runner, connection, config = scripted(tmp_path, lines)
    first = runner.sync(connection, config)
    assert len(rows_in(tmp_path)) == 301 and first.streams["payments"].records_synced == 301
    runner.sync(connection, config)
    assert len(rows_in(tmp_path)) == 301


def test_rows_read_again_by_a_lookback_are_not_appended_again(tmp_path):
    runner, connection, config = scripted(tmp_path, [record({"id": 1, "amount": 1}), record({"id": 2, "amount": 2}), state(2)])
    runner.sync(connection, config)
    config["lines"] = [record({"id": 2, "amount": 2}), record({"id": 3, "amount": 3}), state(3)]
    again = runner.sync(connection, config)
    assert rows_in(tmp_path) == [(1, 1.0), (2, 2.0), (3, 3.0)]
    assert again.streams["payments"].records_superseded == 1, "the repeat is counted, so sent = landed + repeats reconciles"


def test_thousands_of_rows_sent_at_every_sync_are_held_once(tmp_path):
    """Rows a source cannot be checkpointed past (malformed lines kept for quarantine, a year-2999
    stamp) come at every sync: 1,500 of them, three syncs, 1,500 rows."""
    stuck = [record({"id": i, "amount": None}) for i in range(1500)]
    runner, connection, config = scripted(tmp_path, [*stuck, state(0)])
    for _ in range(3):
        runner.sync(connection, config)
    assert len(rows_in(tmp_path)) == 1500


def test_a_row_the_source_really_sends_twice_in_one_sync_is_kept_twice(tmp_path):
    """Only what the table already held is absorbed: a duplicate delivery within a sync is raw
    data for staging to deduplicate, not for the loader to drop."""
    runner, connection, config = scripted(tmp_path, [record({"id": 1, "amount": 1}), record({"id": 1, "amount": 1}), state(1)])
    runner.sync(connection, config)
    assert rows_in(tmp_path) == [(1, 1.0), (1, 1.0)]


def test_only_an_identical_row_is_absorbed_whatever_its_cursor_or_window(tmp_path):
    """A window whose records all lie past the table's cursor values goes straight in; otherwise a
    record is dropped only when the table holds it with every value the same, a null cursor
    included, and in whichever commit window of the sync it comes."""
    runner, connection, config = scripted(tmp_path, [record({"id": None, "amount": 7}), record({"id": 3, "amount": 3}), state(3)])
    runner.sync(connection, config)
    config["lines"] = [
        record({"id": 4, "amount": 4}),
        state(4),  # a window of its own: past every cursor held
        record({"id": None, "amount": 7}),  # held, with a null cursor, in a window otherwise past them all
        record({"id": 5, "amount": 5}),
        state(5),
        record({"id": 3, "amount": 30}),  # a held cursor value, another amount: a new row
        record({"id": 3, "amount": 3}),  # held
        state(5),
    ]
    again = runner.sync(connection, config)
    assert rows_in(tmp_path) == [(3, 3.0), (3, 30.0), (4, 4.0), (5, 5.0), (None, 7.0)]
    assert again.streams["payments"].records_superseded == 2
