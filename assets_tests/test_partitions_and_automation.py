"""Daily partitions, single-run ranges, schedules and declarative automation, on real runs."""

from __future__ import annotations

import datetime as dt

import dagster as dg
import duckdb
import orjson
import pytest

from data_platform.automation.jobs import DAILY_JOB
from data_platform.automation.partitions import range_tags
from data_platform.definitions import MAIN_JOB, build_definitions
from data_platform.environment import resolve_settings
from data_platform.simulation import DirtSwitches, SimulationConfig, simulate

from .conftest import START, T0

DAY = "2026-10-08"
DAILY_TABLES = ("trusted.fct_orders", "trusted.fct_order_lines", "trusted.fct_web_events", "marts.mart_daily_gmv")


@pytest.fixture(scope="module")
def platform(tmp_path_factory):
    """Marketplace simulated to T0 (with late events), everything synced and built over START..T0."""
    data_dir = tmp_path_factory.mktemp("data")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DATA_PLATFORM_DATA_DIR", str(data_dir))
        settings = resolve_settings({"DATA_PLATFORM_DATA_DIR": str(data_dir), "DATA_PLATFORM_SIM_SCALE": "0.4"})
        config = SimulationConfig(seed=9, scale=0.4, start_date=START, dirt=DirtSwitches(late_event_rate=0.08))
        simulate(config, settings.source_systems_dir, T0)
        defs = build_definitions(settings)
        instance = dg.DagsterInstance.ephemeral()
        job = defs.resolve_job_def(MAIN_JOB)
        keys = (dg.AssetSelection.all() - dg.AssetSelection.groups("source_systems")).resolve(defs.resolve_asset_graph())
        result = job.execute_in_process(instance=instance, asset_selection=list(keys), tags=range_tags(START.isoformat(), T0.date().isoformat()))
        assert result.success
        yield settings, config, defs, instance


def query(settings, sql):
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as conn:
        return conn.execute(sql).fetchall()


def run_daily(defs, instance, **kwargs) -> dg.ExecuteInProcessResult:
    result = defs.resolve_job_def(DAILY_JOB).execute_in_process(instance=instance, raise_on_error=False, **kwargs)
    assert result.success, [e.message for e in result.all_events if e.is_failure]
    return result


def test_one_partition_processes_only_that_day(platform):
    settings, _, defs, instance = platform
    with duckdb.connect(str(settings.warehouse_path)) as conn:
        for table in DAILY_TABLES:
            conn.execute(f"delete from {table}")
    run_daily(defs, instance, partition_key=DAY)
    assert query(settings, "select distinct order_date from trusted.fct_orders") == [(dt.date.fromisoformat(DAY),)]
    assert query(settings, "select distinct event_date from trusted.fct_web_events") == [(dt.date.fromisoformat(DAY),)]
    import sqlite3

    with sqlite3.connect(settings.source_systems_dir / "shop_db.sqlite") as db:
        expected = db.execute(f"select count(*) from orders where substr(created_at, 1, 10) = '{DAY}'").fetchone()[0]
    assert query(settings, "select count(*) from trusted.fct_orders")[0][0] == expected


def test_rerunning_a_partition_gives_identical_results(platform):
    settings, _, defs, instance = platform
    run_daily(defs, instance, tags=range_tags(START.isoformat(), T0.date().isoformat()))
    before = {t: query(settings, f"select * exclude (changed_at) from {t} order by all") if t.startswith("trusted.fct_order") else query(settings, f"select * from {t} order by all") for t in DAILY_TABLES}
    run_daily(defs, instance, partition_key=DAY)
    after = {t: query(settings, f"select * exclude (changed_at) from {t} order by all") if t.startswith("trusted.fct_order") else query(settings, f"select * from {t} order by all") for t in DAILY_TABLES}
    assert after == before, "re-running a partition replaces it: nothing duplicated, nothing lost"


