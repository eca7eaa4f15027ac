"""The code location: one lineage graph in every environment, loaded without network or secrets;
the dbt project behind it documented, tested and contracted; no orphans from source to dashboard."""

from __future__ import annotations

import json
import socket

import dagster as dg
import pytest

from data_platform.definitions import build_definitions
from data_platform.settings import REPO_ROOT, resolve_settings

from ...support.environments import PROD_ENV
from ..support.example import example_connections, merged_manifest

MODEL_LAYERS = ("staging", "trusted", "marts", "presentation")


@pytest.fixture(scope="module")
def local(tmp_path_factory) -> dg.Definitions:
    return build_definitions(resolve_settings({"DATA_PLATFORM_DATA_DIR": str(tmp_path_factory.mktemp("data"))}))


@pytest.fixture(scope="module")
def graph(local):
    return local.resolve_asset_graph()


@pytest.fixture(scope="module")
def manifest(local) -> dict:  # building the definitions prepared it
    return merged_manifest("duckdb")


@pytest.fixture(scope="module", autouse=True)
def prod_document(prod_manifest) -> dict:
    """Production definitions read the manifest the deploy step built (``prod_manifest``)."""
    return json.loads(prod_manifest.read_text())


def lineage(defs: dg.Definitions) -> dict[str, set[str]]:
    asset_graph = defs.resolve_asset_graph()
    return {
        key.to_user_string(): {p.to_user_string() for p in asset_graph.get(key).parent_keys} for key in asset_graph.get_all_asset_keys()
    }


def stream_keys() -> set[dg.AssetKey]:
    return {dg.AssetKey([c.destination_namespace, s.name]) for c in example_connections() for s in c.streams}


def models(manifest) -> list[dict]:
    return [n for n in manifest["nodes"].values() if n["resource_type"] == "model"]


