"""Asset keys of ingestion, and the metadata keys a sync records: the contract between layers.

A stream's key is where it lands (``raw_shop/orders`` is table ``raw_shop.orders``); the dbt
source reading it carries the same key, so Dagster draws one graph across the two.
"""

import dagster as dg

from data_platform.ingestion.connections import ConnectionSpec

ROWS_SYNCED = "airbyte/rows_synced"
ZERO_ROWS_FLAG = "airbyte/zero_rows_flagged"
SCHEMA_DRIFT = "airbyte/schema_drift"
"""Columns the source sent that differ from the contract, as found by the sync (list of SchemaChange dicts)."""
RECORDS_SUPERSEDED = "airbyte/records_superseded"
"""Records the source sent that deduplication did not keep (an older version of a key): sent = landed + superseded."""
CONFLICTS = "airbyte/conflicting_duplicates"
"""Keys received in two or more different versions with the same cursor value ({"keys": n, "sample": [...]})."""


def stream_key(connection: ConnectionSpec, stream: str) -> dg.AssetKey:
    """Where the stream lands in the warehouse: ``<namespace>/<stream>``. The dbt sources use the same key."""
    return dg.AssetKey([connection.destination_namespace, stream])


def source_system_key(system: str) -> dg.AssetKey:
    """The operational system a connection reads (upstream of its streams)."""
    return dg.AssetKey(["source_system", system])
