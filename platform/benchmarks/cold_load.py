"""Figure: the cold definitions load, whole process (a fresh interpreter importing the code
locations and building and resolving their Definitions), against a fresh interpreter importing
``dagster`` and ``dagster_dbt``. Both run with ``PYTHONDONTWRITEBYTECODE=1``, as on a machine
that never writes bytecode, with the platform compiled as its image installs it. For
scale, the notes add plain ``@dbt_assets`` over the same manifests."""

from __future__ import annotations

import compileall
import statistics
from collections.abc import Callable

from benchmarks.domains import Bench
from benchmarks.report import Figure, alternated, probe_wall_seconds, progress
from data_platform.settings import REPO_ROOT


def cold_load_figure(bench: Bench, repeats: int, notes: list[str], floor: int = 3) -> Figure:
    # the installed platform compiled, as the image compiles it (uv compiles the dependencies only)
    compileall.compile_dir(REPO_ROOT / "platform", quiet=1)
    env = bench.env(PYTHONDONTWRITEBYTECODE="1")
    (bench.root / "dagster_home").mkdir(parents=True, exist_ok=True)
    projects = ",".join(str(p) for p in bench.dbt_projects())

    def fresh(probe: str, *args: str) -> Callable[[], float]:
        return lambda: probe_wall_seconds(probe, *args, env=env)

    fresh("load-platform")(), fresh("import-plain")()  # warm: the manifests parsed, the disk cache filled
    a, b = alternated(fresh("load-platform"), fresh("import-plain"), max(floor, repeats))
    plain_dbt = statistics.median(fresh("load-plain-dbt", projects)() for _ in range(max(floor, repeats)))
    notes.append(
        f"cold load of plain dagster-dbt over the same manifests (import, @dbt_assets each, Definitions): {plain_dbt:.2f}s; "
        f"the platform's definitions load {a - plain_dbt:+.2f}s over it (whole processes)"
    )
    progress(f"cold definitions load {a:.2f}s, import dagster + dagster_dbt {b:.2f}s, plain dagster-dbt definitions {plain_dbt:.2f}s")
    return Figure(
        "cold definitions load",
        "fresh interpreter, no bytecode written: import the code locations, build and resolve their Definitions",
        a,
        "fresh interpreter, no bytecode written: import dagster, dagster_dbt",
        b,
        max_extra=0.5,
    )
