"""The ``airbyte`` resource in each environment, behind one method: ``sync_connection``.

- :class:`EmbeddedAirbyteResource` (local): runs the connection's embedded source connector
  through :class:`~embedded_airbyte.runner.EmbeddedAirbyte` into DuckDB, only the
  selected streams, and reports per-stream figures.
- ``SelfManagedAirbyte`` / ``CloudAirbyte`` (prod, ``production_airbyte.py``, imported only there:
  dagster-airbyte is not needed to load the local definitions): dagster-airbyte's workspaces;
  ``sync_and_poll`` on the connection id, attaching to a sync already in flight. Airbyte
  syncs the whole connection, so streams outside the selection are reported as plain
  materializations, as dagster-airbyte does.

Both flag a successful sync that moved no rows where the connection expects rows.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg

from data_platform.ingestion.connections import ConnectionSpec, SyncMode
from data_platform.ingestion.keys import CONFLICTS, RECORDS_SUPERSEDED, SCHEMA_DRIFT, ZERO_ROWS_FLAG, stream_key
from embedded_airbyte.commits import DEFAULT_COMMIT_BYTES, DEFAULT_COMMIT_SECONDS

SyncEvent = dg.MaterializeResult | dg.AssetMaterialization


def selected_streams(context: dg.AssetExecutionContext, connection: ConnectionSpec) -> list[str]:
    selected = set(context.selected_asset_keys)
    return [s.name for s in connection.streams if stream_key(connection, s.name) in selected]


def flag_zero_rows(context: dg.AssetExecutionContext, what: str, rows: int | None, expected: bool) -> dict[str, Any]:
    if rows == 0 and expected:
        context.log.warning(f"{what}: the sync succeeded but moved 0 rows, and this connection expects rows on every sync")
        return {ZERO_ROWS_FLAG: True}
    return {}


class EmbeddedAirbyteResource(dg.ConfigurableResource):
    """Local stand-in for an Airbyte server: protocol connectors as subprocesses, DuckDB as destination."""

    warehouse_path: str
    source_systems_dir: str
    connector_cache: str | None = None
    """Where PyPI connectors get their virtual environments."""
    batch_size: int = 50_000
    silence_timeout_seconds: float = 3600.0
    """A source writing nothing for this long is stopped and its sync fails, naming it."""
    commit_mb: float = DEFAULT_COMMIT_BYTES / (1 << 20)
    """A stream's records commit at the first STATE after this many MiB of them (0: every STATE)."""
    commit_seconds: float = DEFAULT_COMMIT_SECONDS
    """... or at the first STATE this long after its last commit."""
    memory_limit: str | None = None
    """DuckDB's memory limit for the warehouse (the same as the warehouse resource's: DuckDB refuses two configurations)."""

    def _runner(self, warehouse: str | Path, logger, **options: Any):
        from embedded_airbyte.commits import CommitPolicy
        from embedded_airbyte.runner import EmbeddedAirbyte  # DuckDB and the protocol runner: at run time only

        commits = CommitPolicy(int(self.commit_mb * (1 << 20)), self.commit_seconds)
        return EmbeddedAirbyte(
            warehouse,
            logger=logger,
            connector_cache=self.connector_cache,
            silence_timeout=self.silence_timeout_seconds,
            silence_setting="DATA_PLATFORM_CONNECTOR_SILENCE_SECONDS",
            commits=commits,
            memory_limit=self.memory_limit,
            **options,
        )

    def read_whole(self, context, connection: ConnectionSpec, streams: list[str]) -> dict[str, dict[str, Any]]:
        """Read ``streams`` of ``connection`` whole into a scratch database beside the warehouse and
        compare each with its raw table, key by key (``quality/reconciliation.py``); the scratch goes after."""
        import contextlib
        import shutil

        import duckdb

        from data_platform.quality.reconciliation import compare_sql, figures_of, whole_connection
        from data_platform.warehouse.sql import identifier

        scratch_dir = Path(self.warehouse_path).parent / "reconciliation" / connection.name
        shutil.rmtree(scratch_dir, ignore_errors=True)
        scratch_dir.mkdir(parents=True)
        scratch = scratch_dir / "whole.duckdb"
        try:
            runner = self._runner(scratch, context.log)
            config = connection.embedded_source.resolved_config({"source_systems": self.source_systems_dir})
            runner.sync(whole_connection(connection, streams).embedded, config)
            by_stream = {s.name: s for s in connection.streams}
            with contextlib.closing(duckdb.connect(str(scratch))) as conn:
                quoted_path = str(self.warehouse_path).replace("'", "''")
                conn.execute(f"attach '{quoted_path}' as raw_warehouse (read_only)")
                namespace = identifier(connection.destination_namespace)
                return {
                    name: figures_of(
                        conn.execute(
                            compare_sql(
                                f"raw_warehouse.{namespace}.{identifier(name)}", f"whole.{namespace}.{identifier(name)}", by_stream[name]
                            )
                        ).fetchone()
                    )
                    for name in streams
                }
        finally:
            shutil.rmtree(scratch_dir, ignore_errors=True)

    def sync_connection(self, context: dg.AssetExecutionContext, connection: ConnectionSpec) -> Iterator[SyncEvent]:
        Path(self.warehouse_path).parent.mkdir(parents=True, exist_ok=True)  # nothing may have written the data folder yet
        runner = self._runner(self.warehouse_path, context.log, batch_size=self.batch_size)
        config = connection.embedded_source.resolved_config({"source_systems": self.source_systems_dir})
        result = runner.sync(connection.embedded, config, selected_streams(context, connection))
        # judged per connection, as Airbyte's API reports it; an empty full refresh is always suspicious
        connection_flag = flag_zero_rows(context, f"connection {connection.name}", result.records_synced, connection.expect_rows_every_sync)
        for stream in result.streams.values():
            context.log.info(
                f"{stream.table}: {stream.records_synced:,} records synced, {stream.rows_in_table:,} rows in table "
                f"({stream.sync_mode.value}, {stream.duration_seconds:.1f}s)"
            )
            full_refresh = stream.sync_mode is SyncMode.FULL_REFRESH_OVERWRITE
            metadata: dict[str, Any] = {
                "airbyte/rows_synced": stream.records_synced,
                "dagster/row_count": stream.rows_in_table,
                "airbyte/duration_seconds": round(stream.duration_seconds, 3),
                "airbyte/sync_mode": stream.sync_mode.value,
                "airbyte/sync_id": result.sync_id,
                "airbyte/cursor": dg.MetadataValue.json(dict(stream.cursor)) if stream.cursor else None,
                RECORDS_SUPERSEDED: stream.records_superseded,
                CONFLICTS: dg.MetadataValue.json({"keys": stream.conflicting_keys, "sample": list(stream.conflict_sample)})
                if stream.conflicting_keys
                else None,
                **connection_flag,
                **(flag_zero_rows(context, stream.table, stream.records_synced, True) if full_refresh else {}),
            }
            if stream.schema_drift:
                metadata[SCHEMA_DRIFT] = dg.MetadataValue.json([change.as_dict() for change in stream.schema_drift])
            yield dg.MaterializeResult(
                asset_key=stream_key(connection, stream.stream),
                metadata={k: v for k, v in metadata.items() if v is not None},
            )
