"""Sensors: declarative automation of the dbt models, and run failures to the alert sink.

Downstream models materialize when their upstream streams land: every dbt model carries
``AutomationCondition.eager()`` (set by the translator), evaluated by our automation sensor
(running by default; Dagster's implicit default sensor produced no ticks in practice).
Unpartitioned marts therefore refresh after their partitioned parents.
"""

import datetime as dt
import json
from pathlib import Path

import dagster as dg

from data_platform.environment import Settings


def automation_sensor(target: dg.AssetSelection) -> dg.AutomationConditionSensorDefinition:
    return dg.AutomationConditionSensorDefinition(
        "platform_automation_sensor",
        target=target,
        default_status=dg.DefaultSensorStatus.RUNNING,
        minimum_interval_seconds=30,
        description="Materializes dbt models when their upstream assets update (eager automation conditions).",
    )


def alert_log_path(settings: Settings) -> Path:
    return settings.data_dir / "alerts" / "alerts.jsonl"


def run_failure_sensor(settings: Settings) -> dg.SensorDefinition:
    sink = alert_log_path(settings)

    @dg.run_failure_sensor(
        name="run_failure_alert_sensor",
        default_status=dg.DefaultSensorStatus.RUNNING,
        monitor_all_code_locations=False,
        description=f"Writes one alert per failed run to {sink} (Slack/email in production: see issue 5's alerting).",
    )
    def _sensor(context: dg.RunFailureSensorContext):
        run = context.dagster_run
        alert = {
            "kind": "run_failure",
            "at": dt.datetime.now(dt.timezone.utc).isoformat(),
            "job": run.job_name,
            "run_id": run.run_id,
            "partition": run.tags.get("dagster/partition") or (
                f"{run.tags['dagster/asset_partition_range_start']}..{run.tags['dagster/asset_partition_range_end']}"
                if "dagster/asset_partition_range_start" in run.tags else None
            ),
            "message": context.failure_event.message,
            "failed_steps": sorted({e.step_key for e in context.get_step_failure_events() if e.step_key}),
        }
        sink.parent.mkdir(parents=True, exist_ok=True)
        with sink.open("a") as out:
            out.write(json.dumps(alert) + "\n")
        context.log.warning(f"run {run.run_id} of {run.job_name} failed: alert written to {sink}")

    return _sensor
