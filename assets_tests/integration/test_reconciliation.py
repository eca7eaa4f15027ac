"""What incremental syncs cannot see is found by the weekly reconciliation: an update the source
stamps in the past (a back-dated correction) never reaches the raw table by an incremental read;
reading the source whole and comparing key by key finds it, names the key and alerts (WARN)."""

from __future__ import annotations

import os
import shutil

import dagster as dg
import duckdb
import pytest

from data_platform.definitions import build_definitions
from data_platform.domains import load_domains
from data_platform.quality.reconciliation import CHECK_NAME, JOB_NAME
from data_platform.settings import resolve_settings

from ..support.environments import PROD_ENV
from ..support.fixture_domains import fixture_settings

ORDERS = dg.AssetKey(["reconciliation", "raw_shop", "orders"])


@pytest.fixture
def shop(tmp_path):
    with fixture_settings(tmp_path, ("shop",)) as settings:
        yield settings, build_definitions(settings, load_domains(settings, ["shop"]), location="shop")


def rewrite(settings, old: str, new: str) -> None:
    orders = settings.domains_dir / "shop" / "source_files" / "orders.csv"
    text = orders.read_text()
    assert old in text
    orders.write_text(text.replace(old, new))


def amount_of_order(settings, order_id: int):
    with duckdb.connect(str(settings.warehouse.duckdb_path), read_only=True) as conn:
        return conn.execute("select cast(amount_eur as varchar) from raw_shop.orders where order_id = ?", [order_id]).fetchone()[0]


def test_an_update_stamped_in_the_past_is_missed_by_syncs_and_found_by_the_reconciliation(shop):
    settings, defs = shop
    with dg.instance_for_test() as instance:
        assert defs.resolve_job_def("ingest_shop_files").execute_in_process(instance=instance).success
        # the source corrects order 4 and back-dates the change by a day; a new order arrives with a stamp as old
        rewrite(settings, "4,c3,100.00,2026-10-03T08:45:00Z,2026-10-03T08:45:00Z", "4,c3,99.00,2026-10-03T08:45:00Z,2026-10-02T08:45:00Z")
        rewrite(settings, "5,c2,7.25", "6,c1,1.00,2026-10-01T08:00:00Z,2026-10-01T08:00:00Z\n5,c2,7.25")
        assert defs.resolve_job_def("ingest_shop_files").execute_in_process(instance=instance).success
        assert amount_of_order(settings, 4).startswith("100"), "no incremental read fetches a change stamped before its checkpoint"
        result = defs.resolve_job_def(JOB_NAME).execute_in_process(instance=instance, raise_on_error=False)
    (evaluation,) = result.get_asset_check_evaluations()
    figures = {k: v.value for k, v in evaluation.metadata.items()}
    assert (evaluation.asset_key, evaluation.check_name, evaluation.passed) == (ORDERS, CHECK_NAME, False)
    assert evaluation.severity == dg.AssetCheckSeverity.WARN, "it reports; it blocks nothing"
    assert (figures["source_rows"], figures["missing"], figures["changed"], figures["stamped_in_the_past"], figures["gone"]) == (
        6,
        1,
        1,
        1,
        0,
    )
    assert (figures["sample_missing_keys"], figures["sample_changed_keys"]) == (["6"], ["4"]), "keys named, never values"
    assert "99" not in str(figures) and "c3" not in str(figures)
    assert not (settings.data_dir / "reconciliation" / "shop_files").exists(), "the scratch read is removed"


def test_a_source_in_step_with_its_raw_table_passes(shop):
    _, defs = shop
    with dg.instance_for_test() as instance:
        assert defs.resolve_job_def("ingest_shop_files").execute_in_process(instance=instance).success
        result = defs.resolve_job_def(JOB_NAME).execute_in_process(instance=instance)
    (evaluation,) = result.get_asset_check_evaluations()
    assert evaluation.passed and evaluation.metadata["source_rows"].value == 5


def test_the_end_to_end_job_never_reads_a_source_whole(shop):
    _, defs = shop
    main = next(job for job in defs.resolve_all_job_defs() if job.name.endswith("_end_to_end"))
    assert not main.asset_layer.asset_graph.get(ORDERS).is_executable if main.asset_layer.asset_graph.has(ORDERS) else True
    assert defs.resolve_job_def(JOB_NAME).asset_layer.asset_graph.get(ORDERS).is_executable


def test_the_weekly_schedule_runs_locally_and_is_stopped_where_an_airbyte_server_reads_the_sources(tmp_path):
    with fixture_settings(tmp_path, ("shop",)) as settings:
        local = build_definitions(settings, load_domains(settings, ["shop"]), location="shop")
        shutil.rmtree(settings.dbt_dir / "shop")  # production parses dbt for Snowflake; the sources alone suffice here
        prod_settings = resolve_settings(
            {**PROD_ENV, **{k: v for k, v in os.environ.items() if k.startswith("DATA_PLATFORM_")}, "DATA_PLATFORM_ENV": "prod"}
        )
        prod = build_definitions(prod_settings, load_domains(prod_settings, ["shop"]), location="shop")
    for defs, status in ((local, dg.DefaultScheduleStatus.RUNNING), (prod, dg.DefaultScheduleStatus.STOPPED)):
        schedule = defs.resolve_schedule_def("reconcile_sources_weekly")
        assert (schedule.cron_schedule, schedule.default_status) == ("0 4 * * 0", status)
