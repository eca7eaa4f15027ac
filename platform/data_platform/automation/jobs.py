"""Jobs the schedules and sensors launch."""

from collections.abc import Sequence

import dagster as dg

from data_platform.ingestion.connections import ConnectionSpec
from data_platform.ingestion.keys import source_system_key, stream_key


def ingestion_job_name(connection: ConnectionSpec) -> str:
    return f"ingest_{connection.name}"


DAILY_JOB = "daily_partitions_job"
"""Where several domains load together (the CLI, one code location for all): every domain's daily models."""


def daily_job_name(domain: str) -> str:
    return f"{domain}_daily_partitions_job"


def ingestion_jobs(connections: Sequence[ConnectionSpec], materializable_systems: set[dg.AssetKey]) -> list:
    """One job per connection: its streams, preceded by its source system where a local stand-in moves it forward."""
    jobs = []
    for connection in connections:
        keys = [stream_key(connection, s.name) for s in connection.streams]
        if source_system_key(connection.source_system) in materializable_systems:
            keys.insert(0, source_system_key(connection.source_system))
        jobs.append(
            dg.define_asset_job(
                ingestion_job_name(connection),
                selection=dg.AssetSelection.assets(*keys),
                description=f"Sync the Airbyte connection {connection.name}.",
                tags={"airbyte/connection": connection.name},
            )
        )
    return jobs


def daily_partitions_job(domain: str, daily_models: Sequence[dg.AssetKey]) -> "dg.JobDefinition":  # an unresolved asset job
    return dg.define_asset_job(
        daily_job_name(domain),
        selection=dg.AssetSelection.assets(*daily_models),
        description=f"The daily-partitioned dbt models of domain {domain} (incremental facts, day-grained marts) for a day or a range of days.",
    )


def every_domains_daily_job(daily_models: Sequence[dg.AssetKey]) -> "dg.JobDefinition":
    return dg.define_asset_job(
        DAILY_JOB,
        selection=dg.AssetSelection.assets(*daily_models),
        description="The daily-partitioned dbt models of every domain loaded here, for a day or a range of days.",
    )
