"""Jobs the schedules and sensors launch."""

from collections.abc import Sequence

import dagster as dg

from data_platform.environment import Settings
from data_platform.ingestion.assets import source_system_key
from data_platform.ingestion.connections import ConnectionSpec
from data_platform.ingestion.resources import stream_key

DAILY_JOB = "daily_partitions_job"


def ingestion_job_name(connection: ConnectionSpec) -> str:
    return f"ingest_{connection.name}"


def ingestion_jobs(connections: Sequence[ConnectionSpec], settings: Settings) -> list:
    """One job per connection: its streams (locally preceded by the simulation of its source system)."""
    jobs = []
    for connection in connections:
        keys = [stream_key(connection, s.name) for s in connection.streams]
        if settings.is_local:
            keys.insert(0, source_system_key(connection))
        jobs.append(
            dg.define_asset_job(
                ingestion_job_name(connection),
                selection=dg.AssetSelection.assets(*keys),
                description=f"Sync the Airbyte connection {connection.name}.",
                tags={"airbyte/connection": connection.name},
            )
        )
    return jobs


def daily_partitions_job(daily_dbt_assets: dg.AssetsDefinition) -> "dg.JobDefinition":  # an unresolved asset job
    return dg.define_asset_job(
        DAILY_JOB,
        selection=dg.AssetSelection.assets(daily_dbt_assets),
        description="The daily-partitioned dbt models (incremental facts, day-grained marts) for a day or a range of days.",
    )
