"""Checks catch what the simulator's dirt switches inject, and failures block downstream models."""

from __future__ import annotations

import datetime as dt

import dagster as dg

from data_platform.automation.partitions import range_tags
from data_platform.definitions import MAIN_JOB
from data_platform.simulation import DirtSwitches, SimulationConfig, simulate

from .conftest import START, T0, run_main_job


def evaluations(result: dg.ExecuteInProcessResult) -> dict[tuple[str, str], dg.AssetCheckEvaluation]:
    return {(e.asset_key.to_user_string(), e.check_name): e for e in result.get_asset_check_evaluations()}




def test_a_duplicate_primary_key_fails_the_check_and_blocks_downstream_models(platform):
    settings, defs, instance = platform
    simulate(SimulationConfig(seed=3, scale=0.3, start_date=START, dirt=DirtSwitches(duplicate_primary_key=True)), settings.source_systems_dir, T0)
    result = run_main_job(defs, instance)
    check = evaluations(result)[("raw_shop/merchants", "primary_key_unique")]
    assert not check.passed
    assert check.metadata["duplicate_keys"].value == 1 and check.metadata["duplicate_rows"].value == 1
    assert check.metadata["sample_duplicate_keys"].value == [{"merchant_id": "1", "rows": "2"}]
    assert "appear more than once" in check.description
    materialized = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    assert "raw_shop/merchants" in materialized, "the raw data is kept for inspection"
    assert "staging/stg_shop__merchants" not in materialized and "trusted/dim_merchants" not in materialized, "downstream is blocked"
    assert not result.success


def test_a_sync_that_moves_no_rows_fails_the_volume_check_blocks_staging_and_alerts(platform, alerting):
    settings, defs, instance = platform
    config = SimulationConfig(seed=3, scale=0.3, start_date=START, dirt=DirtSwitches.clean())
    job = defs.resolve_job_def("ingest_web_events")
    selection = [dg.AssetKey(["raw_web", "web_events"])]
    for as_of in (T0, T0 + dt.timedelta(hours=12)):  # two syncs with data: a baseline rate
        simulate(config, settings.source_systems_dir, as_of)
        assert evaluations(job.execute_in_process(instance=instance, asset_selection=selection))[("raw_web/web_events", "row_volume")].passed
    staging = dg.AssetKey(["staging", "stg_web__events"])
    stalled = defs.resolve_job_def(MAIN_JOB).execute_in_process(  # the source stopped
        instance=instance, asset_selection=[*selection, staging], raise_on_error=False, tags=range_tags(START.isoformat(), T0.date().isoformat())
    )
    volume = evaluations(stalled)[("raw_web/web_events", "row_volume")]
    assert not volume.passed and volume.severity == dg.AssetCheckSeverity.ERROR, {k: v.value for k, v in volume.metadata.items()}
    assert "moved 0 rows" in volume.description and volume.metadata["rows_synced"].value == 0
    assert staging not in {e.asset_key for e in stalled.get_asset_materialization_events()}, "a sync that lost its rows blocks staging"
    alerting.tick()
    (alert,) = alerting.webhook_alerts("raw_web/web_events", "row_volume")
    assert alert["owners"][0] == "team:growth" and alert["metadata"]["rows_synced"] == 0
    assert alerting.slack_posts("raw_web/web_events", "row_volume")[0]["channel"] == "#growth-data-alerts"


def test_a_failed_check_alerts_its_owner_exactly_once_even_when_the_run_is_retried(platform, alerting):
    settings, defs, instance = platform
    simulate(SimulationConfig(seed=3, scale=0.3, start_date=START, dirt=DirtSwitches(duplicate_primary_key=True)), settings.source_systems_dir, T0)
    failed = run_main_job(defs, instance)
    alerting.tick()
    alerting.tick()  # the second must not repeat the alert
    retry = defs.resolve_job_def("ingest_shop_db").execute_in_process(
        instance=instance, raise_on_error=False, asset_selection=[dg.AssetKey(["raw_shop", "merchants"])],
        tags={"dagster/root_run_id": failed.run_id, "dagster/parent_run_id": failed.run_id},
    )
    assert not evaluations(retry)[("raw_shop/merchants", "primary_key_unique")].passed
    alerting.tick()

    alerts = alerting.webhook_alerts("raw_shop/merchants", "primary_key_unique")
    assert len(alerts) == 1, alerting.receiver.bodies
    alert = alerts[0]
    assert alert["asset"] == "raw_shop/merchants" and alert["severity"] == "ERROR" and alert["kind"] == "check_failed"
    assert "team:commerce-platform" in alert["owners"]
    assert alert["metadata"]["duplicate_keys"] == 1 and "appear more than once" in alert["description"]
    assert "primary_key_unique" in alert["text"], "Slack-compatible text"
    logged = [line for line in alerting.log_path.read_text().splitlines() if "primary_key_unique" in line]
    assert len(logged) == 1


def test_a_stale_stream_fails_its_freshness_check_with_the_lag_and_alerts_its_owner(platform, alerting):
    settings, defs, instance = platform
    simulate(SimulationConfig(seed=3, scale=0.3, start_date=START, dirt=DirtSwitches.clean()), settings.source_systems_dir, T0)  # the source stopped at T0
    result = defs.resolve_job_def("ingest_web_events").execute_in_process(
        instance=instance, asset_selection=[dg.AssetKey(["raw_web", "web_events"])], raise_on_error=False
    )
    freshness = evaluations(result)[("raw_web/web_events", "data_freshness")]
    assert not freshness.passed and freshness.severity == dg.AssetCheckSeverity.ERROR
    assert freshness.metadata["lag_minutes"].value > 180
    assert "min old (SLA 180 min)" in freshness.description
    assert freshness.metadata["newest_received_at"].value.startswith(T0.date().isoformat())
    alerting.tick()
    (alert,) = alerting.webhook_alerts("raw_web/web_events", "data_freshness")
    assert alert["owners"][0] == "team:growth" and alert["metadata"]["lag_minutes"] > 180
    spec = next(s for s in defs.resolve_all_asset_specs() if s.key == dg.AssetKey(["raw_web", "web_events"]))
    assert spec.freshness_policy is not None, "the sync itself also carries a freshness policy for the UI and the freshness daemon"


def test_partition_freshness_judges_the_latest_partition_not_a_backfilled_old_one(platform):
    _, defs, instance = platform
    key = dg.AssetKey(["marts", "mart_daily_gmv"])
    now = dt.datetime.now(dt.timezone.utc)
    # the latest partition is today's (partitions end one day ahead); expected by the 07:00 UTC deadline
    expected = (now.date() - dt.timedelta(days=0 if now.hour >= 7 else 1)).isoformat()
    job = defs.resolve_job_def("freshness_checks_job")

    def freshness() -> dg.AssetCheckEvaluation:
        result = job.execute_in_process(instance=instance, raise_on_error=False)
        return next(e for e in result.get_asset_check_evaluations() if e.asset_key == key)

    instance.report_runless_asset_event(dg.AssetMaterialization(key, partition="2025-03-01"))  # a backfill of an old day
    assert not freshness().passed, "an old partition does not make the latest one fresh"
    instance.report_runless_asset_event(dg.AssetMaterialization(key, partition=expected))
    assert freshness().passed
