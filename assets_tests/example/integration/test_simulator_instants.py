"""The simulator never emits what does not exist yet: a property over 200 random instants for
each of 3 seeds (pinned, so the same instants every run). At each instant, every row of every
table and every event carries only timestamps up to that instant, and every column its data
contract requires."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from data_platform.governance.contracts import load_contract
from marketplace_example.simulation.config import SimulationConfig
from marketplace_example.simulation.marketplace import Marketplace

from ..support.example import contract_file

START = dt.date(2026, 9, 1)
SEEDS = (1, 7, 42)
INSTANTS = 200
CONTRACTS = {
    table: load_contract(contract_file(f"{namespace}.{table}.odcs.yaml")).required_columns
    for namespace, table in [
        ("raw_shop", "merchants"),
        ("raw_shop", "products"),
        ("raw_shop", "customers"),
        ("raw_shop", "orders"),
        ("raw_shop", "order_lines"),
        ("raw_shop", "payments"),
        ("raw_web", "web_events"),
    ]
}


def instants(seed: int) -> list[dt.datetime]:
    rng = random.Random(f"instants-{seed}")
    span = 40 * 86_400
    begin = dt.datetime.combine(START + dt.timedelta(days=1), dt.time(), dt.UTC)
    return [begin + dt.timedelta(seconds=rng.randrange(span), milliseconds=rng.randrange(1000)) for _ in range(INSTANTS)]


def rows_at(market: Marketplace, as_of: dt.datetime, rng: random.Random) -> dict[str, list[dict]]:
    as_of_ms = int(as_of.timestamp() * 1000)
    tables: dict[str, list[dict]] = {
        "merchants": market.merchants(as_of_ms),
        "products": market.products(as_of_ms),
        "customers": [],
        "orders": [],
        "order_lines": [],
        "payments": [],
        "web_events": [],
    }
    # the instant's day and the day before (where "not yet" happens), plus one older day whose
    # lifecycle (shipping, settling, refunds) may still be moving
    older = as_of.date() - dt.timedelta(days=rng.randint(2, 20))
    for day in {as_of.date(), as_of.date() - dt.timedelta(days=1), max(older, START)}:
        if day < START:
            continue
        batch = market.day(day, as_of_ms)
        for table in ("customers", "orders", "order_lines", "payments"):
            tables[table] += getattr(batch, table)
        tables["web_events"] += batch.events
    return tables


@pytest.mark.parametrize("seed", SEEDS)
def test_no_row_or_event_is_later_than_the_instant_and_every_required_column_is_set(seed):
    config = SimulationConfig(seed=seed, scale=0.3, start_date=START)
    market = Marketplace(config, START)
    rng = random.Random(seed)
    problems: list[str] = []
    checked = 0
    for as_of in instants(seed):
        limit = as_of.isoformat(timespec="milliseconds").replace("+00:00", "Z")
        for table, rows in rows_at(market, as_of, rng).items():
            for row in rows:
                checked += 1
                late = [f"{c}={v}" for c, v in row.items() if (c.endswith("_at") or c.endswith("timestamp")) and v and v > limit]
                missing = [c for c in CONTRACTS[table] if row.get(c) is None]
                if late or missing:
                    problems.append(
                        f"{limit} {table} {row.get(table.rstrip('s') + '_id') or row.get('event_id')}: late {late} missing {missing}"
                    )
    assert checked > INSTANTS * 20
    assert not problems, problems[:10]
