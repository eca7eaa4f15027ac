"""The marketplace's operational systems on disk, as the embedded Airbyte connectors read them.

- ``shop_db.sqlite``: the transactional database (what a Postgres source reads in production).
  Rows are upserted, so an order that ships gets a new ``status`` and a newer ``updated_at``.
- ``web_events/received_date=YYYY-MM-DD.jsonl``: the event collector's landing files, one per
  arrival day, lines in arrival order (what an S3 or Kafka source reads in production).
- ``marketing_spend/report_date=YYYY-MM-DD.csv``: the ad platforms' daily reports, each
  restating the last three days (what an ads API source reads in production).

:func:`simulate` moves these systems forward to an instant. It is idempotent: simulating to
the same instant twice changes nothing, and simulating in several steps gives the same
systems as simulating in one.
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import datetime as dt
import json
import sqlite3
from pathlib import Path

import orjson

from marketplace_example.simulation.config import SimulationConfig
from marketplace_example.simulation.marketplace import (
    LIFECYCLE_DAYS,
    MAX_EVENT_DELAY_DAYS,
    Batch,
    Marketplace,
    iso_ms,
    iter_days,
)

SHOP_TABLES: dict[str, str] = {
    # SQLite keeps any declared type name; the connector maps these the way a Postgres source would.
    "merchants": (  # legacy back-office table without a primary key constraint
        "merchant_id integer, merchant_name text, country_code text, main_category text, "
        "commission_rate numeric, status text, created_at timestamptz, updated_at timestamptz"
    ),
    "products": (
        "product_id integer primary key, merchant_id integer, sku text, product_name text, category text, "
        "price_eur numeric, weight_kg numeric, is_active boolean, created_at timestamptz, updated_at timestamptz"
    ),
    "customers": (
        "customer_id integer primary key, email text, phone text, first_name text, last_name text, "
        "country_code text, marketing_opt_in boolean, created_at timestamptz, updated_at timestamptz"
    ),
    "orders": (
        "order_id integer primary key, customer_id integer, merchant_id integer, status text, platform text, "
        "currency text, items_total_eur numeric, shipping_fee_eur numeric, created_at timestamptz, updated_at timestamptz"
    ),
    "order_lines": (
        "order_line_id integer primary key, order_id integer, product_id integer, quantity integer, "
        "unit_price_eur numeric, discount_eur numeric, created_at timestamptz, updated_at timestamptz"
    ),
    "payments": (
        "payment_id integer primary key, order_id integer, payment_method text, amount_eur numeric, status text, "
        "settled_at timestamptz, created_at timestamptz, updated_at timestamptz"
    ),
}
SPEND_COLUMNS = ("spend_date", "channel", "campaign_id", "campaign_name", "impressions", "clicks", "spend_eur", "currency", "reported_at")


@dataclasses.dataclass(frozen=True)
class SourceSystemPaths:
    root: Path

    @property
    def shop_db(self) -> Path:
        return self.root / "shop_db.sqlite"

    @property
    def web_events(self) -> Path:
        return self.root / "web_events"

    @property
    def marketing_spend(self) -> Path:
        return self.root / "marketing_spend"


@dataclasses.dataclass(frozen=True)
class SimulationSummary:
    start_date: dt.date
    as_of: dt.datetime
    rows_written: dict[str, int]
    rows_total: dict[str, int]


class SimulationMismatch(RuntimeError):
    """The source systems on disk were simulated with another seed or scale."""


def simulate(config: SimulationConfig, root: Path, as_of: dt.datetime | None = None) -> SimulationSummary:
    """Bring the source systems under ``root`` to their state at ``as_of`` (default: now)."""
    as_of = (as_of or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    as_of_ms = int(as_of.timestamp() * 1000)
    paths = SourceSystemPaths(root)
    root.mkdir(parents=True, exist_ok=True)
    paths.web_events.mkdir(exist_ok=True)
    paths.marketing_spend.mkdir(exist_ok=True)

    with contextlib.closing(sqlite3.connect(paths.shop_db)) as db:
        _create_shop_tables(db)
        start_date, previous = _read_simulation_meta(db, config, as_of)
        market = Marketplace(config, start_date)
        today = as_of.date()
        if previous is None:
            first_day = start_date
        else:
            first_day = max(start_date, min(previous.date(), today) - dt.timedelta(days=LIFECYCLE_DAYS))
        written: dict[str, int] = {}

        def upsert(table: str, rows: list[dict]) -> None:
            if not rows:
                return
            columns = list(rows[0])
            db.executemany(
                f"insert or replace into {table} ({', '.join(columns)}) values ({', '.join('?' * len(columns))})",
                [tuple(row[c] for c in columns) for row in rows],
            )
            written[table] = written.get(table, 0) + len(rows)

        db.execute("delete from merchants")
        upsert("merchants", market.merchants(as_of_ms))
        upsert("products", market.products(as_of_ms))
        if previous is None:
            upsert("customers", market.base_customer_rows())

        # Events of a day land in files up to MAX_EVENT_DELAY_DAYS later. A file of a day before the
        # last simulated instant's is complete (its events were all received by then) and is never
        # rewritten; the later ones are, from every day that can feed them, and only those days'
        # visits that buy nothing (most events) are generated. An event is never received before
        # its day, so once a day is generated every earlier file is complete: it is written then,
        # and only the files still open are held in memory (a few days, not the whole history).
        first_event_file = start_date if previous is None else max(start_date, min(previous.date(), today))
        events = _EventFiles(paths.web_events, first_event_file, today)
        feeds_a_file = first_event_file - dt.timedelta(days=MAX_EVENT_DELAY_DAYS)
        for day in iter_days(first_day, today):
            batch: Batch = market.day(day, as_of_ms, browsing=day >= feeds_a_file)
            upsert("customers", batch.customers)
            upsert("orders", batch.orders)
            upsert("order_lines", batch.order_lines)
            upsert("payments", batch.payments)
            events.add(batch.events)
            events.write_before(day)
        written["web_events"] = events.write_before(today + dt.timedelta(days=1))
        # the ad reports keep their wider rewrite (they are small): the last days' reports change shape
        # with the dirt, and a simulation in steps must leave them as a simulation in one step does
        first_report = first_day if first_day == start_date else first_day + dt.timedelta(days=MAX_EVENT_DELAY_DAYS + 1)
        written["marketing_spend"] = _write_spend_reports(paths.marketing_spend, market, first_report, as_of)
        db.execute("insert or replace into _simulation values ('simulated_until', ?)", (as_of.isoformat(),))
        db.commit()
        totals = {t: db.execute(f"select count(*) from {t}").fetchone()[0] for t in SHOP_TABLES}
    totals["web_events"] = sum(_count_lines(p) for p in paths.web_events.glob("*.jsonl"))
    totals["marketing_spend"] = sum(_count_lines(p) - 1 for p in paths.marketing_spend.glob("*.csv"))
    return SimulationSummary(start_date, as_of, written, totals)


def _create_shop_tables(db: sqlite3.Connection) -> None:
    db.execute("create table if not exists _simulation (key text primary key, value text)")
    for table, columns in SHOP_TABLES.items():
        db.execute(f"create table if not exists {table} ({columns})")
    for table in SHOP_TABLES:
        db.execute(f"create index if not exists {table}_updated_at on {table} (updated_at)")


def _read_simulation_meta(db: sqlite3.Connection, config: SimulationConfig, as_of: dt.datetime) -> tuple[dt.date, dt.datetime | None]:
    meta = dict(db.execute("select key, value from _simulation").fetchall())
    identity = json.dumps({"seed": config.seed, "scale": config.scale})
    if not meta:
        start = config.start_date or (as_of.date() - dt.timedelta(days=config.history_days))
        db.executemany("insert into _simulation values (?, ?)", [("identity", identity), ("start_date", start.isoformat())])
        return start, None
    if meta["identity"] != identity:
        raise SimulationMismatch(
            f"the source systems in {db} were simulated with {meta['identity']}, not {identity}; "
            "delete the data directory (or choose another) to simulate from scratch"
        )
    start = dt.date.fromisoformat(meta["start_date"])
    if config.start_date and config.start_date != start:
        raise SimulationMismatch(f"the source systems start on {start}, not on the requested {config.start_date}")
    previous = dt.datetime.fromisoformat(meta["simulated_until"]) if "simulated_until" in meta else None
    return start, previous


class _EventFiles:
    """The event collector's landing files from ``first`` to ``last``, one per arrival day, each
    written once complete (``write_before``), lines in arrival order."""

    def __init__(self, folder: Path, first: dt.date, last: dt.date):
        self.folder, self.first, self.last = folder, first.isoformat(), last
        self.next = first
        """The first file not written yet."""
        self.open: dict[str, list[dict]] = {}
        self.written = 0

    def add(self, events: list[dict]) -> None:
        for event in events:
            received = event["received_at"][:10]
            if received < self.first:
                continue  # a file before ``first`` is not rewritten
            if received < self.next.isoformat():
                raise RuntimeError(f"an event received on {received} was generated after that file was written")
            self.open.setdefault(received, []).append(event)

    def write_before(self, day: dt.date) -> int:
        """Write every file before ``day`` (and within ``first``..``last``); returns the events written so far."""
        while self.next < day and self.next <= self.last:
            key = self.next.isoformat()
            events = sorted(self.open.pop(key, ()), key=lambda e: (e["received_at"], e["event_id"]))
            path = self.folder / f"received_date={key}.jsonl"
            tmp = path.with_suffix(".tmp")
            with tmp.open("wb") as out:
                for event in events:
                    out.write(orjson.dumps(event) + b"\n")
            tmp.replace(path)  # readers never see a half-written file
            self.written += len(events)
            self.next += dt.timedelta(days=1)
        return self.written


def _write_spend_reports(folder: Path, market: Marketplace, first: dt.date, as_of: dt.datetime) -> int:
    written = 0
    dirt = market.config.dirt
    for report_date in iter_days(max(first, market.start_date + dt.timedelta(days=1)), as_of.date()):
        rows = market.spend_report(report_date)
        if not rows or rows[0]["reported_at"] > iso_ms(int(as_of.timestamp() * 1000)):
            continue
        columns = list(SPEND_COLUMNS)
        if dirt.changed_column and report_date > as_of.date() - dt.timedelta(days=3):
            columns[columns.index("spend_eur")] = "cost_micros"
            rows = [{**{k: v for k, v in r.items() if k != "spend_eur"}, "cost_micros": int(r["spend_eur"] * 1_000_000)} for r in rows]
        if dirt.duplicate_primary_key and report_date == as_of.date():
            rows.append(dict(rows[0], clicks=rows[0]["clicks"] + 7))
        path = folder / f"report_date={report_date.isoformat()}.csv"
        tmp = path.with_suffix(".tmp")
        with tmp.open("w", newline="") as out:
            writer = csv.DictWriter(out, fieldnames=columns)
            writer.writeheader()
            writer.writerows(rows)
        tmp.replace(path)
        written += len(rows)
    return written


def _count_lines(path: Path) -> int:
    with path.open("rb") as f:
        return sum(1 for _ in f)
