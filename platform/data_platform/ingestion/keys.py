"""Asset keys of ingestion, and the metadata keys a sync records: the contract between layers.

A stream's key is where it lands (``raw_shop/orders`` is table ``raw_shop.orders``); the dbt
source reading it carries the same key, so Dagster draws one graph across the two.
"""

from collections.abc import Sequence

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


INTERNAL_SCHEMA = "airbyte_internal"
"""The embedded destination's bookkeeping schema (sync state, sync runs, conflicting versions)."""
CONFLICTS_TABLE = "conflicting_versions"
"""Keys received in two or more different versions with one cursor value, one row per (key,
cursor value), kept after the sync: the uniqueness check judges the table against it, so the
conflict stays open until a newer version of the key (the source's fix) replaces that cursor value."""


NO_CURSOR = "\u2205"
"""The cursor value recorded for a conflict whose versions carry no cursor value (NULL)."""


def conflict_cursor_sql(cursor: str) -> str:
    """A cursor value as text, NULL included (it is part of the conflict's key)."""
    return f"coalesce(cast({cursor} as varchar), '{NO_CURSOR}')"


def conflict_key_sql(primary_key: Sequence[str], prefix: str = "") -> str:
    """A key's identity as text (a JSON array of its values), the same in the destination that
    records a conflict and in the check that looks for it in the table (DuckDB)."""
    quoted = (prefix + '"' + k.replace('"', '""') + '"' for k in primary_key)
    return f"cast(json_array({', '.join(quoted)}) as varchar)"
