"""Daily partitions, single-run ranges, schedules and declarative automation, on real runs
against copies of the built platform (simulated to T0 with late events, built over START..T0)."""

from __future__ import annotations

import dataclasses
import datetime as dt

import dagster as dg
import duckdb
import orjson
import pytest

from data_platform.automation.jobs import DAILY_JOB

from ..support.platforms import START, T0, Platform, using

DAY = "2026-10-08"
UTC = dt.UTC


def run_daily(platform, instance, **kwargs) -> dg.ExecuteInProcessResult:
    result = platform.run_job(instance, DAILY_JOB, **kwargs)
    assert result.success, [e.message for e in result.all_events if e.is_failure]
    return result


DAY_COLUMN = {
    "trusted.fct_orders": "order_date",
    "trusted.fct_order_lines": "order_date",
    "trusted.fct_web_events": "event_date",
    "marts.mart_daily_gmv": "order_date",
}


def rows_of(platform, table: str, where: str) -> list[tuple]:
    # changed_at is when a fact row was (re)computed, not part of the data
    columns = "* exclude (changed_at)" if table.startswith("trusted.fct_order") else "*"
    return platform.query(f"select {columns} from {table} where {where} order by all")


MARK = {"trusted.fct_orders": "order_status", "trusted.fct_web_events": "page_url"}
"""A column per fact table that a rebuilt row gets back from staging, overwritten with a mark."""


@pytest.fixture(scope="module")
def day_rerun(built_platform, tmp_path_factory):
    """A copy of the built platform where every fact row is marked, then DAY's partition runs
    again: (platform, DAY's rows in every daily table before)."""
    with using(built_platform.copy(tmp_path_factory.mktemp("rerun") / "data")) as platform, platform.instance() as instance:
        before = {t: rows_of(platform, t, f"{c} = '{DAY}'") for t, c in DAY_COLUMN.items()}
        with duckdb.connect(str(platform.settings.warehouse.duckdb_path)) as conn:
            for table, column in MARK.items():
                conn.execute(f"update {table} set {column} = 'marked'")
        run_daily(platform, instance, partition_key=DAY)
        yield platform, before


def test_one_partition_processes_only_that_day(day_rerun):
    platform, _ = day_rerun
    for table, column in MARK.items():
        marked = platform.query(
            f"select {DAY_COLUMN[table]} = ?, bool_and({column} = 'marked') from {table} group by 1 order by 1",
            [dt.date.fromisoformat(DAY)],
        )
        assert marked == [(False, True), (True, False)], f"{table}: the other days were not rewritten; the day was"
    ((expected,),) = platform.source_db(f"select count(*) from orders where substr(created_at, 1, 10) = '{DAY}'")
    assert platform.scalar(f"select count(*) from trusted.fct_orders where order_date = '{DAY}'") == expected


def test_rerunning_a_partition_gives_identical_results(day_rerun):
    platform, before = day_rerun
    after = {t: rows_of(platform, t, f"{c} = '{DAY}'") for t, c in DAY_COLUMN.items()}
    assert all(before.values()), "the day had rows in every daily table"
    assert after == before, "re-running a partition replaces its rows: nothing duplicated, nothing lost"


def test_a_full_refresh_rebuilds_every_day_whatever_the_partition(platform, instance):
    with duckdb.connect(str(platform.settings.warehouse.duckdb_path)) as conn:
        conn.execute("delete from trusted.fct_orders where order_date in ('2026-10-02', '2026-10-15')")
    full_refresh = {
        "ops": {
            "commerce_dbt_models": {"config": {"full_refresh": True}},
            "growth_dbt_models": {"config": {"full_refresh": True}},
        }
    }
    run_daily(platform, instance, partition_key=DAY, run_config=full_refresh)
    ((expected,),) = platform.source_db("select count(*) from orders")
    assert platform.scalar("select count(*) from trusted.fct_orders") == expected
    assert platform.scalar("select count(*) from trusted.fct_orders where order_date in ('2026-10-02', '2026-10-15')") > 0


def test_schedules_request_the_expected_partitions(built_platform):
    defs = built_platform.defs
    daily = defs.get_schedule_def("commerce_daily_partition_schedule")
    context = dg.build_schedule_context(
        scheduled_execution_time=dt.datetime(2026, 11, 21, 5, tzinfo=UTC), repository_def=defs.get_repository_def()
    )
    assert daily.evaluate_tick(context).run_requests[0].partition_key == "2026-11-20"
    rerun = defs.get_schedule_def("commerce_late_events_rerun_schedule")
    context = dg.build_schedule_context(
        scheduled_execution_time=dt.datetime(2026, 11, 21, 6, 30, tzinfo=UTC), repository_def=defs.get_repository_def()
    )
    tags = rerun.evaluate_tick(context).run_requests[0].tags
    assert (tags["dagster/asset_partition_range_start"], tags["dagster/asset_partition_range_end"]) == ("2026-11-18", "2026-11-21")
    crons = {s.name: s.cron_schedule for s in defs.schedules}
    assert crons["ingest_web_events_schedule"] == "*/15 * * * *" and crons["ingest_shop_db_schedule"] == "0 * * * *"


