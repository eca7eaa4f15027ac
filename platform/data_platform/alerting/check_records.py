"""Reading asset check executions from the instance.

Dagster 1.13 has no public API for this; the event log storage's execution history and its
status enum are internal (``dagster._core``). They are used here and nowhere else, so an
upgrade that moves them touches this module only.
"""

import dataclasses
from collections.abc import Iterator, Sequence

import dagster as dg
from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecordStatus


@dataclasses.dataclass(frozen=True)
class FailedCheck:
    record_id: int
    run_id: str
    evaluation: dg.AssetCheckEvaluation


def failed_checks_since(
    instance: dg.DagsterInstance,
    check_keys: Sequence[dg.AssetCheckKey],
    after_id: int,
    not_before: float | None = None,
    page: int = 100,
) -> Iterator[FailedCheck]:
    """Every failed execution of ``check_keys`` recorded after storage id ``after_id`` (and, when
    given, created at or after the timestamp ``not_before``), oldest first: each check's history
    is read page by page back to ``after_id``, so none is missed however many failed meanwhile."""
    found = []
    for key in check_keys:
        cursor = None
        while True:
            records = instance.event_log_storage.get_asset_check_execution_history(
                key, limit=page, cursor=cursor, status={AssetCheckExecutionRecordStatus.FAILED}
            )
            for record in records:
                if record.id <= after_id or (not_before is not None and record.create_timestamp < not_before):
                    break
                if record.event is not None and record.event.dagster_event is not None:
                    evaluation = record.event.dagster_event.event_specific_data
                    if isinstance(evaluation, dg.AssetCheckEvaluation):
                        found.append(FailedCheck(record.id, record.run_id, evaluation))
            else:
                if len(records) == page:
                    cursor = records[-1].id
                    continue
            break
    return iter(sorted(found, key=lambda f: f.record_id))


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
