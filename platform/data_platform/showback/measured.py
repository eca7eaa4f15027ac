"""Locally, what each team's use of the warehouse took: execution time the Dagster instance measured.

DuckDB bills nothing, but the question a team asks ("what does my part of the platform cost?")
has the same answer in shape: for one UTC day, every step of every run (of any code location)
that ran that day is measured from the instance (step start and end, clipped to the day), and
its time is split over the assets it materialized or checked: a dbt model by the execution time
dbt reported for it (``Execution Duration``), the rest of the step evenly. Each asset's time goes
to its owning team (its first ``team:`` owner, else its domain); a step that touched no asset
(a sensor's run launcher, a failed step before its first asset) is ``unattributed``. Seconds are
priced as a warehouse metering ``local_credits_per_hour`` would bill them: a laptop figure of
what Snowflake would charge for the same work, in the production table's columns.
"""

from __future__ import annotations

import collections
import datetime as dt
from collections.abc import Callable, Iterable, Mapping

import dagster as dg

from data_platform.showback.table import UNATTRIBUTED

DURATION = "Execution Duration"
_TOUCHING = {dg.DagsterEventType.ASSET_MATERIALIZATION, dg.DagsterEventType.ASSET_CHECK_EVALUATION}


def team_of_owners(owners: Iterable[str], domain: str | None) -> str:
    """The team an asset is billed to: its first ``team:`` owner, else its domain, else ``unattributed``."""
    for owner in owners:
        if owner.startswith("team:"):
            return owner.removeprefix("team:")
    return domain or UNATTRIBUTED


def _day_bounds(day: dt.date) -> tuple[float, float]:
    start = dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)
    return start.timestamp(), (start + dt.timedelta(days=1)).timestamp()


def _asset_key(event: dg.DagsterEvent) -> dg.AssetKey | None:
    if event.event_type is dg.DagsterEventType.ASSET_CHECK_EVALUATION:
        return event.event_specific_data.asset_key
    return event.asset_key


def measured_seconds(instance: dg.DagsterInstance, day: dt.date, team_of: Callable[[dg.AssetKey], str]) -> dict[str, tuple[float, int]]:
    """Per team: (seconds of execution on ``day``, assets materialized or checked)."""
    start, end = _day_bounds(day)
    seconds: dict[str, float] = collections.defaultdict(float)
    nodes: dict[str, int] = collections.defaultdict(int)
    records = instance.get_run_records(
        dg.RunsFilter(
            updated_after=dt.datetime.fromtimestamp(start, dt.UTC),
            created_before=dt.datetime.fromtimestamp(end, dt.UTC),
        )
    )
    for record in records:
        run_id = record.dagster_run.run_id
        touched: dict[str, list[tuple[dg.AssetKey, float | None]]] = collections.defaultdict(list)
        for entry in instance.all_logs(run_id, of_type=_TOUCHING):
            event = entry.get_dagster_event()
            key = _asset_key(event)
            if key is None or not entry.step_key:
                continue
            duration = None
            if event.event_type is dg.DagsterEventType.ASSET_MATERIALIZATION:
                value = event.step_materialization_data.materialization.metadata.get(DURATION)
                duration = float(value.value) if value is not None and isinstance(value.value, (int, float)) else None
            touched[entry.step_key].append((key, duration))
        for stats in instance.get_run_step_stats(run_id):
            if stats.start_time is None or stats.end_time is None:
                continue  # still running (this very step, when the showback computes today)
            inside = max(0.0, min(stats.end_time, end) - max(stats.start_time, start))
            if inside <= 0:
                continue
            share = inside / max(stats.end_time - stats.start_time, 1e-9)
            for team, part in _split(stats.end_time - stats.start_time, touched.get(stats.step_key, []), team_of).items():
                seconds[team] += part * share
            for key, _ in touched.get(stats.step_key, []):
                nodes[team_of(key)] += 1
    return {team: (seconds[team], nodes.get(team, 0)) for team in sorted(set(seconds) | set(nodes))}


def _split(
    step_seconds: float, touched: list[tuple[dg.AssetKey, float | None]], team_of: Callable[[dg.AssetKey], str]
) -> Mapping[str, float]:
    """A step's seconds over the teams of the assets it touched: reported durations first (scaled
    down if they exceed the step), the remainder evenly over every asset touched."""
    if not touched:
        return {UNATTRIBUTED: step_seconds}
    reported = sum(d for _, d in touched if d)
    scale = min(1.0, step_seconds / reported) if reported else 0.0
    rest = max(step_seconds - reported * scale, 0.0) / len(touched)
    split: dict[str, float] = collections.defaultdict(float)
    for key, duration in touched:
        split[team_of(key)] += (duration or 0.0) * scale + rest
    return split
