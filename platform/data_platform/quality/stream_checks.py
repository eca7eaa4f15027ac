"""Checks on the Airbyte streams, computed in the warehouse, in the step that syncs the stream.

- ``primary_key_unique`` (blocks descendants): a deduplicated or fully refreshed table must hold
  one row per primary key; reports the duplicated keys, the extra rows and a sample of keys.
  It also fails on a sync that sent two different versions of one key with the same cursor
  value (a conflicting duplicate: which one is right is the source owner's call, not ours).
- ``data_freshness``: the newest record's age against the contract's latency SLA.
- ``row_volume``: rows synced against the stream's recent rate (rows per minute over the
  asset's own materialization history, so it works against Airbyte Cloud as well, times the
  minutes since the previous sync): a sync that moved nothing when rows were expected fails
  (blocking downstream), one far outside the baseline warns. Full refreshes compare row counts directly.
"""

import itertools
import json
import statistics
import time
from collections.abc import Sequence

import dagster as dg

from data_platform.ingestion.connections import ConnectionSpec, StreamSpec, SyncMode
from data_platform.ingestion.keys import RECORDS_SUPERSEDED, stream_key
from data_platform.quality.stream_check import PLATFORM_BLOCKING, StreamCheck, Synced, stream_check_spec
from data_platform.warehouse.profile import WarehouseProfile
from data_platform.warehouse.sql import WarehouseDialect, fetch_all, identifier, literal
from embedded_airbyte.bookkeeping import CONFLICTS_TABLE, INTERNAL_SCHEMA, conflict_cursor_sql, conflict_key_sql

BASELINE_SYNCS = 10
MIN_BASELINE = 3
MIN_EXPECTED_ROWS = 10
"""Below this many expected rows, an empty sync is normal (a quiet hour), not an anomaly."""
LOW_FACTOR, HIGH_FACTOR = 0.1, 10.0
ROWS_SYNCED_KEYS = ("airbyte/rows_synced", "airbyte/rows_synced_connection")


def duplicate_keys_query(table: str, primary_key: Sequence[str], dialect: WarehouseDialect) -> str:
    """One row: how many key values appear more than once, their extra rows, and a JSON sample of
    the five most repeated (``{column: value, ..., "rows": n}``), in one scan of ``table``.
    A NULL key value counts like any other (a key that is NULL twice is a duplicate)."""
    keys = ", ".join(identifier(k) for k in primary_key)
    duplicated = f"select {keys}, count(*) as n from {table} group by {keys} having count(*) > 1"
    sample = dialect.top_objects_json({**{k: identifier(k) for k in primary_key}, "rows": "n"}, "n", 5)
    return f"select count(*), coalesce(sum(n - 1), 0), {sample} from ({duplicated}) d"


def open_conflicts_query(table: str, connection: ConnectionSpec, stream: StreamSpec) -> str:
    """One row: how many keys of ``table`` still hold a version that arrived in conflict (two or
    more different versions with one cursor value, as the embedded destination recorded them),
    and a JSON list of up to five of those keys. A conflict closes when a newer version of its
    key (the source's fix) replaces that cursor value in the table; a sync that brings nothing
    new leaves it open."""
    cursor = f"t.{identifier(stream.cursor_field)}" if stream.cursor_field else "null"
    return (
        f"select count(*), cast(to_json(array_slice(list(c.key_json order by c.key_json), 1, 5)) as varchar) "
        f"from {INTERNAL_SCHEMA}.{CONFLICTS_TABLE} c join {table} t "
        f"on c.key_json = {conflict_key_sql(stream.primary_key, 't.')} "
        f"and c.cursor_value = {conflict_cursor_sql(cursor)} "
        f"where c.namespace = {literal(connection.destination_namespace)} and c.stream = {literal(stream.name)}"
    )


