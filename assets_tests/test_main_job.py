"""The README's main command, and the single-writer warehouse under parallel execution."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import dagster as dg
import pytest

from data_platform.environment import REPO_ROOT

STREAMS = ("raw_shop/merchants", "raw_shop/products", "raw_shop/customers", "raw_shop/orders", "raw_shop/order_lines", "raw_shop/payments", "raw_web/web_events", "raw_marketing/marketing_spend")


def rows_in_table(summary_line: str) -> int:
    """Columns: asset, rows synced, rows in table, partitions."""
    return int(summary_line.split()[-2].replace(",", ""))


def run_main(data_dir) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"}
    env.update(DATA_PLATFORM_DATA_DIR=str(data_dir), DATA_PLATFORM_SIM_SCALE="0.3")
    return subprocess.run([sys.executable, "-m", "data_platform.cli", "run"], env=env, capture_output=True, text=True, timeout=600, cwd=REPO_ROOT)


@pytest.mark.e2e
def test_main_command_lands_every_stream_and_prints_row_counts(tmp_path):
    first = run_main(tmp_path)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    summary = first.stdout[first.stdout.index("rows in table"):]
    for stream in STREAMS:
        line = next(line for line in summary.splitlines() if line.startswith(stream))
        assert rows_in_table(line) > 0, line
    assert "run succeeded" in summary and str(tmp_path / "warehouse.duckdb") in summary
    assert (tmp_path / "dagster_home" / "dagster.yaml").exists(), "runs are recorded in a persistent instance the UI can show"

    second = run_main(tmp_path)
    assert second.returncode == 0, second.stdout[-3000:]
    web = next(line for line in second.stdout.splitlines() if line.startswith("raw_web/web_events"))
    assert rows_in_table(web) >= rows_in_table(next(line for line in summary.splitlines() if line.startswith("raw_web/web_events")))
    assert "checks: " in second.stdout and " 0 failed" in second.stdout
    gmv = next(line for line in second.stdout.splitlines() if line.startswith("marts/mart_daily_gmv"))
    assert int(gmv.split()[-1]) >= 30, "the day-partitioned marts are built for every simulated day in one run"


@pytest.mark.e2e
def test_parallel_steps_writing_duckdb_queue_on_the_warehouse_pool(tmp_path, monkeypatch):
    """With the multiprocess executor the three connection syncs would open the DuckDB file at
    once; the local instance's pool limit makes them take turns instead of failing on the lock."""
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(REPO_ROOT / "platform" / "data_platform" / "instance" / "dagster.yaml", home / "dagster.yaml")
    monkeypatch.setenv("DATA_PLATFORM_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("DATA_PLATFORM_SIM_SCALE", "0.3")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    from data_platform import definitions

    with dg.DagsterInstance.get() as instance:
        from data_platform.automation.partitions import main_run_tags
        from data_platform.environment import resolve_settings

        result = dg.execute_job(
            dg.reconstructable(definitions.main_job),
            instance=instance,
            run_config={"execution": {"config": {"multiprocess": {"max_concurrent": 3}}}},
            tags=main_run_tags(resolve_settings()),
        )
        assert result.success, [e.message for e in result.all_events if e.is_failure]
        materialized = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    assert set(STREAMS) <= materialized


@pytest.mark.e2e
def test_benchmark_command_prints_throughput_next_to_the_duckdb_ceiling(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "data_platform.cli", "benchmark", "--rows", "20000", "--partition-days", "10"], capture_output=True, text=True, timeout=600, cwd=REPO_ROOT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    for line in ("source connectors alone", "embedded Airbyte sync, end to end", "DuckDB bulk load of the same records (ceiling)"):
        row = next(r for r in proc.stdout.splitlines() if r.startswith(line))
        assert float(row.split()[-1].replace(",", "")) > 0
    for line in ("cold definitions load", "plain dbt build", "daily models, 10 partitions in one run", "daily models, full refresh", "daily models, one partition per run"):
        assert any(r.startswith(line) for r in proc.stdout.splitlines()), line
