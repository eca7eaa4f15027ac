"""A block lifts only when the defect is gone, and it crosses domains.

The shop's ``orders`` table loses its primary key constraint (a replica, a view: sources do
this) and one order is written twice with the same ``updated_at`` and different content. Then,
each time as ``data-platform run`` runs it (every domain's own end-to-end job, in dependency order):

1. the sync lands one of the two versions; ``primary_key_unique`` fails, and every descendant
   of ``raw_shop/orders`` is left out, commerce's and growth's (``mart_marketing_roas`` reads
   commerce's ``fct_orders``), each naming the check; growth's unrelated models are built;
2. a sync that brings nothing new: the check judges the table, which still holds a conflicting
   version, so it stays failed and the descendants stay out;
3. the source fixes the row (a newer version of the order): the check passes and everything is built.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import sqlite3

import dagster as dg
import pytest

from data_platform.quality.blast_radius import BLOCKED_BY
from data_platform.quality.waivers import Waiver
from data_platform.transformation.assets import BLOCKED_TAG
from data_platform.transformation.partitions import range_tags

from ..support.platforms import START, T0, Platform, using

DUPLICATED_AT = (T0 + dt.timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
FIXED_AT = (T0 + dt.timedelta(minutes=3)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
ORDERS_CHECK = "raw_shop/orders:primary_key_unique"


@dataclasses.dataclass
class Round:
    runs: list[dg.ExecuteInProcessResult]
    tags: dict[str, dict[str, str]]
    """Each run's tags as stored (a step adds some while it runs), by job."""

    def evaluation(self, asset: str, check: str) -> dg.AssetCheckEvaluation:
        found = [
            e for r in self.runs for e in r.get_asset_check_evaluations() if (e.asset_key.to_user_string(), e.check_name) == (asset, check)
        ]
        assert found, f"{asset}:{check} was not evaluated"
        return found[-1]

    @property
    def materialized(self) -> set[str]:
        return {e.asset_key.to_user_string() for r in self.runs for e in r.get_asset_materialization_events()}

    @property
    def blocked(self) -> dict[str, list[str]]:
        found = {}
        for run in self.runs:
            for event in run.get_asset_observation_events():
                observation = event.asset_observation_data.asset_observation
                if BLOCKED_BY in observation.metadata:
                    found[observation.asset_key.to_user_string()] = observation.metadata[BLOCKED_BY].value
        return found

    def run_tag(self, domain: str, tag: str) -> str | None:
        return self.tags[f"{domain}_end_to_end"].get(tag)


def write_shop(platform: Platform, *statements: str) -> None:
    with contextlib.closing(sqlite3.connect(platform.source_systems_dir / "shop_db.sqlite")) as db, db:
        for statement in statements:
            db.execute(statement)


def one_round(platform: Platform, instance: dg.DagsterInstance) -> Round:
    result = platform.run_end_to_end(instance)
    return Round(result.runs, {r.dagster_run.job_name: dict(instance.get_run_by_id(r.run_id).tags) for r in result.runs})


@pytest.fixture(scope="module")
def rounds(built_platform, tmp_path_factory):
    root = tmp_path_factory.mktemp("blocks_hold")
    with using(built_platform.copy(root / "data")) as platform, platform.instance() as instance:
        (order_id,) = platform.source_db("select order_id from orders order by order_id limit 1 offset 11")[0]
        ((schema,),) = platform.source_db("select sql from sqlite_master where type = 'table' and name = 'orders'")
        write_shop(
            platform,
            "alter table orders rename to orders_with_key",
            schema.replace("order_id integer primary key", "order_id integer"),  # the same columns and types, no constraint
            "insert into orders select * from orders_with_key",
            "drop table orders_with_key",
            f"update orders set updated_at = '{DUPLICATED_AT}' where order_id = {order_id}",
            "insert into orders select order_id, customer_id, merchant_id, 'cancelled', platform, currency, items_total_eur + 1, "
            f"shipping_fee_eur, created_at, updated_at from orders where order_id = {order_id}",
        )
        duplicated = one_round(platform, instance)
        resynced = one_round(platform, instance)
        write_shop(
            platform,
            f"delete from orders where order_id = {order_id} and status = 'cancelled' and updated_at = '{DUPLICATED_AT}'",
            f"update orders set updated_at = '{FIXED_AT}' where order_id = {order_id}",
        )
        fixed = one_round(platform, instance)
        yield {"duplicated": duplicated, "resynced": resynced, "fixed": fixed, "platform": platform, "instance": instance}


