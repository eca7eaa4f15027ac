"""A Dagster asset platform teams adopt by adding a domain folder: Airbyte ingestion and dbt
transformation in one lineage graph, on Snowflake in production and DuckDB locally."""
