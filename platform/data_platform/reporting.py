"""The end-of-run summary printed by ``data-platform run``: built from the run's own events."""

from __future__ import annotations

import dagster as dg

from data_platform.environment import Settings


def print_run_summary(result: dg.ExecuteInProcessResult, settings: Settings, seconds: float) -> int:
    materializations = result.get_asset_materialization_events()
    print()
    print(f"{'asset':<36} {'rows synced':>12} {'rows in table':>14}")
    print("-" * 64)
    for event in sorted(materializations, key=lambda e: e.asset_key.to_user_string()):
        metadata = event.materialization.metadata
        synced = _number(metadata.get("airbyte/rows_synced") or metadata.get("rows_written"))
        total = _number(metadata.get("dagster/row_count"))
        print(f"{event.asset_key.to_user_string():<36} {synced:>12} {total:>14}")
    failures = [e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE]
    print("-" * 64)
    print(f"{len(materializations)} assets materialized in {seconds:.1f}s; run {result.run_id}")
    if settings.is_local:
        print(f"warehouse: {settings.warehouse_path} (query it: data-platform sql \"select * from raw_shop.orders limit 5\")")
        print(f"source systems: {settings.source_systems_dir}")
    for failure in failures:
        error = failure.step_failure_data.error
        print(f"FAILED {failure.step_key}: {error.message.strip() if error else 'unknown error'}")
    if not result.success:
        print("run FAILED")
        return 1
    print("run succeeded")
    return 0


def _number(value) -> str:
    if value is None:
        return "-"
    raw = getattr(value, "value", value)
    return f"{raw:,}" if isinstance(raw, int) else str(raw)
