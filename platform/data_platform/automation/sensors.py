"""Sensors: declarative automation of the dbt models, and run failures to the alert sink.

Downstream models materialize when their upstream streams land: every dbt model carries
``AutomationCondition.eager()`` (set by the translator), evaluated by our automation sensor
(running by default; Dagster's implicit default sensor produced no ticks in practice).
Unpartitioned marts therefore refresh after their partitioned parents.
"""

import dagster as dg

from data_platform.automation.partitions import partition_label
from data_platform.quality.alerts import Alert, AlertSink


def automation_sensor(target: dg.AssetSelection) -> dg.AutomationConditionSensorDefinition:
    return dg.AutomationConditionSensorDefinition(
        "platform_automation_sensor",
        target=target,
        default_status=dg.DefaultSensorStatus.RUNNING,
        minimum_interval_seconds=30,
        description="Materializes dbt models when their upstream assets update (eager automation conditions).",
    )


def run_failure_sensor() -> dg.SensorDefinition:
    @dg.run_failure_sensor(
        name="run_failure_alert_sensor",
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="One alert per failed run to the owners of its assets (same sink as check alerts).",
    )
    def _sensor(context: dg.RunFailureSensorContext, alerts: AlertSink):
        run = context.dagster_run
        graph = context.repository_def.asset_graph if context.repository_def else None
        keys = run.asset_selection or set()
        owners = sorted({o for k in keys if graph is not None and graph.has(k) for o in graph.get(k).owners})
        failed = alerts.send(
            Alert(
                kind="run_failed",
                title=f"run of {run.job_name} failed",
                owners=tuple(owners),
                severity="ERROR",
                partition=partition_label(run.tags),
                run_id=run.run_id,
                description=context.failure_event.message,
                metadata={"failed_steps": sorted({e.step_key for e in context.get_step_failure_events() if e.step_key})},
            )
        )
        for sink, error in failed.items():  # the other sinks delivered; this one is reported, not retried
            context.log.error(f"alert sink {sink} failed for the run failure of {run.run_id}: {error}")

    return _sensor
