"""Schedules: ingestion per connection, yesterday's partition, and a rolling re-run for late events.

Default status: running in production; stopped locally, so a laptop does no work unasked
(turn them on in the UI).
"""

import datetime as dt
from collections.abc import Sequence

import dagster as dg

from data_platform.automation.jobs import daily_job_name, ingestion_job_name
from data_platform.ingestion.connections import ConnectionSpec
from data_platform.settings import Settings
from data_platform.transformation.partitions import partition_label, recent_range_tags

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
            description=f"Sync {c.name} on {c.sync_schedule} (UTC), as declared in its domain's connections.yaml.",
        )
        for c in connections
    ]


def daily_partition_schedule(settings: Settings, domain: str, cron: str) -> dg.ScheduleDefinition:
    @dg.schedule(
        name=f"{domain}_daily_partition_schedule",
        job_name=daily_job_name(domain),
        cron_schedule=cron,
        execution_timezone="UTC",
        default_status=_status(settings),
        description=f"On {cron} (UTC), build yesterday's partition of domain {domain}'s daily models.",
    )
    def _schedule(context: dg.ScheduleEvaluationContext):
        yesterday = (context.scheduled_execution_time.astimezone(dt.UTC) - dt.timedelta(days=1)).strftime("%Y-%m-%d")
        return dg.RunRequest(run_key=yesterday, partition_key=yesterday)

    return _schedule


def late_events_rerun_schedule(
    settings: Settings, domain: str, cron: str, partitions: dg.DailyPartitionsDefinition
) -> dg.ScheduleDefinition:
    @dg.schedule(
        name=f"{domain}_late_events_rerun_schedule",
        job_name=daily_job_name(domain),
        cron_schedule=cron,
        execution_timezone="UTC",
        default_status=_status(settings),
        description=f"On {cron} (UTC), rebuild the last {LATE_EVENT_DAYS} days and today of domain {domain}'s daily models in one run (a range backfill) so late events land in their day.",
    )
    def _schedule(context: dg.ScheduleEvaluationContext):
        tags = recent_range_tags(partitions, LATE_EVENT_DAYS + 1, context.scheduled_execution_time)
        return dg.RunRequest(run_key=f"{partition_label(tags)}@{context.scheduled_execution_time:%Y%m%dT%H%M}", tags=tags)

    return _schedule
