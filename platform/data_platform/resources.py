"""Resources for each environment. Same resource keys everywhere; only the implementations differ.

============  =======================================  ==============================================
key           local                                    prod
============  =======================================  ==============================================
airbyte       EmbeddedAirbyteResource (DuckDB)          SelfManagedAirbyte or CloudAirbyte
dbt           DbtCliResource, target duckdb             DbtCliResource, target snowflake
alerts        AlertSink: log file (+ webhook if set)    AlertSink: log file + webhook/Slack
warehouse     DuckDBResource                            SnowflakeResource (password or key-pair)
simulator     MarketplaceSimulator                      (none: the source systems are real)
============  =======================================  ==============================================
"""

from __future__ import annotations

from typing import Any

import dagster as dg
from dagster_duckdb import DuckDBResource

from data_platform.environment import Settings
from data_platform.ingestion.resources import CloudAirbyte, EmbeddedAirbyteResource, SelfManagedAirbyte
from data_platform.ingestion.source_systems import MarketplaceSimulator
from data_platform.quality.alerts import AlertSink
from data_platform.transformation.dbt_cli import PlatformDbtCliResource
from data_platform.transformation.project import DBT_EXECUTABLE, dbt_project, dbt_target


def build_resources(settings: Settings) -> dict[str, Any]:
    return {"dbt": dbt_cli(settings), "alerts": alert_sink(settings), **_environment_resources(settings)}


def alert_sink(settings: Settings) -> AlertSink:
    """Alerts always go to a JSON-lines file; to a webhook (e.g. a Slack incoming webhook) when
    DATA_PLATFORM_ALERT_WEBHOOK_URL is set; to Slack (dagster-slack) when SLACK_BOT_TOKEN is set,
    in the owner's channel from the data contract or DATA_PLATFORM_SLACK_DEFAULT_CHANNEL; by email
    to the owners' addresses when DATA_PLATFORM_SMTP_HOST is set (STARTTLS, login if a user is set).
    Secrets are EnvVars, read at run time."""
    webhook = dg.EnvVar("DATA_PLATFORM_ALERT_WEBHOOK_URL") if settings.get("DATA_PLATFORM_ALERT_WEBHOOK_URL") else None
    slack = dg.EnvVar("SLACK_BOT_TOKEN") if settings.get("SLACK_BOT_TOKEN") else None
    return AlertSink(
        log_path=str(settings.data_dir / "alerts" / "alerts.jsonl"),
        webhook_url=webhook,
        slack_token=slack,
        slack_default_channel=settings.get("DATA_PLATFORM_SLACK_DEFAULT_CHANNEL", "#data-platform-alerts"),
        slack_api_url=settings.get("SLACK_API_URL"),
        smtp_host=settings.get("DATA_PLATFORM_SMTP_HOST"),
        smtp_port=int(settings.get("DATA_PLATFORM_SMTP_PORT", "587")),
        smtp_user=settings.get("DATA_PLATFORM_SMTP_USER"),
        smtp_password=dg.EnvVar("DATA_PLATFORM_SMTP_PASSWORD") if settings.get("DATA_PLATFORM_SMTP_PASSWORD") else None,
        email_from=settings.get("DATA_PLATFORM_ALERT_EMAIL_FROM", "data-platform-alerts@marketplace.example"),
    )


def dbt_cli(settings: Settings) -> PlatformDbtCliResource:
    return PlatformDbtCliResource(project_dir=dbt_project(dbt_target(settings)), dbt_executable=DBT_EXECUTABLE)


def _environment_resources(settings: Settings) -> dict[str, Any]:
    if settings.is_local:
        return {
            "airbyte": EmbeddedAirbyteResource(
                warehouse_path=str(settings.warehouse_path), source_systems_dir=str(settings.source_systems_dir)
            ),
            "warehouse": DuckDBResource(database=str(settings.warehouse_path)),
            "simulator": MarketplaceSimulator(
                source_systems_dir=str(settings.source_systems_dir),
                seed=settings.simulation.seed,
                scale=settings.simulation.scale,
                history_days=settings.simulation.history_days,
                dirt=settings.simulation.dirt,
                as_of=settings.simulation.as_of,
            ),
        }
    return {"airbyte": production_airbyte(settings), "warehouse": production_snowflake(settings)}


