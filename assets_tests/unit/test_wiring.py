"""Wiring mistakes a team can make when it plugs in its own sources and dbt project fail the
definitions with a message naming them, instead of becoming silent wrong results."""

from __future__ import annotations

import json

import dagster as dg
import pytest

from data_platform import wiring

ORDERS = dg.AssetKey(["raw_shop", "orders"])


def test_a_dependency_on_a_key_nothing_provides_is_named():
    assets = [dg.AssetSpec(ORDERS), dg.AssetSpec(["staging", "stg_orders"], deps=[ORDERS, dg.AssetKey(["raw_shop", "ordres"])])]
    assert wiring.dangling_dependencies(assets) == ["asset staging/stg_orders depends on raw_shop/ordres, which no asset provides"]


def test_a_dbt_source_without_the_streams_key_is_named_with_the_fix():
    (problem,) = wiring.unlinked_dbt_sources(
        {dg.AssetKey(["shop", "orders"]): "source:shop.orders", ORDERS: "source:shop.x"}, {ORDERS}, "commerce"
    )
    assert problem.startswith("domain commerce: dbt source shop.orders has asset key shop/orders, which is no Airbyte stream")
    assert "meta.dagster.asset_key" in problem and "meta.domain" in problem


def test_a_dependency_another_domains_code_location_provides_is_not_dangling():
    fct_orders = dg.AssetKey(["trusted", "fct_orders"])
    assets = [dg.AssetSpec(["marts", "mart_marketing_roas"], deps=[fct_orders])]
    assert wiring.dangling_dependencies(assets, elsewhere={fct_orders}) == []


def test_a_dbt_test_no_step_runs_is_named(tmp_path):
    manifest = tmp_path / "manifest.json"
    manifest.write_text(
        json.dumps(
            {
                "nodes": {
                    "test.p.unique_stg_orders_id": {"resource_type": "test", "name": "unique_stg_orders_id"},
                    "test.p.source_not_null_shop_orders_id": {
                        "resource_type": "test",
                        "name": "source_not_null_shop_orders_id",
                        "original_file_path": "models/staging/_sources.yml",
                    },
                    "model.p.stg_orders": {"resource_type": "model", "name": "stg_orders"},
                }
            }
        )
    )

    @dg.multi_asset(
        specs=[dg.AssetSpec(["staging", "stg_orders"])],
        check_specs=[dg.AssetCheckSpec("unique_stg_orders_id", asset=dg.AssetKey(["staging", "stg_orders"]))],
    )
    def dbt_models(): ...

    (problem,) = wiring.tests_no_step_runs(manifest, [dbt_models])
    assert problem.startswith("dbt test source_not_null_shop_orders_id (models/staging/_sources.yml) is attached to no model")


def test_every_problem_is_reported_at_once():
    with pytest.raises(wiring.WiringError) as error:
        wiring.validate(["first problem", "second problem"])
    assert "- first problem\n- second problem" in str(error.value)
    wiring.validate([])


def test_a_source_read_from_a_domain_without_a_folder_is_named():
    problems = wiring.unknown_publishers(
        "growth", {"source:commerce.fct_orders": "commerce", "source:ghost.x": "ghost"}, {"commerce", "growth"}
    )
    assert problems == ["domain growth: dbt source:ghost.x is published by domain 'ghost', which has no folder"]
