"""The code location: ``dagster dev -w workspace.yaml`` and ``dagster definitions validate`` load ``defs``."""

from __future__ import annotations

import dagster as dg

from data_platform import wiring
from data_platform.automation.jobs import daily_partitions_job, ingestion_jobs
from data_platform.automation.partitions import daily_partitions
from data_platform.automation.schedules import daily_partition_schedule, ingestion_schedules, late_events_rerun_schedule
from data_platform.automation.sensors import automation_sensor, run_failure_sensor
from data_platform.consumers.ml_features import customer_features_asset
from data_platform.environment import Settings, resolve_settings
from data_platform.ingestion.assets import build_ingestion_assets
from data_platform.ingestion.connections import load_connections
from data_platform.ingestion.resources import stream_key
from data_platform.ingestion.source_systems import build_source_system_assets
from data_platform.quality.alerts import check_failure_alert_sensor, heartbeat_spec
from data_platform.quality.blast_radius import gates_of
from data_platform.quality.contract_checks import build_contract_checks
from data_platform.quality.freshness import freshness_checks_job, freshness_sensor, partition_freshness_checks
from data_platform.quality.stream_checks import build_stream_checks
from data_platform.resources import build_resources
from data_platform.transformation.assets import build_dbt_assets, build_exposure_specs, dbt_source_keys
from data_platform.transformation.project import prepared_manifest

MAIN_JOB = "platform_main_job"


def build_definitions(settings: Settings | None = None) -> dg.Definitions:
    settings = settings or resolve_settings()
    connections = load_connections()
    manifest = prepared_manifest(settings)
    stream_checks = [check for c in connections for check in (*build_contract_checks(c, settings), *build_stream_checks(c, settings))]
    dbt = build_dbt_assets(manifest, settings, gates_of(c.spec for c in stream_checks))
    daily_dbt = dbt[0]
    partitions = daily_partitions(settings)
    partition_freshness = partition_freshness_checks(daily_dbt)
    main_job = dg.define_asset_job(
        MAIN_JOB,
        selection=dg.AssetSelection.all(),
        description="Everything, end to end: source systems (simulated locally), every Airbyte connection, every dbt model and check.",
    )
    assets = [
        *build_source_system_assets(connections, settings),
        *build_ingestion_assets(connections, settings, stream_checks),
        *dbt,
        *build_exposure_specs(manifest, dbt),
        customer_features_asset(settings),
        heartbeat_spec(),
    ]
    stream_keys = {stream_key(c, s.name) for c in connections for s in c.streams}
    wiring.validate(
        [
            *wiring.unlinked_dbt_sources(dbt_source_keys(manifest, settings), stream_keys),
            *wiring.dangling_dependencies(assets),
            *wiring.tests_no_step_runs(manifest, dbt),
        ]
    )
    return dg.Definitions(
        assets=assets,
        asset_checks=partition_freshness,
        jobs=[main_job, freshness_checks_job(partition_freshness), daily_partitions_job(daily_dbt), *ingestion_jobs(connections, settings)],
        schedules=[
            *ingestion_schedules(connections, settings),
            daily_partition_schedule(settings),
            late_events_rerun_schedule(settings, partitions),
        ],
        sensors=[
            automation_sensor(dg.AssetSelection.assets(*dbt)),
            run_failure_sensor(),
            check_failure_alert_sensor(),
            freshness_sensor(partition_freshness),
        ],
        resources=build_resources(settings),
        # locally every warehouse step queues on the single-writer DuckDB pool anyway, and a step
        # process costs an interpreter and a code-location load (5-10 s): run steps in the run's
        # process. In production (Snowflake) steps run in parallel processes, Dagster's default.
        executor=dg.in_process_executor if settings.is_local else None,
    )


def stream_gates(definitions: dg.Definitions) -> dict[dg.AssetKey, list[dg.AssetCheckKey]]:
    """Each asset's checks that block its descendants (read from the check specs' metadata)."""
    graph = definitions.resolve_asset_graph()
    return gates_of(graph.get_check_spec(key) for key in graph.asset_check_keys)


defs = build_definitions()


def main_job() -> dg.JobDefinition:
    """The main job, reconstructable for out-of-process executors (``dg.reconstructable(main_job)``)."""
    return defs.resolve_job_def(MAIN_JOB)
