"""Every domain end to end, each by its own ``<domain>_end_to_end`` job, in dependency order.

This is what ``data-platform run`` does, and it is no more than Dagster does from anywhere
else: each domain's run is the job its code location serves (the UI's launchpad, its
schedule, ``dagster job execute``), and a failed blocking check stops exactly its descendants
by the mechanism inside the steps (``transformation/assets.py``, ``quality/blast_radius.py``),
across domains too. A domain runs after every domain whose models it reads, so its
cross-domain models see this invocation's data, or its blocks.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import graphlib
from collections.abc import Callable, Mapping

import dagster as dg

from data_platform.definitions import main_job_name
from data_platform.platform_location import LOCATION as PLATFORM_LOCATION


@dataclasses.dataclass
class EndToEnd:
    runs: list[dg.ExecuteInProcessResult]
    left_out: dict = dataclasses.field(default_factory=dict)
    """Assets left out of every plan (none since the blocks live in the steps; kept for the summary's signature)."""

    @property
    def success(self) -> bool:
        return all(r.success for r in self.runs)


def domain_order(definitions: Mapping[str, dg.Definitions]) -> list[str]:
    """Domain names, each after the domains whose assets it reads (by asset key); a cycle is an
    error naming the domains in it."""
    producer: dict[dg.AssetKey, str] = {}
    for name, defs in definitions.items():
        graph = defs.resolve_asset_graph()
        for key in graph.get_all_asset_keys():
            if graph.get(key).is_materializable:
                producer[key] = name
    needs: dict[str, set[str]] = {}
    for name, defs in sorted(definitions.items()):
        graph = defs.resolve_asset_graph()
        needs[name] = {
            producer[key] for key in graph.get_all_asset_keys() if not graph.get(key).is_materializable and producer.get(key, name) != name
        }
        if name == PLATFORM_LOCATION:  # cost per team and the catalog read what every domain did
            needs[name] |= set(definitions) - {name}
    try:
        return list(graphlib.TopologicalSorter(needs).static_order())
    except graphlib.CycleError as error:
        raise ValueError(f"domains read each other's models in a cycle: {' -> '.join(error.args[1])}") from error


def run_end_to_end(
    definitions: Mapping[str, dg.Definitions],
    instance: dg.DagsterInstance,
    tags_for: Callable[[str, dg.Definitions], dict[str, str]] | None = None,
    leave_out: Callable[[dg.AssetKey], bool] | None = None,
    on_run: Callable[[dg.ExecuteInProcessResult], None] | None = None,
    tags: Mapping[str, str] | None = None,
    **execute_kwargs,
) -> EndToEnd:
    """One run of each domain's end-to-end job, in dependency order. ``tags_for(domain, defs)``:
    the run's tags (its partitions can depend on the data landed so far), asked just before the
    domain runs; ``leave_out``: keys not to plan (tests simulate their sources themselves);
    ``on_run``: called after each run (alerts)."""
    runs = []
    for name in domain_order(definitions):
        defs = definitions[name]
        job = defs.resolve_job_def(main_job_name(name))
        graph = defs.resolve_asset_graph()
        in_job = job.asset_layer.asset_graph  # what the end-to-end job builds (not, e.g., the weekly reconciliations)
        keys = sorted(
            key
            for key in graph.get_all_asset_keys()
            if in_job.has(key) and in_job.get(key).is_executable and not (leave_out and leave_out(key))
        )
        if not keys:
            continue
        run_tags = {**(tags or {}), **(tags_for(name, defs) if tags_for else {})}
        run = job.execute_in_process(instance=instance, raise_on_error=False, asset_selection=keys, tags=run_tags, **execute_kwargs)
        runs.append(run)
        if on_run is not None:
            on_run(run)
    return EndToEnd(runs)


def earliest_data_day(warehouse, connections, profile) -> dt.date | None:
    """The first UTC day of any timestamp or date in the landed event-like streams (those whose
    contract names a freshness column: orders, events, reports), which is what the daily models
    partition; reference data (customers since 2019, a catalogue) does not stretch the build."""
    from data_platform.warehouse.sql import fetch_all, identifier

    firsts = []
    for connection in connections:
        for stream in connection.streams:
            columns = [c.name for c in stream.columns if c.type in ("date", "timestamp_with_timezone", "timestamp_without_timezone")]
            if not columns or not stream.freshness_column:
                continue
            table = profile.raw_table(connection.destination_namespace, stream.name)
            lows = ", ".join(f"cast(min({identifier(c)}) as date)" for c in columns)
            try:
                ((first,),) = fetch_all(
                    warehouse, f"select least({lows}) from {table}" if len(columns) > 1 else f"select {lows} from {table}"
                )
            except Exception:  # a stream not synced yet has no table: it holds no data to cover
                continue
            if first is not None:
                firsts.append(first if isinstance(first, dt.date) else dt.date.fromisoformat(str(first)[:10]))
    return min(firsts) if firsts else None
