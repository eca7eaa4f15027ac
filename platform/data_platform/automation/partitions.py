"""Daily partitions (UTC) of the event-grained assets.

The partitioned assets are the dbt models tagged ``daily`` (incremental facts and
day-grained marts). A partition's time window reaches dbt as vars ``min_date``/``max_date``;
a range of partitions runs as one dbt invocation (single-run backfill policy), so a 365-day
backfill is one run, and partitions never race each other on dbt's temporary tables.
"""

import datetime as dt
from collections.abc import Mapping

import dagster as dg

from data_platform.environment import Settings

RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"


def daily_partitions(settings: Settings) -> dg.DailyPartitionsDefinition:
    # end_offset=1: today is a partition too (partial until midnight, re-run by the rolling schedule)
    return dg.DailyPartitionsDefinition(start_date=settings.partitions_start, end_offset=1, timezone="UTC")


def partition_label(tags: Mapping[str, str]) -> str | None:
    """The partition a run covered, from its tags: ``2026-11-20``, ``2026-11-18..2026-11-21`` or None."""
    if "dagster/partition" in tags:
        return tags["dagster/partition"]
    if RANGE_START_TAG in tags:
        return f"{tags[RANGE_START_TAG]}..{tags[RANGE_END_TAG]}"
    return None


def range_tags(first: str, last: str) -> dict[str, str]:
    """Tags that make one run cover partitions ``first``..``last`` (inclusive)."""
    return {RANGE_START_TAG: first, RANGE_END_TAG: last}


def recent_range_tags(partitions: dg.DailyPartitionsDefinition, days: int, now: dt.datetime | None = None) -> dict[str, str]:
    """The last ``days`` partitions up to today's (clipped to the first partition)."""
    now = now or dt.datetime.now(dt.UTC)
    keys = partitions.get_partition_keys(current_time=now)
    window = keys[-days:]
    return range_tags(window[0], window[-1])


def main_run_tags(settings: Settings, now: dt.datetime | None = None) -> dict[str, str]:
    """The main job's partitions: the days the simulated history covers, up to today, in one run."""
    return recent_range_tags(daily_partitions(settings), settings.simulation.history_days + 1, now)
