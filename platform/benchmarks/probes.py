"""What the benchmark times in a fresh interpreter (``python -m benchmarks.probes PROBE ...``): each
probe prints the seconds it measured last.

- ``load-platform``: the whole process's cold definitions load (from the interpreter's start: the
  imports, then ``build_definitions`` and its resolved asset graph); ``import-plain``: the same
  for ``import dagster, dagster_dbt``; ``load-plain-dbt P1,P2``: plain ``@dbt_assets`` over the
  manifests of those dbt projects, Definitions resolved;

- ``dagster-build``: every dbt model of every domain materialized through Dagster in one run;
  prints the seconds.
- ``definitions-plain PROJECT`` / ``definitions-platform PROJECT``: seconds to build and resolve the
  definitions of the dbt project in PROJECT, with plain ``@dbt_assets`` / through the platform's path
  (a domain holding the project, ``build_definitions``); imports are done before the clock starts.
- ``partitions FIRST LAST SAMPLE``: after a full build over FIRST..LAST, the daily models of every
  domain as one range run, as a full refresh, and one run per sampled day; prints JSON timings.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

STARTED = time.perf_counter()  # before any import of this process's own: a cold load is the whole process's

if sys.argv[1:2] == ["import-plain"]:
    import dagster  # noqa: F401
    import dagster_dbt  # noqa: F401

    print(time.perf_counter() - STARTED)
    sys.exit(0)

import dagster as dg  # noqa: E402
from dagster_dbt import DbtCliResource, DbtProject, dbt_assets  # noqa: E402

from data_platform.automation.jobs import DAILY_JOB  # noqa: E402
from data_platform.definitions import MAIN_JOB, build_definitions  # noqa: E402
from data_platform.settings import resolve_settings  # noqa: E402
from data_platform.transformation.partitions import main_run_tags, range_tags  # noqa: E402
from data_platform.transformation.project import DBT_EXECUTABLE  # noqa: E402
from data_platform.transformation.translator import LAYERS  # noqa: E402

QUIET = {"loggers": {"console": {"config": {"log_level": "ERROR"}}}}


def dagster_build() -> float:
    defs = build_definitions()
    keys = [k for k in defs.resolve_asset_graph().get_all_asset_keys() if k.path[0] in LAYERS]
    started = time.perf_counter()
    result = defs.resolve_job_def(MAIN_JOB).execute_in_process(
        instance=dg.DagsterInstance.ephemeral(), asset_selection=keys, tags=main_run_tags(resolve_settings()), run_config=QUIET
    )
    assert result.success
    return time.perf_counter() - started


def load_platform() -> float:
    build_definitions().resolve_asset_graph()
    return time.perf_counter() - STARTED


def load_plain_dbt(project_dirs: list[Path]) -> float:
    projects = [
        DbtProject(project_dir=p, profiles_dir=p.parent, target="duckdb", target_path=Path("target") / "duckdb") for p in project_dirs
    ]

    def models(context): ...

    dg.Definitions(
        assets=[dbt_assets(manifest=p.manifest_path, project=p, name=p.project_dir.name)(models) for p in projects]
    ).resolve_asset_graph()
    return time.perf_counter() - STARTED


def definitions_plain(project_dir: Path) -> float:
    started = time.perf_counter()
    project = DbtProject(project_dir=project_dir, profiles_dir=project_dir.parent, target="duckdb", target_path=Path("target") / "duckdb")

    @dbt_assets(manifest=project.manifest_path, project=project)
    def models(context, dbt: DbtCliResource):
        yield from dbt.cli(["build"], context=context).stream()

    dg.Definitions(
        assets=[models], resources={"dbt": DbtCliResource(project_dir=project, dbt_executable=DBT_EXECUTABLE)}
    ).resolve_asset_graph()
    return time.perf_counter() - started


def definitions_platform(project_dir: Path) -> float:
    from data_platform.domains import Domain

    settings = resolve_settings()
    build_definitions(settings, domains=[])  # the platform's own imports (duckdb, its resources), before the clock
    started = time.perf_counter()
    domain = Domain(
        name=project_dir.name,
        folder=project_dir,
        description="synthetic",
        owners=("team:synthetic",),
        slack_channel=None,
        connections=(),
        source_systems=(),
        consumers=(),
        schedules={"daily_partitions": "0 2 * * *", "late_events_rerun": "0 3 * * *"},
        dbt_project_dir=project_dir,
    )
    build_definitions(settings, domains=[domain]).resolve_asset_graph()
    return time.perf_counter() - started


def partitions(first: str, last: str, sample: list[str]) -> dict[str, float]:
    defs = build_definitions()
    instance = dg.DagsterInstance.ephemeral()
    graph = defs.resolve_asset_graph()
    keys = [
        k for k in graph.get_all_asset_keys() if k.path[0] not in ("source_system", "reconciliation") and graph.get(k).is_materializable
    ]
    built = defs.resolve_job_def(MAIN_JOB).execute_in_process(
        instance=instance, asset_selection=keys, tags=range_tags(first, last), run_config=QUIET
    )
    assert built.success
    daily = defs.resolve_job_def(DAILY_JOB)
    # the dbt steps (the job's freshness checks take no configuration)
    daily_steps = {node.name for node in daily.graph.nodes if node.name.endswith("_dbt_models")}
    timings = {}
    started = time.perf_counter()
    assert daily.execute_in_process(instance=instance, tags=range_tags(first, last), run_config=QUIET).success
    timings["range"] = time.perf_counter() - started
    started = time.perf_counter()
    full = {**QUIET, "ops": {step: {"config": {"full_refresh": True}} for step in daily_steps}}
    assert daily.execute_in_process(instance=instance, partition_key=last, run_config=full).success
    timings["full_refresh"] = time.perf_counter() - started
    per = []
    for key in sample:
        started = time.perf_counter()
        assert daily.execute_in_process(instance=instance, partition_key=key, run_config=QUIET).success
        per.append(time.perf_counter() - started)
    timings["per_partition"] = sum(per) / len(per) if per else None
    return timings


if __name__ == "__main__":
    if sys.argv[1:2] == ["load-platform"]:
        print(load_platform())
    elif sys.argv[1:2] == ["load-plain-dbt"]:
        print(load_plain_dbt([Path(p) for p in sys.argv[2].split(",") if p]))
    elif sys.argv[1:2] == ["dagster-build"]:
        print(dagster_build())
    elif sys.argv[1:2] == ["definitions-plain"]:
        print(definitions_plain(Path(sys.argv[2])))
    elif sys.argv[1:2] == ["definitions-platform"]:
        print(definitions_platform(Path(sys.argv[2])))
    elif sys.argv[1:2] == ["partitions"]:
        print(json.dumps(partitions(sys.argv[2], sys.argv[3], [d for d in sys.argv[4].split(",") if d])))
    else:
        sys.exit(
            f"usage: python -m benchmarks.probes load-platform | import-plain | load-plain-dbt P1,P2 | dagster-build | definitions-plain P | definitions-platform P | partitions FIRST LAST D1,D2,...; got {sys.argv[1:]}"
        )
