"""The code location: one graph in every environment, loaded without network or secrets."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import dagster as dg
import pytest

from data_platform.definitions import build_definitions
from data_platform.environment import REPO_ROOT, SettingsError, resolve_settings
from data_platform.ingestion.connections import load_connections

from .conftest import PROD_ENV



def graph(defs: dg.Definitions) -> dict[str, set[str]]:
    asset_graph = defs.resolve_asset_graph()
    return {
        key.to_user_string(): {p.to_user_string() for p in asset_graph.get(key).parent_keys}
        for key in asset_graph.get_all_asset_keys()
    }


@pytest.fixture
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError(f"network access while loading definitions: {args}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def test_local_and_prod_have_the_same_assets_and_lineage(tmp_path, prod_manifest, no_network):
    local = build_definitions(resolve_settings({"DATA_PLATFORM_DATA_DIR": str(tmp_path)}))
    prod = build_definitions(resolve_settings(PROD_ENV))
    assert graph(local) == graph(prod)
    assert graph(local)["raw_shop/orders"] == {"source_system/shop_db"}


def test_every_declared_stream_is_an_asset_with_owners_kinds_and_columns(tmp_path):
    defs = build_definitions(resolve_settings({"DATA_PLATFORM_DATA_DIR": str(tmp_path)}))
    specs = {spec.key: spec for spec in defs.resolve_all_asset_specs()}
    for connection in load_connections():
        for stream in connection.streams:
            spec = specs[dg.AssetKey([connection.destination_namespace, stream.name])]
            assert spec.kinds == {"airbyte", "duckdb"}
            assert spec.owners == list(connection.owners)
            assert spec.group_name == "ingestion"
            assert spec.description
            schema = spec.metadata["dagster/column_schema"]
            assert [c.name for c in schema.columns] == list(stream.column_names)
            assert spec.metadata["airbyte/sync_mode"] == stream.sync_mode.value
            assert spec.metadata["dagster/table_name"].endswith(f"{connection.destination_namespace}.{stream.name}")


def test_secrets_stay_environment_references(monkeypatch, prod_manifest):
    for name, value in PROD_ENV.items():
        monkeypatch.setenv(name, value)
    defs = build_definitions(resolve_settings(PROD_ENV))
    everything = repr(defs.resources) + repr([spec.metadata for spec in defs.resolve_all_asset_specs()])
    assert "placeholder-snowflake-password" not in everything
    assert "placeholder-airbyte-secret" not in everything
    assert "SNOWFLAKE_PASSWORD" in everything, "the resource holds a reference to the variable, not its value"


def test_prod_picks_self_managed_airbyte_when_a_server_url_is_set(prod_manifest):
    from data_platform.ingestion.resources import CloudAirbyte, SelfManagedAirbyte

    cloud = build_definitions(resolve_settings(PROD_ENV)).resources["airbyte"]
    server = build_definitions(resolve_settings({**PROD_ENV, "AIRBYTE_SERVER_URL": "https://airbyte.internal/"})).resources["airbyte"]
    assert isinstance(cloud, CloudAirbyte)
    assert isinstance(server, SelfManagedAirbyte)
    assert server.rest_api_base_url == "https://airbyte.internal/api/public/v1"
    assert server.poll_previous_running_sync is True


def test_an_unknown_environment_is_a_clear_error():
    with pytest.raises(SettingsError, match="DATA_PLATFORM_ENV='staging' is not an environment"):
        resolve_settings({"DATA_PLATFORM_ENV": "staging"})


def test_every_warehouse_writer_runs_in_the_single_writer_pool(tmp_path):
    defs = build_definitions(resolve_settings({"DATA_PLATFORM_DATA_DIR": str(tmp_path)}))
    writers = [a for a in defs.assets if isinstance(a, dg.AssetsDefinition) and a.node_def.name.startswith("airbyte_")]
    assert writers and all(a.node_def.pool == "warehouse" for a in writers)


@pytest.mark.e2e
@pytest.mark.parametrize("environment", [{"DATA_PLATFORM_ENV": "local"}, PROD_ENV], ids=["local", "prod"])
def test_dagster_definitions_validate_passes(environment, tmp_path, prod_manifest):
    env = {**os.environ, **environment, "DATA_PLATFORM_DATA_DIR": str(tmp_path), "DAGSTER_HOME": str(tmp_path)}
    dagster = os.path.join(os.path.dirname(sys.executable), "dagster")
    proc = subprocess.run([dagster, "definitions", "validate", "-w", "workspace.yaml"], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Validation successful" in proc.stderr + proc.stdout
