"""Backfills reach downstream: a daily model re-materializes the days its daily parents did.

Dagster's ``eager()`` looks at the latest day only, so re-materializing past days of a fact
left the same days of its daily marts stale. The platform's condition for daily models
(``DAILY_EAGER``) adds those days, and only those: an unpartitioned parent's update (a staging
view) still requests the latest day alone, never the whole history.
"""

from __future__ import annotations

import datetime as dt

import dagster as dg
import pytest
import time_machine

from data_platform.transformation.translator import DAILY_EAGER, DAILY_TAG, EAGER

NOW = dt.datetime(2026, 10, 20, 12, 0, tzinfo=dt.UTC)
DAILY = dg.DailyPartitionsDefinition(start_date="2026-10-01", end_offset=1, timezone="UTC")
SINGLE_RUN = dg.BackfillPolicy.single_run()


@dg.asset(key=["staging", "stg_orders"])
def stg_orders() -> None: ...


@dg.asset(key=["trusted", "fct_orders"], deps=[stg_orders], partitions_def=DAILY, tags={DAILY_TAG: ""}, backfill_policy=SINGLE_RUN)
def fct_orders() -> None: ...


@dg.asset(
    key=["marts", "mart_daily_gmv"],
    deps=[fct_orders],
    partitions_def=DAILY,
    tags={DAILY_TAG: ""},
    backfill_policy=SINGLE_RUN,
    automation_condition=DAILY_EAGER,
)
def mart_daily_gmv() -> None: ...


@dg.asset(key=["marts", "mart_eager_only"], deps=[fct_orders], partitions_def=DAILY, backfill_policy=SINGLE_RUN, automation_condition=EAGER)
def mart_eager_only() -> None: ...


DEFS = dg.Definitions(assets=[stg_orders, fct_orders, mart_daily_gmv, mart_eager_only])
BACKFILLED = ["2026-10-05", "2026-10-06", "2026-10-07"]


@pytest.fixture
def instance():
    with time_machine.travel(NOW, tick=False), dg.instance_for_test() as instance:
        yield instance


def requested(result, key: list[str]) -> list[str]:
    for entity in result.results:
        if entity.key == dg.AssetKey(key):
            return sorted(entity.true_subset.expensively_compute_partition_keys()) if entity.true_subset.size else []
    raise AssertionError(f"{key} was not evaluated")


def materialize(assets, instance, keys):
    tags = {"dagster/asset_partition_range_start": keys[0], "dagster/asset_partition_range_end": keys[-1]}
    assert dg.materialize(assets, instance=instance, tags=tags).success


def test_a_first_evaluation_asks_nothing_of_past_days(instance):
    first = dg.evaluate_automation_conditions(defs=DEFS, instance=instance)
    assert requested(first, ["marts", "mart_daily_gmv"]) == []


def test_a_backfill_of_past_days_of_a_fact_requests_the_same_days_of_its_daily_mart(instance):
    first = dg.evaluate_automation_conditions(defs=DEFS, instance=instance)
    materialize([stg_orders, fct_orders], instance, BACKFILLED)
    after = dg.evaluate_automation_conditions(defs=DEFS, instance=instance, cursor=first.cursor)
    assert requested(after, ["marts", "mart_daily_gmv"]) == BACKFILLED


def test_dagsters_eager_alone_would_have_left_those_days_stale(instance):
    first = dg.evaluate_automation_conditions(defs=DEFS, instance=instance)
    materialize([stg_orders, fct_orders], instance, BACKFILLED)
    after = dg.evaluate_automation_conditions(defs=DEFS, instance=instance, cursor=first.cursor)
    assert requested(after, ["marts", "mart_eager_only"]) == []


def test_days_once_rebuilt_are_not_asked_again(instance):
    first = dg.evaluate_automation_conditions(defs=DEFS, instance=instance)
    materialize([stg_orders, fct_orders], instance, BACKFILLED)
    second = dg.evaluate_automation_conditions(defs=DEFS, instance=instance, cursor=first.cursor)
    materialize([mart_daily_gmv], instance, BACKFILLED)
    third = dg.evaluate_automation_conditions(defs=DEFS, instance=instance, cursor=second.cursor)
    assert requested(third, ["marts", "mart_daily_gmv"]) == []