def test_the_conflicting_versions_fail_the_uniqueness_check(rounds):
    check = rounds["duplicated"].evaluation("raw_shop/orders", "primary_key_unique")
    assert not check.passed and check.severity == dg.AssetCheckSeverity.ERROR
    assert check.metadata["conflicting_duplicate_keys"].value == 1


def test_the_block_reaches_across_domains_and_spares_what_the_stream_does_not_feed(rounds):
    first = rounds["duplicated"]
    assert ORDERS_CHECK in first.blocked["trusted/fct_orders"]
    assert ORDERS_CHECK in first.blocked["marts/mart_marketing_roas"], "growth's mart reads commerce's blocked fct_orders"
    assert {"trusted/fct_orders", "marts/mart_marketing_roas"}.isdisjoint(first.materialized)
    assert {"marts/mart_web_funnel", "trusted/fct_web_events", "trusted/dim_customers"} <= first.materialized


def test_each_run_says_in_its_tags_how_many_assets_it_left_out(rounds):
    first = rounds["duplicated"]
    assert int(first.run_tag("commerce", BLOCKED_TAG)) >= 5
    assert int(first.run_tag("growth", BLOCKED_TAG)) >= 1


def test_a_resync_that_brings_nothing_new_keeps_the_block(rounds):
    again = rounds["resynced"]
    assert again.evaluation("raw_shop/orders", "primary_key_unique").passed is False
    assert again.materialized.isdisjoint({"trusted/fct_orders", "marts/mart_marketing_roas", "marts/mart_daily_gmv"})
    assert ORDERS_CHECK in again.blocked["marts/mart_marketing_roas"]


def test_the_block_lifts_when_the_source_sends_a_newer_version(rounds):
    fixed = rounds["fixed"]
    assert fixed.evaluation("raw_shop/orders", "primary_key_unique").passed
    assert fixed.blocked == {}
    assert {"trusted/fct_orders", "marts/mart_daily_gmv", "marts/mart_marketing_roas"} <= fixed.materialized
    assert fixed.run_tag("commerce", BLOCKED_TAG) is None


def test_the_table_keeps_one_row_for_the_order_throughout(rounds):
    platform = rounds["platform"]
    assert platform.scalar("select count(*) - count(distinct order_id) from raw_shop.orders") == 0


def test_an_owner_waiver_in_force_lets_the_descendants_build_and_says_who_and_why(built_platform, tmp_path):
    from data_platform.definitions import build_definitions
    from data_platform.domains import load_domains

    with using(built_platform.copy(tmp_path / "data")) as platform, platform.instance() as instance:
        write_shop(platform, "insert into merchants select * from merchants where merchant_id = (select min(merchant_id) from merchants)")
        now = dt.datetime.now(dt.UTC)
        waiver = Waiver(
            dg.AssetCheckKey(dg.AssetKey(["raw_shop", "merchants"]), "primary_key_unique"),
            by="ana.lopez@shop.example",
            at=now - dt.timedelta(hours=1),
            why="the shop's admin tool copied a merchant; fixed on Monday",
            until=now + dt.timedelta(days=3),
        )
        (commerce,) = [dataclasses.replace(d, waivers=(waiver,)) for d in load_domains(platform.settings, ["commerce"])]
        defs = build_definitions(platform.settings, [commerce], location="commerce")
        graph = defs.resolve_asset_graph()
        keys = [
            k for k in graph.get_all_asset_keys() if graph.get(k).is_executable and k.path[0] not in ("source_system", "reconciliation")
        ]
        run = defs.resolve_job_def("commerce_end_to_end").execute_in_process(
            instance=instance, raise_on_error=False, asset_selection=keys, tags=range_tags(START.isoformat(), T0.date().isoformat())
        )
    (check,) = [
        e for e in run.get_asset_check_evaluations() if e.check_name == "primary_key_unique" and e.asset_key.path[-1] == "merchants"
    ]
    assert not check.passed and check.severity == dg.AssetCheckSeverity.WARN, "still failed, no longer blocking"
    assert check.metadata["waived_by"].value == "ana.lopez@shop.example" and "Monday" in check.metadata["waived_because"].value
    assert "trusted/dim_merchants" in {e.asset_key.to_user_string() for e in run.get_asset_materialization_events()}