def test_automation_requests_the_dbt_models_after_an_upstream_sync_lands(platform):
    defs = platform.defs
    with dg.DagsterInstance.ephemeral() as instance:
        first = dg.evaluate_automation_conditions(defs=defs, instance=instance)
        assert dg.AssetKey(["staging", "stg_shop__orders"]) not in requested(first, defs)
        streams = [dg.AssetKey(["raw_shop", s]) for s in ("orders", "order_lines", "payments", "customers", "products", "merchants")]
        assert platform.run_job(instance, "ingest_shop_db", asset_selection=streams).success
        second = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=first.cursor)
    assert dg.AssetKey(["staging", "stg_shop__orders"]) in requested(second, defs)
    assert dg.AssetKey(["raw_web", "web_events"]) not in requested(second, defs), "ingestion runs on schedules, not on automation"


def requested(result, defs) -> set[dg.AssetKey]:
    return {k for k in defs.resolve_asset_graph().get_all_asset_keys() if result.get_num_requested(k) > 0}


@dataclasses.dataclass
class RollingRerun:
    platform: Platform
    instance: dg.DagsterInstance
    late_event_id: str
    runs_before: int
    result: dg.ExecuteInProcessResult


@pytest.fixture(scope="module")
def rolling_rerun(built_platform, tmp_path_factory):
    """20 hours after T0: the web events sync, then the rolling re-run the schedule requests (the
    last 3 days and today, as one range run)."""
    later = T0 + dt.timedelta(hours=20)
    with using(built_platform.copy(tmp_path_factory.mktemp("rolling") / "data")) as platform, platform.instance() as instance:
        platform.simulate(later)
        assert platform.run_job(instance, "ingest_web_events", asset_selection=[dg.AssetKey(["raw_web", "web_events"])]).success
        window_start = (later.date() - dt.timedelta(days=3)).isoformat()
        late = [
            e
            for path in (platform.settings.source_systems_dir / "web_events").glob("*.jsonl")
            for e in map(orjson.loads, path.read_bytes().splitlines())
            if e["received_at"] > T0.strftime("%Y-%m-%dT%H:%M:%S") and window_start <= e["event_timestamp"][:10] <= T0.date().isoformat()
        ]
        assert late, "the simulation has events that happened before T0 and arrived after it"
        assert platform.scalar(f"select count(*) from trusted.fct_web_events where event_id = '{late[0]['event_id']}'") == 0
        schedule = platform.defs.get_schedule_def("commerce_late_events_rerun_schedule")
        context = dg.build_schedule_context(scheduled_execution_time=later, repository_def=platform.defs.get_repository_def())
        runs_before = len(instance.get_run_records())
        result = run_daily(platform, instance, tags=schedule.evaluate_tick(context).run_requests[0].tags)
        yield RollingRerun(platform, instance, late[0]["event_id"], runs_before, result)


def test_the_rolling_rerun_picks_up_an_event_that_arrived_late(rolling_rerun):
    platform, event_id = rolling_rerun.platform, rolling_rerun.late_event_id
    assert platform.scalar(f"select count(*) from trusted.fct_web_events where event_id = '{event_id}'") == 1


def test_a_range_of_partitions_executes_as_one_run_with_one_dbt_invocation_per_domain(rolling_rerun):
    result, instance = rolling_rerun.result, rolling_rerun.instance
    assert len(instance.get_run_records()) == rolling_rerun.runs_before + 1
    partitions = {e.partition for e in result.get_asset_materialization_events() if e.asset_key.to_user_string() == "trusted/fct_orders"}
    assert partitions == {"2026-10-18", "2026-10-19", "2026-10-20", "2026-10-21"}
    windows = [e.user_message for e in instance.all_logs(result.run_id) if e.user_message.startswith("dbt build for")]
    assert windows == ["dbt build for 2026-10-18 <= day < 2026-10-22"] * 2, "commerce's daily models, then growth's"


def test_the_main_run_covers_every_simulated_day(built_platform):
    days = [day for (day,) in built_platform.query("select distinct order_date from marts.mart_daily_gmv order by 1")]
    expected = [START + dt.timedelta(days=n) for n in range((T0.date() - START).days + 1)]
    assert days == expected, "the day-partitioned marts are built for every simulated day in one run"
