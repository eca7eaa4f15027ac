"""Stream checks that need their own history: a sync that moves nothing, a stale stream, and
latest-partition freshness. Where a check reads Python's clock (sync rates, partition deadlines)
the instant is pinned with time-machine; the stale stream's lag is measured by the warehouse's
clock, which only moves further from the sources' pinned instant T0."""

from __future__ import annotations

import datetime as dt

import dagster as dg
import pytest
import time_machine

from marketplace_example.simulation import DirtSwitches, SimulationConfig

from ...support.alerting import AlertingSensor
from ..support.platforms import START, T0, Platform, using

WEB_EVENTS = dg.AssetKey(["raw_web", "web_events"])


def evaluation(result: dg.ExecuteInProcessResult, asset: str, check: str) -> dg.AssetCheckEvaluation:
    return next(e for e in result.get_asset_check_evaluations() if e.asset_key.to_user_string() == asset and e.check_name == check)


@pytest.fixture
def web_events_platform(tmp_path):
    clean = SimulationConfig(seed=3, scale=0.3, start_date=START, dirt=DirtSwitches.clean())
    with using(Platform(tmp_path / "data", clean)) as platform, platform.instance() as instance:
        yield platform, instance


def test_a_sync_that_moves_no_rows_fails_the_volume_check_blocks_staging_and_alerts(web_events_platform, receiver, smtp, tmp_path):
    platform, instance = web_events_platform
    for as_of in (T0, T0 + dt.timedelta(hours=12)):  # two syncs with data, 12 hours apart: a baseline rate
        platform.simulate(as_of)
        with time_machine.travel(as_of):
            sync = platform.run_job(instance, "ingest_web_events", asset_selection=[WEB_EVENTS])
        assert evaluation(sync, "raw_web/web_events", "row_volume").passed
    alerting = AlertingSensor(platform.defs, instance, receiver, smtp, tmp_path / "alerts.jsonl")
    staging = dg.AssetKey(["staging", "stg_web__events"])
    with time_machine.travel(T0 + dt.timedelta(hours=24)):  # the source stopped: nothing new in 12 hours
        stalled = platform.run_main_job(instance, dg.AssetSelection.assets(WEB_EVENTS, staging))
    volume = evaluation(stalled, "raw_web/web_events", "row_volume")
    assert not volume.passed and volume.severity == dg.AssetCheckSeverity.ERROR, {k: v.value for k, v in volume.metadata.items()}
    assert "moved 0 rows" in volume.description and volume.metadata["rows_synced"].value == 0
    assert volume.metadata["expected_rows"].value > 10, "the 12-hour rate predicts rows"
    assert staging not in {e.asset_key for e in stalled.get_asset_materialization_events()}, "a sync that lost its rows blocks staging"
    alerting.tick()
    (alert,) = alerting.webhook_alerts("raw_web/web_events", "row_volume")
    assert alert["owners"][0] == "team:growth" and alert["metadata"]["rows_synced"] == 0
    assert alerting.slack_posts("raw_web/web_events", "row_volume")[0]["channel"] == "#growth-data-alerts"


def test_a_stale_stream_fails_its_freshness_check_with_the_lag_and_alerts_its_owner(platform, instance, alerting):
    result = platform.run_job(instance, "ingest_web_events", asset_selection=[WEB_EVENTS])  # the source stopped at T0
    freshness = evaluation(result, "raw_web/web_events", "data_freshness")
    assert not freshness.passed and freshness.severity == dg.AssetCheckSeverity.ERROR
    assert freshness.metadata["lag_minutes"].value > 180
    assert "min old (SLA 180 min)" in freshness.description
    assert freshness.metadata["newest_received_at"].value.startswith(T0.date().isoformat())
    alerting.tick()
    (alert,) = alerting.webhook_alerts("raw_web/web_events", "data_freshness")
    assert alert["owners"][0] == "team:growth" and alert["metadata"]["lag_minutes"] > 180


def test_a_stream_carries_a_freshness_policy_for_the_ui_and_the_daemon(built_platform):
    spec = next(s for s in built_platform.defs.resolve_all_asset_specs() if s.key == WEB_EVENTS)
    assert spec.freshness_policy is not None


