"""Embedded Airbyte: syncs land the source systems in DuckDB in Airbyte's shape, exactly once."""

from __future__ import annotations

import orjson
import pytest

from embedded_airbyte.runner import SyncFailed

from ..conftest import killed_after
from ..support.platforms import T1

AIRBYTE_COLUMNS = {"_airbyte_raw_id", "_airbyte_extracted_at", "_airbyte_meta", "_airbyte_generation_id"}


def table_columns(market, table: str) -> set[str]:
    namespace, name = table.split(".")
    return {r[0] for r in market.query("select column_name from duckdb_columns() where schema_name=? and table_name=?", [namespace, name])}


def test_every_stream_lands_typed_with_airbyte_technical_columns(marketplace):
    for connection in marketplace.connections.values():
        result = marketplace.sync(connection.name)
        for stream in connection.streams:
            synced = result.streams[stream.name]
            assert synced.rows_in_table > 0
            assert table_columns(marketplace, synced.table) == set(stream.column_names) | AIRBYTE_COLUMNS
    types = dict(marketplace.query("select column_name, data_type from duckdb_columns() where table_name='orders'"))
    assert types["order_id"] == "BIGINT" and types["updated_at"] == "TIMESTAMP WITH TIME ZONE"
    assert types["items_total_eur"].startswith("DECIMAL")
    source_orders = marketplace.source_db("select count(*) from orders")[0][0]
    assert marketplace.scalar("select count(*) from raw_shop.orders") == source_orders


def test_resync_without_new_source_data_adds_no_rows(marketplace):
    for connection in marketplace.connections:
        marketplace.sync(connection)
    before = {
        t: marketplace.scalar(f"select count(*) from {t}")
        for t in ("raw_shop.orders", "raw_web.web_events", "raw_shop.merchants", "raw_marketing.marketing_spend")
    }
    generation = marketplace.scalar("select max(_airbyte_generation_id) from raw_shop.merchants")
    results = {c: marketplace.sync(c) for c in marketplace.connections}
    after = {t: marketplace.scalar(f"select count(*) from {t}") for t in before}
    assert after == before
    # the lookback reads the last hour again; the destination absorbs all of it
    for connection, stream in (("web_events", "web_events"), ("shop_db", "orders")):
        synced = results[connection].streams[stream]
        assert synced.records_synced == synced.records_superseded, f"{stream}: what was read again landed again"
    # a full refresh re-reads everything and replaces it: same rows, next generation
    assert results["shop_db"].streams["merchants"].records_synced == before["raw_shop.merchants"]
    assert marketplace.scalar("select max(_airbyte_generation_id) from raw_shop.merchants") == generation + 1


def test_updated_source_row_shows_its_new_version_in_the_deduplicated_table(marketplace):
    marketplace.sync("shop_db")
    before = dict(marketplace.source_db("select order_id, status from orders"))
    marketplace.simulate(T1)
    after = dict(marketplace.source_db("select order_id, status from orders"))
    moved = [o for o in before if after[o] != before[o]]
    assert moved
    result = marketplace.sync("shop_db")
    assert 0 < result.streams["orders"].records_synced < len(after), "only new and changed rows are read"
    rows = dict(marketplace.query("select order_id, status from raw_shop.orders"))
    assert rows == after, "the table holds exactly the latest version of every order"
    assert marketplace.scalar("select count(*) - count(distinct order_id) from raw_shop.orders") == 0
    cursor = result.streams["orders"].cursor["cursor"]
    assert cursor == marketplace.source_db("select max(updated_at) from orders")[0][0]


def test_connector_killed_before_a_checkpoint_leaves_data_and_state_untouched(marketplace, tmp_path):
    marketplace.sync("web_events")
    snapshot = marketplace.query("select _airbyte_raw_id from raw_web.web_events order by 1")
    state = marketplace.query("select state from airbyte_internal.sync_state where stream='web_events'")
    marketplace.simulate(T1)
    connection = marketplace.connections["web_events"]
    with pytest.raises(SyncFailed, match="killed by SIGKILL") as failure:
        marketplace.sync("web_events", command=killed_after(40, connection))
    assert "Committed checkpoints and their state are kept" in str(failure.value)
    assert marketplace.query("select _airbyte_raw_id from raw_web.web_events order by 1") == snapshot
    assert marketplace.query("select state from airbyte_internal.sync_state where stream='web_events'") == state
    assert marketplace.scalar("select count(*) from information_schema.tables where table_name like '%__stage'") == 0

    marketplace.sync("web_events")
    landed = marketplace.query("select event_id, received_at from raw_web.web_events order by 1, 2")
    in_source = sorted(
        (e["event_id"], e["received_at"])
        for path in (marketplace.root / "source_systems" / "web_events").glob("*.jsonl")
        for e in map(orjson.loads, path.read_bytes().splitlines())
    )
    assert [(i, r.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z") for i, r in landed] == in_source, "nothing lost, nothing duplicated"


def test_connector_killed_between_checkpoints_keeps_exactly_the_checkpointed_rows(marketplace):
    first = marketplace.sync("shop_db", ["orders"]).streams["orders"].cursor["cursor"]
    marketplace.simulate(T1)
    connection = marketplace.connections["shop_db"]
    with pytest.raises(SyncFailed, match="killed by SIGKILL"):
        marketplace.sync("shop_db", ["orders"], config={"checkpoint_interval": 25}, command=killed_after(90, connection))
    cursor = orjson.loads(marketplace.scalar("select state from airbyte_internal.sync_state where stream='orders'"))["cursor"]
    assert cursor > first, "checkpoints committed before the crash are kept"
    as_text = "strftime(updated_at, '%Y-%m-%dT%H:%M:%S.%g') || 'Z'"
    stored = dict(marketplace.query(f"select order_id, {as_text} from raw_shop.orders"))
    source = dict(marketplace.source_db("select order_id, updated_at from orders"))
    assert all(stored.get(order) == version for order, version in source.items() if version <= cursor), (
        "every version up to the stored cursor is in the table"
    )
    assert max(stored.values()) <= cursor, "nothing after the stored cursor was committed"

    marketplace.sync("shop_db", ["orders"], config={"checkpoint_interval": 25})
    stored = dict(marketplace.query(f"select order_id, {as_text} from raw_shop.orders"))
    assert stored == source, "the next sync completes: every order at its latest version, once"
    assert marketplace.scalar("select count(*) from raw_shop.orders") == len(source)


def test_failed_full_refresh_keeps_the_previous_table(marketplace):
    marketplace.sync("shop_db", ["merchants"])
    before = marketplace.query("select _airbyte_raw_id, _airbyte_generation_id from raw_shop.merchants order by 1")
    with pytest.raises(SyncFailed):
        marketplace.sync("shop_db", ["merchants"], command=killed_after(3, marketplace.connections["shop_db"]))
    assert marketplace.query("select _airbyte_raw_id, _airbyte_generation_id from raw_shop.merchants order by 1") == before


# ---- protocol errors, with a connector whose output we script ----------------------------
