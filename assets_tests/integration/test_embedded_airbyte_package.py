"""The embedded runner as a package of its own: it runs with no Dagster (and no platform) to
import, commits by size or age, and a committed state never lies past its committed records,
whenever the process syncing is killed."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time

import duckdb
import orjson
import pytest

from embedded_airbyte import Column, CommitPolicy, Connection, EmbeddedAirbyte, Source, Stream, SyncMode
from embedded_airbyte.buffers import StreamBuffer
from embedded_airbyte.destination import DuckDBDestination

from ..conftest import SUPPORT
from .test_connector_protocol import STREAM, record, state

BLOCKED = ("dagster", "dagster_dbt", "dagster_duckdb", "data_platform")


@pytest.fixture
def no_dagster(tmp_path):
    """An environment in which ``import dagster`` (and the platform) fails, in every process it starts."""
    blocker = tmp_path / "blocked"
    for name in BLOCKED:
        (blocker / name).mkdir(parents=True)
        (blocker / name / "__init__.py").write_text(f"raise ImportError('{name} is blocked: the runner must not need it')\n")
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(blocker), os.environ.get("PYTHONPATH", "")])}


def test_the_runner_syncs_a_csv_folder_from_its_command_line_with_no_dagster_importable(tmp_path, no_dagster):
    folder = tmp_path / "exports"
    folder.mkdir()
    (folder / "people.csv").write_text("id,name,updated_at\n1,Ada,2026-01-01T00:00:00Z\n2,Grace,2026-01-02T00:00:00Z\n")
    config = tmp_path / "config.json"
    config.write_text(
        json.dumps(
            {"path": str(folder), "streams": {"people": {"cursor_field": "updated_at", "primary_key": ["id"], "types": {"id": "integer"}}}}
        )
    )
    proof = subprocess.run([sys.executable, "-c", "import dagster"], env=no_dagster, capture_output=True, text=True)
    assert "dagster is blocked" in proof.stderr, "the blocker works"
    sync = [sys.executable, "-m", "embedded_airbyte", "sync", "--database", str(tmp_path / "w.duckdb"), "--namespace", "raw_people"]
    sync += ["--config", str(config), "--stream", "people:incremental_append_dedup:updated_at:id"]
    sync += ["--", sys.executable, "-m", "embedded_airbyte.connectors.csv_files"]
    done = subprocess.run(sync, env=no_dagster, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["streams"]["people"] == {"records_synced": 2, "rows_in_table": 2, "table": "raw_people.people"}
    with duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True) as conn:
        assert conn.execute("select id, name from raw_people.people order by id").fetchall() == [(1, "Ada"), (2, "Grace")]


def test_a_bad_stream_argument_is_refused_naming_it(tmp_path, no_dagster):
    sync = [sys.executable, "-m", "embedded_airbyte", "sync", "--database", str(tmp_path / "w.duckdb"), "--namespace", "raw"]
    done = subprocess.run(
        [*sync, "--stream", "orders:incremental_append_dedup", "--", "true"],
        env=no_dagster,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert "--stream 'orders:incremental_append_dedup': a deduplicated stream needs a primary key" in done.stderr


# ---- commits by size or age -------------------------------------------------------------------

PAYMENTS = Stream("payments", SyncMode.INCREMENTAL_APPEND, "id", (), (Column("id", "integer"), Column("amount", "number")))
REFUNDS = Stream("refunds", SyncMode.INCREMENTAL_APPEND_DEDUP, "id", ("id",), PAYMENTS.columns)


def scripted(*streams: Stream) -> Connection:
    return Connection("scripted", "raw_scripted", Source((sys.executable, str(SUPPORT / "scripted_source.py"))), streams)


def checkpointed(records: int, every: int, stream: str = "payments") -> list[str]:
    """``records`` records of ids 1.., a STATE (cursor: the last id) after every ``every`` of them."""
    lines = []
    for i in range(1, records + 1):
        lines.append(record({"id": i, "amount": i}, stream))
        if i % every == 0:
            lines.append(state(i, stream))
    return lines


def config_for(lines: list[str], *names: str) -> dict:
    return {"streams": [{**STREAM, "name": name} for name in names], "lines": lines, "exit_code": 0}


@pytest.mark.parametrize(("policy", "commits"), [(CommitPolicy(0, 0), 100), (CommitPolicy(1 << 30, 3600), 1)])
def test_records_commit_at_every_state_or_once_the_window_is_due(tmp_path, monkeypatch, policy, commits):
    made = []
    original = DuckDBDestination.append_checkpoint
    monkeypatch.setattr(DuckDBDestination, "append_checkpoint", lambda self, *a, **k: made.append(a[3]) or original(self, *a, **k))
    lines = checkpointed(1_000, 10)
    result = EmbeddedAirbyte(tmp_path / "w.duckdb", commits=policy).sync(scripted(PAYMENTS), config_for(lines, "payments"))
    assert result.streams["payments"].records_synced == 1_000
    stored = [s for s in made if s is not None]
    assert len(stored) == commits + 1, "a commit per window, and the end's (which finds nothing left)"
    assert stored[-1] == {"cursor": 1_000}


def test_a_window_commits_at_the_first_state_past_its_size(tmp_path, monkeypatch):
    made = []
    original = DuckDBDestination.append_checkpoint
    monkeypatch.setattr(DuckDBDestination, "append_checkpoint", lambda self, *a, **k: made.append(a[3]) or original(self, *a, **k))
    lines = checkpointed(1_000, 10)
    window = 250 * (len(record({"id": 500, "amount": 500})) + 1)
    EmbeddedAirbyte(tmp_path / "w.duckdb", commits=CommitPolicy(window, 3600)).sync(scripted(PAYMENTS), config_for(lines, "payments"))
    cursors = [s["cursor"] for s in made if s is not None]
    expected, read = [], 0
    for line in lines:
        if '"RECORD"' in line:
            read += len(line) + 1
        elif read >= window:
            expected.append(orjson.loads(line)["state"]["stream"]["stream_state"]["cursor"])
            read = 0
    assert 3 <= len(expected) <= 4
    assert cursors[: len(expected)] == expected, "each window ends at the first STATE after its bytes reach the size"


def test_a_window_is_due_after_its_age_even_when_small(tmp_path):
    buffer = StreamBuffer.__new__(StreamBuffer)
    buffer.window_bytes, buffer.window_opened = 10, time.monotonic()
    policy = CommitPolicy(1 << 20, 30)
    assert not policy.due(buffer)
    buffer.window_opened -= 31
    assert policy.due(buffer)


def test_a_failing_connector_commits_what_its_last_state_covers_and_nothing_after(tmp_path):
    refunds = [*(record({"id": i, "amount": i}, "refunds") for i in range(1, 9))]
    lines = [*checkpointed(95, 10), *refunds[:7], state(7, "refunds"), refunds[7]]
    config = {**config_for(lines, "payments", "refunds"), "exit_code": 3}
    runner = EmbeddedAirbyte(tmp_path / "w.duckdb", batch_size=3, commits=CommitPolicy(1 << 30, 3600))
    with pytest.raises(Exception, match="exited with code 3"):
        runner.sync(scripted(PAYMENTS, REFUNDS), config)
    with duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True) as conn:
        assert conn.execute("select max(id), count(*) from raw_scripted.payments").fetchone() == (90, 90)
        assert conn.execute("select max(id), count(*) from raw_scripted.refunds").fetchone() == (7, 7), "record 8 had no STATE"
        states = dict(conn.execute("select stream, state from airbyte_internal.sync_state").fetchall())
    assert {k: orjson.loads(v)["cursor"] for k, v in states.items()} == {"payments": 90, "refunds": 7}


# ---- the sync's own process killed at random instants ------------------------------------------


def committed(database) -> dict[str, tuple[int | None, int, int, int | None]]:
    """Per stream: (stored cursor, rows, distinct ids, highest id)."""
    if not database.exists():
        return {}
    with duckdb.connect(str(database), read_only=True) as conn:
        found = {}
        for stream in ("payments", "refunds"):
            if not conn.execute(
                "select count(*) from duckdb_tables() where schema_name = 'raw_scripted' and table_name = ?", [stream]
            ).fetchone()[0]:
                continue
            row = conn.execute("select state from airbyte_internal.sync_state where stream = ?", [stream]).fetchone()
            cursor = orjson.loads(row[0])["cursor"] if row and row[0] else None
            rows, distinct, highest = conn.execute(f"select count(*), count(distinct id), max(id) from raw_scripted.{stream}").fetchone()
            found[stream] = (cursor, rows, distinct, highest)
        return found


def test_a_committed_state_never_lies_past_its_committed_records_whenever_the_sync_is_killed(tmp_path):
    """SIGKILL to the process syncing (as the OOM killer sends it) at random instants, windows of a
    few hundred records: after each kill, each stream's stored cursor is exactly its highest id and
    every id up to it is there once; a last sync completes with every record once."""
    records, every = 40_000, 100
    lines = [line for pair in zip(checkpointed(records, every), checkpointed(records, every, "refunds"), strict=True) for line in pair]
    config = tmp_path / "config.json"
    config.write_text(json.dumps({**config_for(lines, "payments", "refunds"), "resume": True, "pause": [400, 0.01]}))
    database = tmp_path / "w.duckdb"
    sync = [sys.executable, "-m", "embedded_airbyte", "sync", "--database", str(database), "--namespace", "raw_scripted"]
    sync += ["--connection", "scripted", "--config", str(config), "--commit-mb", "0.25", "--commit-seconds", "3600"]
    sync += ["--stream", "payments:incremental_append:id", "--stream", "refunds:incremental_append_dedup:id:id"]
    sync += ["--", sys.executable, str(SUPPORT / "scripted_source.py")]
    chance = random.Random(27)
    seen = set()
    for _ in range(20):  # until the kills have caught three different committed points
        process = subprocess.Popen(sync, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        time.sleep(chance.uniform(0.8, 2.5))
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        for stream, (cursor, rows, distinct, highest) in committed(database).items():
            assert rows == distinct == (cursor or 0) == (highest or 0), (
                f"{stream}: state {cursor}, {rows} rows, {distinct} ids, up to {highest}"
            )
            seen.add(cursor)
        if len(seen - {None, records}) >= 3:
            break
        if all(found[0] == records for found in committed(database).values()):
            # a sync that finished before its kill proves nothing more: the next kills start over
            for leftover in (database, database.with_name(database.name + ".wal")):
                leftover.unlink(missing_ok=True)
    assert len(seen - {None, records}) >= 3, f"the kills landed at different points of the sync: {sorted(seen, key=str)}"
    done = subprocess.run(sync, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert committed(database) == {"payments": (records, records, records, records), "refunds": (records, records, records, records)}
