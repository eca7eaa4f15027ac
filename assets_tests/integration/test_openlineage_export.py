"""The catalog's metadata exported as OpenLineage events through the ``openlineage-python``
client's own file transport (what a Marquez, DataHub or cloud lineage endpoint would receive
over HTTP): one static-lineage JobEvent per data product, its inputs the assets it reads, its
output with schema, owners, description and tags (layer, team, PII classification)."""

from __future__ import annotations

import json

import pytest

from data_platform.catalog.collect import collect
from data_platform.catalog.openlineage_export import emit

from ..support.fixture_domains import fixture_settings

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def events(tmp_path_factory):
    root = tmp_path_factory.mktemp("openlineage")
    sink = root / "events.jsonl"
    with fixture_settings(root / "platform") as settings, pytest.MonkeyPatch.context() as env:
        env.setenv("OPENLINEAGE__TRANSPORT__TYPE", "file")
        env.setenv("OPENLINEAGE__TRANSPORT__LOG_FILE_PATH", str(sink))
        env.setenv("OPENLINEAGE__TRANSPORT__APPEND", "true")
        sent = emit(collect(settings))
    lines = sink.read_text().splitlines()
    assert sent == len(lines)
    return {event["job"]["name"]: event for event in map(json.loads, lines)}


def test_every_data_product_is_one_static_lineage_event(events):
    assert {"marts/mart_shop_revenue", "trusted/fct_shop_orders", "raw_shop/orders"} <= set(events)
    assert all(e["schemaURL"].endswith("#/$defs/JobEvent") and "run" not in e for e in events.values())


def test_a_mart_reads_the_other_domains_published_fact_across_namespaces(events):
    mart = events["marts/mart_shop_revenue"]
    assert mart["job"]["namespace"] == "data-platform/reports"
    assert [(i["namespace"], i["name"]) for i in mart["inputs"]] == [("data-platform/shop", "trusted/fct_shop_orders")]


def test_the_output_carries_schema_owners_and_description(events):
    (output,) = events["marts/mart_shop_revenue"]["outputs"]
    facets = output["facets"]
    assert [f["name"] for f in facets["schema"]["fields"]] == ["order_date", "orders", "revenue_eur"]
    assert {o["name"] for o in facets["ownership"]["owners"]} >= {"team:reports"}
    assert facets["documentation"]["description"] == "The shop's revenue per day."


def test_each_output_is_tagged_with_its_layer_and_team(events):
    (output,) = events["trusted/fct_shop_orders"]["outputs"]
    tags = {(t["key"], t["value"]) for t in output["facets"]["tags"]["tags"]}
    assert {("layer", "trusted"), ("team", "shop")} <= tags


def test_the_catalog_asset_sends_them_when_the_setting_is_on(tmp_path):
    import dagster as dg

    from data_platform.catalog.assets import JOB
    from data_platform.platform_location import build_platform_definitions
    from data_platform.settings import resolve_settings

    sink = tmp_path / "events.jsonl"
    with fixture_settings(tmp_path / "platform", ("shop",)) as settings, pytest.MonkeyPatch.context() as env:
        for name, value in {
            "DATA_PLATFORM_OPENLINEAGE": "true",
            "OPENLINEAGE__TRANSPORT__TYPE": "file",
            "OPENLINEAGE__TRANSPORT__LOG_FILE_PATH": str(sink),
            "OPENLINEAGE__TRANSPORT__APPEND": "true",
        }.items():
            env.setenv(name, value)
        defs = build_platform_definitions(resolve_settings())
        assert resolve_settings().openlineage and not settings.openlineage
        result = defs.resolve_job_def(JOB).execute_in_process(instance=dg.DagsterInstance.ephemeral())
    (materialization,) = result.get_asset_materialization_events()
    sent = materialization.materialization.metadata["openlineage_events"].value
    assert sent == len(sink.read_text().splitlines()) > 0
