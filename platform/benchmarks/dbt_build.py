"""Figure: every dbt model of the domains materialized through Dagster (one run over the
simulated days, as the main job does on an empty warehouse) against plain ``dbt build
--full-refresh`` of the same projects on the same data."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import time

from benchmarks.domains import Bench
from benchmarks.report import Figure, alternated, probe_seconds, progress
from data_platform.transformation.project import DBT_EXECUTABLE


def dbt_figure(bench: Bench, history_days: int, repeats: int) -> Figure:
    """The warehouse under the bench's root holds only synced raw tables (the sync figure's); each
    build starts from a copy of them. Medians of ``repeats`` alternated builds: a single pair
    measured 1.40x where three alternated pairs right after measured 0.97x-1.04x."""
    root = bench.root
    start = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=history_days)
    env = bench.env(DATA_PLATFORM_PARTITIONS_START=start.isoformat())
    warehouse = root / "warehouse.duckdb"
    raw = warehouse.with_name("raw-tables.duckdb")
    shutil.copyfile(warehouse, raw)

    def through_dagster() -> float:
        shutil.copyfile(raw, warehouse)
        return probe_seconds("dagster-build", env=env)

    def plain() -> float:
        shutil.copyfile(raw, warehouse)
        return plain_build(bench, env)

    dagster_seconds, plain_seconds = alternated(through_dagster, plain, repeats)
    raw.unlink()
    progress(f"dbt through Dagster {dagster_seconds:.1f}s, plain dbt build {plain_seconds:.1f}s")
    return Figure(
        "dbt models through Dagster vs plain dbt",
        f"every dbt model of the domains materialized through Dagster, one run over the {history_days + 1} simulated days",
        dagster_seconds,
        "plain dbt build --full-refresh of the same projects, same data",
        plain_seconds,
        max_ratio=1.15,
    )


def plain_build(bench: Bench, env: dict[str, str]) -> float:
    """Plain ``dbt build --full-refresh`` of every project of the domains; returns the seconds."""
    root = bench.root
    t = time.perf_counter()
    for project in bench.dbt_projects():
        subprocess.run(
            [
                *(DBT_EXECUTABLE, "build", "--full-refresh", "--quiet", "--profiles-dir", str(project.parent)),
                *("--target-path", str(root / "dbt_target" / project.name), "--log-path", str(root / "dbt_logs" / project.name)),
            ],
            cwd=project,
            env=env,
            check=True,
            capture_output=True,
        )
    return time.perf_counter() - t