@pytest.mark.parametrize(
    ("now", "latest"),
    [(dt.datetime(2026, 11, 21, 9, tzinfo=dt.UTC), "2026-11-21"), (dt.datetime(2026, 11, 21, 6, tzinfo=dt.UTC), "2026-11-20")],
    ids=["after-the-07:00-deadline", "before-the-deadline"],
)
def test_partition_freshness_judges_the_latest_partition_not_a_backfilled_old_one(built_platform, now, latest):
    key = dg.AssetKey(["marts", "mart_daily_gmv"])
    job = built_platform.defs.resolve_job_def("freshness_checks_job")

    def freshness(instance) -> dg.AssetCheckEvaluation:
        result = job.execute_in_process(instance=instance, raise_on_error=False)
        return next(e for e in result.get_asset_check_evaluations() if e.asset_key == key)

    with time_machine.travel(now), dg.DagsterInstance.ephemeral() as instance:
        instance.report_runless_asset_event(dg.AssetMaterialization(key, partition="2025-03-01"))  # a backfill of an old day
        assert not freshness(instance).passed, "an old partition does not make the latest one fresh"
        instance.report_runless_asset_event(dg.AssetMaterialization(key, partition=latest))
        assert freshness(instance).passed


def test_a_never_materialized_daily_model_is_not_late_and_its_freshness_is_not_evaluated(built_platform):
    key = dg.AssetKey(["marts", "mart_daily_gmv"])
    job = built_platform.defs.resolve_job_def("freshness_checks_job")
    sensor = built_platform.defs.resolve_sensor_def("partition_freshness_sensor")
    with time_machine.travel(dt.datetime(2026, 11, 21, 9, tzinfo=dt.UTC)), dg.DagsterInstance.ephemeral() as instance:
        context = dg.build_sensor_context(instance=instance, repository_def=built_platform.defs.get_repository_def())
        assert not sensor.evaluate_tick(context).run_requests, "a fresh instance: no check is due, so no alert can follow"
        result = job.execute_in_process(instance=instance, raise_on_error=False)
        never = next(e for e in result.get_asset_check_evaluations() if e.asset_key == key)
        assert never.passed and never.description.startswith("Never materialized")

        instance.report_runless_asset_event(dg.AssetMaterialization(key, partition="2026-11-19"))
        (request,) = sensor.evaluate_tick(context).run_requests
        assert request.asset_check_keys == [dg.AssetCheckKey(key, "freshness_check")], "only the asset with data is judged"


def test_the_freshness_sensor_judges_once_per_deadline_and_again_after_a_cure(built_platform):
    key = dg.AssetKey(["marts", "mart_daily_gmv"])
    job = built_platform.defs.resolve_job_def("freshness_checks_job")
    sensor = built_platform.defs.resolve_sensor_def("partition_freshness_sensor")
    check = dg.AssetCheckKey(key, "freshness_check")

    def due(instance) -> bool:
        context = dg.build_sensor_context(instance=instance, repository_def=built_platform.defs.get_repository_def())
        return any(check in (r.asset_check_keys or []) for r in sensor.evaluate_tick(context).run_requests)

    with dg.DagsterInstance.ephemeral() as instance:
        with time_machine.travel(dt.datetime(2026, 11, 21, 9, tzinfo=dt.UTC)):
            instance.report_runless_asset_event(dg.AssetMaterialization(key, partition="2026-11-19"))
            assert due(instance)
            job.execute_in_process(instance=instance, raise_on_error=False)
            assert not due(instance), "failed, and nothing changed since"
            instance.report_runless_asset_event(dg.AssetMaterialization(key, partition="2026-11-21"))
            assert due(instance), "a materialization may have cured it"
            job.execute_in_process(instance=instance, raise_on_error=False)
            assert not due(instance), "passed for this deadline"
        with time_machine.travel(dt.datetime(2026, 11, 22, 7, 1, tzinfo=dt.UTC)):
            assert due(instance), "a new deadline passed"
