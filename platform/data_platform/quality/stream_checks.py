"""Checks on the Airbyte streams, computed in the warehouse.

- ``primary_key_unique`` (blocking): a deduplicated or fully refreshed table must hold one row
  per primary key; reports the duplicated keys, the extra rows and a sample of keys.
- ``row_volume``: rows synced against the recent syncs of the same stream (the asset's own
  materialization history, so it works against Airbyte Cloud as well): a sync that moved
  nothing where rows are expected fails, a sync far outside the baseline warns.
"""

import statistics
from collections.abc import Sequence

import dagster as dg

from data_platform.environment import Settings
from data_platform.ingestion.assets import stream_spec
from data_platform.ingestion.connections import ConnectionSpec, StreamSpec, SyncMode
from data_platform.ingestion.destination import quote
from data_platform.ingestion.resources import stream_key
from data_platform.quality.warehouse_sql import fetch_all

BASELINE_SYNCS = 10
MIN_BASELINE = 3
LOW_FACTOR, HIGH_FACTOR = 0.1, 10.0
ROWS_SYNCED_KEYS = ("airbyte/rows_synced", "airbyte/rows_synced_connection")


def _table(connection: ConnectionSpec, stream: StreamSpec, settings: Settings) -> str:
    return stream_spec(connection, stream, settings).metadata["dagster/table_name"]


def uniqueness_check(connection: ConnectionSpec, stream: StreamSpec, settings: Settings) -> dg.AssetChecksDefinition:
    table = _table(connection, stream, settings)
    keys = ", ".join(quote(k) for k in stream.primary_key)

    @dg.asset_check(
        asset=stream_key(connection, stream.name),
        name="primary_key_unique",
        blocking=True,
        required_resource_keys={"warehouse"},
        description=f"One row per ({', '.join(stream.primary_key)}) in {table}. Blocks downstream models when it fails.",
    )
    def _check(context: dg.AssetCheckExecutionContext) -> dg.AssetCheckResult:
        duplicated = f"select {keys}, count(*) as n from {table} group by {keys} having count(*) > 1"
        (keys_duplicated, extra_rows), = fetch_all(context.resources.warehouse, f"select count(*), coalesce(sum(n - 1), 0) from ({duplicated}) d")
        sample = fetch_all(context.resources.warehouse, f"{duplicated} order by n desc, {keys} limit 5") if keys_duplicated else []
        return dg.AssetCheckResult(
            passed=keys_duplicated == 0,
            severity=dg.AssetCheckSeverity.ERROR,
            description=None if keys_duplicated == 0 else f"{keys_duplicated} primary key value(s) of {table} appear more than once ({extra_rows} extra rows)",
            metadata={
                "duplicate_keys": int(keys_duplicated),
                "duplicate_rows": int(extra_rows),
                "sample_duplicate_keys": dg.MetadataValue.json([dict(zip([*stream.primary_key, "rows"], map(str, row))) for row in sample]),
                "table": table,
            },
        )

    return _check


def volume_check(connection: ConnectionSpec, stream: StreamSpec) -> dg.AssetChecksDefinition:
    key = stream_key(connection, stream.name)
    expects_rows = connection.expect_rows_every_sync or stream.sync_mode is SyncMode.FULL_REFRESH_OVERWRITE

    @dg.asset_check(asset=key, name="row_volume", description="Rows synced against the stream's recent syncs; 0 rows where rows are expected fails.")
    def _check(context: dg.AssetCheckExecutionContext) -> dg.AssetCheckResult:
        records = context.instance.fetch_materializations(key, limit=BASELINE_SYNCS + 1).records
        volumes = [_rows_synced(r) for r in records]
        volumes = [v for v in volumes if v is not None]
        if not volumes:
            return dg.AssetCheckResult(passed=True, description="no sync recorded yet", metadata={"rows_synced": None})
        current, baseline = volumes[0], volumes[1:]
        median = statistics.median(baseline) if baseline else None
        metadata = {"rows_synced": current, "baseline_median": median, "baseline_syncs": len(baseline)}
        if current == 0 and expects_rows:
            return dg.AssetCheckResult(
                passed=False, severity=dg.AssetCheckSeverity.ERROR, metadata=metadata,
                description=f"the last sync of {key.to_user_string()} succeeded but moved 0 rows; rows are expected on every sync",
            )
        if median and len(baseline) >= MIN_BASELINE and not (LOW_FACTOR * median <= current <= HIGH_FACTOR * median):
            return dg.AssetCheckResult(
                passed=False, severity=dg.AssetCheckSeverity.WARN, metadata=metadata,
                description=f"{current:,} rows synced, outside {LOW_FACTOR:g}x-{HIGH_FACTOR:g}x of the median of the last {len(baseline)} syncs ({median:,.0f})",
            )
        return dg.AssetCheckResult(passed=True, metadata=metadata)

    return _check


def _rows_synced(record) -> int | None:
    metadata = record.asset_materialization.metadata if record.asset_materialization else {}
    for name in ROWS_SYNCED_KEYS:
        if name in metadata:
            return int(metadata[name].value)
    return None


def build_stream_checks(connections: Sequence[ConnectionSpec], settings: Settings) -> list[dg.AssetChecksDefinition]:
    checks = []
    for connection in connections:
        for stream in connection.streams:
            if stream.primary_key and stream.sync_mode is not SyncMode.INCREMENTAL_APPEND:
                checks.append(uniqueness_check(connection, stream, settings))
            checks.append(volume_check(connection, stream))
    return checks
