"""Dagster asset platform for the DIY & garden marketplace: Airbyte ingestion and dbt
transformation in one lineage graph, on Snowflake in production and DuckDB locally."""
