"""Daily partitions (UTC) of the event-grained assets.

The partitioned assets are the dbt models tagged ``daily`` (incremental facts and
day-grained marts). A partition's time window reaches dbt as the environment variables
``DBT_PARTITION_MIN_DATE``/``DBT_PARTITION_MAX_DATE`` (``transformation/dbt_cli.py``);
a range of partitions runs as one dbt invocation (single-run backfill policy), so a 365-day
backfill is one run, and partitions never race each other on dbt's temporary tables.
"""

import datetime as dt
import functools
from collections.abc import Mapping

import dagster as dg

from data_platform.settings import Settings

RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"


def daily_partitions(settings: Settings, domain_start: str | None = None) -> dg.DailyPartitionsDefinition:
    """A domain's daily partitions: from its own start (``partitions_start`` in its ``domain.yaml``)
    unless the environment pins one for every domain (see ``Settings.partitions_start``)."""
    start = settings.partitions_start if settings.partitions_start_pinned or not domain_start else domain_start
    return _daily_partitions(start)


@functools.cache
def _daily_partitions(start: str) -> dg.DailyPartitionsDefinition:
    # end_offset=1: today is a partition too (partial until midnight, re-run by the rolling schedule)
    return dg.DailyPartitionsDefinition(start_date=start, end_offset=1, timezone="UTC")


def partition_label(tags: Mapping[str, str]) -> str | None:
    """The partition a run covered, from its tags: ``2026-11-20``, ``2026-11-18..2026-11-21`` or None."""
    if "dagster/partition" in tags:
        return tags["dagster/partition"]
    if RANGE_START_TAG in tags:
        return f"{tags[RANGE_START_TAG]}..{tags[RANGE_END_TAG]}"
    return None


def refuse_reversed_range(tags: Mapping[str, str]) -> None:
    """A run whose partition range ends before it starts would build nothing and record
    materializations with no partition: it is refused, naming the range, by the first step that
    would do work (every step of the platform calls this first)."""
    first, last = tags.get(RANGE_START_TAG), tags.get(RANGE_END_TAG)
    if first and last and first > last:
        raise dg.Failure(
            description=f"the run's partition range is reversed: {first} is after {last}; launch it as {last}...{first}",
            allow_retries=False,
        )


def range_tags(first: str, last: str) -> dict[str, str]:
    """Tags that make one run cover partitions ``first``..``last`` (inclusive)."""
    return {RANGE_START_TAG: first, RANGE_END_TAG: last}


def recent_range_tags(partitions: dg.DailyPartitionsDefinition, days: int, now: dt.datetime | None = None) -> dict[str, str]:
    """The last ``days`` partitions up to today's (clipped to the first partition)."""
    now = now or dt.datetime.now(dt.UTC)
    keys = partitions.get_partition_keys(current_time=now)
    window = keys[-days:]
    return range_tags(window[0], window[-1])


LATE_DAYS = 2
"""Days before the last built partition that an end-to-end run builds again (late events, restated reports)."""


def main_run_tags(
    settings: Settings,
    built: set[str] | frozenset[str] = frozenset(),
    now: dt.datetime | None = None,
    earliest_data: dt.date | None = None,
    domain_start: str | None = None,
) -> dict[str, str]:
    """The end-to-end run's partitions, in one run. ``built``: the daily partitions every daily asset
    already has; ``earliest_data``: the first day of the data that landed. An empty warehouse is
    built from the first day with data (or the first partition), so all the data that exists is
    covered whatever its age; later runs start ``LATE_DAYS`` before the last partition built (never
    leaving a gap however long ago that was) and end today."""
    partitions = daily_partitions(settings, domain_start)
    keys = partitions.get_partition_keys(current_time=now or dt.datetime.now(dt.UTC))
    if not built:
        first = earliest_data.isoformat() if earliest_data else keys[0]
        return range_tags(max(first, keys[0]) if first <= keys[-1] else keys[0], keys[-1])
    last = max(built)
    first = max(0, keys.index(last) - LATE_DAYS) if last in keys else 0
    return range_tags(keys[first], keys[-1])
