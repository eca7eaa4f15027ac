"""One lineage graph with no orphans: source system -> Airbyte stream -> dbt -> exposures."""

from __future__ import annotations

import json

import dagster as dg
import pytest

from data_platform.definitions import build_definitions
from data_platform.environment import resolve_settings
from data_platform.ingestion.connections import load_connections
from data_platform.transformation.project import prepared_manifest


@pytest.fixture(scope="module")
def settings(tmp_path_factory):
    return resolve_settings({"DATA_PLATFORM_DATA_DIR": str(tmp_path_factory.mktemp("data"))})


@pytest.fixture(scope="module")
def graph(settings):
    return build_definitions(settings).resolve_asset_graph()


@pytest.fixture(scope="module")
def manifest(settings):
    return json.loads(prepared_manifest(settings).read_text())


def stream_keys() -> set[dg.AssetKey]:
    return {dg.AssetKey([c.destination_namespace, s.name]) for c in load_connections() for s in c.streams}


def test_every_dbt_source_is_an_airbyte_stream_asset(manifest, graph):
    for source in manifest["sources"].values():
        key = dg.AssetKey(source["config"]["meta"]["dagster"]["asset_key"])
        assert key in stream_keys(), f"dbt source {source['unique_id']} points at {key}, which no Airbyte stream lands in"
        assert key == dg.AssetKey([source["schema"], source["name"]]), "the source key is where the stream lands"
        assert graph.get(key).is_materializable


def test_every_airbyte_stream_feeds_a_staging_model(graph):
    for key in stream_keys():
        children = graph.get(key).child_keys
        assert any(child.path[0] == "staging" for child in children), f"{key.to_user_string()} is read by no staging model"


def test_every_exposure_reads_models_and_every_model_reaches_a_source(graph):
    exposures = [k for k in graph.get_all_asset_keys() if k.path[0] == "exposures"]
    assert {k.path[1] for k in exposures} == {"panel_ventas", "ficha_comerciantes", "hoja_finanzas_comisiones"}
    for key in exposures:
        parents = graph.get(key).parent_keys
        assert parents and all(p.path[0] in ("trusted", "marts", "presentation") for p in parents)
    for key in graph.get_all_asset_keys():
        if key.path[0] in ("staging", "trusted", "marts", "presentation") and key.path[1] != "metricflow_time_spine":
            frontier, seen = [key], set()
            while frontier:
                current = frontier.pop()
                for parent in graph.get(current).parent_keys:
                    if parent not in seen:
                        seen.add(parent)
                        frontier.append(parent)
            assert any(k.path[0] == "source_system" for k in seen), f"{key.to_user_string()} does not reach a source system"


def test_models_are_grouped_by_layer_with_owners(graph):
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        if key.path[0] in ("staging", "trusted", "marts", "presentation"):
            assert node.group_name == key.path[0]
            assert node.owners, f"{key.to_user_string()} has no owner"


def test_dbt_tests_are_asset_checks_and_error_severity_blocks(graph):
    checks = list(graph.asset_check_keys)
    assert any(c.asset_key == dg.AssetKey(["trusted", "fct_orders"]) and c.name.startswith("unique_fct_orders_order_id") for c in checks)
    assert len(checks) >= 50
