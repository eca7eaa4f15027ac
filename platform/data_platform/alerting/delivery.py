"""Which failures become alerts, and the memory of what each sink delivered, shared by every
deliverer: a code location's alert sensor (under the daemon) and ``data-platform run`` (no daemon).

- A failed check is one alert per (check, partition, root run); a failed run one per run. A run
  that stopped because its process did (a shutdown, a restart, the OOM killer) is alerted as
  ``run_interrupted`` at WARN, never as a failure of the data.
- What each sink delivered is kept in the Dagster instance's key-value store
  (``DeliveredLedger``), so the CLI and the daemon, or two ticks, never deliver one alert twice.
- Every alert names its channel: the data contract's, else the domain's, else the default.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import dagster as dg

from data_platform.alerting.check_records import FailedCheck
from data_platform.alerting.sink import Alert, AlertSink, deliver
from data_platform.governance.contracts import SLACK_CHANNEL_METADATA
from data_platform.transformation.partitions import partition_label

INTERRUPTED_REASONS = {"UNEXPECTED_TERMINATION", "RUN_WORKER_RESTART", "START_TIMEOUT"}
"""Dagster's ``dagster/failure_reason`` values that mean the run's process stopped, not its data."""
INTERRUPTED_WORDS = ("interrupt", "sigterm", "sigint", "terminated", "run worker")


class DeliveredLedger:
    """``sink|identity`` pairs already delivered, in the Dagster instance (Postgres or SQLite,
    whatever its run storage is), so every deliverer of the instance sees them."""

    PREFIX = "platform/alert_delivered/"

    def __init__(self, instance: dg.DagsterInstance):
        self.instance = instance

    def _key(self, entry: str) -> str:
        return self.PREFIX + hashlib.sha256(entry.encode()).hexdigest()[:32]

    def __contains__(self, entry: str) -> bool:
        return bool(self.instance.run_storage.get_cursor_values({self._key(entry)}))

    def remember(self, entry: str) -> None:
        self.instance.run_storage.set_cursor_values({self._key(entry): dt.datetime.now(dt.UTC).isoformat()})


def alert_identity(asset: str, check: str, partition: str | None, root_run_id: str) -> str:
    """What makes two failures the same alert: the check, the partition, and the run they
    descend from (a retried step or a re-executed run shares its root run)."""
    return f"{asset}:{check}|{partition}|{root_run_id}"


def run_identity(run_id: str) -> str:
    return f"run|{run_id}"


@dataclasses.dataclass(frozen=True)
class Channels:
    """Where a team is told: the data contract's channel, else the domain's, else the default."""

    default: str
    by_domain: Mapping[str, str] = dataclasses.field(default_factory=dict)

    def of(self, node: Any) -> tuple[str, ...]:
        channel = node.metadata.get(SLACK_CHANNEL_METADATA) if node is not None else None
        if not channel and node is not None:
            channel = self.by_domain.get(node.tags.get("domain", ""))
        return (str(getattr(channel, "value", channel) or self.default),)

    def of_many(self, nodes: Iterable[Any]) -> tuple[str, ...]:
        return tuple(sorted({c for node in nodes for c in self.of(node)})) or (self.default,)


def _node(graph, key: dg.AssetKey):
    return graph.get(key) if graph is not None and graph.has(key) else None


def check_alert(instance: dg.DagsterInstance, graph, failure: FailedCheck, channels: Channels) -> tuple[str, Alert]:
    evaluation = failure.evaluation
    run = instance.get_run_by_id(failure.run_id)
    root = (run.tags.get("dagster/root_run_id") if run else None) or failure.run_id
    node = _node(graph, evaluation.asset_key)
    partitioned = node is not None and node.partitions_def is not None
    # a run's partitions describe a check only on a partitioned asset
    partition = evaluation.partition or (partition_label(run.tags) if run and partitioned else None)
    identity = alert_identity(evaluation.asset_key.to_user_string(), evaluation.check_name, partition, root)
    return identity, Alert(
        kind="check_failed",
        title=f"check {evaluation.check_name} failed",
        owners=tuple(node.owners) if node else (),
        severity=evaluation.severity.value,
        asset=evaluation.asset_key.to_user_string(),
        check=evaluation.check_name,
        partition=partition,
        run_id=failure.run_id,
        description=evaluation.description,
        metadata={k: getattr(v, "value", v) for k, v in evaluation.metadata.items()},
        channels=channels.of(node),
    )


def run_alert(instance: dg.DagsterInstance, graph, run: dg.DagsterRun, channels: Channels) -> tuple[str, Alert]:
    failures = instance.all_logs(run.run_id, of_type=dg.DagsterEventType.RUN_FAILURE)
    message = failures[-1].dagster_event.message if failures and failures[-1].dagster_event else None
    step_failures = [r.dagster_event for r in instance.all_logs(run.run_id, of_type=dg.DagsterEventType.STEP_FAILURE) if r.dagster_event]
    steps = sorted({e.step_key for e in step_failures if e.step_key})
    errors = [e.step_failure_data.error for e in step_failures if e.step_failure_data and e.step_failure_data.error]
    reason = run.tags.get("dagster/failure_reason", "")
    interrupted = (
        reason in INTERRUPTED_REASONS
        or any(_interrupted(error) for error in errors)
        or (not steps and any(w in (message or "").lower() for w in INTERRUPTED_WORDS))
    )
    nodes = [n for k in sorted(run.asset_selection or (), key=lambda k: k.to_user_string()) if (n := _node(graph, k)) is not None]
    return run_identity(run.run_id), Alert(
        kind="run_interrupted" if interrupted else "run_failed",
        title=(
            f"run of {run.job_name} was interrupted: its process stopped (a shutdown, a restart or the OOM killer), "
            "not a failure of the data; launch it again"
            if interrupted
            else f"run of {run.job_name} failed"
        ),
        owners=tuple(sorted({o for n in nodes for o in n.owners})),
        severity="WARN" if interrupted else "ERROR",
        partition=partition_label(run.tags),
        run_id=run.run_id,
        description=message,
        metadata={"failed_steps": steps, "failure_reason": reason or None},
        channels=channels.of_many(nodes),
    )


def _interrupted(error) -> bool:
    """A step error that is the process being stopped (SIGINT/SIGTERM reach a step as these)."""
    while error is not None:
        if error.cls_name in ("DagsterExecutionInterruptedError", "KeyboardInterrupt"):
            return True
        error = error.cause
    return False


def failed_runs_since(instance: dg.DagsterInstance, after: float, belongs, limit: int = 50) -> tuple[list[dg.DagsterRun], float]:
    """Failed runs updated after the timestamp ``after`` that ``belongs(run)`` claims, oldest
    first, and the update time of the last run read (claimed or not: the next read starts there)."""
    records = instance.get_run_records(
        filters=dg.RunsFilter(statuses=[dg.DagsterRunStatus.FAILURE], updated_after=dt.datetime.fromtimestamp(after, dt.UTC)),
        limit=limit,
        order_by="update_timestamp",
        ascending=True,
    )
    last = max([after, *(r.update_timestamp.timestamp() for r in records)])
    return [r.dagster_run for r in records if belongs(r.dagster_run)], last


def deliver_all(
    sink: AlertSink,
    alerts: Sequence[tuple[str, Alert]],
    ledger: DeliveredLedger,
    failing: dict[str, dict],
    budget_seconds: float | None = None,
) -> list[tuple[str, Alert, list[str]]]:
    """Deliver each alert to every sink that has not delivered it; the alerts still owed by a sink.
    A sink that fails is not tried again in this call; past ``budget_seconds`` no sink is tried
    (what is left is owed, for the next call)."""
    down: set[str] = set()
    deadline = time.monotonic() + budget_seconds if budget_seconds is not None else None
    owed = []
    for identity, alert in alerts:
        if deadline is not None and time.monotonic() > deadline:
            down |= {name for name, _ in sink.channels()}
        owing = deliver(sink, alert, identity, ledger, failing, down)
        if owing:
            owed.append((identity, alert, owing))
    return owed


def deliver_run_alerts(
    instance: dg.DagsterInstance,
    definitions: Mapping[str, dg.Definitions],
    run_id: str,
    settings,
    domain_channels: Mapping[str, str] | None = None,
) -> None:
    """What the alert sensor would send for run ``run_id`` (its failed checks, and the run if it
    failed), sent now through the same sinks and ledger: ``data-platform run`` alerts without a
    daemon, and a daemon running meanwhile does not repeat them."""
    from data_platform.alerting.check_records import failed_checks_of_run
    from data_platform.resources import alert_sink

    run = instance.get_run_by_id(run_id)
    if run is None:
        return
    graph = None
    for defs in definitions.values():
        candidate = defs.resolve_asset_graph()
        if any(candidate.has(k) and candidate.get(k).is_materializable for k in run.asset_selection or ()):
            graph = candidate
            break
    channels = Channels(settings.alerting.slack_default_channel, dict(domain_channels or {}))
    alerts = [check_alert(instance, graph, failure, channels) for failure in failed_checks_of_run(instance, run_id)]
    if run.status == dg.DagsterRunStatus.FAILURE:
        alerts.append(run_alert(instance, graph, run, channels))
    failing: dict[str, dict] = {}
    owed = deliver_all(alert_sink(settings, None), alerts, DeliveredLedger(instance), failing)
    for identity, _, owing in owed:
        print(f"alert {identity}: not delivered by {', '.join(owing)} (the alert sensor retries it when the daemon runs)", flush=True)
    if alerts:
        print(f"alerts: {len(alerts)} for run {run_id}, {len(alerts) - len(owed)} delivered by every sink", flush=True)