@pytest.fixture
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError(f"network access while loading definitions: {args}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


# --- environments ---------------------------------------------------------------------------


def test_local_and_prod_have_the_same_assets_and_lineage_and_load_without_network(tmp_path, no_network):
    local = build_definitions(resolve_settings({"DATA_PLATFORM_DATA_DIR": str(tmp_path)}))
    prod = build_definitions(resolve_settings(PROD_ENV))
    assert lineage(local) == lineage(prod)
    assert lineage(local)["raw_shop/orders"] == {"source_system/shop_db"}


def test_secrets_stay_environment_references(monkeypatch):
    for name, value in PROD_ENV.items():
        monkeypatch.setenv(name, value)
    defs = build_definitions(resolve_settings(PROD_ENV))
    everything = repr(defs.resources) + repr([spec.metadata for spec in defs.resolve_all_asset_specs()])
    assert "placeholder-snowflake-password" not in everything
    assert "placeholder-airbyte-secret" not in everything
    assert "SNOWFLAKE_PASSWORD" in everything, "the resource holds a reference to the variable, not its value"


def test_prod_picks_self_managed_airbyte_when_a_server_url_is_set():
    from data_platform.ingestion.production_airbyte import CloudAirbyte, SelfManagedAirbyte

    cloud = build_definitions(resolve_settings(PROD_ENV)).resources["airbyte"]
    server = build_definitions(resolve_settings({**PROD_ENV, "AIRBYTE_SERVER_URL": "https://airbyte.internal/"})).resources["airbyte"]
    assert isinstance(cloud, CloudAirbyte)
    assert isinstance(server, SelfManagedAirbyte)
    assert server.rest_api_base_url == "https://airbyte.internal/api/public/v1"
    assert server.poll_previous_running_sync is True


def test_the_production_manifest_is_parsed_for_snowflake_with_placeholder_credentials(prod_document):
    assert prod_document["metadata"]["adapter_type"] == "snowflake"
    assert any(n["name"] == "mart_daily_gmv" for n in prod_document["nodes"].values())


# --- streams --------------------------------------------------------------------------------


def test_every_declared_stream_is_an_asset_with_owners_kinds_and_columns(local):
    specs = {spec.key: spec for spec in local.resolve_all_asset_specs()}
    for connection in example_connections():
        for stream in connection.streams:
            spec = specs[dg.AssetKey([connection.destination_namespace, stream.name])]
            assert spec.kinds == {"airbyte", "duckdb"}
            assert spec.owners == list(connection.owners)
            assert spec.group_name == "ingestion"
            assert spec.description
            assert [c.name for c in spec.metadata["dagster/column_schema"].columns] == list(stream.column_names)
            assert spec.metadata["airbyte/sync_mode"] == stream.sync_mode.value
            assert spec.metadata["dagster/table_name"].endswith(f"{connection.destination_namespace}.{stream.name}")


def test_every_warehouse_writer_runs_in_the_single_writer_pool(local):
    writers = [
        a
        for a in local.assets
        if isinstance(a, dg.AssetsDefinition) and (a.node_def.name.startswith("airbyte_") or a.node_def.name.endswith("dbt_models"))
    ]
    assert len(writers) == 5 and all(a.node_def.pool == "warehouse" for a in writers)  # 3 connections, 1 dbt step per domain


# --- one lineage graph ----------------------------------------------------------------------


def test_every_dbt_source_is_an_airbyte_stream_asset_or_names_the_domain_publishing_it(manifest, graph):
    for source in manifest["sources"].values():
        if source["config"]["meta"].get("domain"):  # another domain's published model, read as a source
            key = dg.AssetKey(source["config"]["meta"]["dagster"]["asset_key"])
            assert graph.get(key).is_materializable and key not in stream_keys(), f"{source['unique_id']} -> {key}"
            continue
        key = dg.AssetKey(source["config"]["meta"]["dagster"]["asset_key"])
        assert key in stream_keys(), f"dbt source {source['unique_id']} points at {key}, which no Airbyte stream lands in"
        assert key == dg.AssetKey([source["schema"], source["name"]]), "the source key is where the stream lands"
        assert graph.get(key).is_materializable


def test_every_airbyte_stream_feeds_a_staging_model(graph):
    for key in stream_keys():
        assert any(child.path[0] == "staging" for child in graph.get(key).child_keys), f"{key.to_user_string()} is read by no staging model"


def test_every_exposure_reads_published_models(graph):
    exposures = [k for k in graph.get_all_asset_keys() if k.path[0] == "exposures"]
    assert {k.path[1] for k in exposures} == {"panel_ventas", "ficha_comerciantes", "hoja_finanzas_comisiones"}
    for key in exposures:
        parents = graph.get(key).parent_keys
        assert parents and all(p.path[0] in ("trusted", "marts", "presentation") for p in parents)


def test_every_model_reaches_a_source_system(graph):
    for key in graph.get_all_asset_keys():
        if key.path[0] in MODEL_LAYERS and not key.path[1].endswith("time_spine"):
            frontier, seen = [key], set()
            while frontier:
                for parent in graph.get(frontier.pop()).parent_keys:
                    if parent not in seen:
                        seen.add(parent)
                        frontier.append(parent)
            assert any(k.path[0] == "source_system" for k in seen), f"{key.to_user_string()} does not reach a source system"


def test_models_are_grouped_by_layer_with_owners(graph):
    for key in graph.get_all_asset_keys():
        if key.path[0] in MODEL_LAYERS:
            assert graph.get(key).group_name == key.path[0]
            assert graph.get(key).owners, f"{key.to_user_string()} has no owner"


def test_dbt_tests_are_asset_checks(graph):
    checks = list(graph.asset_check_keys)
    assert any(c.asset_key == dg.AssetKey(["trusted", "fct_orders"]) and c.name.startswith("unique_fct_orders_order_id") for c in checks)
    assert len(checks) >= 50


# --- the dbt project ------------------------------------------------------------------------


def test_every_model_and_column_is_documented(manifest):
    for model in models(manifest):
        assert model["description"].strip(), f"{model['name']} has no description"
        assert model["columns"], f"{model['name']} documents no columns"
        for column in model["columns"].values():
            assert column["description"].strip(), f"{model['name']}.{column['name']} has no description"


def test_every_model_has_a_uniqueness_and_not_null_test(manifest):
    tests = [n for n in manifest["nodes"].values() if n["resource_type"] == "test" and n.get("test_metadata")]
    for model in models(manifest):
        if model["config"]["materialized"] == "ephemeral":
            continue
        kinds = {t["test_metadata"]["name"] for t in tests if model["unique_id"] in t["depends_on"]["nodes"]}
        assert {"unique", "not_null"} <= kinds, f"{model['name']} lacks a uniqueness or not_null test"


def test_marts_and_presentation_enforce_contracts(manifest):
    for model in models(manifest):
        if model["config"]["schema"] in ("marts", "presentation"):
            assert model["config"]["contract"]["enforced"], model["name"]


def test_incremental_and_ephemeral_models_exist(manifest):
    by_kind: dict[str, set[str]] = {}
    for model in models(manifest):
        by_kind.setdefault(model["config"]["materialized"], set()).add(model["name"])
    assert {"fct_orders", "fct_order_lines", "fct_web_events"} <= by_kind["incremental"]
    assert {"int_order_lines_enriched", "int_sessions"} <= by_kind["ephemeral"]
    for name in ("fct_orders", "fct_order_lines", "fct_web_events"):
        config = next(m for m in models(manifest) if m["name"] == name)["config"]
        assert config["incremental_strategy"] == "delete+insert" and config["unique_key"]


def test_kpis_are_semantic_metrics_and_marts_have_unit_tests(manifest):
    assert {"gmv", "orders", "commission", "take_rate", "roas", "conversion_rate"} <= {m["name"] for m in manifest["metrics"].values()}
    tested = {u["model"] for u in manifest["unit_tests"].values()}
    assert {"mart_daily_gmv", "mart_merchant_commission", "mart_customer_cohorts", "mart_marketing_roas"} <= tested


def test_cross_adapter_macros_have_a_snowflake_and_a_default_body():
    macros = (REPO_ROOT / "dbt" / "macros" / "cross_adapter.sql").read_text()
    for name in ("json_text_field", "is_valid_json", "hash_pii", "utc_date", "days_between", "date_series"):
        assert f"macro snowflake__{name}(" in macros and f"macro default__{name}(" in macros


def test_model_pages_describe_the_table_not_its_sql(graph):
    models = [graph.get(k) for k in graph.materializable_asset_keys if k.path[0] in MODEL_LAYERS]
    assert models
    for node in models:
        description = node.description or ""
        assert description and "Raw SQL" not in description and "select" not in description.lower().split(), node.key


def test_code_references_open_the_local_file_or_the_web_host_when_one_is_configured(local, tmp_path):
    key = dg.AssetKey(["staging", "stg_shop__orders"])
    (local_reference,) = local.resolve_asset_graph().get(key).metadata["dagster/code_references"].code_references
    assert isinstance(local_reference, dg.LocalFileCodeReference)
    assert local_reference.file_path == str(REPO_ROOT / "dbt" / "commerce" / "models" / "staging" / "stg_shop__orders.sql")
    hosted = build_definitions(
        resolve_settings(
            {"DATA_PLATFORM_DATA_DIR": str(tmp_path), "DATA_PLATFORM_CODE_URL": "https://github.com/acme/data-platform/blob/main/"}
        )
    )
    (reference,) = hosted.resolve_asset_graph().get(key).metadata["dagster/code_references"].code_references
    assert isinstance(reference, dg.UrlCodeReference)
    assert reference.url == "https://github.com/acme/data-platform/blob/main/dbt/commerce/models/staging/stg_shop__orders.sql"


def test_each_check_that_blocks_descendants_says_so_and_why_dagster_lists_it_as_non_blocking(graph):
    from data_platform.quality.stream_check import BLOCKS_DESCENDANTS, PLATFORM_BLOCKING

    checks = [graph.get_check_spec(key) for key in graph.asset_check_keys]
    blocking = [c for c in checks if getattr(c.metadata.get(BLOCKS_DESCENDANTS), "value", c.metadata.get(BLOCKS_DESCENDANTS))]
    assert len(blocking) >= 10
    assert [c.key for c in blocking if PLATFORM_BLOCKING not in (c.description or "")] == []
    assert [c.key for c in checks if "block" in (c.description or "").lower() and c not in blocking] == []
