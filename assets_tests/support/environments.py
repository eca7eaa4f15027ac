"""Environments the tests run the platform in."""

PROD_ENV = {
    "DATA_PLATFORM_ENV": "prod",
    "SNOWFLAKE_ACCOUNT": "xy12345.eu-west-1",
    "SNOWFLAKE_USER": "DAGSTER",
    "SNOWFLAKE_PASSWORD": "placeholder-snowflake-password",
    "AIRBYTE_WORKSPACE_ID": "ws-placeholder",
    "AIRBYTE_CLIENT_ID": "client-placeholder",
    "AIRBYTE_CLIENT_SECRET": "placeholder-airbyte-secret",
}
"""Production with placeholder credentials: definitions load and dbt parses, nothing connects."""
