"""Reading asset check executions from the instance.

Dagster 1.13 has no public API for this; the event log storage's execution history and its
status enum are internal (``dagster._core``). They are used here and nowhere else, so an
upgrade that moves them touches this module only.
"""

import dataclasses
from collections.abc import Sequence

import dagster as dg
from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecordStatus


@dataclasses.dataclass(frozen=True)
class FailedCheck:
    record_id: int
    run_id: str
    evaluation: dg.AssetCheckEvaluation


OPEN_FOR = 7 * 24 * 3600
"""Seconds a planned check execution is waited for (a run that died leaves its executions planned)."""


@dataclasses.dataclass
class CheckFailures:
    found: list[FailedCheck]
    newest: int
    """The newest execution id read (the next read starts after it)."""
    still_open: dict[int, float]
    """Executions read while still planned (id -> created at): their verdict comes later, and is read then."""


def failed_checks_since(
    instance: dg.DagsterInstance,
    check_keys: Sequence[dg.AssetCheckKey],
    after_id: int,
    not_before: float | None = None,
    open_ids: dict[int, float] | None = None,
    page: int = 100,
) -> CheckFailures:
    """Every check execution that failed since the last read: those newer than ``after_id`` (and,
    when given, created at or after the timestamp ``not_before``), and those of ``open_ids`` that
    were still planned then. An execution's id is given when its run is planned, not when the
    check fails, so a long run's check can fail after a later run's: reading by id alone would
    pass it over. Each check's history is read page by page back to the oldest id needed."""
    open_ids = {int(k): v for k, v in (open_ids or {}).items()}
    floor = min([after_id, *open_ids])
    found, newest, still_open = [], after_id, {}
    for key in check_keys:
        cursor = None
        while True:
            records = instance.event_log_storage.get_asset_check_execution_history(key, limit=page, cursor=cursor)
            for record in records:
                if record.id < floor or (not_before is not None and record.create_timestamp < not_before and record.id not in open_ids):
                    break
                newest = max(newest, record.id)
                if record.id <= after_id and record.id not in open_ids:
                    continue
                if record.status == AssetCheckExecutionRecordStatus.PLANNED:
                    still_open[record.id] = record.create_timestamp
                elif record.status == AssetCheckExecutionRecordStatus.FAILED and record.event is not None and record.event.dagster_event:
                    evaluation = record.event.dagster_event.event_specific_data
                    if isinstance(evaluation, dg.AssetCheckEvaluation):
                        found.append(FailedCheck(record.id, record.run_id, evaluation))
            else:
                if len(records) == page:
                    cursor = records[-1].id
                    continue
            break
    horizon = max(still_open.values(), default=0) - OPEN_FOR
    still_open = {k: v for k, v in still_open.items() if v >= horizon}
    return CheckFailures(sorted(found, key=lambda f: f.record_id), newest, still_open)


def failed_checks_of_run(instance: dg.DagsterInstance, run_id: str) -> list[FailedCheck]:
    """The failed check evaluations of one run, in the order they happened."""
    found = []
    for entry in instance.all_logs(run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION):
        evaluation = entry.dagster_event.event_specific_data if entry.dagster_event else None
        if isinstance(evaluation, dg.AssetCheckEvaluation) and not evaluation.passed:
            found.append(FailedCheck(0, run_id, evaluation))
    return found


def latest_record_id(instance: dg.DagsterInstance, check_keys: Sequence[dg.AssetCheckKey]) -> int:
    latest = 0
    for key in check_keys:
        records = instance.event_log_storage.get_asset_check_execution_history(key, limit=1)
        if records:
            latest = max(latest, records[0].id)
    return latest


def latest_evaluation(instance: dg.DagsterInstance, key: dg.AssetCheckKey) -> tuple[str, dg.AssetCheckEvaluation] | None:
    """The latest completed evaluation of ``key`` (run id, evaluation); planned or running ones are passed over."""
    done = {AssetCheckExecutionRecordStatus.SUCCEEDED, AssetCheckExecutionRecordStatus.FAILED}
    for record in instance.event_log_storage.get_asset_check_execution_history(key, limit=10):
        if record.status in done and record.event is not None and record.event.dagster_event is not None:
            evaluation = record.event.dagster_event.event_specific_data
            if isinstance(evaluation, dg.AssetCheckEvaluation):
                return record.run_id, evaluation
    return None
