"""The alert sensor of a code location: failed asset checks and failed runs, to the owners.

Open-source Dagster has no alert on a failed check, and a failed check does not fail its run
(so run-failure notifications never fire for it). ``failure_alert_sensor`` reads, each tick,
every check execution that failed and every run that failed since its cursor (on its first tick:
since ``DATA_PLATFORM_ALERT_LOOKBACK_HOURS``, 24 h by default, so a failure that happened while
no daemon ran is alerted), and delivers each alert once per sink through the ledger it shares
with ``data-platform run`` (``alerting/delivery.py``). A tick handles a bounded number of
failures and saves its cursor, so it ends well within Dagster's 60 s limit; the rest follow at
the next ticks. It records a heartbeat asset every few minutes, with the sinks that are
failing; its freshness policy turns it stale when the sensor stops, so silence is visible.
Each code location alerts for its own assets and runs, in its domain's channel unless the
asset's data contract names one.
"""

import collections
import dataclasses
import datetime as dt
import json
from collections.abc import Mapping

import dagster as dg

from data_platform.alerting.check_records import failed_checks_since
from data_platform.alerting.delivery import (
    Channels,
    DeliveredLedger,
    alert_identity,
    check_alert,
    deliver_all,
    failed_runs_since,
    run_alert,
)
from data_platform.alerting.sink import PENDING_LIMIT, Alert, AlertSink

HEARTBEAT_EVERY = dt.timedelta(minutes=5)
SENSOR_NAME = "failure_alert_sensor"
PER_TICK = 50
"""Failed runs read per tick: the tick stays short whatever piled up."""
TICK_BUDGET_SECONDS = 30.0
"""Time a tick spends delivering; what is left waits in the cursor for the next tick. Dagster
stops a sensor tick at 60 s and then loses its cursor."""

__all__ = ["SENSOR_NAME", "alert_identity", "failure_alert_sensor", "heartbeat_key", "heartbeat_spec"]


def heartbeat_key(location: str | None) -> dg.AssetKey:
    """One heartbeat per code location (``None``: every domain in one location)."""
    return dg.AssetKey(["platform", "alerting_heartbeat", *([location] if location else [])])


def failure_alert_sensor(
    location: str | None = None, domain_channels: Mapping[str, str] | None = None, lookback: dt.timedelta = dt.timedelta(hours=24)
) -> dg.SensorDefinition:
    domain_channels = dict(domain_channels or {})
    key = heartbeat_key(location)

    @dg.sensor(
        name=SENSOR_NAME,
        minimum_interval_seconds=30,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=(
            "One alert per failed asset check and per failed run to the owning team (log file, webhook, Slack, email), "
            f"each delivered once per sink; its first tick catches up on the last {lookback}; heartbeat every 5 minutes."
        ),
    )
    def _sensor(context: dg.SensorEvaluationContext, alerts: AlertSink):
        graph = context.repository_def.asset_graph
        check_keys = list(graph.asset_check_keys)
        now = dt.datetime.now(dt.UTC)
        cursor = json.loads(context.cursor) if context.cursor else None
        if cursor is None:  # first tick: catch up on the lookback window, not on all history
            cursor = {"after": 0, "not_before": (now - lookback).timestamp(), "heartbeat": None}
        cursor.setdefault("runs_after", cursor.get("not_before") or now.timestamp())
        ledger = DeliveredLedger(context.instance)
        channels = Channels(alerts.slack_default_channel or "#data-platform-alerts", domain_channels)
        failing: dict[str, dict] = json.loads(json.dumps(cursor.get("failing") or {}))
        failing_before = json.loads(json.dumps(failing))
        found: list[tuple[str, Alert]] = [(w["identity"], Alert(**w["alert"])) for w in cursor.get("pending") or []]
        checks = failed_checks_since(context.instance, check_keys, cursor["after"], cursor.get("not_before"), cursor.get("open"))
        found += [check_alert(context.instance, graph, failure, channels) for failure in checks.found]
        cursor.update(after=checks.newest, open={str(k): v for k, v in checks.still_open.items()})
        runs, cursor["runs_after"] = failed_runs_since(context.instance, cursor["runs_after"], _belongs(context, location), PER_TICK)
        found += [run_alert(context.instance, graph, run, channels) for run in runs]
        owed = deliver_all(alerts, found, ledger, failing, budget_seconds=TICK_BUDGET_SECONDS)
        for identity, _, owing in owed:
            context.log.info(f"alert {identity}: not yet delivered by {', '.join(owing)}")
        for name, state in sorted(failing.items()):
            context.log.error(
                f"alert sink {name} is failing ({state['failures']} attempt(s) since {state['since']}): {state['last_error']}"
            )
        pending = [{"identity": i, "alert": json.loads(json.dumps(dataclasses.asdict(a), default=str))} for i, a, _ in owed]
        if len(pending) > PENDING_LIMIT:
            context.log.error(f"{len(pending) - PENDING_LIMIT} alert(s) dropped after waiting too long for a failing sink")
            pending = pending[-PENDING_LIMIT:]
        cursor.update(failing=failing, pending=pending)
        # every sink an alert waits for, whether it failed in this tick or was not tried (the
        # tick's budget ran out, or it failed earlier in the tick): "no sink failing" never
        # stands next to alerts waiting
        waiting = collections.Counter(name for _, _, owing in owed for name in owing)
        events = []
        if (
            cursor["heartbeat"] is None
            or now - dt.datetime.fromisoformat(cursor["heartbeat"]) >= HEARTBEAT_EVERY
            or failing
            or waiting
            or failing != failing_before
        ):
            cursor["heartbeat"] = now.isoformat()
            events.append(
                dg.AssetMaterialization(
                    key,
                    metadata={
                        "alerts_waiting_for_a_sink": len(pending),
                        "alerts_waiting_by_sink": dg.MetadataValue.json(dict(sorted(waiting.items()))),
                        "failing_sinks": dg.MetadataValue.json(failing),
                    },
                )
            )
        return dg.SensorResult(cursor=json.dumps(cursor), asset_events=events)

    return _sensor


def _belongs(context: dg.SensorEvaluationContext, location: str | None):
    """A run is this location's when its job is served here (or, launched in-process, when its
    job is one of this location's and its assets are too)."""
    repository = context.repository_def
    graph = repository.asset_graph

    def belongs(run: dg.DagsterRun) -> bool:
        origin = run.remote_job_origin
        if origin is not None and location is not None:
            return origin.location_name == location
        if not repository.has_job(run.job_name):
            return False
        return not run.asset_selection or any(graph.has(k) and graph.get(k).is_materializable for k in run.asset_selection)

    return belongs


def heartbeat_spec(location: str | None = None) -> dg.AssetSpec:
    return dg.AssetSpec(
        heartbeat_key(location),
        description="Recorded by check_failure_alert_sensor every 5 minutes; stale means alerting has stopped.",
        group_name="platform",
        kinds={"dagster"},
        owners=["team:data-platform"],
        freshness_policy=dg.FreshnessPolicy.time_window(fail_window=dt.timedelta(minutes=15), warn_window=dt.timedelta(minutes=10)),
    )