def test_a_three_partition_range_executes_as_one_run(platform):
    settings, _, defs, instance = platform
    runs_before = len(instance.get_run_records())
    result = run_daily(defs, instance, tags=range_tags("2026-10-10", "2026-10-12"))
    assert len(instance.get_run_records()) == runs_before + 1
    partitions = {(e.asset_key.to_user_string(), e.partition) for e in result.get_asset_materialization_events()}
    assert {p for k, p in partitions if k == "trusted/fct_orders"} == {"2026-10-10", "2026-10-11", "2026-10-12"}
    windows = [e.user_message for e in instance.all_logs(result.run_id) if e.user_message.startswith("dbt build for")]
    assert windows == ["dbt build for 2026-10-10 <= day < 2026-10-13"], "one dbt invocation for the whole range"


def test_schedules_request_the_expected_partitions(platform):
    _, _, defs, _ = platform
    daily = defs.get_schedule_def("daily_partition_schedule")
    request = daily.evaluate_tick(dg.build_schedule_context(scheduled_execution_time=dt.datetime(2026, 11, 21, 5, tzinfo=dt.timezone.utc), repository_def=defs.get_repository_def())).run_requests[0]
    assert request.partition_key == "2026-11-20"
    rerun = defs.get_schedule_def("late_events_rerun_schedule")
    request = rerun.evaluate_tick(dg.build_schedule_context(scheduled_execution_time=dt.datetime(2026, 11, 21, 6, 30, tzinfo=dt.timezone.utc), repository_def=defs.get_repository_def())).run_requests[0]
    assert (request.tags["dagster/asset_partition_range_start"], request.tags["dagster/asset_partition_range_end"]) == ("2026-11-18", "2026-11-21")
    crons = {s.name: s.cron_schedule for s in defs.schedules}
    assert crons["ingest_web_events_schedule"] == "*/15 * * * *" and crons["ingest_shop_db_schedule"] == "0 * * * *"


def test_automation_requests_the_dbt_models_after_an_upstream_sync_lands(platform, tmp_path):
    settings, _, defs, _ = platform
    instance = dg.DagsterInstance.ephemeral()
    first = dg.evaluate_automation_conditions(defs=defs, instance=instance)
    assert dg.AssetKey(["staging", "stg_shop__orders"]) not in {k for k in _requested(first, defs)}
    defs.resolve_job_def("ingest_shop_db").execute_in_process(instance=instance, asset_selection=[dg.AssetKey(["raw_shop", s]) for s in ("orders", "order_lines", "payments", "customers", "products", "merchants")])
    second = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=first.cursor)
    requested = _requested(second, defs)
    assert dg.AssetKey(["staging", "stg_shop__orders"]) in requested
    assert dg.AssetKey(["raw_web", "web_events"]) not in requested, "ingestion runs on schedules, not on automation"


def _requested(result, defs) -> set[dg.AssetKey]:
    return {k for k in defs.resolve_asset_graph().get_all_asset_keys() if result.get_num_requested(k) > 0}


def test_the_rolling_rerun_picks_up_an_event_that_arrived_late(platform):
    settings, config, defs, instance = platform
    later = T0 + dt.timedelta(hours=20)  # the next rolling re-runs after T0
    simulate(config, settings.source_systems_dir, later)
    sync = defs.resolve_job_def("ingest_web_events").execute_in_process(instance=instance, asset_selection=[dg.AssetKey(["raw_web", "web_events"])])
    assert sync.success
    window_start = (later.date() - dt.timedelta(days=3)).isoformat()
    late = [
        e
        for path in (settings.source_systems_dir / "web_events").glob("*.jsonl")
        for e in map(orjson.loads, path.read_bytes().splitlines())
        if e["received_at"] > T0.strftime("%Y-%m-%dT%H:%M:%S") and window_start <= e["event_timestamp"][:10] <= T0.date().isoformat()
    ]
    assert late, "the simulation has events that happened before T0 and arrived after it"
    event_id = late[0]["event_id"]
    assert query(settings, f"select count(*) from trusted.fct_web_events where event_id = '{event_id}'")[0][0] == 0
    request = defs.get_schedule_def("late_events_rerun_schedule").evaluate_tick(dg.build_schedule_context(scheduled_execution_time=later, repository_def=defs.get_repository_def())).run_requests[0]
    run_daily(defs, instance, tags=request.tags)
    assert query(settings, f"select count(*) from trusted.fct_web_events where event_id = '{event_id}'")[0][0] == 1