def uniqueness_check(connection: ConnectionSpec, stream: StreamSpec, warehouse: WarehouseProfile) -> StreamCheck:
    table = warehouse.raw_table(connection.destination_namespace, stream.name)
    query = duplicate_keys_query(table, stream.primary_key, warehouse.dialect)
    # the embedded destination records conflicting versions; Airbyte's own destinations do not report them
    conflicts_query = open_conflicts_query(table, connection, stream) if warehouse.kind == "duckdb" else None

    def evaluate(context: dg.AssetExecutionContext, synced: Synced | None) -> dg.AssetCheckResult:
        ((keys_duplicated, extra_rows, sample_text),) = fetch_all(context.resources.warehouse, query)
        sample = sorted(
            ({k: str(v) for k, v in item.items()} for item in json.loads(sample_text or "[]")),
            key=lambda item: (-int(item["rows"]), *(item.get(k, "") for k in stream.primary_key)),
        )
        conflicting, conflict_sample = 0, []
        if conflicts_query and _has_conflicts_table(context.resources.warehouse):
            ((conflicting, conflict_text),) = fetch_all(context.resources.warehouse, conflicts_query)
            conflict_sample = json.loads(conflict_text or "[]")
        problems = []
        if keys_duplicated:
            problems.append(f"{keys_duplicated} primary key value(s) of {table} appear more than once ({int(extra_rows)} extra rows)")
        if conflicting:
            problems.append(
                f"{conflicting} primary key value(s) of {table} hold a version received in two or more different versions with "
                f"the same {stream.cursor_field or 'cursor'}; one was kept, and which one is right is the source owner's call: "
                f"the check fails until a newer version of each key arrives (sample: {conflict_sample})"
            )
        return dg.AssetCheckResult(
            passed=not problems,
            severity=dg.AssetCheckSeverity.ERROR,
            description=". ".join(problems) or None,
            metadata={
                "duplicate_keys": int(keys_duplicated),
                "duplicate_rows": int(extra_rows),
                "sample_duplicate_keys": dg.MetadataValue.json(sample),
                "conflicting_duplicate_keys": int(conflicting),
                "table": table,
            },
        )

    spec = stream_check_spec(
        stream_key(connection, stream.name),
        "primary_key_unique",
        f"One row per ({', '.join(stream.primary_key)}) in {table}, and no key whose kept version arrived in two different "
        "versions with the same cursor value (it stays failed until the source sends a newer version, or an owner records "
        f"a waiver). {PLATFORM_BLOCKING}",
        blocks=True,
    )
    return StreamCheck(spec, evaluate)


def _has_conflicts_table(warehouse) -> bool:
    ((found,),) = fetch_all(
        warehouse,
        f"select count(*) from information_schema.tables where table_schema = '{INTERNAL_SCHEMA}' and table_name = '{CONFLICTS_TABLE}'",
    )
    return bool(found)


def volume_check(connection: ConnectionSpec, stream: StreamSpec) -> StreamCheck:
    key = stream_key(connection, stream.name)
    full_refresh = stream.sync_mode is SyncMode.FULL_REFRESH_OVERWRITE

    def evaluate(context: dg.AssetExecutionContext, synced: Synced | None) -> dg.AssetCheckResult:
        records = context.instance.fetch_materializations(key, limit=BASELINE_SYNCS + 2).records
        # this step's own sync comes from the step, not the event log (which may not hold it yet)
        points = [(r.timestamp, rows) for r in records if r.run_id != context.run_id and (rows := _rows_synced(r)) is not None]
        current_rows = _first_rows(synced or {})
        if current_rows is not None:
            points.insert(0, (time.time(), current_rows))
        if not points:
            return dg.AssetCheckResult(passed=True, description="no sync recorded yet")
        return _judge_volume(key, connection, full_refresh, points)

    spec = stream_check_spec(
        key,
        "row_volume",
        "Rows synced against the rate of the stream's recent syncs (rows per minute x minutes since the last sync). "
        f"A sync that moves nothing when rows are expected fails at ERROR; one far outside the baseline warns. {PLATFORM_BLOCKING}",
        blocks=True,
    )
    return StreamCheck(spec, evaluate)


def _judge_volume(key: dg.AssetKey, connection: ConnectionSpec, full_refresh: bool, points: list[tuple[float, int]]) -> dg.AssetCheckResult:
    (now, current), history = points[0], points[1:]
    metadata: dict = {"rows_synced": current}
    if full_refresh:
        baseline = [rows for _, rows in history]
        metadata["baseline_median"] = statistics.median(baseline) if baseline else None
        if current == 0:
            return _failed(dg.AssetCheckSeverity.ERROR, metadata, f"the full refresh of {key.to_user_string()} succeeded but moved 0 rows")
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


