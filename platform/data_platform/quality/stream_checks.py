"""Checks on the Airbyte streams, computed in the warehouse.

- ``primary_key_unique`` (blocking): a deduplicated or fully refreshed table must hold one row
  per primary key; reports the duplicated keys, the extra rows and a sample of keys.
- ``data_freshness``: the newest record's age against the contract's latency SLA.
- ``row_volume``: rows synced against the stream's recent rate (rows per minute over the
  asset's own materialization history, so it works against Airbyte Cloud as well, times the
  minutes since the previous sync): a sync that moved nothing when rows were expected fails
  (blocking downstream), one far outside the baseline warns. Full refreshes compare row counts directly.
"""

import itertools
import statistics
from collections.abc import Sequence

import dagster as dg

from data_platform.environment import Settings
from data_platform.ingestion.assets import warehouse_table_name
from data_platform.ingestion.connections import ConnectionSpec, StreamSpec, SyncMode
from data_platform.ingestion.resources import stream_key
from data_platform.quality.warehouse_sql import fetch_all, identifier

BASELINE_SYNCS = 10
MIN_BASELINE = 3
MIN_EXPECTED_ROWS = 10
"""Below this many expected rows, an empty sync is normal (a quiet hour), not an anomaly."""
LOW_FACTOR, HIGH_FACTOR = 0.1, 10.0
ROWS_SYNCED_KEYS = ("airbyte/rows_synced", "airbyte/rows_synced_connection")


def uniqueness_check(connection: ConnectionSpec, stream: StreamSpec, settings: Settings) -> dg.AssetChecksDefinition:
    table = warehouse_table_name(connection, stream, settings)
    keys = ", ".join(identifier(k) for k in stream.primary_key)

    @dg.asset_check(
        asset=stream_key(connection, stream.name),
        name="primary_key_unique",
        blocking=True,
        required_resource_keys={"warehouse"},
        description=f"One row per ({', '.join(stream.primary_key)}) in {table}. Blocks downstream models when it fails.",
    )
    def _check(context: dg.AssetCheckExecutionContext) -> dg.AssetCheckResult:
        duplicated = f"select {keys}, count(*) as n from {table} group by {keys} having count(*) > 1"
        ((keys_duplicated, extra_rows),) = fetch_all(
            context.resources.warehouse, f"select count(*), coalesce(sum(n - 1), 0) from ({duplicated}) d"
        )
        sample = fetch_all(context.resources.warehouse, f"{duplicated} order by n desc, {keys} limit 5") if keys_duplicated else []
        return dg.AssetCheckResult(
            passed=keys_duplicated == 0,
            severity=dg.AssetCheckSeverity.ERROR,
            description=None
            if keys_duplicated == 0
            else f"{keys_duplicated} primary key value(s) of {table} appear more than once ({extra_rows} extra rows)",
            metadata={
                "duplicate_keys": int(keys_duplicated),
                "duplicate_rows": int(extra_rows),
                "sample_duplicate_keys": dg.MetadataValue.json(
                    [dict(zip([*stream.primary_key, "rows"], map(str, row), strict=True)) for row in sample]
                ),
                "table": table,
            },
        )

    return _check