def production_airbyte(settings: Settings) -> SelfManagedAirbyte | CloudAirbyte:
    tuning = dict(
        poll_previous_running_sync=True,  # a sync already in flight is attached to, not failed
        poll_interval=float(settings.get("AIRBYTE_POLL_INTERVAL_SECONDS", "10")),
        poll_timeout=float(settings.get("AIRBYTE_POLL_TIMEOUT_SECONDS", str(4 * 3600))),
        request_max_retries=int(settings.get("AIRBYTE_REQUEST_MAX_RETRIES", "3")),
        request_retry_delay=float(settings.get("AIRBYTE_REQUEST_RETRY_DELAY_SECONDS", "2")),
    )
    server = settings.get("AIRBYTE_SERVER_URL")
    if not server:
        return CloudAirbyte(
            workspace_id=dg.EnvVar("AIRBYTE_WORKSPACE_ID"),
            client_id=dg.EnvVar("AIRBYTE_CLIENT_ID"),
            client_secret=dg.EnvVar("AIRBYTE_CLIENT_SECRET"),
            **tuning,
        )
    server = server.rstrip("/")
    if settings.get("AIRBYTE_CLIENT_ID"):
        auth = {"client_id": dg.EnvVar("AIRBYTE_CLIENT_ID"), "client_secret": dg.EnvVar("AIRBYTE_CLIENT_SECRET")}
    elif settings.get("AIRBYTE_USERNAME"):
        auth = {"username": dg.EnvVar("AIRBYTE_USERNAME"), "password": dg.EnvVar("AIRBYTE_PASSWORD")}
    else:
        auth = {}
    return SelfManagedAirbyte(
        rest_api_base_url=f"{server}/api/public/v1",
        configuration_api_base_url=f"{server}/api/v1",
        workspace_id=dg.EnvVar("AIRBYTE_WORKSPACE_ID"),
        **auth,
        **tuning,
    )


def production_snowflake(settings: Settings) -> SnowflakeResource:  # noqa: F821
    # imported here: dagster_snowflake pulls snowflake.core, ~5 s of imports the local environment never needs
    from dagster_snowflake import SnowflakeResource

    if settings.get("SNOWFLAKE_PRIVATE_KEY_PATH"):
        auth = {"private_key_path": dg.EnvVar("SNOWFLAKE_PRIVATE_KEY_PATH")}
        if settings.get("SNOWFLAKE_PRIVATE_KEY_PASSPHRASE"):
            auth["private_key_password"] = dg.EnvVar("SNOWFLAKE_PRIVATE_KEY_PASSPHRASE")
    else:
        auth = {"password": dg.EnvVar("SNOWFLAKE_PASSWORD")}
    # an endpoint other than <account>.snowflakecomputing.com (a proxy, or an emulator in tests); unset: real Snowflake
    endpoint = {
        name: int(value) if name == "port" else value
        for name, variable in (("host", "SNOWFLAKE_HOST"), ("port", "SNOWFLAKE_PORT"), ("protocol", "SNOWFLAKE_PROTOCOL"))
        if (value := settings.get(variable))
    }
    if endpoint:
        auth["additional_snowflake_connection_args"] = endpoint
    return SnowflakeResource(
        account=dg.EnvVar("SNOWFLAKE_ACCOUNT"),
        user=dg.EnvVar("SNOWFLAKE_USER"),
        role=settings.get("SNOWFLAKE_ROLE", "TRANSFORMER"),
        warehouse=settings.get("SNOWFLAKE_WAREHOUSE", "TRANSFORMING"),
        database=settings.get("SNOWFLAKE_DATABASE", "RAW"),
        **auth,
    )
