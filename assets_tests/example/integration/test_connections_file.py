"""connections.yaml and the streams' contracts match what the sources offer, and mistakes are named."""

from __future__ import annotations

import pytest
import yaml

from data_platform.ingestion.connections import ConnectionsFileError, load_connections
from embedded_airbyte.runner import EmbeddedAirbyte
from embedded_airbyte.schema import columns_from_json_schema

from ..support.example import example_connections


def test_declared_streams_match_what_each_embedded_source_discovers(marketplace):
    runner = EmbeddedAirbyte(marketplace.warehouse)
    for connection in example_connections():
        config = connection.embedded_source.resolved_config({"source_systems": str(marketplace.root / "source_systems")})
        runner.check(connection.embedded_source.source, config)
        discovered = runner.discover(connection.embedded_source.source, config)
        for stream in connection.streams:
            found = discovered[stream.name]
            assert [(c.name, c.type) for c in columns_from_json_schema(found["json_schema"])] == [(c.name, c.type) for c in stream.columns]
            if stream.cursor_field:
                assert found["default_cursor_field"] == [stream.cursor_field]


def minimal_contract(namespace: str = "raw", stream: str = "s1", primary_key: bool = True) -> dict:
    return {
        "apiVersion": "v3.1.0",
        "kind": "DataContract",
        "id": f"test.{namespace}.{stream}",
        "version": "1.0.0",
        "team": {"name": "x", "members": [{"username": "x@example.com", "role": "owner"}]},
        "servers": [{"server": "local", "type": "duckdb", "database": "warehouse", "schema": namespace}],
        "schema": [
            {
                "name": stream,
                "properties": [
                    {
                        "name": "id",
                        "logicalType": "integer",
                        "required": True,
                        **({"primaryKey": True, "primaryKeyPosition": 1} if primary_key else {}),
                    },
                    {"name": "updated_at", "logicalType": "timestamp"},
                ],
            }
        ],
        "slaProperties": [{"property": "latency", "value": 6, "unit": "h", "element": f"{stream}.updated_at"}],
    }


@pytest.mark.parametrize(
    ("body", "primary_key", "message"),
    [
        (
            "connections: {c: {destination_namespace: raw, source_system: s, embedded_source: {module: m}, streams: {s1: {sync_mode: incremental_append_dedup, cursor_field: id}}}}",
            False,
            "connection 'c', stream 's1': incremental_append_dedup needs a primary_key",
        ),
        (
            "connections: {c: {destination_namespace: raw, source_system: s, embedded_source: {module: m}, streams: {s1: {sync_mode: upsert}}}}",
            True,
            "sync_mode 'upsert' is not one of",
        ),
        ("connections: {c: {owners: [team:x]}}", True, "connection 'c': missing destination_namespace"),
        (
            "connections: {c: {destination_namespace: raw, owners: [team:x], source_system: s, embedded_source: {module: m}, streams: {s1: {sync_mode: full_refresh_overwrite}}}}",
            True,
            "connection 'c': owners belong in the stream's data contract",
        ),
        (
            "connections: {c: {destination_namespace: raw, source_system: s, embedded_source: {module: m}, streams: {s1: {sync_mode: incremental_append, cursor_field: ts, columns: {id: integer}}}}}",
            True,
            "stream 's1': columns belong in the stream's data contract",
        ),
        (
            "connections: {c: {destination_namespace: raw, source_system: s, embedded_source: {module: m}, streams: {s1: {sync_mode: incremental_append, cursor_field: ts}}}}",
            True,
            "'ts' is used as cursor or primary key but is not a declared column",
        ),
        (
            "connections: {c: {destination_namespace: raw, source_system: s, embedded_source: {module: m}, streams: {s2: {sync_mode: full_refresh_overwrite}}}}",
            True,
            "stream 's2': stream raw.s2 has no data contract: expected",
        ),
    ],
)
def test_mistakes_in_the_file_are_named(tmp_path, body, primary_key, message):
    path = tmp_path / "connections.yaml"
    path.write_text(body)
    (tmp_path / "contracts").mkdir()
    (tmp_path / "contracts" / "raw.s1.odcs.yaml").write_text(yaml.safe_dump(minimal_contract(primary_key=primary_key)))
    with pytest.raises(ConnectionsFileError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_connections(path, tmp_path / "contracts")


def test_production_connection_id_comes_from_the_named_variable():
    shop = {c.name: c for c in example_connections()}["shop_db"]
    assert shop.production_connection_id({"AIRBYTE_CONNECTION_ID_SHOP_DB": "abc"}) == "abc"
    with pytest.raises(ConnectionsFileError, match="AIRBYTE_CONNECTION_ID_SHOP_DB"):
        shop.production_connection_id({})
