"""Deterministic generator of the marketplace's operational data.

Every entity is derived from ``(seed, kind, day)`` random streams, never from a shared
sequence, so the state of the source systems at any instant ``as_of`` is a pure function
of the config and ``as_of``. Advancing ``as_of`` therefore produces exactly what a real
system would: new rows, and later versions of rows whose lifecycle moved on (an order
shipped, a payment settled, a refund), each with a newer ``updated_at``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import random
import time
import uuid
from collections.abc import Iterator

import orjson

from marketplace_example.simulation.config import SimulationConfig

DAY_MS = 86_400_000
HOUR_MS = 3_600_000
MINUTE_MS = 60_000
MAX_EVENT_DELAY_DAYS = 3
"""Late events arrive at most this many days after they happened."""
LIFECYCLE_DAYS = 30
"""No order, payment or customer changes more than this many days after creation."""

COUNTRIES = ("FR", "ES", "IT", "DE", "GB")
CATEGORIES = ("tools", "garden", "plumbing", "electricity", "paint", "kitchen", "bathroom", "lighting")
PAYMENT_METHODS = ("card", "paypal", "klarna", "bank_transfer")
PLATFORMS = ("web", "ios", "android")
CAMPAIGNS: dict[str, tuple[tuple[str, str], ...]] = {
    "google_ads": (
        ("gads-brand", "Brand search"),
        ("gads-shopping-garden", "Shopping garden"),
        ("gads-shopping-tools", "Shopping tools"),
        ("gads-generic", "Generic search"),
    ),
    "meta_ads": (
        ("meta-prospecting", "Prospecting DIY"),
        ("meta-retargeting", "Retargeting cart"),
        ("meta-spring", "Spring garden"),
    ),
    "tiktok_ads": (("tiktok-howto", "How-to videos"), ("tiktok-garden", "Garden inspiration")),
    "affiliate": (("aff-cashback", "Cashback partners"), ("aff-reviews", "Review sites")),
}
UTM = {
    "google_ads": ("google", "cpc"),
    "meta_ads": ("facebook", "paid_social"),
    "tiktok_ads": ("tiktok", "paid_social"),
    "affiliate": ("awin", "affiliate"),
}
FIRST_NAMES = ("Ana", "Lucas", "Marie", "Jonas", "Giulia", "Pablo", "Emma", "Noah", "Lea", "Hugo", "Sofia", "Louis")
LAST_NAMES = ("Garcia", "Martin", "Rossi", "Muller", "Smith", "Dubois", "Lopez", "Bernard", "Ferrari", "Weber")
PRODUCT_WORDS = {
    "tools": ("Cordless drill", "Hammer", "Jigsaw", "Screwdriver set", "Sander"),
    "garden": ("Lawn mower", "Hose reel", "Pruning shears", "Raised bed", "Leaf blower"),
    "plumbing": ("Mixer tap", "Siphon", "PEX pipe", "Shower head", "Ball valve"),
    "electricity": ("Socket", "Cable reel", "Switch", "Circuit breaker", "LED strip"),
    "paint": ("Wall paint", "Primer", "Roller kit", "Wood stain", "Masking tape"),
    "kitchen": ("Sink", "Worktop", "Cooker hood", "Cabinet handle", "Tap aerator"),
    "bathroom": ("Vanity unit", "Mirror cabinet", "Towel rail", "Toilet seat", "Shower tray"),
    "lighting": ("Pendant lamp", "Garden spotlight", "Ceiling light", "Wall light", "Bulb pack"),
}


def iso_ms(ms: int) -> str:
    """Epoch milliseconds as a fixed-width UTC ISO-8601 string (sortable as text)."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms // 1000)) + f".{ms % 1000:03d}Z"


def day_start_ms(day: dt.date) -> int:
    return int(dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC).timestamp() * 1000)


def _rng(seed: int, kind: str, day: dt.date | int | str) -> random.Random:
    return random.Random(f"{seed}:{kind}:{day}")


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


