"""dbt models as Dagster assets, in the same graph as the Airbyte streams."""
