"""Embedded Airbyte: Airbyte-protocol source connectors synced into DuckDB, with no Airbyte server.

A package of its own, with no Dagster in it: the protocol scanner (``protocol``), the buffers
and writer thread (``buffers``), one ``read`` (``session``), the DuckDB destination in Airbyte's
Destinations V2 shape (``destination``), connector environments (``environments``), and a small
connector SDK with a CSV connector (``connectors``). ``python -m embedded_airbyte --help`` syncs a
connector into a DuckDB file from a shell.

    from embedded_airbyte import Connection, EmbeddedAirbyte, Source, Stream, SyncMode

    connection = Connection("shop", "raw_shop", Source(("python", "-m", "my_connector")),
                            (Stream("orders", SyncMode.INCREMENTAL_APPEND_DEDUP, "updated_at", ("order_id",)),))
    EmbeddedAirbyte("warehouse.duckdb").sync(connection, {"path": "exports/"})
"""

import importlib
from typing import Any

_EXPORTS = {
    "Column": "schema",
    "CommitPolicy": "commits",
    "Connection": "streams",
    "ConnectorCheckFailed": "protocol",
    "EmbeddedAirbyte": "runner",
    "ProtocolError": "protocol",
    "Source": "streams",
    "Stream": "streams",
    "StreamSyncResult": "runner",
    "SyncFailed": "protocol",
    "SyncMode": "streams",
    "SyncResult": "runner",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    """The package's names, imported when first used: a platform that only declares streams
    (``streams``, ``schema``) does not pay for DuckDB at import."""
    if name not in _EXPORTS:
        raise AttributeError(f"module 'embedded_airbyte' has no attribute {name!r}")
    return getattr(importlib.import_module(f"embedded_airbyte.{_EXPORTS[name]}"), name)
