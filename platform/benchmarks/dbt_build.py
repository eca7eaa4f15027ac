"""Figure: every dbt model of the domains materialized through Dagster (one run over the
simulated days, as the main job does on an empty warehouse) against plain ``dbt build
--full-refresh`` of the same projects on the same data."""

from __future__ import annotations

import datetime as dt
import subprocess
import time

from benchmarks.domains import Bench
from benchmarks.report import Figure, probe_seconds, progress
from data_platform.transformation.project import DBT_EXECUTABLE


def dbt_figure(bench: Bench, history_days: int) -> Figure:
    """The warehouse under the bench's root holds only synced raw tables (the sync figure's)."""
    root = bench.root
    start = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=history_days)
    env = bench.env(DATA_PLATFORM_PARTITIONS_START=start.isoformat())
    dagster_seconds = probe_seconds("dagster-build", env=env)
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
    plain_seconds = time.perf_counter() - t
    progress(f"dbt through Dagster {dagster_seconds:.1f}s, plain dbt build {plain_seconds:.1f}s")
    return Figure(
        "dbt models through Dagster vs plain dbt",
        f"every dbt model of the domains materialized through Dagster, one run over the {history_days + 1} simulated days",
        dagster_seconds,
        "plain dbt build --full-refresh of the same projects, same data",
        plain_seconds,
        max_ratio=1.15,
    )
