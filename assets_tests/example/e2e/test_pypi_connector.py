"""Any Python Airbyte connector runs through the embedded runner: airbyte-source-faker from PyPI,
installed into its own virtual environment as Airbyte isolates connectors."""

from __future__ import annotations

import orjson
import pytest

from data_platform.ingestion.connections import ConnectionSpec, EmbeddedSource, StreamSpec, SyncMode
from embedded_airbyte.runner import EmbeddedAirbyte

from ...support.contracts import declared_contract

FAKER = "airbyte-source-faker==7.2.1"


@pytest.fixture(scope="module")
def faker_connection() -> ConnectionSpec:
    streams = tuple(
        StreamSpec(
            name, SyncMode.INCREMENTAL_APPEND_DEDUP, declared_contract("raw_faker", name, primary_key=("id",)), cursor_field="updated_at"
        )
        for name in ("users", "products", "purchases")
    )
    return ConnectionSpec(
        name="faker",
        description="airbyte-source-faker from PyPI",
        destination_namespace="raw_faker",
        owners=("team:data-platform",),
        group="ingestion",
        source_system="faker",
        streams=streams,
        embedded_source=EmbeddedSource(
            command=("source-faker",), config={"count": 300, "seed": 11, "records_per_slice": 100, "parallelism": 1}, pypi=FAKER
        ),
    )


@pytest.mark.network_install
def test_airbyte_source_faker_syncs_through_the_embedded_runner(faker_connection, tmp_path):
    # one worker process: faker forks a pool per stream, and a pool of 4 on a loaded machine once hung; were it to
    # hang again, the runner stops it after 120 s of silence and says so (instead of the test timing out)
    runner = EmbeddedAirbyte(tmp_path / "warehouse.duckdb", batch_size=100, silence_timeout=120)
    config = dict(faker_connection.embedded_source.config)
    spec = runner.spec(faker_connection.embedded_source.source)
    assert "count" in spec["connectionSpecification"]["properties"]

    first = runner.sync(faker_connection.embedded, config)
    assert first.streams["users"].rows_in_table == 300
    assert first.streams["purchases"].rows_in_table > 0
    assert first.streams["users"].cursor, "faker's STATE checkpoints are stored"

    import duckdb

    with duckdb.connect(str(tmp_path / "warehouse.duckdb")) as conn:
        columns = dict(conn.execute("select column_name, data_type from duckdb_columns() where table_name = 'users'").fetchall())
        meta = conn.execute("select _airbyte_meta from raw_faker.users limit 1").fetchone()[0]
        ids = conn.execute("select count(*), count(distinct id) from raw_faker.users").fetchone()
    assert columns["id"] == "BIGINT" and columns["address"] == "JSON" and columns["updated_at"] == "TIMESTAMP WITH TIME ZONE"
    assert {"_airbyte_raw_id", "_airbyte_extracted_at", "_airbyte_meta", "_airbyte_generation_id"} <= set(columns)
    assert orjson.loads(meta)["sync_id"] == first.sync_id
    assert ids[0] == ids[1] == 300

    second = runner.sync(faker_connection.embedded, config)
    assert second.streams["users"].rows_in_table == 300, "re-syncing the same source adds no duplicates"
