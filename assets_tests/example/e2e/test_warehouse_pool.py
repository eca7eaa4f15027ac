"""DuckDB is single-writer: on the multiprocess executor the three connection syncs would open the
warehouse file at once; the local instance's pool limit makes them take turns instead of failing
on the lock. (The platform runs local steps in one process; runs launched at the same time by
schedules, sensors and the UI still meet in the pool, across processes.)"""

from __future__ import annotations

import shutil

import dagster as dg

from data_platform.settings import REPO_ROOT

STREAMS = {
    "raw_shop/merchants", "raw_shop/products", "raw_shop/customers", "raw_shop/orders",
    "raw_shop/order_lines", "raw_shop/payments", "raw_web/web_events", "raw_marketing/marketing_spend",
}  # fmt: skip
SYNCS = {"airbyte_shop_db", "airbyte_web_events", "airbyte_marketing_spend"}


def syncs_in_parallel() -> dg.JobDefinition:
    """The three connection syncs, without their checks, each in its own process (reconstructable)."""
    from data_platform import definitions

    job = dg.define_asset_job(
        "syncs_in_parallel", selection=dg.AssetSelection.groups("ingestion").without_checks(), executor_def=dg.multiprocess_executor
    )
    return dg.Definitions.merge(definitions.build_definitions(), dg.Definitions(jobs=[job])).resolve_job_def("syncs_in_parallel")


def test_parallel_steps_writing_duckdb_queue_on_the_warehouse_pool(built_platform, tmp_path, monkeypatch):
    data = tmp_path / "data"
    shutil.copytree(built_platform.settings.source_systems_dir, data / "source_systems")  # sources at T0, an empty warehouse
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(REPO_ROOT / "platform" / "data_platform" / "instance" / "dagster.yaml", home / "dagster.yaml")
    monkeypatch.setenv("DATA_PLATFORM_DATA_DIR", str(data))
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    with dg.DagsterInstance.get() as instance:
        result = dg.execute_job(
            dg.reconstructable(syncs_in_parallel), instance=instance, run_config={"execution": {"config": {"max_concurrent": 3}}}
        )
        assert result.success, [e.message for e in result.all_events if e.is_failure]
        steps = {e.step_key for e in result.all_events if e.is_step_success}
        materialized = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    assert steps == SYNCS
    assert materialized >= STREAMS
