"""Daily partitions (UTC), the tags that make one run cover a range, and the label alerts show."""

import datetime as dt

import pytest

from data_platform.settings import resolve_settings
from data_platform.transformation.partitions import (
    RANGE_END_TAG,
    RANGE_START_TAG,
    daily_partitions,
    main_run_tags,
    partition_label,
    range_tags,
    recent_range_tags,
)

UTC = dt.UTC


@pytest.fixture(scope="module")
def settings():
    return resolve_settings({"DATA_PLATFORM_PARTITIONS_START": "2026-10-01", "DATA_PLATFORM_SIM_HISTORY_DAYS": "30"})


def test_today_is_a_partition_from_its_first_instant(settings):
    keys = daily_partitions(settings).get_partition_keys(current_time=dt.datetime(2026, 11, 21, 0, 0, 1, tzinfo=UTC))
    assert keys[0] == "2026-10-01" and keys[-1] == "2026-11-21"


def test_partitions_are_utc_days_whatever_the_local_offset(settings):
    late_in_madrid = dt.datetime(2026, 11, 21, 23, 30, tzinfo=dt.timezone(dt.timedelta(hours=1)))  # 22:30 UTC
    assert daily_partitions(settings).get_partition_keys(current_time=late_in_madrid)[-1] == "2026-11-21"


def test_a_range_is_two_inclusive_tags():
    assert range_tags("2026-11-18", "2026-11-21") == {RANGE_START_TAG: "2026-11-18", RANGE_END_TAG: "2026-11-21"}


def test_the_label_of_a_run_is_its_partition_or_its_range():
    assert partition_label({"dagster/partition": "2026-11-20"}) == "2026-11-20"
    assert partition_label(range_tags("2026-11-18", "2026-11-21")) == "2026-11-18..2026-11-21"
    assert partition_label({"dagster/backfill": "x"}) is None


def test_recent_days_end_with_today(settings):
    tags = recent_range_tags(daily_partitions(settings), 4, now=dt.datetime(2026, 11, 21, 6, 30, tzinfo=UTC))
    assert (tags[RANGE_START_TAG], tags[RANGE_END_TAG]) == ("2026-11-18", "2026-11-21")


def test_recent_days_are_clipped_to_the_first_partition(settings):
    tags = recent_range_tags(daily_partitions(settings), 10, now=dt.datetime(2026, 10, 3, 12, tzinfo=UTC))
    assert (tags[RANGE_START_TAG], tags[RANGE_END_TAG]) == ("2026-10-01", "2026-10-03")


def test_the_first_build_of_an_empty_warehouse_covers_every_partition_not_a_simulator_window(settings):
    tags = main_run_tags(settings, now=dt.datetime(2026, 11, 21, 12, tzinfo=UTC))
    assert (tags[RANGE_START_TAG], tags[RANGE_END_TAG]) == (settings.partitions_start, "2026-11-21")


def test_a_later_run_starts_a_little_before_the_last_partition_built_and_leaves_no_gap(settings):
    built = {"2026-10-01", "2026-10-02", "2026-11-01"}
    tags = main_run_tags(settings, built, now=dt.datetime(2026, 11, 21, 12, tzinfo=UTC))
    assert (tags[RANGE_START_TAG], tags[RANGE_END_TAG]) == ("2026-10-30", "2026-11-21")
