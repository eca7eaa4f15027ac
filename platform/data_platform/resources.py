"""Resources for each environment. Same resource keys everywhere; only the implementations differ.

============  =======================================  ==============================================
key           local                                    prod
============  =======================================  ==============================================
airbyte       EmbeddedAirbyteResource (DuckDB)          SelfManagedAirbyte or CloudAirbyte
alerts        AlertSink: log file (+ webhook if set)    AlertSink: log file + webhook/Slack/email
warehouse     DuckDBResource                            SnowflakeResource (password or key-pair)
============  =======================================  ==============================================

dbt runs each domain's own project, so its CLI is built with the domain's dbt assets
(``transformation/assets.py``), not shared as one resource.
"""

from __future__ import annotations

from typing import Any

import dagster as dg

from data_platform.alerting.sink import AlertSink
from data_platform.ingestion.resources import EmbeddedAirbyteResource
from data_platform.settings import Settings


def build_resources(settings: Settings, slack_default_channel: str | None = None) -> dict[str, Any]:
    """``slack_default_channel``: the domain's channel, in a domain's code location."""
    return {"alerts": alert_sink(settings, slack_default_channel), **_environment_resources(settings)}


def alert_sink(settings: Settings, slack_default_channel: str | None = None) -> AlertSink:
    """Alerts always go to a JSON-lines file; to a webhook (e.g. a Slack incoming webhook) when
    DATA_PLATFORM_ALERT_WEBHOOK_URL is set; to Slack (dagster-slack) when SLACK_BOT_TOKEN is set,
    in the owner's channel from the data contract, else the domain's, else
    DATA_PLATFORM_SLACK_DEFAULT_CHANNEL; by email to the owners' addresses when
    DATA_PLATFORM_SMTP_HOST is set (STARTTLS, login if a user is set). Secrets are EnvVars, read at run time."""
    alerting = settings.alerting
    return AlertSink(
        log_path=str(settings.data_dir / "alerts" / "alerts.jsonl"),
        webhook_url=dg.EnvVar("DATA_PLATFORM_ALERT_WEBHOOK_URL") if alerting.webhook else None,
        slack_token=dg.EnvVar("SLACK_BOT_TOKEN") if alerting.slack else None,
        slack_default_channel=slack_default_channel or alerting.slack_default_channel,
        slack_api_url=alerting.slack_api_url,
        smtp_host=alerting.smtp_host,
        smtp_port=alerting.smtp_port,
        smtp_user=alerting.smtp_user,
        smtp_password=dg.EnvVar("DATA_PLATFORM_SMTP_PASSWORD") if alerting.smtp_password else None,
        email_from=alerting.email_from,
    )


def _environment_resources(settings: Settings) -> dict[str, Any]:
    warehouse = settings.warehouse
    if warehouse.duckdb_path is not None:
        from dagster_duckdb import DuckDBResource  # imports DuckDB (~0.25 s), which production never needs

        return {
            "airbyte": EmbeddedAirbyteResource(
                warehouse_path=str(warehouse.duckdb_path),
                source_systems_dir=str(settings.source_systems_dir),
                connector_cache=str(settings.connector_cache),
                silence_timeout_seconds=settings.connector_silence_seconds,
                commit_mb=settings.connector_commit_mb,
                commit_seconds=settings.connector_commit_seconds,
                memory_limit=settings.duckdb_memory_limit,
            ),
            "warehouse": DuckDBResource(
                database=str(warehouse.duckdb_path), connection_config={"memory_limit": settings.duckdb_memory_limit}
            ),
        }
    return {"airbyte": production_airbyte(settings), "warehouse": production_snowflake(settings)}


def production_airbyte(settings: Settings) -> SelfManagedAirbyte | CloudAirbyte:  # noqa: F821
    # imported here: dagster-airbyte is not needed to load the local definitions
    from data_platform.ingestion.production_airbyte import CloudAirbyte, SelfManagedAirbyte

    airbyte = settings.airbyte
    tuning = dict(
        poll_previous_running_sync=True,  # a sync already in flight is attached to, not failed
        poll_interval=airbyte.poll_interval,
        poll_timeout=airbyte.poll_timeout,
        request_max_retries=airbyte.request_max_retries,
        request_retry_delay=airbyte.request_retry_delay,
        connection_ids=dict(airbyte.connection_ids),
    )
    if not airbyte.server_url:
        return CloudAirbyte(
            workspace_id=dg.EnvVar("AIRBYTE_WORKSPACE_ID"),
            client_id=dg.EnvVar("AIRBYTE_CLIENT_ID"),
            client_secret=dg.EnvVar("AIRBYTE_CLIENT_SECRET"),
            **tuning,
        )
    if airbyte.auth == "client_credentials":
        auth = {"client_id": dg.EnvVar("AIRBYTE_CLIENT_ID"), "client_secret": dg.EnvVar("AIRBYTE_CLIENT_SECRET")}
    elif airbyte.auth == "basic":
        auth = {"username": dg.EnvVar("AIRBYTE_USERNAME"), "password": dg.EnvVar("AIRBYTE_PASSWORD")}
    else:
        auth = {}
    return SelfManagedAirbyte(
        rest_api_base_url=f"{airbyte.server_url}/api/public/v1",
        configuration_api_base_url=f"{airbyte.server_url}/api/v1",
        workspace_id=dg.EnvVar("AIRBYTE_WORKSPACE_ID"),
        **auth,
        **tuning,
    )


def production_snowflake(settings: Settings) -> SnowflakeResource:  # noqa: F821
    # imported here: dagster_snowflake pulls snowflake.core, ~5 s of imports the local environment never needs
    from dagster_snowflake import SnowflakeResource

    warehouse = settings.warehouse
    connection = warehouse.snowflake
    if connection.key_pair:
        auth = {"private_key_path": dg.EnvVar("SNOWFLAKE_PRIVATE_KEY_PATH")}
        if connection.key_passphrase:
            auth["private_key_password"] = dg.EnvVar("SNOWFLAKE_PRIVATE_KEY_PASSPHRASE")
    else:
        auth = {"password": dg.EnvVar("SNOWFLAKE_PASSWORD")}
    if connection.endpoint:  # an endpoint other than <account>.snowflakecomputing.com (a proxy, or an emulator in tests)
        auth["additional_snowflake_connection_args"] = dict(connection.endpoint)
    return SnowflakeResource(
        account=dg.EnvVar("SNOWFLAKE_ACCOUNT"),
        user=dg.EnvVar("SNOWFLAKE_USER"),
        role=connection.role,
        warehouse=connection.warehouse,
        database=warehouse.raw_database,
        **auth,
    )
