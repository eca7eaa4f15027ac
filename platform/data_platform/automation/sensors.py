"""The automation sensor: declarative automation of the dbt models.

Downstream models materialize when their upstream streams land: every dbt model carries
``AutomationCondition.eager()`` (set by the translator), evaluated by our automation sensor
(running by default; Dagster's implicit default sensor produced no ticks in practice).
Unpartitioned marts therefore refresh after their partitioned parents.
"""

import dagster as dg


def automation_sensor(target: dg.AssetSelection) -> dg.AutomationConditionSensorDefinition:
    return dg.AutomationConditionSensorDefinition(
        "platform_automation_sensor",
        target=target,
        default_status=dg.DefaultSensorStatus.RUNNING,
        minimum_interval_seconds=30,
        description="Materializes dbt models when their upstream assets update (eager automation conditions).",
    )
