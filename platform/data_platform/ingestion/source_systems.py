"""The operational systems upstream of a domain's Airbyte connections, as assets.

In production they are external assets (the real systems). Locally, a system whose domain
names a ``local_stand_in`` (``module:function``, e.g. a simulation) is materialized by calling
it: it moves the system forward to now, so the connections have something new to read. The
keys are the same in both, so lineage reads the same: source system -> Airbyte stream -> dbt.
"""

import dataclasses
import datetime as dt
import os
import pickle
import subprocess
import sys
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path

import dagster as dg

from data_platform.domains import Domain, resolve_callable
from data_platform.ingestion.keys import source_system_key
from data_platform.settings import HISTORY_START_FILE, Settings
from data_platform.transformation.partitions import refuse_reversed_range
from embedded_airbyte.connector_process import how_it_ended


@dataclasses.dataclass(frozen=True)
class StandInReport:
    """What a local stand-in returns: up to when it moved its systems, and its tables' rows."""

    until: dt.datetime
    rows_total: Mapping[str, int]
    rows_written: Mapping[str, int]
    history_start: dt.date | None = None


StandIn = Callable[[Path, dt.datetime | None], StandInReport]
"""``stand_in(folder, as_of)``: move the systems in ``folder`` forward to ``as_of`` (None: now). What
else it needs (a simulator's seed and scale) it reads itself: the platform knows nothing of it."""


def advance_stand_in(domain: Domain, reference: str, settings: Settings) -> StandInReport:
    """Move a local stand-in forward, and record the first day its systems hold
    (``HISTORY_START_FILE`` in the source-systems folder), where the daily partitions start
    unless ``DATA_PLATFORM_PARTITIONS_START`` says otherwise.

    The stand-in runs in a fresh interpreter of its own, started for the call: a simulation
    builds hundreds of MiB of Python objects that the interpreter keeps after they are freed, so
    in the run's own process they would weigh on every step after it (measured at 10M source
    rows: 650 MiB held through the syncs and dbt). A fresh ``python -m`` rather than
    multiprocessing's spawn, which would import the caller's main script again. Its exception comes
    back as it was raised, with its traceback as a note."""
    call = pickle.dumps((domain, reference, settings.source_systems_dir, settings.stand_in_instant))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}  # what this process imports from
    with tempfile.TemporaryDirectory(prefix="stand-in-") as tmp:
        result = Path(tmp) / "result.pickle"
        ended = subprocess.run([sys.executable, "-m", "data_platform.ingestion.stand_in_process", str(result)], input=call, env=env)
        if ended.returncode != 0 or not result.exists():
            raise RuntimeError(
                f"domain {domain.name}: the local stand-in {reference} {how_it_ended(ended.returncode)} before it finished (out of memory?); "
                f"the source systems in {settings.source_systems_dir} are as it left them"
            )
        report, error = pickle.loads(result.read_bytes())
    if error is not None:
        raise error
    if report.history_start is not None:
        marker = settings.source_systems_dir / HISTORY_START_FILE
        recorded = marker.read_text().strip() if marker.exists() else None
        if recorded is None or report.history_start.isoformat() < recorded:
            marker.write_text(report.history_start.isoformat() + "\n")
    return report


def build_source_system_assets(domain: Domain, settings: Settings) -> list:
    """External specs for the domain's systems; locally, one multi-asset per stand-in materializes its systems."""
    tables: dict[str, list[str]] = {}
    for connection in domain.connections:  # a system's tables are the streams its connections read
        tables.setdefault(connection.source_system, []).extend(s.name for s in connection.streams)
    specs = {
        system.name: dg.AssetSpec(
            key=source_system_key(system.name),
            description=(system.description or f"Operational system read by domain {domain.name}'s Airbyte connections.")
            + (" Simulated locally." if settings.is_local and system.local_stand_in else ""),
            kinds={system.kind},
            owners=list(domain.owners),
            group_name="source_systems",
            tags={"domain": domain.name},
        )
        for system in domain.source_systems
    }
    by_stand_in: dict[str, list[str]] = {}
    if settings.is_local:
        for system in domain.source_systems:
            if system.local_stand_in:
                by_stand_in.setdefault(system.local_stand_in, []).append(system.name)
    assets: list = [spec for name, spec in specs.items() if not any(name in names for names in by_stand_in.values())]
    for reference, names in by_stand_in.items():
        assets.append(_stand_in_asset(domain, reference, [specs[n] for n in names], tables, settings))
    return assets


def _stand_in_asset(domain: Domain, reference: str, specs: list[dg.AssetSpec], tables, settings: Settings):
    resolve_callable(domain, reference)  # a reference to nothing is a load error naming the domain, not a failed run

    @dg.multi_asset(
        name=f"{domain.name}_local_source_systems",
        specs=specs,
        can_subset=True,
        description=f"Move the domain's local source systems forward to now ({reference}).",
    )
    def _advance(context: dg.AssetExecutionContext):
        refuse_reversed_range(context.run.tags)
        report = advance_stand_in(domain, reference, settings)
        context.log.info(f"source systems moved to {report.until:%Y-%m-%d %H:%M} UTC by {reference}: {dict(report.rows_total)}")
        for spec in specs:
            if spec.key not in context.selected_asset_keys:
                continue
            system_tables = tables.get(spec.key.path[-1], [])
            yield dg.MaterializeResult(
                asset_key=spec.key,
                metadata={
                    "simulated_until": report.until.isoformat(),
                    **({"history_start": report.history_start.isoformat()} if report.history_start else {}),
                    "rows_written": sum(report.rows_written.get(t, 0) for t in system_tables),
                    "dagster/row_count": sum(report.rows_total.get(t, 0) for t in system_tables),
                    **{f"rows/{t}": report.rows_total.get(t, 0) for t in system_tables},
                },
            )

    return _advance
