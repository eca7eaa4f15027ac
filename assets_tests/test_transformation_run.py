"""Materializing the whole graph on DuckDB: from scratch and again incrementally, every dbt test
passes, and the marts reconcile with the source systems."""

from __future__ import annotations

import sqlite3
from decimal import Decimal

import dagster as dg
import duckdb
import pytest

from data_platform.automation.partitions import range_tags
from data_platform.definitions import MAIN_JOB, build_definitions
from data_platform.environment import resolve_settings
from data_platform.simulation import DirtSwitches, SimulationConfig, simulate

from .conftest import START, T0, T1


STALE_BY_DESIGN = {"data_freshness", "freshness_check"}


@pytest.fixture(scope="module")
def platform(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("data")
    settings = resolve_settings({"DATA_PLATFORM_DATA_DIR": str(data_dir), "DATA_PLATFORM_SIM_SCALE": "0.4"})
    return settings


def materialize_all(settings, instance):
    defs = build_definitions(settings)
    selection = dg.AssetSelection.all() - dg.AssetSelection.groups("source_systems")
    job = defs.resolve_job_def(MAIN_JOB)
    return job.execute_in_process(
        instance=instance,
        raise_on_error=False,
        asset_selection=list(selection.resolve(defs.resolve_asset_graph())),
        tags=range_tags(START.isoformat(), T1.date().isoformat()),
    )


def test_from_scratch_then_incrementally_every_dbt_test_passes_and_gmv_reconciles(platform, monkeypatch):
    monkeypatch.setenv("DATA_PLATFORM_DATA_DIR", str(platform.data_dir))
    config = SimulationConfig(seed=5, scale=0.4, start_date=START, dirt=DirtSwitches())
    with dg.DagsterInstance.ephemeral() as instance:
        for as_of in (T0, T1):
            simulate(config, platform.source_systems_dir, as_of)
            result = materialize_all(platform, instance)
            assert result.success, [e.message for e in result.all_events if e.is_failure]
            # the sources are pinned to October instants, so freshness checks rightly call them stale;
            # every other check (all dbt tests, keys, volumes) must pass
            evaluations = [e for e in result.get_asset_check_evaluations() if e.check_name not in STALE_BY_DESIGN]
            assert len(evaluations) >= 60
            assert [e.check_name for e in evaluations if not e.passed] == []
            assert_gmv_reconciles(platform)


def assert_gmv_reconciles(settings) -> None:
    with sqlite3.connect(settings.source_systems_dir / "shop_db.sqlite") as db:
        expected, orders = db.execute(
            """select round(sum(l.quantity * l.unit_price_eur - l.discount_eur), 2), count(distinct o.order_id)
               from order_lines l join orders o using (order_id) where o.status != 'cancelled'"""
        ).fetchone()
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as conn:
        gmv = conn.execute("select sum(gmv_eur) from marts.mart_daily_gmv").fetchone()[0]
        mart_orders = conn.execute("select count(distinct order_id) from trusted.fct_orders where counts_toward_gmv").fetchone()[0]
        spanish = conn.execute("select sum(volumen_ventas_eur) from presentation.ventas_diarias").fetchone()[0]
    assert gmv == Decimal(str(expected)).quantize(Decimal("0.01")), "GMV in the mart equals non-cancelled order lines in the source"
    assert spanish == gmv
    assert mart_orders == orders