def volume_check(connection: ConnectionSpec, stream: StreamSpec) -> dg.AssetChecksDefinition:
    key = stream_key(connection, stream.name)
    full_refresh = stream.sync_mode is SyncMode.FULL_REFRESH_OVERWRITE

    @dg.asset_check(
        asset=key,
        name="row_volume",
        blocking=True,  # an error (rows lost) blocks downstream; a warning (unusual volume) does not
        description="Rows synced against the rate of the stream's recent syncs (rows per minute x minutes since the last sync). "
        "A sync that moves nothing when rows are expected fails; one far outside the baseline warns.",
    )
    def _check(context: dg.AssetCheckExecutionContext) -> dg.AssetCheckResult:
        records = context.instance.fetch_materializations(key, limit=BASELINE_SYNCS + 2).records
        points = [(r.timestamp, rows) for r in records if (rows := _rows_synced(r)) is not None]  # newest first
        if not points:
            return dg.AssetCheckResult(passed=True, description="no sync recorded yet")
        (now, current), history = points[0], points[1:]
        metadata: dict = {"rows_synced": current}
        if full_refresh:
            baseline = [rows for _, rows in history]
            metadata["baseline_median"] = statistics.median(baseline) if baseline else None
            if current == 0:
                return _failed(
                    dg.AssetCheckSeverity.ERROR, metadata, f"the full refresh of {key.to_user_string()} succeeded but moved 0 rows"
                )
            if (
                len(baseline) >= MIN_BASELINE
                and not LOW_FACTOR * metadata["baseline_median"] <= current <= HIGH_FACTOR * metadata["baseline_median"]
            ):
                return _failed(
                    dg.AssetCheckSeverity.WARN,
                    metadata,
                    f"{current:,} rows, outside {LOW_FACTOR:g}x-{HIGH_FACTOR:g}x of the median full refresh ({metadata['baseline_median']:,.0f})",
                )
            return dg.AssetCheckResult(passed=True, metadata=metadata)
        rates = [rows / max(later - earlier, 1.0) for (later, rows), (earlier, _) in itertools.pairwise(history)]
        if not rates:
            return dg.AssetCheckResult(passed=True, description="not enough syncs for a baseline yet", metadata=metadata)
        expected = statistics.median(rates) * (now - history[0][0])
        metadata.update(expected_rows=round(expected, 1), baseline_syncs=len(rates))
        if current == 0 and connection.expect_rows_every_sync and expected >= MIN_EXPECTED_ROWS:
            return _failed(
                dg.AssetCheckSeverity.ERROR,
                metadata,
                f"the last sync of {key.to_user_string()} succeeded but moved 0 rows; about {expected:,.0f} were expected from the recent rate",
            )
        if len(rates) >= MIN_BASELINE and expected >= MIN_EXPECTED_ROWS and not LOW_FACTOR * expected <= current <= HIGH_FACTOR * expected:
            return _failed(
                dg.AssetCheckSeverity.WARN,
                metadata,
                f"{current:,} rows synced, outside {LOW_FACTOR:g}x-{HIGH_FACTOR:g}x of the {expected:,.0f} expected from the recent rate",
            )
        return dg.AssetCheckResult(passed=True, metadata=metadata)

    return _check


def _failed(severity: dg.AssetCheckSeverity, metadata: dict, description: str) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=False, severity=severity, metadata=metadata, description=description)


def _rows_synced(record) -> int | None:
    metadata = record.asset_materialization.metadata if record.asset_materialization else {}
    for name in ROWS_SYNCED_KEYS:
        if name in metadata:
            return int(metadata[name].value)
    return None


def data_freshness_check(connection: ConnectionSpec, stream: StreamSpec, settings: Settings) -> dg.AssetChecksDefinition:
    """How old the newest record is, by the column the contract's latency SLA names: a source
    that stopped producing is stale even while its syncs keep succeeding."""
    table = warehouse_table_name(connection, stream, settings)
    column = stream.freshness_column
    warn, error = stream.freshness_warn_minutes, stream.freshness_error_minutes

    @dg.asset_check(
        asset=stream_key(connection, stream.name),
        name="data_freshness",
        required_resource_keys={"warehouse"},
        description=f"Newest {column} in {table} is at most {warn} min old (warning) / {error} min (error).",
    )
    def _check(context: dg.AssetCheckExecutionContext) -> dg.AssetCheckResult:
        ((newest, lag_minutes),) = fetch_all(
            context.resources.warehouse,
            f"select cast(max({identifier(column)}) as varchar), {_minutes_since(identifier(column), settings)} from {table}",
        )
        metadata = {
            "newest_" + column: newest,
            "lag_minutes": round(float(lag_minutes), 1) if lag_minutes is not None else None,
            "warn_after_minutes": warn,
            "error_after_minutes": error,
        }
        if newest is None:
            return _failed(dg.AssetCheckSeverity.ERROR, metadata, f"{table} is empty: no {column} to judge freshness by")
        if lag_minutes > error:
            return _failed(
                dg.AssetCheckSeverity.ERROR, metadata, f"the newest {column} in {table} is {lag_minutes:,.0f} min old (SLA {error} min)"
            )
        if lag_minutes > warn:
            return _failed(
                dg.AssetCheckSeverity.WARN,
                metadata,
                f"the newest {column} in {table} is {lag_minutes:,.0f} min old (warning after {warn} min)",
            )
        return dg.AssetCheckResult(passed=True, metadata=metadata)

    return _check


def _minutes_since(column: str, settings: Settings) -> str:
    if settings.is_local:
        return f"date_diff('second', max({column}), now()) / 60.0"
    return f"datediff('second', max({column}), current_timestamp()) / 60.0"


def build_stream_checks(connections: Sequence[ConnectionSpec], settings: Settings) -> list[dg.AssetChecksDefinition]:
    checks = []
    for connection in connections:
        for stream in connection.streams:
            if stream.freshness_column:
                checks.append(data_freshness_check(connection, stream, settings))
            if stream.primary_key and stream.sync_mode is not SyncMode.INCREMENTAL_APPEND:
                checks.append(uniqueness_check(connection, stream, settings))
            checks.append(volume_check(connection, stream))
    return checks
