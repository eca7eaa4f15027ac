"""The production ``airbyte`` resources: dagster-airbyte's workspaces with the platform's
``sync_connection`` (see ``resources.py``). Imported only where production resources are built,
so loading the local definitions never imports dagster-airbyte."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import dagster as dg
import pydantic

from data_platform.ingestion.airbyte_api import CloudAirbyteWorkspace, SelfManagedAirbyteWorkspace
from data_platform.ingestion.connections import ConnectionSpec
from data_platform.ingestion.keys import stream_key
from data_platform.ingestion.resources import SyncEvent, flag_zero_rows, selected_streams


class _ApiSync:
    """``sync_connection`` for dagster-airbyte workspaces (mixed into both workspace classes)."""

    def sync_connection(self, context: dg.AssetExecutionContext, connection: ConnectionSpec) -> Iterator[SyncEvent]:
        connection_id = connection.production_connection_id(self.connection_ids)  # type: ignore[attr-defined]
        client = self.get_client()  # type: ignore[attr-defined]
        output = client.sync_and_poll(connection_id=connection_id, connection_name=connection.name)
        job = output.job_details
        rows = job.get("rowsSynced")
        per_stream = client.stream_figures(int(job["jobId"])) if job.get("jobId") is not None else {}
        metadata: dict[str, Any] = {
            "airbyte/connection_id": connection_id,
            "airbyte/job_id": job.get("jobId"),
            "airbyte/job_status": job.get("status"),
            "airbyte/rows_synced_connection": rows,
            "airbyte/bytes_synced_connection": job.get("bytesSynced"),
            "airbyte/job_duration": job.get("duration"),
            **flag_zero_rows(context, f"connection {connection.name} (job {job.get('jobId')})", rows, connection.expect_rows_every_sync),
        }
        metadata = {k: v for k, v in metadata.items() if v is not None}
        if not per_stream:
            context.log.warning(
                f"Airbyte gave no per-stream statistics for job {job.get('jobId')}: each stream of {connection.name} "
                "carries the connection's total, and its volume check judges that"
            )
        selected = set(selected_streams(context, connection))
        for stream in connection.streams:
            stream_metadata = {**metadata, "airbyte/sync_mode": stream.sync_mode.value}
            if stream.name in per_stream:
                stream_metadata.update(
                    {
                        "airbyte/rows_synced": per_stream[stream.name]["rows"],
                        "airbyte/bytes_synced": per_stream[stream.name]["bytes"],
                        "airbyte/figures": f"per stream, over the job's attempts: records {per_stream[stream.name]['counted']}",
                    }
                )
            else:
                stream_metadata["airbyte/figures"] = "connection total: Airbyte gave no statistics for this stream"
            if stream.name in selected:
                yield dg.MaterializeResult(asset_key=stream_key(connection, stream.name), metadata=stream_metadata)
            else:  # Airbyte synced it anyway: record it, as dagster-airbyte does
                yield dg.AssetMaterialization(asset_key=stream_key(connection, stream.name), metadata=stream_metadata)


class SelfManagedAirbyte(_ApiSync, SelfManagedAirbyteWorkspace):
    """Self-managed Airbyte (dagster-airbyte ``AirbyteWorkspace``)."""

    connection_ids: dict[str, str] = pydantic.Field(default_factory=dict)
    """``AIRBYTE_CONNECTION_ID_*`` variables (from the settings), by name."""


class CloudAirbyte(_ApiSync, CloudAirbyteWorkspace):
    """Airbyte Cloud (dagster-airbyte ``AirbyteCloudWorkspace``)."""

    connection_ids: dict[str, str] = pydantic.Field(default_factory=dict)
    """``AIRBYTE_CONNECTION_ID_*`` variables (from the settings), by name."""