@dataclasses.dataclass(frozen=True)
class DayCounts:
    new_customers: int
    orders: int
    browsing_sessions: int


@dataclasses.dataclass
class Batch:
    """Rows of every source table created on a range of days, as they look at ``as_of``."""

    customers: list[dict] = dataclasses.field(default_factory=list)
    orders: list[dict] = dataclasses.field(default_factory=list)
    order_lines: list[dict] = dataclasses.field(default_factory=list)
    payments: list[dict] = dataclasses.field(default_factory=list)
    events: list[dict] = dataclasses.field(default_factory=list)
    """Web events with their ``received_at``; only those received by ``as_of``."""


class Marketplace:
    """The marketplace's history for one :class:`SimulationConfig`, queried at any instant."""

    def __init__(self, config: SimulationConfig, start_date: dt.date):
        self.config = config
        self.seed = config.seed
        self.start_date = start_date
        self.base_customers = max(20, round(config.orders_per_day * 5))

    # ---- counts and id offsets -------------------------------------------------------
    @functools.cache  # noqa: B019 - one instance per simulation run
    def counts(self, day: dt.date) -> DayCounts:
        rng = _rng(self.seed, "counts", day)
        weekday_factor = (1.0, 0.95, 0.95, 1.0, 1.1, 1.35, 1.25)[day.weekday()]
        mean_orders = self.config.orders_per_day * weekday_factor
        orders = max(0, round(rng.gauss(mean_orders, mean_orders * 0.08)))
        new_customers = max(0, round(rng.gauss(orders * 0.35, orders * 0.05)))
        sessions = max(0, round(orders * rng.uniform(6.0, 8.0)))
        return DayCounts(new_customers, orders, sessions)

    def first_ids(self, day: dt.date) -> tuple[int, int]:
        """(first customer id, first order id) created on ``day``."""
        customer, order = self.base_customers + 1, 1
        for earlier in iter_days(self.start_date, day - dt.timedelta(days=1)):
            counts = self.counts(earlier)
            customer, order = customer + counts.new_customers, order + counts.orders
        return customer, order

    # ---- slowly changing dimensions --------------------------------------------------
    @functools.cached_property
    def merchant_count(self) -> int:
        return max(5, round(20 * self.config.scale**0.5))

    def merchants(self, as_of_ms: int) -> list[dict]:
        rows = []
        start_ms = day_start_ms(self.start_date)
        for merchant_id in range(1, self.merchant_count + 1):
            rng = _rng(self.seed, "merchant", merchant_id)
            created = start_ms - rng.randint(30, 900) * DAY_MS + rng.randint(0, DAY_MS - 1)
            row = {
                "merchant_id": merchant_id,
                "merchant_name": f"{rng.choice(LAST_NAMES)} {rng.choice(('Bricolage', 'Jardin', 'Outillage', 'Home', 'Pro'))} {merchant_id}",
                "country_code": rng.choice(COUNTRIES),
                "main_category": self._main_category(merchant_id),
                "commission_rate": round(rng.uniform(0.08, 0.2), 3),
                "status": "active",
                "created_at": iso_ms(created),
                "updated_at": iso_ms(created),
            }
            change_at = start_ms + rng.randint(0, 60) * DAY_MS + rng.randint(0, DAY_MS - 1)
            if rng.random() < 0.3 and change_at <= as_of_ms:
                row["commission_rate"] = round(row["commission_rate"] + 0.01, 3)
                row["updated_at"] = iso_ms(change_at)
            rows.append(row)
        if self.config.dirt.duplicate_primary_key and rows:
            # The back-office table has no primary key constraint: a merchant exported twice.
            duplicate = dict(rows[0], merchant_name=rows[0]["merchant_name"] + " (copy)")
            rows.append(duplicate)
        return rows

    def _main_category(self, merchant_id: int) -> str:
        return _rng(self.seed, "merchant_category", merchant_id).choice(CATEGORIES)

    @functools.cached_property
    def _product_catalog(self) -> list[dict]:
        products = []
        product_id = 0
        start_ms = day_start_ms(self.start_date)
        for merchant_id in range(1, self.merchant_count + 1):
            rng = _rng(self.seed, "products", merchant_id)
            main_category = self._main_category(merchant_id)
            for _ in range(rng.randint(12, 36)):
                product_id += 1
                category = rng.choice(CATEGORIES) if rng.random() < 0.3 else main_category
                created = start_ms - rng.randint(1, 400) * DAY_MS + rng.randint(0, DAY_MS - 1)
                price = round(rng.lognormvariate(3.3, 0.8), 2)
                products.append(
                    {
                        "product_id": product_id,
                        "merchant_id": merchant_id,
                        "sku": f"SKU-{merchant_id:04d}-{product_id:06d}",
                        "product_name": f"{rng.choice(PRODUCT_WORDS[category])} {rng.choice(('Pro', 'Eco', 'XL', 'Compact', 'Classic'))}",
                        "category": category,
                        "price_eur": price,
                        "weight_kg": round(rng.uniform(0.1, 40.0), 2),
                        "is_active": True,
                        "created_at": iso_ms(created),
                        "updated_at": iso_ms(created),
                        "_price_change_at": start_ms + rng.randint(0, 60) * DAY_MS + rng.randint(0, DAY_MS - 1)
                        if rng.random() < 0.2
                        else None,
                        "_new_price": round(price * rng.uniform(0.8, 1.15), 2),
                    }
                )
        return products

    def products(self, as_of_ms: int) -> list[dict]:
        rows = []
        for product in self._product_catalog:
            row = {k: v for k, v in product.items() if not k.startswith("_")}
            change_at = product["_price_change_at"]
            if change_at is not None and change_at <= as_of_ms:
                row["price_eur"] = product["_new_price"]
                row["updated_at"] = iso_ms(change_at)
            rows.append(row)
        return rows

    @functools.cached_property
    def _products_by_merchant(self) -> dict[int, list[dict]]:
        by_merchant: dict[int, list[dict]] = {}
        for product in self._product_catalog:
            by_merchant.setdefault(product["merchant_id"], []).append(product)
        return by_merchant

    def base_customer_rows(self) -> list[dict]:
        rng = _rng(self.seed, "base_customers", 0)
        start_ms = day_start_ms(self.start_date)
        return [
            self._customer(rng, customer_id, start_ms - rng.randint(1, 700) * DAY_MS - rng.randint(0, DAY_MS))
            for customer_id in range(1, self.base_customers + 1)
        ]

    def _customer(self, rng: random.Random, customer_id: int, created_ms: int) -> dict:
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        email = f"{first}.{last}.{customer_id}@example.com".lower()
        if rng.random() < self.config.dirt.null_violation_rate:
            email = None
        return {
            "customer_id": customer_id,
            "email": email,
            "phone": f"+3{rng.randint(3, 9)}6{rng.randint(10_000_000, 99_999_999)}",
            "first_name": first,
            "last_name": last,
            "country_code": rng.choice(COUNTRIES),
            "marketing_opt_in": rng.random() < 0.4,
            "created_at": iso_ms(created_ms),
            "updated_at": iso_ms(created_ms),
        }

    # ---- daily facts -----------------------------------------------------------------
    def day(self, day: dt.date, as_of_ms: int, *, browsing: bool = True) -> Batch:
        """Everything created on ``day``, as it stands at ``as_of_ms``. Without ``browsing``, the
        visits that buy nothing are left out: most of the day's events, and the last thing the
        day's random stream draws, so every row before them is the same."""
        batch = Batch()
        counts = self.counts(day)
        first_customer, first_order = self.first_ids(day)
        day_ms = day_start_ms(day)
        rng = _rng(self.seed, "day", day)
        dirt = self.config.dirt

        new_customers = []
        for i in range(counts.new_customers):
            created = day_ms + rng.randint(0, DAY_MS - 1)
            customer = self._customer(rng, first_customer + i, created)
            if rng.random() < 0.15:  # changes their marketing consent within weeks
                change = created + rng.randint(1, 20) * DAY_MS
                if change <= as_of_ms:
                    customer["marketing_opt_in"] = not customer["marketing_opt_in"]
                    customer["updated_at"] = iso_ms(change)
            new_customers.append((created, customer))
            if created <= as_of_ms:
                batch.customers.append(customer)

        channels = list(CAMPAIGNS)
        for n in range(counts.orders):
            order_id = first_order + n
            if new_customers and rng.random() < 0.45:
                created_customer, customer = rng.choice(new_customers)
                placed = min(created_customer + rng.randint(2, 90) * MINUTE_MS, day_ms + DAY_MS - 1)
                customer_id = customer["customer_id"]
            else:
                placed = day_ms + rng.randint(0, DAY_MS - 1)
                customer_id = rng.randint(1, first_customer - 1)
            merchant_id = min(self.merchant_count, int(rng.paretovariate(1.2)))
            channel = rng.choice(channels) if rng.random() < 0.55 else rng.choice(("organic", "direct"))
            platform = rng.choices(PLATFORMS, (0.6, 0.25, 0.15))[0]
            lines, items_total = self._order_lines(rng, order_id, merchant_id, placed)
            order, payment = self._order_lifecycle(rng, order_id, customer_id, merchant_id, placed, items_total, platform)
            self._session_events(batch, rng, day_ms, placed, as_of_ms, customer_id, platform, channel, lines, order_id, items_total)
            lost_customer = rng.random() < dirt.null_violation_rate  # drawn before the skip: same stream whatever as_of
            if placed > as_of_ms:
                continue
            order = self._as_of(order, as_of_ms)
            if lost_customer:
                order["customer_id"] = None
            batch.orders.append(order)
            batch.order_lines.extend(lines)
            payment = self._as_of(payment, as_of_ms)
            if payment["status"] is not None:  # a payment exists once authorized, seconds after its order
                batch.payments.append(payment)

        for _ in range(counts.browsing_sessions if browsing else 0):
            start = day_ms + rng.randint(0, DAY_MS - 1)
            platform = rng.choices(PLATFORMS, (0.6, 0.25, 0.15))[0]
            channel = rng.choice(channels) if rng.random() < 0.5 else rng.choice(("organic", "direct"))
            customer_id = rng.randint(1, first_customer - 1) if rng.random() < 0.3 else None
            self._session_events(batch, rng, day_ms, start, as_of_ms, customer_id, platform, channel, None, None, None)
        return batch

    def _order_lines(self, rng: random.Random, order_id: int, merchant_id: int, placed: int) -> tuple[list[dict], float]:
        catalog = self._products_by_merchant[merchant_id]
        lines, total = [], 0.0
        for line_no in range(1, rng.choices((1, 2, 3, 4), (0.5, 0.3, 0.15, 0.05))[0] + 1):
            product = rng.choice(catalog)
            quantity = rng.choices((1, 2, 3, 5), (0.7, 0.2, 0.07, 0.03))[0]
            discount = round(product["price_eur"] * quantity * 0.1, 2) if rng.random() < 0.1 else 0.0
            total += product["price_eur"] * quantity - discount
            lines.append(
                {
                    "order_line_id": order_id * 10 + line_no,
                    "order_id": order_id,
                    "product_id": product["product_id"],
                    "quantity": quantity,
                    "unit_price_eur": product["price_eur"],
                    "discount_eur": discount,
                    "created_at": iso_ms(placed),
                    "updated_at": iso_ms(placed),
                }
            )
        return lines, round(total, 2)

    def _order_lifecycle(
        self, rng: random.Random, order_id: int, customer_id: int, merchant_id: int, placed: int, total: float, platform: str
    ) -> tuple[dict, dict]:
        """An order and its payment with every future state change, resolved later by :meth:`_as_of`."""
        order_steps = [(placed, {"status": "placed"})]
        payment_steps = [(placed + rng.randint(5, 90) * 1000, {"status": "authorized", "settled_at": None})]
        fate = rng.random()
        if fate < 0.03:  # payment declined
            payment_steps.append((payment_steps[0][0] + rng.randint(1, 5) * 1000, {"status": "failed"}))
            order_steps.append((payment_steps[-1][0] + 1000, {"status": "cancelled"}))
        elif fate < 0.08:  # customer cancels before shipping
            cancelled = placed + rng.randint(1, 20) * HOUR_MS
            order_steps.append((cancelled, {"status": "cancelled"}))
            payment_steps.append((cancelled + MINUTE_MS, {"status": "voided"}))
        else:
            paid = placed + rng.randint(1, 30) * MINUTE_MS
            shipped = placed + rng.randint(20, 72) * HOUR_MS
            delivered = shipped + rng.randint(24, 120) * HOUR_MS
            settled = paid + rng.randint(24, 48) * HOUR_MS
            order_steps += [(paid, {"status": "paid"}), (shipped, {"status": "shipped"}), (delivered, {"status": "delivered"})]
            payment_steps.append((settled, {"status": "settled", "settled_at": iso_ms(settled)}))
            if rng.random() < 0.05:
                refunded = delivered + rng.randint(2, 10) * DAY_MS
                order_steps.append((refunded, {"status": "refunded"}))
                payment_steps.append((refunded + HOUR_MS, {"status": "refunded"}))
        order = {
            "order_id": order_id,
            "customer_id": customer_id,
            "merchant_id": merchant_id,
            "status": None,
            "platform": platform,
            "currency": "EUR",
            "items_total_eur": total,
            "shipping_fee_eur": 0.0 if total >= 50 else round(rng.choice((4.99, 6.99, 9.99)), 2),
            "created_at": iso_ms(placed),
            "updated_at": None,
            "_steps": order_steps,
        }
        payment = {
            "payment_id": order_id,
            "order_id": order_id,
            "payment_method": rng.choices(PAYMENT_METHODS, (0.6, 0.2, 0.12, 0.08))[0],
            "amount_eur": round(total + order["shipping_fee_eur"], 2),
            "status": None,
            "settled_at": None,
            "created_at": iso_ms(payment_steps[0][0]),
            "updated_at": None,
            "_steps": payment_steps,
        }
        return order, payment

    @staticmethod
    def _as_of(entity: dict, as_of_ms: int) -> dict:
        row = {k: v for k, v in entity.items() if k != "_steps"}
        for at, changes in entity["_steps"]:
            if at > as_of_ms:
                break
            row.update(changes)
            row["updated_at"] = iso_ms(at)
        return row

    def _session_events(
        self,
        batch: Batch,
        rng: random.Random,
        day_ms: int,
        start: int,
        as_of_ms: int,
        customer_id: int | None,
        platform: str,
        channel: str,
        lines: list[dict] | None,
        order_id: int | None,
        value: float | None,
    ) -> None:
        """Events of one visit. A visit with ``lines`` converts; others drop out of the funnel."""
        session_id = _uuid(rng)
        anonymous_id = _uuid(rng)
        t = max(day_ms, start - rng.randint(3, 25) * MINUTE_MS) if lines else start
        if channel in UTM:
            source, medium = UTM[channel]
            campaign = rng.choice(CAMPAIGNS[channel])[0]
            landing = {
                "url": f"/c/{rng.choice(CATEGORIES)}",
                "referrer": source,
                "utm_source": source,
                "utm_medium": medium,
                "utm_campaign": campaign,
            }
        else:
            landing = {
                "url": "/",
                "referrer": "google" if channel == "organic" else None,
                "utm_source": None,
                "utm_medium": channel,
                "utm_campaign": None,
            }
        steps: list[tuple[str, dict]] = [("page_view", landing)]
        if lines:
            for line in lines:
                steps.append(("product_view", {"product_id": line["product_id"], "price_eur": line["unit_price_eur"]}))
                steps.append(
                    ("add_to_cart", {"product_id": line["product_id"], "quantity": line["quantity"], "price_eur": line["unit_price_eur"]})
                )
            steps.append(("begin_checkout", {"cart_value_eur": value, "items": len(lines)}))
            steps.append(("purchase", {"order_id": order_id, "value_eur": value}))
        else:
            depth = rng.random()
            product_id = rng.randint(1, len(self._product_catalog))
            if depth < 0.7:
                steps.append(("product_view", {"product_id": product_id, "price_eur": None}))
            if depth < 0.25:
                steps.append(("add_to_cart", {"product_id": product_id, "quantity": 1, "price_eur": None}))
            if depth < 0.08:
                steps.append(("begin_checkout", {"cart_value_eur": None, "items": 1}))
        dirt = self.config.dirt
        for event_type, payload in steps:
            t += rng.randint(5, 120) * 1000
            received = t + rng.randint(50, 3000)
            if rng.random() < dirt.late_event_rate:
                received = t + rng.randint(2 * HOUR_MS, MAX_EVENT_DELAY_DAYS * DAY_MS - HOUR_MS)
            body = orjson.dumps(payload).decode()
            if rng.random() < dirt.malformed_json_rate:
                body = body[: len(body) // 2]
            event = {
                "event_id": _uuid(rng),
                "event_type": event_type,
                "event_timestamp": iso_ms(t),
                "received_at": iso_ms(received),
                "session_id": session_id,
                "anonymous_id": anonymous_id,
                "customer_id": customer_id,
                "platform": platform,
                "payload": body,
            }
            deliveries = [event]
            if rng.random() < dirt.duplicate_delivery_rate:
                deliveries.append(dict(event, received_at=iso_ms(received + rng.randint(1, 600) * 1000)))
            batch.events.extend(e for e in deliveries if e["received_at"] <= iso_ms(as_of_ms))

    # ---- marketing -------------------------------------------------------------------
    def spend_report(self, report_date: dt.date) -> list[dict]:
        """The ad platforms' report issued at 03:00 UTC on ``report_date``: the last three days, restated."""
        rows = []
        reported_at = iso_ms(day_start_ms(report_date) + 3 * HOUR_MS)
        for back in (3, 2, 1):
            spend_day = report_date - dt.timedelta(days=back)
            if spend_day < self.start_date:
                continue
            restatement = _rng(self.seed, f"restate{back}", report_date)
            for channel, campaigns in CAMPAIGNS.items():
                for campaign_id, campaign_name in campaigns:
                    rng = _rng(self.seed, f"spend:{campaign_id}", spend_day)
                    spend = rng.uniform(0.5, 3.0) * self.config.orders_per_day * (0.6 if channel == "affiliate" else 1.0)
                    spend *= 1 + restatement.uniform(-0.02, 0.02) * (back - 1)
                    impressions = int(spend * rng.uniform(80, 200))
                    rows.append(
                        {
                            "spend_date": spend_day.isoformat(),
                            "channel": channel,
                            "campaign_id": campaign_id,
                            "campaign_name": campaign_name,
                            "impressions": impressions,
                            "clicks": int(impressions * rng.uniform(0.01, 0.04)),
                            "spend_eur": round(spend, 2),
                            "currency": "EUR",
                            "reported_at": reported_at,
                        }
                    )
        return rows


def iter_days(first: dt.date, last: dt.date) -> Iterator[dt.date]:
    day = first
    while day <= last:
        yield day
        day += dt.timedelta(days=1)
