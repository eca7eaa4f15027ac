"""Sensors that alert owners: failed asset checks, failed runs, and the alerting heartbeat.

Open-source Dagster has no alert on a failed check, and a failed check does not fail its run
(so run-failure notifications never fire for it). ``check_failure_alert_sensor`` reads new
failed check executions each tick and sends one alert per failure: the cursor remembers the
last execution seen, and an alert's identity (check, partition, root run) is remembered so a
retried step or a re-executed run does not alert again. It records a heartbeat asset every few
minutes, with the sinks that are failing; its freshness policy turns it stale when the sensor
stops, so silence is visible. Each code location alerts for its own assets, in its domain's
channel unless the asset's data contract names one.
"""

import dataclasses
import datetime as dt
import json
from collections.abc import Mapping
from typing import Any

import dagster as dg

from data_platform.alerting.check_records import failed_checks_since, latest_record_id
from data_platform.alerting.sink import PENDING_LIMIT, Alert, AlertSink, deliver
from data_platform.governance.contracts import SLACK_CHANNEL_METADATA
from data_platform.transformation.partitions import partition_label

HEARTBEAT_EVERY = dt.timedelta(minutes=5)


def heartbeat_key(location: str | None) -> dg.AssetKey:
    """One heartbeat per code location (``None``: every domain in one location)."""
    return dg.AssetKey(["platform", "alerting_heartbeat", *([location] if location else [])])


def _slack_channels(node: Any, domain_channels: Mapping[str, str]) -> tuple[str, ...]:
    """The contract's channel, else the asset's domain's; empty: the sink's default channel."""
    channel = node.metadata.get(SLACK_CHANNEL_METADATA) if node is not None else None
    if not channel and node is not None:
        channel = domain_channels.get(node.tags.get("domain", ""))
    return (str(getattr(channel, "value", channel)),) if channel else ()


def _metadata(evaluation: dg.AssetCheckEvaluation) -> dict[str, Any]:
    return {k: getattr(v, "value", v) for k, v in evaluation.metadata.items()}


def alert_identity(asset: str, check: str, partition: str | None, root_run_id: str) -> str:
    """What makes two failures the same alert: the check, the partition, and the run they
    descend from (a retried step or a re-executed run shares its root run)."""
    return f"{asset}:{check}|{partition}|{root_run_id}"


def check_failure_alert_sensor(location: str | None = None, domain_channels: Mapping[str, str] | None = None) -> dg.SensorDefinition:
    domain_channels = dict(domain_channels or {})
    key = heartbeat_key(location)

    @dg.sensor(
        name="check_failure_alert_sensor",
        minimum_interval_seconds=30,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="One alert per failed asset check to the owning team (log file, webhook/Slack); heartbeat every 5 minutes.",
    )
    def _sensor(context: dg.SensorEvaluationContext, alerts: AlertSink):
        graph = context.repository_def.asset_graph
        check_keys = list(graph.asset_check_keys)
        cursor = json.loads(context.cursor) if context.cursor else None
        if cursor is None:  # first tick: start from now, do not replay history
            cursor = {"after": latest_record_id(context.instance, check_keys), "sent": [], "heartbeat": None}
        sent = list(cursor["sent"])
        failing: dict[str, dict] = json.loads(json.dumps(cursor.get("failing") or {}))
        failing_before = json.loads(json.dumps(failing))
        pending: list[dict] = []
        # alerts a sink failed to deliver at an earlier tick: that sink (and only it) tries again
        for waiting in cursor.get("pending") or []:
            if deliver(alerts, Alert(**waiting["alert"]), waiting["identity"], sent, failing):
                pending.append(waiting)
        for failure in failed_checks_since(context.instance, check_keys, cursor["after"]):
            evaluation = failure.evaluation
            run = context.instance.get_run_by_id(failure.run_id)
            root = (run.tags.get("dagster/root_run_id") if run else None) or failure.run_id
            node = graph.get(evaluation.asset_key) if graph.has(evaluation.asset_key) else None
            partitioned = node is not None and node.partitions_def is not None
            # a run's partitions describe a check only on a partitioned asset
            partition = evaluation.partition or (partition_label(run.tags) if run and partitioned else None)
            identity = alert_identity(evaluation.asset_key.to_user_string(), evaluation.check_name, partition, root)
            cursor["after"] = failure.record_id
            alert = Alert(
                kind="check_failed",
                title=f"check {evaluation.check_name} failed",
                owners=tuple(node.owners) if node else (),
                severity=evaluation.severity.value,
                asset=evaluation.asset_key.to_user_string(),
                check=evaluation.check_name,
                partition=partition,
                run_id=failure.run_id,
                description=evaluation.description,
                metadata=_metadata(evaluation),
                channels=_slack_channels(node, domain_channels),
            )
            owing = deliver(alerts, alert, identity, sent, failing)
            if owing:
                pending.append({"identity": identity, "alert": json.loads(json.dumps(dataclasses.asdict(alert), default=str))})
            context.log.info(f"alert {identity}: " + (f"not yet delivered by {owing}" if owing else "delivered"))
        for name, state in sorted(failing.items()):
            context.log.error(
                f"alert sink {name} is failing ({state['failures']} attempt(s) since {state['since']}): {state['last_error']}"
            )
        if len(pending) > PENDING_LIMIT:
            context.log.error(f"{len(pending) - PENDING_LIMIT} alert(s) dropped after waiting too long for a failing sink")
            pending = pending[-PENDING_LIMIT:]
        cursor.update(sent=sent, failing=failing, pending=pending)
        events = []
        now = dt.datetime.now(dt.UTC)
        if (
            cursor["heartbeat"] is None
            or now - dt.datetime.fromisoformat(cursor["heartbeat"]) >= HEARTBEAT_EVERY
            or failing
            or failing != failing_before
        ):
            cursor["heartbeat"] = now.isoformat()
            events.append(
                dg.AssetMaterialization(
                    key,
                    metadata={
                        "alerts_remembered": len(sent),
                        "alerts_waiting_for_a_sink": len(pending),
                        "failing_sinks": dg.MetadataValue.json(failing),
                    },
                )
            )
        return dg.SensorResult(cursor=json.dumps(cursor), asset_events=events)

    return _sensor


def heartbeat_spec(location: str | None = None) -> dg.AssetSpec:
    return dg.AssetSpec(
        heartbeat_key(location),
        description="Recorded by check_failure_alert_sensor every 5 minutes; stale means alerting has stopped.",
        group_name="platform",
        kinds={"dagster"},
        owners=["team:data-platform"],
        freshness_policy=dg.FreshnessPolicy.time_window(fail_window=dt.timedelta(minutes=15), warn_window=dt.timedelta(minutes=10)),
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