def _failed(severity: dg.AssetCheckSeverity, metadata: dict, description: str) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=False, severity=severity, metadata=metadata, description=description)


def _rows_synced(record) -> int | None:
    metadata = record.asset_materialization.metadata if record.asset_materialization else {}
    return _first_rows({k: getattr(v, "value", v) for k, v in metadata.items()})


def _first_rows(metadata: Synced) -> int | None:
    """The rows a sync moved: those it sent, minus those the destination absorbed (an older version
    of a key, a row a lookback read again): a sync that only re-read what was held moved nothing."""
    for name in ROWS_SYNCED_KEYS:
        if metadata.get(name) is not None:
            return int(metadata[name]) - int(metadata.get(RECORDS_SUPERSEDED) or 0)
    return None


def data_freshness_check(connection: ConnectionSpec, stream: StreamSpec, warehouse: WarehouseProfile) -> StreamCheck:
    """How old the newest record is, by the column the contract's latency SLA names: a source
    that stopped producing is stale even while its syncs keep succeeding. A value later than the
    warehouse's clock (a source that wrote year 2999) is not the newest record: it is counted
    and reported, and freshness is judged on the values that can be true."""
    table = warehouse.raw_table(connection.destination_namespace, stream.name)
    column = identifier(stream.freshness_column or "")
    warn, error = stream.freshness_warn_minutes, stream.freshness_error_minutes
    now = warehouse.dialect.now

    def evaluate(context: dg.AssetExecutionContext, synced: Synced | None) -> dg.AssetCheckResult:
        ((newest, lag_minutes, future),) = fetch_all(
            context.resources.warehouse,
            f"select cast(max(case when {column} <= {now} then {column} end) as varchar), "
            f"{warehouse.dialect.minutes_since(f'case when {column} <= {now} then {column} end')}, "
            f"count(case when {column} > {now} then 1 end) from {table}",
        )
        metadata = {
            "newest_" + str(stream.freshness_column): newest,
            "lag_minutes": round(float(lag_minutes), 1) if lag_minutes is not None else None,
            "warn_after_minutes": warn,
            "error_after_minutes": error,
            "rows_in_the_future": int(future),
        }
        ahead = f"; {future:,} row(s) carry a {stream.freshness_column} later than now and were not counted as fresh" if future else ""
        if newest is None:
            return _failed(dg.AssetCheckSeverity.ERROR, metadata, f"{table} has no {stream.freshness_column} to judge freshness by{ahead}")
        if lag_minutes > error:
            return _failed(
                dg.AssetCheckSeverity.ERROR,
                metadata,
                f"the newest {stream.freshness_column} in {table} is {lag_minutes:,.0f} min old (SLA {error} min){ahead}",
            )
        if lag_minutes > warn or future:
            return _failed(
                dg.AssetCheckSeverity.WARN,
                metadata,
                f"the newest {stream.freshness_column} in {table} is {lag_minutes:,.0f} min old (warning after {warn} min){ahead}",
            )
        return dg.AssetCheckResult(passed=True, metadata=metadata)

    spec = stream_check_spec(
        stream_key(connection, stream.name),
        "data_freshness",
        f"Newest {stream.freshness_column} in {table} is at most {warn} min old (warning) / {error} min (error); "
        "values later than now are reported, never counted as fresh.",
        blocks=False,
    )
    return StreamCheck(spec, evaluate)


def build_stream_checks(connection: ConnectionSpec, warehouse: WarehouseProfile) -> list[StreamCheck]:
    checks = []
    for stream in connection.streams:
        if stream.freshness_column:
            checks.append(data_freshness_check(connection, stream, warehouse))
        if stream.primary_key and stream.sync_mode is not SyncMode.INCREMENTAL_APPEND:
            checks.append(uniqueness_check(connection, stream, warehouse))
        checks.append(volume_check(connection, stream))
    return checks
