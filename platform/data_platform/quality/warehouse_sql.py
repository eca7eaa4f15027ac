"""Run a query in whichever warehouse the environment has: DuckDB and Snowflake resources both
hand out DB-API connections, so checks push their SQL down and only read small results."""

from typing import Any


def fetch_all(warehouse: Any, sql: str) -> list[tuple]:
    with warehouse.get_connection() as conn:
        cursor = conn.cursor()
        cursor.execute(sql)
        return [tuple(row) for row in cursor.fetchall()]
