"""Figure: the definitions of a synthetic dbt project of any size (``synthetic_project``)
through the platform's path against plain ``@dbt_assets`` over the same manifest."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from benchmarks.report import Figure, alternated, local_env, probe_seconds, progress
from benchmarks.synthetic_project import synthetic_project


def definitions_figure(root: Path, models: int, repeats: int, floor: int = 3) -> Figure:
    """The definitions of a synthetic project of ``models`` models through the platform's path (a
    domain holding the project, ``build_definitions``) against plain ``@dbt_assets`` over the same
    manifest."""
    started = time.perf_counter()
    project = synthetic_project(root / "synthetic", models)
    progress(f"synthetic dbt project of {models:,} models written and parsed in {time.perf_counter() - started:.1f}s")
    env = local_env(root / "synthetic", DAGSTER_HOME=str(root / "dagster_home"))

    def fresh(probe: str) -> Callable[[], float]:
        return lambda: probe_seconds(probe, str(project), env=env)

    a, b = alternated(fresh("definitions-platform"), fresh("definitions-plain"), max(floor, repeats))
    progress(f"{models:,}-model definitions: platform {a:.2f}s, plain @dbt_assets {b:.2f}s")
    return Figure(
        f"definitions of a {models:,}-model dbt project",
        "the platform's path: a domain holding the project, build_definitions, resolved asset graph",
        a,
        "plain @dbt_assets over the same manifest, Definitions, resolved asset graph",
        b,
        max_ratio=1.15,
    )
