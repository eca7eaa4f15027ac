"""One Dagster multi-asset per Airbyte connection, one asset per stream, built from a domain's ``connections.yaml``.

Keys mirror where a stream lands (``raw_shop/orders`` is table ``raw_shop.orders``) and
are the same in every environment; only the ``airbyte`` resource behind them differs.
Building these definitions makes no network call: the stream list, columns and sync
modes come from the declaration, not from the Airbyte API.
"""

import datetime as dt
from collections.abc import Sequence

import dagster as dg

from data_platform.governance.contracts import contract_metadata
from data_platform.ingestion.connections import ConnectionSpec, StreamSpec
from data_platform.ingestion.keys import source_system_key, stream_key
from data_platform.quality.stream_check import StreamCheck
from data_platform.quality.waivers import Waiver, apply_waiver, waiver_in_force
from data_platform.transformation.partitions import refuse_reversed_range
from data_platform.warehouse.profile import WarehouseProfile


def _column_schema(stream: StreamSpec) -> dg.TableSchema:
    return dg.TableSchema(
        columns=[
            dg.TableColumn(
                name=c.name,
                type=c.type,
                description=c.description or None,
                constraints=dg.TableColumnConstraints(
                    unique=stream.primary_key == (c.name,),
                    nullable=not stream.contract.column(c.name).required,
                ),
                tags={"pii": ""} if stream.contract.column(c.name).is_pii else {},
            )
            for c in stream.columns
        ]
    )


def stream_spec(connection: ConnectionSpec, stream: StreamSpec, warehouse: WarehouseProfile, domain: str) -> dg.AssetSpec:
    metadata = {
        "dagster/table_name": warehouse.raw_table(connection.destination_namespace, stream.name),
        "airbyte/connection": connection.name,
        "airbyte/stream": stream.name,
        "airbyte/sync_mode": stream.sync_mode.value,
        "airbyte/destination_namespace": connection.destination_namespace,
    }
    if stream.columns:
        metadata["dagster/column_schema"] = _column_schema(stream)
    if stream.cursor_field:
        metadata["airbyte/cursor_field"] = stream.cursor_field
    if stream.primary_key:
        metadata["airbyte/primary_key"] = list(stream.primary_key)
    metadata.update(contract_metadata(stream.contract))
    return dg.AssetSpec(
        key=stream_key(connection, stream.name),
        description=stream.description or None,
        freshness_policy=dg.FreshnessPolicy.time_window(
            fail_window=dt.timedelta(minutes=stream.freshness_error_minutes),
            warn_window=dt.timedelta(minutes=stream.freshness_warn_minutes),
        ),
        deps=[source_system_key(connection.source_system)],
        kinds={"airbyte", warehouse.kind},
        owners=list(stream.owners or connection.owners),
        group_name=connection.group,
        metadata=metadata,
        tags={"domain": domain},
    )


def build_connection_assets(
    connection: ConnectionSpec,
    warehouse: WarehouseProfile,
    domain: str,
    checks: Sequence[StreamCheck] = (),
    waivers: Sequence[Waiver] = (),
) -> dg.AssetsDefinition:
    """The connection's sync, then the selected checks of its streams, in one step: the checks
    are judged before any step downstream starts (see ``quality/stream_check.py``)."""

    @dg.multi_asset(
        name=f"airbyte_{connection.name}",
        specs=[stream_spec(connection, s, warehouse, domain) for s in connection.streams],
        check_specs=[c.spec for c in checks],
        can_subset=True,
        required_resource_keys={"airbyte", "warehouse"} if checks else {"airbyte"},
        pool=warehouse.pool,
        description=f"Airbyte connection {connection.name}: {connection.description.strip()}",
        op_tags={"airbyte/connection": connection.name},
    )
    def _sync(context: dg.AssetExecutionContext):
        refuse_reversed_range(context.run.tags)
        synced: dict[dg.AssetKey, dict] = {}
        if context.selected_asset_keys:
            for event in context.resources.airbyte.sync_connection(context, connection):
                if event.asset_key in context.selected_asset_keys:
                    synced[event.asset_key] = {k: getattr(v, "value", v) for k, v in (event.metadata or {}).items()}
                yield event
        selected_checks = context.selected_asset_check_keys
        for check in checks:
            if check.key in selected_checks:
                result = check.run(context, synced.get(check.spec.asset_key), team=owning_team(connection, check.spec.asset_key))
                yield apply_waiver(result, waiver_in_force(waivers, check.key))

    return _sync


def owning_team(connection: ConnectionSpec, key: dg.AssetKey) -> str:
    """The team a stream's warehouse cost is billed to: its contract's team, else the connection's first owner."""
    stream = next(s for s in connection.streams if stream_key(connection, s.name) == key)
    return stream.contract.team


def build_ingestion_assets(
    connections: Sequence[ConnectionSpec],
    warehouse: WarehouseProfile,
    domain: str,
    checks: Sequence[StreamCheck] = (),
    waivers: Sequence[Waiver] = (),
) -> list[dg.AssetsDefinition]:
    """One multi-asset per connection, carrying the checks on its streams."""
    by_key: dict[dg.AssetKey, list[StreamCheck]] = {}
    for check in checks:
        by_key.setdefault(check.spec.asset_key, []).append(check)
    return [
        build_connection_assets(
            c, warehouse, domain, [check for s in c.streams for check in by_key.get(stream_key(c, s.name), [])], waivers
        )
        for c in connections
    ]
