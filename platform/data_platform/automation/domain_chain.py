"""The whole platform from one launch: domains run end to end in dependency order.

A Dagster run belongs to one code location, and each domain is one (a team's failure stays
its own). Across locations Dagster offers no single run: "Materialize all" on the global
lineage page submits one backfill whose first runs mix locations and fail (dagster-io/dagster
#13353; ``shared/notes/library-facts.md``). So the platform chains the domains' own jobs:

- a domain that reads no other domain has ``<domain>_end_to_end_schedule`` (daily, the last few
  days in one run; stopped locally, running in production), and is launched by hand from its job
  page (``<domain>_end_to_end``, *Materialize all*, *Latest* or a range);
- a domain that reads others has ``<domain>_after_upstream_domains``: when an end-to-end run of
  a domain it reads finishes, succeeded or failed, it runs its own end-to-end job for the same
  days (a failure upstream never stops what it does not feed: the block mechanism leaves out
  exactly the descendants of what is blocked).

Launching the root domains' jobs therefore runs the platform in dependency order. Runs that
``data-platform run`` makes itself (it orders the domains on its own) are not followed.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence

import dagster as dg

from data_platform.transformation.partitions import LATE_DAYS, RANGE_END_TAG, RANGE_START_TAG, recent_range_tags

LAUNCHED_BY_TAG = "platform/launched_by"
"""Set on the runs ``data-platform run`` makes: it runs the domains in order itself."""
AFTER_RUN_TAG = "platform/after_run"
"""On a run the chain started: the upstream domain's run it follows."""
CHAIN_TAG = "platform/chain"
"""On a run the chain started: the domains run before it in this chain, so a cycle of domains
reading each other stops instead of running for ever."""
PARTITION_TAGS = ("dagster/partition", RANGE_START_TAG, RANGE_END_TAG)
PAGE = 50


END_TO_END_SUFFIX = "_end_to_end"


def end_to_end_job_name(domain: str) -> str:
    return f"{domain}{END_TO_END_SUFFIX}"


def domain_of(end_to_end_job: str) -> str:
    return end_to_end_job.removesuffix(END_TO_END_SUFFIX)


def after_upstream_domains_sensor(domain: str, upstream: Sequence[str]) -> dg.SensorDefinition:
    upstream_jobs = [end_to_end_job_name(d) for d in sorted(upstream)]

    @dg.sensor(
        name=f"{domain}_after_upstream_domains",
        job_name=end_to_end_job_name(domain),
        minimum_interval_seconds=30,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=(
            f"Runs {end_to_end_job_name(domain)} after each end-to-end run of {', '.join(sorted(upstream))} (whose models it reads) "
            "finishes, succeeded or failed, for the same days: the platform runs in dependency order from one launch."
        ),
    )
    def _sensor(context: dg.SensorEvaluationContext):
        cursor = json.loads(context.cursor) if context.cursor else {"after": dt.datetime.now(dt.UTC).timestamp()}
        finished, horizon = [], None
        for job in upstream_jobs:
            records = context.instance.get_run_records(
                filters=dg.RunsFilter(
                    job_name=job,
                    statuses=[dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE],
                    updated_after=dt.datetime.fromtimestamp(cursor["after"], dt.UTC),
                ),
                limit=PAGE,
                order_by="update_timestamp",
                ascending=True,
            )
            finished += [(r.update_timestamp.timestamp(), r.dagster_run) for r in records]
            if len(records) == PAGE:  # more of this job's runs wait: the cursor stops at its last one read
                last = records[-1].update_timestamp.timestamp()
                horizon = last if horizon is None else min(horizon, last)
        requests = []
        for updated, run in sorted(finished, key=lambda item: item[0]):
            if horizon is not None and updated > horizon:
                break
            cursor["after"] = max(cursor["after"], updated)
            chain = [d for d in run.tags.get(CHAIN_TAG, "").split(",") if d] + [domain_of(run.job_name)]
            if run.tags.get(LAUNCHED_BY_TAG) or domain in chain:
                continue
            tags = {k: run.tags[k] for k in PARTITION_TAGS if k in run.tags}
            requests.append(
                dg.RunRequest(run_key=f"after-{run.run_id}", tags={**tags, AFTER_RUN_TAG: run.run_id, CHAIN_TAG: ",".join(chain)})
            )
        return dg.SensorResult(run_requests=requests, cursor=json.dumps(cursor))

    return _sensor


def end_to_end_schedule(domain: str, cron: str, partitions: dg.DailyPartitionsDefinition, running: bool) -> dg.ScheduleDefinition:
    @dg.schedule(
        name=f"{end_to_end_job_name(domain)}_schedule",
        job_name=end_to_end_job_name(domain),
        cron_schedule=cron,
        execution_timezone="UTC",
        default_status=dg.DefaultScheduleStatus.RUNNING if running else dg.DefaultScheduleStatus.STOPPED,
        description=(
            f"On {cron} (UTC), domain {domain} end to end for the last {LATE_DAYS + 1} days in one run; the domains that read "
            "it follow (their *_after_upstream_domains sensors)."
        ),
    )
    def _schedule(context: dg.ScheduleEvaluationContext):
        tags = recent_range_tags(partitions, LATE_DAYS + 1, context.scheduled_execution_time)
        return dg.RunRequest(
            run_key=f"{tags[RANGE_START_TAG]}..{tags[RANGE_END_TAG]}@{context.scheduled_execution_time:%Y%m%dT%H%M}", tags=tags
        )

    return _schedule
