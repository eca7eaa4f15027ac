"""Source reconciliation: what incremental syncs cannot see, found by reading the source whole.

An incremental sync reads rows whose cursor lies after its checkpoint (minus a lookback). An
update stamped in the past (a source that back-dates a correction, a clock set to 1970, a bulk
fix that keeps ``updated_at``) is never read, and the raw table holds the old version for ever.
So, on a schedule (weekly, ``reconcile_sources_job``), each deduplicated stream with a primary
key is read whole into a scratch database and compared with its raw table, key by key:

- ``missing``: keys the source has and the raw table lacks;
- ``changed``: keys whose values differ, of which ``stamped_in_the_past`` carry a cursor at or
  before the version the raw table holds (an update no incremental read will ever fetch);
- ``gone``: keys the raw table holds and the source no longer has (deleted there; reported only).

Each comparison is an asset of its own, ``reconciliation/<namespace>/<stream>`` (group
``reconciliation``, downstream of the raw stream), with the check ``source_matches_raw``: WARN,
never blocking, failing when anything is missing or changed, with the counts and a few sample
keys (keys only, never values); the owners are alerted as for any failed check. It reports; the
fix is a full-refresh sync of the stream. An asset, not a check on the raw stream, because Dagster
runs every check of the assets a run materializes: a check there would read the whole source at
every sync. The main job and ``data-platform run`` leave these assets out; only their weekly job
builds them. With an Airbyte server the platform cannot read the source: there, Airbyte's
*Refresh* of the connection is the reconciliation, the schedule is stopped, and the asset says so.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import dagster as dg

from data_platform.ingestion.connections import ConnectionSpec, StreamSpec, SyncMode
from data_platform.ingestion.keys import stream_key
from data_platform.warehouse.profile import WAREHOUSE_POOL
from data_platform.warehouse.sql import identifier

GROUP = "reconciliation"
CHECK_NAME = "source_matches_raw"
JOB_NAME = "reconcile_sources_job"
SCHEDULE = "0 4 * * 0"
"""Sundays at 04:00: a whole read of each source once a week."""
SAMPLE_KEYS = 5


def reconciliation_key(connection: ConnectionSpec, stream: str) -> dg.AssetKey:
    return dg.AssetKey([GROUP, connection.destination_namespace, stream])


def reconciled_streams(connection: ConnectionSpec) -> list[StreamSpec]:
    return [s for s in connection.streams if s.sync_mode is SyncMode.INCREMENTAL_APPEND_DEDUP and s.primary_key]


def reconciliation_assets(connections: Sequence[ConnectionSpec], domain: str) -> list[dg.AssetsDefinition]:
    return [_connection_assets(c, streams, domain) for c in connections if (streams := reconciled_streams(c))]


def _connection_assets(connection: ConnectionSpec, streams: list[StreamSpec], domain: str) -> dg.AssetsDefinition:
    specs = [
        dg.AssetSpec(
            reconciliation_key(connection, s.name),
            deps=[stream_key(connection, s.name)],
            group_name=GROUP,
            owners=list(s.owners),
            tags={"domain": domain},
            kinds={"airbyte"},
            description=(
                f"{connection.destination_namespace}.{s.name} read whole from its source and compared with the raw table, "
                "key by key (weekly): keys missing, versions changed (an update stamped in the past, which no incremental "
                "sync reads), keys gone."
            ),
        )
        for s in streams
    ]
    checks = [
        dg.AssetCheckSpec(
            CHECK_NAME,
            asset=spec.key,
            description="Nothing the source holds is missing from the raw table or held in another version (WARN; a full-refresh sync repairs).",
        )
        for spec in specs
    ]

    @dg.multi_asset(
        name=f"reconcile_{connection.name}", specs=specs, check_specs=checks, required_resource_keys={"airbyte"}, pool=WAREHOUSE_POOL
    )
    def _reconcile(context):
        airbyte = context.resources.airbyte
        if not hasattr(airbyte, "read_whole"):
            raise dg.Failure(
                f"connection {connection.name}: its source is read by the Airbyte server, which the platform cannot read "
                "past; there, Airbyte's Refresh of the connection reconciles it (this asset is built on the embedded runner)"
            )
        compared = airbyte.read_whole(context, connection, [s.name for s in streams])
        for stream in streams:
            key, figures = reconciliation_key(connection, stream.name), compared[stream.name]
            bad = figures["missing"] + figures["changed"]
            metadata = {k: dg.MetadataValue.json(v) if isinstance(v, list) else v for k, v in figures.items()}
            yield dg.MaterializeResult(asset_key=key, metadata=metadata)
            yield dg.AssetCheckResult(
                asset_key=key,
                check_name=CHECK_NAME,
                passed=bad == 0,
                severity=dg.AssetCheckSeverity.WARN,
                description=(
                    f"{figures['source_rows']:,} source rows compared: {figures['missing']:,} missing, {figures['changed']:,} changed "
                    f"({figures['stamped_in_the_past']:,} stamped at or before the version held), {figures['gone']:,} gone"
                    + ("; a full-refresh sync of the stream repairs it" if bad else "")
                ),
                metadata=metadata,
            )

    return _reconcile


def whole_connection(connection: ConnectionSpec, streams: Sequence[str]) -> ConnectionSpec:
    """``connection`` reading ``streams`` whole (full refresh), for a scratch database."""
    return dataclasses.replace(
        connection,
        streams=tuple(dataclasses.replace(s, sync_mode=SyncMode.FULL_REFRESH_OVERWRITE) for s in connection.streams if s.name in streams),
    )


def reconciliation_job(keys: Sequence[dg.AssetKey]):
    return dg.define_asset_job(
        JOB_NAME,
        selection=dg.AssetSelection.assets(*keys),
        description="Read each deduplicated source whole and compare it with its raw table (reconciliation/* assets, source_matches_raw checks).",
    )


def reconciliation_schedule(running: bool) -> dg.ScheduleDefinition:
    return dg.ScheduleDefinition(
        name="reconcile_sources_weekly",
        job_name=JOB_NAME,
        cron_schedule=SCHEDULE,
        execution_timezone="UTC",
        default_status=dg.DefaultScheduleStatus.RUNNING if running else dg.DefaultScheduleStatus.STOPPED,
        description="Weekly source reconciliation (stopped where an Airbyte server reads the sources: Airbyte's Refresh does it there).",
    )


def compare_sql(raw_table: str, whole_table: str, stream: StreamSpec) -> str:
    """One row: source_rows, missing, changed, stamped_in_the_past, gone, and samples of keys."""
    keys = [identifier(k) for k in stream.primary_key]
    join = " and ".join(f"s.{k} = r.{k}" for k in keys)
    key_text = " || '|' || ".join(f"coalesce(cast(s.{k} as varchar), '')" for k in keys)
    gone_key = " || '|' || ".join(f"coalesce(cast(r.{k} as varchar), '')" for k in keys)
    differs = " or ".join(f"s.{identifier(c.name)} is distinct from r.{identifier(c.name)}" for c in stream.columns) or "false"
    cursor = identifier(stream.cursor_field) if stream.cursor_field else None
    past = f"s.{cursor} <= r.{cursor}" if cursor else "false"
    return f"""
        with joined as (
            select ({" and ".join(f"r.{k} is null" for k in keys)}) as missing,
                   ({differs}) as differs, ({past}) as past, {key_text} as key
            from {whole_table} s left join {raw_table} r on {join}
        ), gone as (
            select {gone_key} as key from {raw_table} r where not exists (select 1 from {whole_table} s where {join})
        )
        select count(*),
               count(*) filter (where missing),
               count(*) filter (where not missing and differs),
               count(*) filter (where not missing and differs and past),
               (select count(*) from gone),
               list(key order by key) filter (where missing)[1:{SAMPLE_KEYS}],
               list(key order by key) filter (where not missing and differs)[1:{SAMPLE_KEYS}],
               (select list(key order by key)[1:{SAMPLE_KEYS}] from gone)
        from joined"""


def figures_of(row: Sequence[Any]) -> dict[str, Any]:
    source_rows, missing, changed, past, gone, missing_keys, changed_keys, gone_keys = row
    return {
        "source_rows": int(source_rows),
        "missing": int(missing),
        "changed": int(changed),
        "stamped_in_the_past": int(past),
        "gone": int(gone),
        "sample_missing_keys": list(missing_keys or []),
        "sample_changed_keys": list(changed_keys or []),
        "sample_gone_keys": list(gone_keys or []),
    }
