"""The main job end to end, in two runs, so that a failed blocking check stops only its descendants.

Dagster skips a whole step when one of its upstream outputs in the same run was not produced,
and the dbt models are spread over several steps (the daily-partitioned models and the rest,
which Dagster splits further around them). A dbt step already leaves out the descendants of a
blocked stream (``transformation/assets.py``), but a model it leaves out would then stop
every model of the next dbt step. So the end-to-end run first syncs the streams (and judges
them, in the sync's step), then plans the rest without the blocked streams' descendants:
every other asset is built, and each one left out gets an observation naming the check.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Mapping, Sequence

import dagster as dg

from data_platform.quality.blast_radius import Block, blocked_descendants, failed_blocking_checks, full_graph, observation


@dataclasses.dataclass
class EndToEnd:
    runs: list[dg.ExecuteInProcessResult]
    left_out: dict[dg.AssetKey, list[Block]]

    @property
    def success(self) -> bool:
        return all(r.success for r in self.runs)


def run_end_to_end(
    job: dg.JobDefinition,
    instance: dg.DagsterInstance,
    gates: Mapping[dg.AssetKey, Sequence[dg.AssetCheckKey]],
    selection: set[dg.AssetKey] | None = None,
    downstream_tags: Callable[[], dict[str, str]] | None = None,
    **execute_kwargs,
) -> EndToEnd:
    """``downstream_tags``: called after ingestion, the tags of the second run (its partitions can
    depend on the data that landed); ``execute_kwargs`` go to both runs."""
    graph = full_graph(job)
    keys = set(selection) if selection is not None else {k for k in graph.get_all_asset_keys() if graph.get(k).is_executable}
    streams = {k for k in gates if k in keys}
    upstream = {a for k in streams for a in graph.get_ancestor_asset_keys(k)}
    first = keys & (streams | upstream)
    runs = []
    if first:
        runs.append(job.execute_in_process(instance=instance, raise_on_error=False, asset_selection=sorted(first), **execute_kwargs))
    blocks = failed_blocking_checks(instance, {k: v for k, v in gates.items() if graph.has(k)})
    stopped = blocked_descendants(graph, blocks)
    rest = keys - first
    left_out = {k: stopped[k] for k in sorted(rest & set(stopped), key=lambda k: k.to_user_string())}
    planned = rest - set(left_out)
    if planned:
        kwargs = dict(execute_kwargs)
        if downstream_tags is not None:
            kwargs["tags"] = {**kwargs.get("tags", {}), **downstream_tags()}
        run = job.execute_in_process(instance=instance, raise_on_error=False, asset_selection=sorted(planned), **kwargs)
        runs.append(run)
        for key, key_blocks in left_out.items():
            instance.report_runless_asset_event(observation(key, key_blocks, run.run_id))
    return EndToEnd(runs, left_out)


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
