"""Faults injected into the source systems, and what reaches the warehouse: nothing lost, nothing
stalled, every row accounted for (sent = landed + superseded). Embedded Airbyte only, on the
marketplace simulated at T0; the contract check's side is in ``test_blast_radius.py`` and below."""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import json
import logging
import sqlite3

import dagster as dg
import orjson

from embedded_airbyte.connectors.sdk import instant

from ...integration.test_connector_protocol import record, scripted
from ..support.platforms import T0, Marketplace

LATER = T0 + dt.timedelta(minutes=2)


def stamp(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def write_shop(marketplace: Marketplace, sql: str) -> None:
    with contextlib.closing(sqlite3.connect(marketplace.source_systems_dir / "shop_db.sqlite")) as db, db:
        db.execute(sql)


def stored_cursor(marketplace: Marketplace, stream: str) -> str:
    (state,) = marketplace.query("select state from airbyte_internal.sync_state where stream = ?", [stream])[0]
    return json.loads(state)["cursor"]


def newest_report(marketplace: Marketplace):
    return sorted((marketplace.source_systems_dir / "marketing_spend").glob("report_date=*.csv"))[-1]


def sent_equals_landed_plus_superseded(marketplace: Marketplace, result, stream: str) -> tuple[int, int, int]:
    synced = result.streams[stream]
    landed = marketplace.scalar(
        f"select count(*) from raw_marketing.{stream} where json_extract_string(_airbyte_meta, '$.sync_id') = ?", [str(result.sync_id)]
    )
    assert synced.records_synced == landed + synced.records_superseded
    return synced.records_synced, landed, synced.records_superseded


# --- cursors in the future, or not comparable as text ----------------------------------------


def test_an_update_stamped_in_year_2999_never_becomes_the_state_and_later_changes_still_arrive(marketplace):
    marketplace.sync("shop_db", ["payments"])
    before = stored_cursor(marketplace, "payments")
    (first, second) = [r[0] for r in marketplace.source_db("select payment_id from payments order by payment_id limit 2")]
    write_shop(marketplace, f"update payments set status = 'voided', updated_at = '2999-01-01T00:00:00.000Z' where payment_id = {first}")
    marketplace.sync("shop_db", ["payments"])
    assert marketplace.scalar(f"select status from raw_shop.payments where payment_id = {first}") == "voided", "the row itself lands"
    assert instant(stored_cursor(marketplace, "payments")) <= dt.datetime.now(dt.UTC), "the state never moves into the future"
    assert stored_cursor(marketplace, "payments") == before
    write_shop(marketplace, f"update payments set status = 'refunded', updated_at = '{stamp(LATER)}' where payment_id = {second}")
    marketplace.sync("shop_db", ["payments"])
    assert marketplace.scalar(f"select status from raw_shop.payments where payment_id = {second}") == "refunded"


def test_an_update_stamped_without_a_zone_is_compared_as_an_instant_not_as_text(marketplace):
    marketplace.sync("shop_db", ["payments"])
    (payment,) = marketplace.source_db("select payment_id from payments order by payment_id limit 1")[0]
    # '2026-10-20 18:00:00' < '2026-10-20T11:59...' as text, but six hours after the stored cursor
    later_without_zone = (T0 + dt.timedelta(hours=6)).strftime("%Y-%m-%d %H:%M:%S")
    write_shop(marketplace, f"update payments set status = 'refunded', updated_at = '{later_without_zone}' where payment_id = {payment}")
    marketplace.sync("shop_db", ["payments"])
    assert marketplace.scalar(f"select status from raw_shop.payments where payment_id = {payment}") == "refunded"


def test_an_event_received_in_year_2999_does_not_stall_the_event_stream(marketplace):
    marketplace.sync("web_events")
    folder = marketplace.source_systems_dir / "web_events"
    newest = sorted(folder.glob("*.jsonl"))[-1]
    template = orjson.loads(newest.read_bytes().splitlines()[0])
    with newest.open("ab") as out:
        out.write(orjson.dumps({**template, "event_id": "from-the-future", "received_at": "2999-01-01T00:00:00.000Z"}) + b"\n")
    marketplace.sync("web_events")
    assert instant(stored_cursor(marketplace, "web_events")) <= dt.datetime.now(dt.UTC)
    with newest.open("ab") as out:
        out.write(orjson.dumps({**template, "event_id": "a-later-legitimate-event", "received_at": stamp(LATER)}) + b"\n")
    marketplace.sync("web_events")
    assert marketplace.scalar("select count(*) from raw_web.web_events where event_id = 'a-later-legitimate-event'") == 1


# --- rows that collapse in deduplication ------------------------------------------------------


def test_a_bom_in_an_ad_report_keeps_every_key_and_every_row(marketplace):
    report = newest_report(marketplace)
    rows = list(csv.DictReader(report.open()))
    report.write_bytes(b"\xef\xbb\xbf" + report.read_bytes())
    result = marketplace.sync("marketing_spend")
    assert marketplace.scalar("select count(*) from raw_marketing.marketing_spend where spend_date is null") == 0
    sent_equals_landed_plus_superseded(marketplace, result, "marketing_spend")
    assert {(r["spend_date"], r["channel"], r["campaign_id"]) for r in rows} <= {
        (str(d), c, k) for d, c, k in marketplace.query("select spend_date, channel, campaign_id from raw_marketing.marketing_spend")
    }


def test_rows_whose_key_became_null_are_all_kept_not_collapsed_into_one(marketplace):
    report = newest_report(marketplace)
    text = report.read_text()
    report.write_text(text.replace("campaign_id", "campaign_code", 1))  # the key column renamed: every row's key is null
    rows = len(text.strip().splitlines()) - 1
    result = marketplace.sync("marketing_spend")
    nulls = marketplace.scalar("select count(*) from raw_marketing.marketing_spend where campaign_id is null")
    assert nulls == rows, "every row with a null key lands, for the contract check to quarantine"
    sent_equals_landed_plus_superseded(marketplace, result, "marketing_spend")


def test_two_versions_of_one_key_in_one_report_are_counted_and_flagged(marketplace):
    report = newest_report(marketplace)
    lines = report.read_text().splitlines()
    header, first = lines[0].split(","), lines[1].split(",")
    clicks = header.index("clicks")
    conflicting = [*first[:clicks], str(int(first[clicks]) + 7), *first[clicks + 1 :]]
    report.write_text("\n".join([*lines, ",".join(conflicting)]) + "\n")
    result = marketplace.sync("marketing_spend")
    synced = result.streams["marketing_spend"]
    assert synced.conflicting_keys == 1 and first[2] in synced.conflict_sample[0]
    assert synced.records_superseded >= 1
    sent_equals_landed_plus_superseded(marketplace, result, "marketing_spend")


# --- a connector that emits no STATE ----------------------------------------------------------


def test_records_with_no_state_after_them_land_once_however_often_they_are_read(tmp_path):
    runner, connection, config = scripted(tmp_path, [record({"id": 1, "amount": 2}), record({"id": 2, "amount": 3})])
    runner.sync(connection, config)
    runner.sync(connection, config)
    assert runner_rows(tmp_path) == 2, "committed, not discarded; read again, not appended again"


def runner_rows(tmp_path) -> int:
    import duckdb

    with duckdb.connect(str(tmp_path / "scripted.duckdb"), read_only=True) as conn:
        return conn.execute("select count(*) from raw_scripted.payments").fetchone()[0]


# --- landing files: blank and malformed lines, empty and reordered CSVs ------------------------


def test_a_blank_and_a_malformed_event_line_are_named_kept_and_do_not_block_the_stream(marketplace, caplog):
    marketplace.sync("web_events")
    newest = sorted((marketplace.source_systems_dir / "web_events").glob("*.jsonl"))[-1]
    template = orjson.loads(newest.read_bytes().splitlines()[0])
    with newest.open("ab") as out:
        out.write(b"\n{not json at all\n")
        out.write(orjson.dumps({**template, "event_id": "after-the-bad-line", "received_at": stamp(LATER)}) + b"\n")
    lines = len(newest.read_bytes().splitlines())
    with caplog.at_level(logging.WARNING, logger="data_platform.ingestion"):
        marketplace.sync("web_events")
    assert f"{newest.name} line {lines - 1} is not a JSON event" in caplog.text
    assert "1 blank line(s) skipped" in caplog.text
    assert marketplace.scalar("select count(*) from raw_web.web_events where event_id = 'after-the-bad-line'") == 1
    (payload,) = marketplace.query("select payload from raw_web.web_events where event_id is null")[0]
    assert json.loads(payload) == {"file": newest.name, "line": lines - 1, "text": "{not json at all"}
    marketplace.sync("web_events")
    assert marketplace.scalar("select count(*) from raw_web.web_events where event_id is null") == 1, "kept once, not once per sync"


def test_an_empty_report_is_skipped_and_named(marketplace, caplog):
    empty = newest_report(marketplace).with_name("report_date=2099-01-01.csv")
    empty.write_text("")
    with caplog.at_level(logging.INFO, logger="data_platform.ingestion"):
        result = marketplace.sync("marketing_spend")
    assert result.streams["marketing_spend"].records_synced > 0
    assert "report_date=2099-01-01.csv is empty" in caplog.text


def test_a_report_with_its_columns_reordered_lands_each_value_in_its_column(marketplace):
    report = newest_report(marketplace)
    rows = list(csv.DictReader(report.open()))
    reordered = list(reversed(list(rows[0])))
    with report.open("w", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=reordered)
        writer.writeheader()
        writer.writerows(rows)
    marketplace.sync("marketing_spend")
    row = rows[0]
    found = marketplace.query(
        "select clicks, cast(spend_eur as double) from raw_marketing.marketing_spend where spend_date = ? and channel = ? and campaign_id = ?",
        [row["spend_date"], row["channel"], row["campaign_id"]],
    )
    assert found == [(int(row["clicks"]), float(row["spend_eur"]))]


# --- the contract check's side: a future timestamp is flagged and never counted fresh --------


def test_a_timestamp_in_the_future_is_quarantined_and_not_counted_as_fresh(platform, instance):
    (payment,) = platform.source_db("select payment_id from payments order by payment_id limit 1")[0]
    with contextlib.closing(sqlite3.connect(platform.source_systems_dir / "shop_db.sqlite")) as db, db:
        db.execute(f"update payments set updated_at = '2999-01-01T00:00:00.000Z' where payment_id = {payment}")
    result = platform.run_job(instance, "ingest_shop_db", asset_selection=[dg.AssetKey(["raw_shop", "payments"])])
    evaluations = {e.check_name: e for e in result.get_asset_check_evaluations()}
    contract = evaluations["data_contract"]
    assert contract.metadata["violations_by_rule"].value == {"updated_at: later than now": 1}
    freshness = evaluations["data_freshness"]
    assert freshness.metadata["rows_in_the_future"].value == 1
    assert not freshness.metadata["newest_updated_at"].value.startswith("2999")
