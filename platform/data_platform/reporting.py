"""The end-of-run summary printed by ``data-platform run``: built from the run's own events."""

from __future__ import annotations

import contextlib
import resource
import textwrap
from collections import Counter

import dagster as dg

from data_platform.quality.blast_radius import BLOCKED_BY
from data_platform.settings import Settings
from data_platform.transformation.translator import LAYERS


def print_run_summary(results, settings: Settings, seconds: float, left_out: dict | None = None) -> int:
    """``results``: one run's result, or the runs of one end-to-end invocation; ``left_out``: assets
    the invocation did not plan because a blocking check upstream failed (asset key -> blocks)."""
    results = results if isinstance(results, list | tuple) else [results]
    events = [e for result in results for e in result.get_asset_materialization_events()]
    partitions = Counter(e.asset_key for e in events if e.partition)
    latest = {e.asset_key: e for e in events}  # a partitioned asset has one event per partition
    materializations = sorted(latest.values(), key=lambda e: e.asset_key.to_user_string())
    counts = _warehouse_row_counts(settings, [e.asset_key for e in materializations])
    print()
    print(f"{'asset':<42} {'rows synced':>12} {'rows in table':>14} {'partitions':>11}")
    print("-" * 82)
    for event in materializations:
        metadata = event.materialization.metadata
        synced = _number(metadata.get("airbyte/rows_synced") or metadata.get("rows_written"))
        total = _number(metadata.get("dagster/row_count") or counts.get(event.asset_key))
        parts = str(partitions[event.asset_key]) if partitions[event.asset_key] else "-"
        print(f"{event.asset_key.to_user_string():<42} {synced:>12} {total:>14} {parts:>11}")
    print("-" * 82)

    layers = Counter(e.asset_key.path[0] for e in materializations)
    models = sum(n for layer, n in layers.items() if layer in LAYERS)
    evaluations = [e for result in results for e in result.get_asset_check_evaluations()]
    failed = [e for e in evaluations if not e.passed]
    print(
        f"{len(materializations)} assets materialized ({models} dbt models) in {seconds:.1f}s; run(s) {', '.join(r.run_id for r in results)}"
    )
    print(peak_memory())
    print(f"checks: {len(evaluations) - len(failed)} passed, {len(failed)} failed")
    for evaluation in failed:
        print(f"  FAILED check {evaluation.asset_key.to_user_string()}:{evaluation.check_name} ({evaluation.severity.value})")
        if evaluation.description:
            print(textwrap.indent(textwrap.fill(evaluation.description, 100), "      "))
    blocked = not_materialized(results, left_out)
    for key, checks in blocked.items():
        print(f"  NOT MATERIALIZED {key}: blocked by {', '.join(checks)}")
    if settings.warehouse.duckdb_path is not None:
        print(f'warehouse: {settings.warehouse.duckdb_path} (query it: data-platform sql "select * from information_schema.tables")')
        print(f"source systems: {settings.source_systems_dir}")
    for event in (e for result in results for e in result.all_events):
        if event.event_type == dg.DagsterEventType.STEP_FAILURE:
            error = event.step_failure_data.error
            print(f"FAILED step {event.step_key}: {error.message.strip() if error else 'unknown error'}")
    if not all(result.success for result in results):
        print("run FAILED")
        return 1
    if blocked:
        print(f"run succeeded, but {len(blocked)} asset(s) were not materialized: their upstream is blocked by a failed check")
        return 1
    print("run succeeded")
    return 0


def peak_memory() -> str:
    """Peak resident memory of this process: Dagster, the embedded syncs' loads and the checks.
    Connectors and dbt run in processes of their own (not counted: Linux charges a child started
    by fork with its parent's pages, so the children's figure would say nothing)."""
    return f"peak memory: {peak_rss_mib():,.0f} MiB in this process (connectors and dbt run in their own)"


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def not_materialized(results, left_out: dict | None = None) -> dict[str, list[str]]:
    """Assets blocked in these runs (left out by a dbt step) or left out of their plan, with the checks that blocked each."""
    blocked = {k: v for result in results for k, v in blocked_assets(result).items()}
    for key, blocks in (left_out or {}).items():
        blocked[key.to_user_string()] = sorted({b.label for b in blocks})
    return dict(sorted(blocked.items()))


def blocked_assets(result: dg.ExecuteInProcessResult) -> dict[str, list[str]]:
    """Assets left out of the run, and the failed checks that blocked each (from the dbt steps' observations)."""
    materialized = {e.asset_key for e in result.get_asset_materialization_events()}
    blocked: dict[str, list[str]] = {}
    for event in result.get_asset_observation_events():
        observation = event.asset_observation_data.asset_observation
        value = observation.metadata.get(BLOCKED_BY)
        if value is not None and observation.asset_key not in materialized:
            blocked[observation.asset_key.to_user_string()] = sorted(set(value.value))
    return dict(sorted(blocked.items()))


def _warehouse_row_counts(settings: Settings, keys: list[dg.AssetKey]) -> dict[dg.AssetKey, int]:
    """Rows in each materialized table or view, read from the local warehouse after the run."""
    if settings.warehouse.duckdb_path is None or not settings.warehouse.duckdb_path.exists():
        return {}
    import duckdb

    counts = {}
    with duckdb.connect(str(settings.warehouse.duckdb_path), read_only=True) as conn:
        relations = {
            tuple(r)
            for r in conn.execute(
                "select schema_name, table_name from duckdb_tables() union all select schema_name, view_name from duckdb_views()"
            ).fetchall()
        }
        for key in keys:
            if len(key.path) == 2 and tuple(key.path) in relations:
                with contextlib.suppress(duckdb.Error):
                    counts[key] = conn.execute(f'select count(*) from "{key.path[0]}"."{key.path[1]}"').fetchone()[0]
    return counts


def _number(value) -> str:
    if value is None:
        return "-"
    raw = getattr(value, "value", value)
    return f"{raw:,}" if isinstance(raw, int) else str(raw)
