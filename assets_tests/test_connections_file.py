"""connections.yaml is the contract: its streams match what the sources offer, and mistakes are named."""

from __future__ import annotations

import pytest

from data_platform.ingestion.connections import ConnectionsFileError, load_connections
from data_platform.ingestion.runner import EmbeddedAirbyte
from data_platform.ingestion.schema import columns_from_json_schema


def test_declared_streams_match_what_each_embedded_source_discovers(marketplace):
    runner = EmbeddedAirbyte(marketplace.warehouse)
    for connection in load_connections():
        config = connection.embedded_source.resolved_config({"source_systems": str(marketplace.root / "source_systems")})
        runner.check(connection.embedded_source, config)
        discovered = runner.discover(connection.embedded_source, config)
        for stream in connection.streams:
            found = discovered[stream.name]
            assert [(c.name, c.type) for c in columns_from_json_schema(found["json_schema"])] == [(c.name, c.type) for c in stream.columns]
            if stream.cursor_field:
                assert found["default_cursor_field"] == [stream.cursor_field]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("connections: {c: {destination_namespace: raw, owners: [team:x], source_system: s, embedded_source: {module: m}, streams: {s1: {sync_mode: incremental_append_dedup, cursor_field: id}}}}",
         "connection 'c', stream 's1': incremental_append_dedup needs a primary_key"),
        ("connections: {c: {destination_namespace: raw, owners: [team:x], source_system: s, embedded_source: {module: m}, streams: {s1: {sync_mode: upsert}}}}",
         "sync_mode 'upsert' is not one of"),
        ("connections: {c: {destination_namespace: raw, owners: [bob], source_system: s, embedded_source: {module: m}, streams: {s1: {sync_mode: full_refresh_overwrite}}}}",
         "owner 'bob' must be an email or 'team:<name>'"),
        ("connections: {c: {owners: [team:x]}}", "connection 'c': missing destination_namespace"),
        ("connections: {c: {destination_namespace: raw, owners: [team:x], source_system: s, embedded_source: {module: m}, streams: {s1: {sync_mode: incremental_append, cursor_field: ts, columns: {id: integer}}}}}",
         "'ts' is used as cursor or primary key but is not a declared column"),
    ],
)
def test_mistakes_in_the_file_are_named(tmp_path, body, message):
    path = tmp_path / "connections.yaml"
    path.write_text(body)
    with pytest.raises(ConnectionsFileError, match=message.replace("(", r"\(").replace(")", r"\)").replace("<", "<")):
        load_connections(path)


def test_production_connection_id_comes_from_the_named_variable():
    shop = {c.name: c for c in load_connections()}["shop_db"]
    assert shop.production_connection_id({"AIRBYTE_CONNECTION_ID_SHOP_DB": "abc"}) == "abc"
    with pytest.raises(ConnectionsFileError, match="AIRBYTE_CONNECTION_ID_SHOP_DB"):
        shop.production_connection_id({})
