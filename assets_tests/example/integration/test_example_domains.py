"""The example's two domains and how they meet."""

from __future__ import annotations

import dagster as dg


def test_the_example_domains_are_commerce_and_growth_with_growth_reading_commerces_orders(built_platform):
    graph = built_platform.defs.resolve_asset_graph()
    roas = graph.get(dg.AssetKey(["marts", "mart_marketing_roas"]))
    orders = graph.get(dg.AssetKey(["trusted", "fct_orders"]))
    assert (roas.tags["domain"], orders.tags["domain"]) == ("growth", "commerce")
    assert dg.AssetKey(["trusted", "fct_orders"]) in roas.parent_keys
