"""Schedules: ingestion per connection, yesterday's partition, and a rolling re-run for late events.

Default status: running in production; stopped locally, so a laptop does no work unasked
(turn them on in the UI).
"""

import datetime as dt
from collections.abc import Sequence

import dagster as dg

from data_platform.automation.jobs import DAILY_JOB, ingestion_job_name
from data_platform.automation.partitions import partition_label, recent_range_tags
from data_platform.environment import Settings
from data_platform.ingestion.connections import ConnectionSpec

LATE_EVENT_DAYS = 3
"""Late events arrive up to three days after they happened; the rolling re-run covers them."""


def _status(settings: Settings) -> dg.DefaultScheduleStatus:
    return dg.DefaultScheduleStatus.STOPPED if settings.is_local else dg.DefaultScheduleStatus.RUNNING


def ingestion_schedules(connections: Sequence[ConnectionSpec], settings: Settings) -> list[dg.ScheduleDefinition]:
    return [
        dg.ScheduleDefinition(
            name=f"{ingestion_job_name(c)}_schedule",
            job_name=ingestion_job_name(c),
            cron_schedule=c.sync_schedule,
            execution_timezone="UTC",
            default_status=_status(settings),
            description=f"Sync {c.name} on {c.sync_schedule} (UTC), as declared in connections.yaml.",
        )
        for c in connections
    ]


def daily_partition_schedule(settings: Settings) -> dg.ScheduleDefinition:
    @dg.schedule(
        name="daily_partition_schedule",
        job_name=DAILY_JOB,
        cron_schedule="0 5 * * *",
        execution_timezone="UTC",
        default_status=_status(settings),
        description="At 05:00 UTC, build yesterday's partition of the daily models.",
    )
    def _schedule(context: dg.ScheduleEvaluationContext):
        yesterday = (context.scheduled_execution_time.astimezone(dt.UTC) - dt.timedelta(days=1)).strftime("%Y-%m-%d")
        return dg.RunRequest(run_key=yesterday, partition_key=yesterday)

    return _schedule


def late_events_rerun_schedule(settings: Settings, partitions: dg.DailyPartitionsDefinition) -> dg.ScheduleDefinition:
    @dg.schedule(
        name="late_events_rerun_schedule",
        job_name=DAILY_JOB,
        cron_schedule="30 */6 * * *",
        execution_timezone="UTC",
        default_status=_status(settings),
        description=f"Every 6 hours, rebuild the last {LATE_EVENT_DAYS} days and today in one run (a range backfill) so late events land in their day.",
    )
    def _schedule(context: dg.ScheduleEvaluationContext):
        tags = recent_range_tags(partitions, LATE_EVENT_DAYS + 1, context.scheduled_execution_time)
        return dg.RunRequest(run_key=f"{partition_label(tags)}@{context.scheduled_execution_time:%Y%m%dT%H%M}", tags=tags)

    return _schedule
