"""Figure: the primary-key uniqueness check's query against ``count(*) - count(distinct key)``
on a table like a big raw orders stream (text keys, one key in 10,000 sent twice)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import duckdb

from benchmarks.report import Figure, alternated, progress
from data_platform.quality.stream_checks import duplicate_keys_query
from data_platform.warehouse.sql import WarehouseDialect


def uniqueness_figure(root: Path, rows: int, repeats: int, floor: int = 3) -> Figure:
    """A table like a big raw orders stream: text keys, one key in 10,000 sent twice."""
    with duckdb.connect(str(root / "uniqueness.duckdb")) as conn:
        conn.execute(
            "create table orders as select 'ord_' || (case when i % 10000 = 9999 then i - 1 else i end) as order_id, "
            f"i % 97 as merchant_id, 'paid' as status from range({int(rows)}) r(i)"
        )
        check = duplicate_keys_query("orders", ["order_id"], WarehouseDialect("duckdb"))
        plain = "select count(*) - count(distinct order_id) from orders"

        def timed(sql: str) -> Callable[[], float]:
            def run() -> float:
                started = time.perf_counter()
                conn.execute(sql).fetchall()
                return time.perf_counter() - started

            return run

        a, b = alternated(timed(check), timed(plain), max(floor, repeats))
    progress(f"uniqueness check {a:.2f}s, count distinct {b:.2f}s")
    return Figure(
        f"uniqueness check, {rows:,} rows",
        "primary_key_unique's query: duplicated keys, extra rows and a sample, one scan",
        a,
        "select count(*) - count(distinct order_id)",
        b,
        max_ratio=1.2,
    )
