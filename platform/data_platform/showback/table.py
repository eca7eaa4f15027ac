"""The showback table's columns, the same on Snowflake and DuckDB, and the Spanish view of it."""

from __future__ import annotations

import dataclasses

SCHEMA = "platform"
TABLE = "cost_per_team_daily"
VIEW_SCHEMA = "presentation"
VIEW = "coste_por_equipo"
UNATTRIBUTED = "unattributed"


@dataclasses.dataclass(frozen=True)
class Column:
    name: str
    sql_type: str
    spanish: str
    description: str


COLUMNS = (
    Column("usage_date", "date", "fecha", "UTC day the warehouse was used."),
    Column("team", "varchar", "equipo", "Business team billed (from the query tag's team, else `unattributed`)."),
    Column("compute_credits", "double", "creditos_computo", "The team's share of the metered compute credits, idle time included."),
    Column("idle_credits", "double", "creditos_inactivos", "Of compute_credits, the part paid for idle warehouse time."),
    Column("cloud_services_credits", "double", "creditos_servicios_nube", "Cloud services billed (above the daily 10 % allowance)."),
    Column("credits", "double", "creditos", "compute_credits + cloud_services_credits."),
    Column("cost", "double", "coste", "credits x the price per credit."),
    Column("currency", "varchar", "moneda", "Currency of cost."),
    Column("queries", "bigint", "consultas", "Queries (Snowflake) or measured nodes: models, checks, syncs (locally)."),
    Column("method", "varchar", "metodo", "`metered` (Snowflake's bill) or `measured` (execution time, locally)."),
)


def create_table_sql(database: str | None) -> list[str]:
    qualified = f"{database}.{SCHEMA}" if database else SCHEMA
    columns = ", ".join(f"{c.name} {c.sql_type}" for c in COLUMNS)
    return [f"create schema if not exists {qualified}", f"create table if not exists {qualified}.{TABLE} ({columns})"]


def spanish_view_sql(database: str | None) -> list[str]:
    """``presentation.coste_por_equipo``: the table under Spanish names, for Metabase, next to the other presentation views."""
    prefix = f"{database}." if database else ""
    columns = ", ".join(f"{c.name} as {c.spanish}" for c in COLUMNS if c.name != "method")
    return [
        f"create schema if not exists {prefix}{VIEW_SCHEMA}",
        f"create or replace view {prefix}{VIEW_SCHEMA}.{VIEW} as select {columns} from {prefix}{SCHEMA}.{TABLE}",
    ]
