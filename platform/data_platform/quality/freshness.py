"""Freshness of the transformed layers.

- The daily-partitioned models are judged on their **latest partition due**: after 07:00 UTC
  the partition of the day must have been materialized (before 07:00, the day before's), so
  backfilling an old partition cannot make a stale latest partition look fresh.
- An asset never materialized is not late: nothing was ever expected of it yet (a fresh
  instance, a model just added). Its check passes saying so, and the sensor does not even
  evaluate it, so no owner is alerted before the first fact. Once it has data, it is judged.
- ``partition_freshness_sensor`` (running by default) evaluates a check when a new deadline has
  passed since its last evaluation, or when its asset was materialized after a failed one.
- Unpartitioned marts and presentation datasets carry a ``FreshnessPolicy`` (set by the dbt
  translator), evaluated by Dagster's freshness daemon.

The same semantics as Dagster's ``build_time_partition_freshness_checks`` and its sensor, which
Dagster 1.13 marks superseded (a warning at every load) and which fail a never-materialized
asset on a fresh instance.
"""

import datetime as dt
import hashlib

import dagster as dg

from data_platform.alerting.check_records import latest_evaluation

DEADLINE = dt.time(7, 0)
"""Time of day (UTC) by which the day's partition is due."""
CHECK_NAME = "freshness_check"
FRESHNESS_JOB = "freshness_checks_job"


def latest_deadline(now: dt.datetime) -> dt.datetime:
    """The last 07:00 UTC at or before ``now``."""
    now = now.astimezone(dt.UTC)
    today = dt.datetime.combine(now.date(), DEADLINE, tzinfo=dt.UTC)
    return today if now >= today else today - dt.timedelta(days=1)


def due_partition(partitions_def: dg.DailyPartitionsDefinition, deadline: dt.datetime) -> str:
    """The newest partition that must exist at ``deadline``: the last one the definition has then."""
    day = deadline.date() - dt.timedelta(days=1) + dt.timedelta(days=partitions_def.end_offset)
    return day.isoformat()


def partition_freshness_checks(
    domain: str, daily_models: list[dg.AssetKey], partitions_def: dg.DailyPartitionsDefinition
) -> list[dg.AssetChecksDefinition]:
    if not daily_models:
        return []

    @dg.multi_asset_check(
        name=f"{domain}_partition_freshness",
        specs=[
            dg.AssetCheckSpec(
                CHECK_NAME,
                asset=key,
                description=f"The latest partition due is materialized: the day's partition by {DEADLINE:%H:%M} UTC.",
            )
            for key in daily_models
        ],
        can_subset=True,
    )
    def _checks(context: dg.AssetCheckExecutionContext):
        now = dt.datetime.now(dt.UTC)
        deadline = latest_deadline(now)
        for check_key in sorted(context.selected_asset_check_keys, key=lambda k: k.to_user_string()):
            yield evaluate(context.instance, check_key.asset_key, partitions_def, now, deadline)

    return [_checks]


def evaluate(
    instance: dg.DagsterInstance, key: dg.AssetKey, partitions_def: dg.DailyPartitionsDefinition, now: dt.datetime, deadline: dt.datetime
) -> dg.AssetCheckResult:
    expected = due_partition(partitions_def, deadline)
    metadata = {
        "expected_partition": expected,
        "deadline": dg.MetadataValue.timestamp(deadline.timestamp()),
        "evaluated_at": dg.MetadataValue.timestamp(now.timestamp()),
    }
    latest_any = latest_materialization(instance, key)
    if latest_any is None:
        return dg.AssetCheckResult(
            asset_key=key,
            check_name=CHECK_NAME,
            passed=True,
            severity=dg.AssetCheckSeverity.WARN,
            description="Never materialized: nothing is expected of it yet. Freshness is judged from its first materialization.",
            metadata={**metadata, "ever_materialized": False},
        )
    records = instance.fetch_materializations(dg.AssetRecordsFilter(asset_key=key, asset_partitions=[expected]), limit=1).records
    passed = bool(records)
    return dg.AssetCheckResult(
        asset_key=key,
        check_name=CHECK_NAME,
        passed=passed,
        severity=dg.AssetCheckSeverity.WARN,
        description=(
            f"Fresh: partition {expected} is materialized."
            if passed
            else f"Overdue: partition {expected} was due by {deadline:%Y-%m-%d %H:%M} UTC and is not materialized."
        ),
        metadata={
            **metadata,
            "ever_materialized": True,
            "last_materialized_at": dg.MetadataValue.timestamp(latest_any.timestamp),
            "last_materialized_partition": latest_any.partition_key,
        },
    )


def latest_materialization(instance: dg.DagsterInstance, key: dg.AssetKey) -> dg.EventLogRecord | None:
    records = instance.fetch_materializations(dg.AssetRecordsFilter(asset_key=key), limit=1).records
    return records[0] if records else None


def freshness_checks_job(checks: list[dg.AssetChecksDefinition]):
    return dg.define_asset_job(
        FRESHNESS_JOB, selection=dg.AssetSelection.checks(*checks), description="Evaluate the partition freshness checks."
    )


def freshness_sensor(checks: list[dg.AssetChecksDefinition]) -> dg.SensorDefinition:
    check_keys = sorted((key for c in checks for key in c.check_keys), key=lambda k: k.to_user_string())

    @dg.sensor(
        name="partition_freshness_sensor",
        minimum_interval_seconds=300,
        asset_selection=dg.AssetSelection.checks(*checks),
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Evaluates the latest-partition freshness checks of assets that have data: once per deadline, "
        "and again after a materialization that may have cured a failure.",
    )
    def _sensor(context: dg.SensorEvaluationContext):
        deadline = latest_deadline(dt.datetime.now(dt.UTC))
        due = {key: version for key in check_keys if (version := _due(context.instance, key, deadline)) is not None}
        if not due:
            return dg.SkipReason("no freshness check is due: assets never materialized, or evaluated since the last deadline")
        # one request per set of checks, deadline and data version: a tick that finds the same
        # checks due again (their run not finished yet) does not launch a second run
        identity = "|".join(f"{k.to_user_string()}={v}" for k, v in due.items()) + f"@{deadline.isoformat()}"
        return dg.RunRequest(run_key=hashlib.sha256(identity.encode()).hexdigest()[:16], asset_check_keys=list(due))

    return _sensor


def _due(instance: dg.DagsterInstance, check_key: dg.AssetCheckKey, deadline: dt.datetime) -> int | None:
    """The storage id of the asset's latest materialization when its check is due, else None:
    never judged on data, judged before this deadline, or failed before a newer materialization."""
    materialized = latest_materialization(instance, check_key.asset_key)
    if materialized is None:
        return None
    last = latest_evaluation(instance, check_key)
    if last is None:
        return materialized.storage_id
    evaluation = last[1]
    judged = {k: getattr(evaluation.metadata.get(k), "value", None) for k in ("evaluated_at", "deadline", "ever_materialized")}
    if not judged["ever_materialized"] or judged["evaluated_at"] is None or (judged["deadline"] or 0) < deadline.timestamp():
        return materialized.storage_id
    cured = not evaluation.passed and materialized.timestamp > judged["evaluated_at"]
    return materialized.storage_id if cured else None
