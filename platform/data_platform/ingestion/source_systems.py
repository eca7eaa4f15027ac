"""The operational systems upstream of every Airbyte connection, as assets.

Locally they are the simulated marketplace, and materializing them moves the simulation
forward to now. In production they are external assets (the real systems), with the same
keys, so lineage reads the same: source system -> Airbyte stream -> dbt.
"""

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

import dagster as dg

from data_platform.environment import Settings
from data_platform.ingestion.assets import source_system_key
from data_platform.ingestion.connections import ConnectionSpec
from data_platform.simulation import DirtSwitches, SimulationConfig, simulate

SYSTEM_KINDS = {"shop_db": "postgres", "web_events": "s3", "ad_platforms": "googleads"}
DIRT = {"default": DirtSwitches, "clean": DirtSwitches.clean, "everything": DirtSwitches.everything}


class MarketplaceSimulator(dg.ConfigurableResource):
    """The simulated operational systems (local only)."""

    source_systems_dir: str
    seed: int = 42
    scale: float = 1.0
    history_days: int = 30
    dirt: str = "default"
    as_of: str | None = None
    """Simulate up to this instant (ISO 8601) instead of now."""

    def config(self) -> SimulationConfig:
        return simulation_config(self.seed, self.scale, self.history_days, self.dirt)


def simulation_config(seed: int, scale: float, history_days: int, dirt: str) -> SimulationConfig:
    """The simulation the platform runs, from the settings' knobs (``dirt`` names a profile of DIRT)."""
    return SimulationConfig(seed=seed, scale=scale, history_days=history_days, dirt=DIRT[dirt]())


def _specs(connections: Sequence[ConnectionSpec], settings: Settings) -> list[dg.AssetSpec]:
    systems: dict[str, list[ConnectionSpec]] = {}
    for connection in connections:
        systems.setdefault(connection.source_system, []).append(connection)
    return [
        dg.AssetSpec(
            key=source_system_key(owners[0]),
            description=f"Operational system read by Airbyte connection(s) {', '.join(c.name for c in owners)}."
            + (" Simulated locally." if settings.is_local else ""),
            kinds={SYSTEM_KINDS.get(system, "source")},
            owners=sorted({o for c in owners for o in c.owners}),
            group_name="source_systems",
        )
        for system, owners in systems.items()
    ]


def build_source_system_assets(connections: Sequence[ConnectionSpec], settings: Settings) -> list:
    specs = _specs(connections, settings)
    if not settings.is_local:
        return specs
    tables_by_system: dict[str, list[str]] = {}
    for connection in connections:  # a system's tables are the streams its connections read
        tables_by_system.setdefault(connection.source_system, []).extend(s.name for s in connection.streams)

    @dg.multi_asset(name="simulate_source_systems", specs=specs, can_subset=True)
    def simulate_source_systems(context: dg.AssetExecutionContext, simulator: MarketplaceSimulator):
        """Move the simulated marketplace forward to now: new orders, events and ad reports, and
        later versions of rows whose lifecycle moved on. The systems share one clock, so all of
        them move forward; only the selected ones are reported."""
        as_of = dt.datetime.fromisoformat(simulator.as_of.replace("Z", "+00:00")) if simulator.as_of else None
        summary = simulate(simulator.config(), Path(simulator.source_systems_dir), as_of)
        context.log.info(f"source systems simulated up to {summary.as_of:%Y-%m-%d %H:%M} UTC: {summary.rows_total}")
        for spec in specs:
            if spec.key not in context.selected_asset_keys:
                continue
            system = spec.key.path[-1]
            tables = tables_by_system.get(system, [])
            yield dg.MaterializeResult(
                asset_key=spec.key,
                metadata={
                    "simulated_until": summary.as_of.isoformat(),
                    "history_start": summary.start_date.isoformat(),
                    "rows_written": sum(summary.rows_written.get(t, 0) for t in tables),
                    "dagster/row_count": sum(summary.rows_total.get(t, 0) for t in tables),
                    **{f"rows/{t}": summary.rows_total.get(t, 0) for t in tables},
                },
            )

    return [simulate_source_systems]
