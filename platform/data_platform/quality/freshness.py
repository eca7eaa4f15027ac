"""Freshness of the transformed layers.

- The daily-partitioned models are judged on their **latest complete partition**: Dagster's
  time-partition freshness checks expect yesterday's partition by 07:00 UTC, so backfilling an
  old partition cannot make a stale latest partition look fresh. A sensor (running by
  default) evaluates them.
- Unpartitioned marts and presentation datasets carry a ``FreshnessPolicy`` (set by the dbt
  translator), evaluated by Dagster's freshness daemon.
"""

import dagster as dg

PARTITION_DEADLINE_CRON = "0 7 * * *"
FRESHNESS_JOB = "freshness_checks_job"


def partition_freshness_checks(daily_models: list[dg.AssetKey]) -> list[dg.AssetChecksDefinition]:
    return list(
        dg.build_time_partition_freshness_checks(
            assets=daily_models, deadline_cron=PARTITION_DEADLINE_CRON, timezone="UTC", severity=dg.AssetCheckSeverity.WARN
        )
    )


def freshness_checks_job(checks: list[dg.AssetChecksDefinition]):
    return dg.define_asset_job(
        FRESHNESS_JOB, selection=dg.AssetSelection.checks(*checks), description="Evaluate the partition freshness checks."
    )


def freshness_sensor(checks: list[dg.AssetChecksDefinition]) -> dg.SensorDefinition:
    return dg.build_sensor_for_freshness_checks(
        freshness_checks=checks,
        minimum_interval_seconds=300,
        name="partition_freshness_sensor",
        default_status=dg.DefaultSensorStatus.RUNNING,
    )
