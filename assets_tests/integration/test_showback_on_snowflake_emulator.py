"""Cost per team on Snowflake, on the emulator: a week of ``SNOWFLAKE.ACCOUNT_USAGE`` under
Snowflake's real column names (three warehouses, concurrent queries, queries across hour
boundaries, queries attribution has not reached, untagged statements, idle-only hours, cloud
services above and below the 10 % allowance) is seeded; the showback asset computes the week in
one run, in the warehouse; the test computes the allocation again here, in plain Python, from
the same rows, and the two must agree."""

from __future__ import annotations

import collections
import datetime as dt
import json
import random

import dagster as dg
import pytest

from data_platform.platform_location import build_platform_definitions
from data_platform.settings import resolve_settings
from data_platform.showback.assets import CHECK, JOB
from data_platform.showback.snowflake_sql import cost_per_team_sql
from data_platform.transformation.partitions import range_tags

from ..support.environments import PROD_ENV
from ..support.snowflake_emulator import snowflake_emulator, snowflake_env

pytestmark = pytest.mark.integration

FIRST, DAYS = dt.datetime(2026, 11, 2), 7
PRICE = 2.5
OWNERS = {"TRANSFORMING": "analytics", "LOADING": "data-platform"}  # REPORTING's owner unknown
TEAMS = ("commerce", "growth", "marketing")
IDLE_ONLY = [("LOADING", FIRST + dt.timedelta(days=2, hours=5)), ("REPORTING", FIRST + dt.timedelta(days=4, hours=3))]
HOUR = dt.timedelta(hours=1)


def week_of_usage(seed: int = 7):
    """(queries, attribution, metered hours, daily metering): rows as ACCOUNT_USAGE holds them."""
    rng = random.Random(seed)
    queries, attribution = [], {}
    n = 0
    for day in range(DAYS):
        for hour in range(24):
            start_of_hour = FIRST + dt.timedelta(days=day, hours=hour)
            for warehouse in ("TRANSFORMING", "LOADING", "REPORTING"):
                if any(w == warehouse and abs((start_of_hour - h).total_seconds()) < 2 * 3600 for w, h in IDLE_ONLY):
                    continue
                if rng.random() < 0.35:
                    continue
                for _ in range(rng.randint(1, 4)):  # concurrent queries on one warehouse
                    n += 1
                    started = start_of_hour + dt.timedelta(seconds=rng.randint(0, 3500))
                    wall = dt.timedelta(seconds=rng.choice([0.2, 3, 40, 600, 1500, 2400]))
                    ended = min(started + wall, FIRST + dt.timedelta(days=DAYS) - dt.timedelta(seconds=1))
                    execution_ms = int((ended - started).total_seconds() * 1000 * rng.uniform(0.6, 1.0))
                    roll = rng.random()
                    if roll < 0.03:
                        tag = rng.choice(["", "not json", json.dumps({"app": "metabase"})])  # untagged: unattributed
                    else:
                        tag = json.dumps({"app": "dbt", "team": rng.choice(TEAMS), "model": f"m{n % 9}"})
                    query_id = f"01b2-{n:06d}"
                    queries.append(
                        dict(
                            QUERY_ID=query_id,
                            QUERY_TAG=tag,
                            WAREHOUSE_NAME=warehouse,
                            START_TIME=started,
                            END_TIME=ended,
                            EXECUTION_TIME=execution_ms,
                            CREDITS_USED_CLOUD_SERVICES=round(rng.uniform(0, 0.002), 6),
                        )
                    )
                    if execution_ms > 500 and rng.random() < 0.8:  # short queries, and some late rows, have none
                        attribution[query_id] = round(execution_ms / 3.6e6 * rng.uniform(0.8, 1.2), 9)
    metered = {}
    for q in queries:
        hour = q["START_TIME"].replace(minute=0, second=0, microsecond=0)
        while hour < q["END_TIME"]:
            metered[(q["WAREHOUSE_NAME"], hour)] = 0.0
            hour += HOUR
    for key in metered:
        metered[key] = round(rng.uniform(0.05, 1.0), 9)  # what the warehouse-hour billed, idle included
    for warehouse, hour in IDLE_ONLY:
        metered[(warehouse, hour)] = 0.4
    daily = []
    for day in range(DAYS):
        date = (FIRST + dt.timedelta(days=day)).date()
        compute = sum(v for (w, h), v in metered.items() if h.date() == date)
        used = sum(q["CREDITS_USED_CLOUD_SERVICES"] for q in queries if q["START_TIME"].date() == date)
        scale = (0.05 if day % 2 else 0.25) * compute / used  # below the 10 % allowance on odd days, above on even ones
        for q in queries:
            if q["START_TIME"].date() == date:
                q["CREDITS_USED_CLOUD_SERVICES"] *= scale
        used *= scale
        adjustment = -min(used, 0.1 * compute)
        daily.append(dict(SERVICE_TYPE="WAREHOUSE_METERING", USAGE_DATE=date, CREDITS_USED_COMPUTE=compute,
                          CREDITS_USED_CLOUD_SERVICES=used, CREDITS_USED=compute + used,
                          CREDITS_ADJUSTMENT_CLOUD_SERVICES=adjustment, CREDITS_BILLED=compute + used + adjustment))  # fmt: skip
    return queries, attribution, metered, daily


def team_of_tag(tag: str) -> str:
    try:
        return json.loads(tag).get("team") or "unattributed"
    except (ValueError, AttributeError):
        return "unattributed"


def expected_allocation(queries, attribution, metered, daily) -> dict[tuple[dt.date, str], dict[str, float]]:
    """The method, restated independently: each metered hour split over the teams of the queries
    running in it by attributed credits (execution time at the hour's rate where attribution is
    missing), idle-only hours to the warehouse's owner, billed cloud services by usage."""
    out: dict = collections.defaultdict(lambda: collections.defaultdict(float))
    for (warehouse, hour), credits in metered.items():
        day = hour.date()
        pieces = []
        for q in queries:
            if q["WAREHOUSE_NAME"] != warehouse:
                continue
            end = max(q["END_TIME"], q["START_TIME"] + dt.timedelta(milliseconds=1))
            overlap = (min(end, hour + HOUR) - max(q["START_TIME"], hour)).total_seconds()
            if overlap > 0:
                fraction = overlap / (end - q["START_TIME"]).total_seconds()
                pieces.append((team_of_tag(q["QUERY_TAG"]), fraction, q["EXECUTION_TIME"], attribution.get(q["QUERY_ID"])))
        if not pieces:
            team = OWNERS.get(warehouse, "unattributed")
            out[(day, team)]["compute_credits"] += credits
            out[(day, team)]["idle_credits"] += credits
            continue
        known = [(f, ms, a) for _, f, ms, a in pieces if a is not None]
        rate = sum(a * f for f, _, a in known) / sum(ms * f for f, ms, _ in known) if known else None
        weights: dict[str, float] = collections.defaultdict(float)
        for team, f, ms, a in pieces:
            weights[team] += a * f if a is not None else ms * f * (rate if rate is not None else 1.0)
        total = sum(weights.values())
        for team, w in weights.items():
            share = credits * w / total
            out[(day, team)]["compute_credits"] += share
            out[(day, team)]["idle_credits"] += max(share - w, 0.0) if rate is not None else 0.0
    for row in daily:
        billed = row["CREDITS_USED_CLOUD_SERVICES"] + row["CREDITS_ADJUSTMENT_CLOUD_SERVICES"]
        used = collections.defaultdict(float)
        for q in queries:
            if q["START_TIME"].date() == row["USAGE_DATE"]:
                used[team_of_tag(q["QUERY_TAG"])] += q["CREDITS_USED_CLOUD_SERVICES"]
        if billed > 0:
            for team, u in used.items():
                out[(row["USAGE_DATE"], team)]["cloud_services_credits"] += billed * u / sum(used.values())
    for q in queries:
        out[(q["START_TIME"].date(), team_of_tag(q["QUERY_TAG"]))]["queries"] += 1
    for figures in out.values():
        figures["credits"] = figures["compute_credits"] + figures["cloud_services_credits"]
        figures["cost"] = figures["credits"] * PRICE
    return out


def seed(connect: dict, queries, attribution, metered, daily) -> None:
    import snowflake.connector

    with snowflake.connector.connect(**connect) as conn:
        cur = conn.cursor()
        for statement in (
            "create database if not exists SNOWFLAKE",
            "create schema if not exists SNOWFLAKE.ACCOUNT_USAGE",
            "create database if not exists ANALYTICS",
            "create table SNOWFLAKE.ACCOUNT_USAGE.QUERY_HISTORY (QUERY_ID varchar, QUERY_TEXT varchar, QUERY_TAG varchar, "
            "USER_NAME varchar, WAREHOUSE_NAME varchar, START_TIME timestamp_ltz, END_TIME timestamp_ltz, "
            "TOTAL_ELAPSED_TIME number, EXECUTION_TIME number, CREDITS_USED_CLOUD_SERVICES float)",
            "create table SNOWFLAKE.ACCOUNT_USAGE.QUERY_ATTRIBUTION_HISTORY (QUERY_ID varchar, PARENT_QUERY_ID varchar, "
            "WAREHOUSE_ID number, WAREHOUSE_NAME varchar, QUERY_HASH varchar, QUERY_TAG varchar, USER_NAME varchar, "
            "START_TIME timestamp_ltz, END_TIME timestamp_ltz, CREDITS_ATTRIBUTED_COMPUTE float, CREDITS_USED_QUERY_ACCELERATION float)",
            "create table SNOWFLAKE.ACCOUNT_USAGE.WAREHOUSE_METERING_HISTORY (START_TIME timestamp_ltz, END_TIME timestamp_ltz, "
            "WAREHOUSE_ID number, WAREHOUSE_NAME varchar, CREDITS_USED float, CREDITS_USED_COMPUTE float, "
            "CREDITS_USED_CLOUD_SERVICES float, CREDITS_ATTRIBUTED_COMPUTE_QUERIES float)",
            "create schema if not exists SNOWFLAKE.ORGANIZATION_USAGE",
            "create table SNOWFLAKE.ORGANIZATION_USAGE.RATE_SHEET_DAILY (DATE date, ORGANIZATION_NAME varchar, CONTRACT_NUMBER number, "
            "ACCOUNT_NAME varchar, ACCOUNT_LOCATOR varchar, REGION varchar, SERVICE_LEVEL varchar, USAGE_TYPE varchar, CURRENCY varchar, "
            "EFFECTIVE_RATE float, SERVICE_TYPE varchar, IS_ADJUSTMENT boolean)",
            "create table SNOWFLAKE.ACCOUNT_USAGE.METERING_DAILY_HISTORY (SERVICE_TYPE varchar, ORGANIZATION_NAME varchar, "
            "USAGE_DATE date, CREDITS_USED_COMPUTE float, CREDITS_USED_CLOUD_SERVICES float, CREDITS_USED float, "
            "CREDITS_ADJUSTMENT_CLOUD_SERVICES float, CREDITS_BILLED float)",
        ):
            cur.execute(statement)

        def ltz(moment: dt.datetime) -> str:
            # ACCOUNT_USAGE shows times in the session's zone; seeded in another zone than UTC, to be converted
            return (moment + dt.timedelta(hours=1)).isoformat(sep=" ", timespec="milliseconds") + "+01:00"

        cur.executemany(
            "insert into SNOWFLAKE.ACCOUNT_USAGE.QUERY_HISTORY (QUERY_ID, QUERY_TEXT, QUERY_TAG, USER_NAME, WAREHOUSE_NAME, START_TIME, "
            "END_TIME, TOTAL_ELAPSED_TIME, EXECUTION_TIME, CREDITS_USED_CLOUD_SERVICES) values (%s, 'select 1', %s, 'DAGSTER', %s, %s, %s, %s, %s, %s)",
            [(q["QUERY_ID"], q["QUERY_TAG"], q["WAREHOUSE_NAME"], ltz(q["START_TIME"]), ltz(q["END_TIME"]),
              int((q["END_TIME"] - q["START_TIME"]).total_seconds() * 1000), q["EXECUTION_TIME"], q["CREDITS_USED_CLOUD_SERVICES"])
             for q in queries],
        )  # fmt: skip
        by_id = {q["QUERY_ID"]: q for q in queries}
        cur.executemany(
            "insert into SNOWFLAKE.ACCOUNT_USAGE.QUERY_ATTRIBUTION_HISTORY (QUERY_ID, WAREHOUSE_NAME, QUERY_TAG, START_TIME, END_TIME, "
            "CREDITS_ATTRIBUTED_COMPUTE) values (%s, %s, %s, %s, %s, %s)",
            [(i, by_id[i]["WAREHOUSE_NAME"], by_id[i]["QUERY_TAG"], ltz(by_id[i]["START_TIME"]), ltz(by_id[i]["END_TIME"]), c)
             for i, c in attribution.items()],
        )  # fmt: skip
        cur.executemany(
            "insert into SNOWFLAKE.ACCOUNT_USAGE.WAREHOUSE_METERING_HISTORY (START_TIME, END_TIME, WAREHOUSE_NAME, CREDITS_USED, "
            "CREDITS_USED_COMPUTE, CREDITS_USED_CLOUD_SERVICES) values (%s, %s, %s, %s, %s, 0)",
            [(ltz(h), ltz(h + HOUR), w, c, c) for (w, h), c in metered.items()],
        )
        cur.executemany(
            "insert into SNOWFLAKE.ACCOUNT_USAGE.METERING_DAILY_HISTORY (SERVICE_TYPE, USAGE_DATE, CREDITS_USED_COMPUTE, "
            "CREDITS_USED_CLOUD_SERVICES, CREDITS_USED, CREDITS_ADJUSTMENT_CLOUD_SERVICES, CREDITS_BILLED) values (%s, %s, %s, %s, %s, %s, %s)",
            [(r["SERVICE_TYPE"], r["USAGE_DATE"].isoformat(), r["CREDITS_USED_COMPUTE"], r["CREDITS_USED_CLOUD_SERVICES"],
              r["CREDITS_USED"], r["CREDITS_ADJUSTMENT_CLOUD_SERVICES"], r["CREDITS_BILLED"]) for r in daily],
        )  # fmt: skip


RATES = {day: {"compute": 2.0 if day < 4 else 2.2, "cloud services": 1.9} for day in range(DAYS - 1)}
"""The account's contracted rates per day (EUR); the last day has none: the configured price holds."""


def seed_rate_sheet(connect: dict) -> None:
    import snowflake.connector

    with snowflake.connector.connect(**connect) as conn:
        rows = [
            ((FIRST + dt.timedelta(days=day)).date().isoformat(), account, usage, rate)
            for day, rates in RATES.items()
            for usage, rate in rates.items()
            for account in ("FAKESNOW", "OTHERACCOUNT")  # another account of the organisation, another price
        ]
        conn.cursor().executemany(
            "insert into SNOWFLAKE.ORGANIZATION_USAGE.RATE_SHEET_DAILY (DATE, ACCOUNT_LOCATOR, USAGE_TYPE, CURRENCY, EFFECTIVE_RATE, "
            "SERVICE_TYPE) values (%s, %s, %s, 'EUR', %s, 'WAREHOUSE_METERING')",
            [(d, a, u, r if a == "FAKESNOW" else r * 10) for d, a, u, r in rows],
        )


@pytest.fixture(scope="module")
def showback_week(tmp_path_factory):
    usage = week_of_usage()
    empty = tmp_path_factory.mktemp("no_domains")
    with snowflake_emulator() as (connect, log), pytest.MonkeyPatch.context() as env:
        seed(connect, *usage)
        seed_rate_sheet(connect)
        variables = {
            **PROD_ENV,
            **snowflake_env(connect),
            "DATA_PLATFORM_DOMAINS_DIR": str(empty),
            "DATA_PLATFORM_PARTITIONS_START": FIRST.date().isoformat(),
            "DATA_PLATFORM_WAREHOUSE_OWNERS": ",".join(f"{w}={t}" for w, t in OWNERS.items()),
            "DATA_PLATFORM_CREDIT_PRICE": str(PRICE),
        }
        for name, value in variables.items():
            env.setenv(name, value)
        defs = build_platform_definitions(resolve_settings(variables))
        last = (FIRST + dt.timedelta(days=DAYS - 1)).date().isoformat()
        result = defs.resolve_job_def(JOB).execute_in_process(
            instance=dg.DagsterInstance.ephemeral(), tags=range_tags(FIRST.date().isoformat(), last), raise_on_error=False
        )
        import snowflake.connector

        with snowflake.connector.connect(**connect) as conn:
            cur = conn.cursor()
            cur.execute("select usage_date, team, compute_credits, idle_credits, cloud_services_credits, credits, cost, queries "
                        "from ANALYTICS.PLATFORM.COST_PER_TEAM_DAILY")  # fmt: skip
            rows = cur.fetchall()
            cur.execute("select fecha, equipo, coste from ANALYTICS.PRESENTATION.COSTE_POR_EQUIPO")
            spanish = cur.fetchall()
        statements = list(log.statements)  # the asset's, and the seeding's and reading's above; not the pricing below
        priced = {}
        for day in range(DAYS):
            date = (FIRST + dt.timedelta(days=day)).date().isoformat()
            with snowflake.connector.connect(**connect, database="ANALYTICS") as conn:  # a session with a database, as the platform's
                cur = conn.cursor()
                cur.execute(cost_per_team_sql(date, PRICE, "USD", OWNERS, rate_sheet_account="fakesnow"))
                priced[date] = cur.fetchall()
        yield usage, result, rows, spanish, statements, priced


def by_day_and_team(rows):
    names = ("compute_credits", "idle_credits", "cloud_services_credits", "credits", "cost", "queries")
    return {
        (d if isinstance(d, dt.date) else dt.date.fromisoformat(str(d)[:10]), t): dict(zip(names, map(float, v), strict=True))
        for d, t, *v in rows
    }


def test_the_week_is_computed_in_one_run_on_snowflake(showback_week):
    _, result, rows, *_ = showback_week
    assert result.success, [e.message for e in result.all_events if e.is_failure][:3]
    assert len(result.get_asset_materialization_events()) == DAYS, "one run, each day recorded"
    assert len({r[0] for r in rows}) == DAYS


def test_each_teams_allocation_equals_the_independent_computation(showback_week):
    usage, _, rows, *_ = showback_week
    expected = expected_allocation(*usage)
    actual = by_day_and_team(rows)
    assert set(actual) == set(expected)
    for key, figures in expected.items():
        for name in ("compute_credits", "idle_credits", "cloud_services_credits", "credits", "cost", "queries"):
            assert actual[key][name] == pytest.approx(figures.get(name, 0.0), abs=1e-6), (key, name)


def test_each_days_credits_add_up_to_the_bill_to_the_cent(showback_week):
    (_, _, metered, daily), _, rows, *_ = showback_week
    actual = by_day_and_team(rows)
    for row in daily:
        day = row["USAGE_DATE"]
        bill = (
            sum(c for (_, h), c in metered.items() if h.date() == day)
            + row["CREDITS_USED_CLOUD_SERVICES"]
            + row["CREDITS_ADJUSTMENT_CLOUD_SERVICES"]
        )
        assert sum(f["credits"] for (d, _), f in actual.items() if d == day) == pytest.approx(bill, abs=1e-9)
        assert abs(sum(f["cost"] for (d, _), f in actual.items() if d == day) - bill * PRICE) < 0.005


def test_cloud_services_are_billed_only_above_the_daily_allowance(showback_week):
    (_, _, _, daily), _, rows, *_ = showback_week
    actual = by_day_and_team(rows)
    for row in daily:
        billed = sum(f["cloud_services_credits"] for (d, _), f in actual.items() if d == row["USAGE_DATE"])
        above = row["CREDITS_USED_CLOUD_SERVICES"] > 0.1 * row["CREDITS_USED_COMPUTE"]
        assert (billed > 0) == above and billed == pytest.approx(row["CREDITS_BILLED"] - row["CREDITS_USED_COMPUTE"], abs=1e-9)


def test_at_least_95_percent_lands_on_a_named_team_and_the_rest_is_shown_unattributed(showback_week):
    _, result, rows, *_ = showback_week
    actual = by_day_and_team(rows)
    total = sum(f["credits"] for f in actual.values())
    unattributed = sum(f["credits"] for (_, t), f in actual.items() if t == "unattributed")
    assert unattributed > 0 and (total - unattributed) / total >= 0.95
    (check,) = result.get_asset_check_evaluations()
    assert check.check_name == CHECK and check.passed


def test_an_idle_only_hour_is_the_warehouse_owners_idle_cost_never_dropped(showback_week):
    (_, _, metered, _), _, rows, *_ = showback_week
    actual = by_day_and_team(rows)
    (loading, loading_hour), (reporting, reporting_hour) = IDLE_ONLY
    owner_day = actual[(loading_hour.date(), "data-platform")]
    assert owner_day["idle_credits"] >= metered[(loading, loading_hour)] == 0.4
    assert actual[(reporting_hour.date(), "unattributed")]["idle_credits"] >= metered[(reporting, reporting_hour)]


def test_the_spanish_view_for_metabase_shows_the_same_cost(showback_week):
    _, _, rows, spanish, *_ = showback_week
    assert sorted((str(d)[:10], t, round(float(c), 6)) for d, t, c in spanish) == sorted(
        (str(r[0])[:10], r[1], round(float(r[6]), 6)) for r in rows
    )


def test_the_showbacks_own_statements_are_tagged_to_the_platform_team(showback_week):
    *_, statements, _ = showback_week
    # the showback's reads of ACCOUNT_USAGE and its writes, not the seeding and reading of this test
    mine = [
        s
        for s in statements
        if ("cost_per_team_daily" in s.sql.lower() or s.sql.lstrip().lower().startswith("with metered_hours"))
        and not s.sql.startswith("select usage_date, team, compute_credits")
    ]
    assert len(mine) > DAYS
    assert [s.sql[:60] for s in mine if not s.query_tag or json.loads(s.query_tag).get("team") != "data-platform"] == []


def test_late_usage_rows_are_counted_when_the_rolling_schedule_recomputes_the_days():
    settings = resolve_settings({**PROD_ENV, "DATA_PLATFORM_PARTITIONS_START": "2026-11-01"})
    schedule = build_platform_definitions(settings).resolve_schedule_def("showback_daily")
    context = dg.build_schedule_context(scheduled_execution_time=dt.datetime(2026, 11, 9, 6, tzinfo=dt.UTC))
    (request,) = schedule.evaluate_tick(context).run_requests
    assert (request.tags["dagster/asset_partition_range_start"], request.tags["dagster/asset_partition_range_end"]) == (
        "2026-11-07",
        "2026-11-09",
    )


def test_the_accounts_rate_sheet_prices_each_day_at_its_contracted_rates(showback_week):
    """``DATA_PLATFORM_CREDIT_PRICE=rate_sheet``: compute and cloud services at this account's
    rates of the day (another account's ten-fold rates ignored), in the sheet's currency; a day
    without rates keeps the configured price."""
    *_, priced = showback_week
    usage = showback_week[0]
    expected = expected_allocation(*usage)
    for date, rows in priced.items():
        day = dt.date.fromisoformat(date)
        rates = RATES.get((day - FIRST.date()).days)
        for _, team, compute, _, cloud_services, _, cost, currency, *_ in rows:
            figures = expected[(day, team)]
            assert (compute, cloud_services) == (
                pytest.approx(figures["compute_credits"]),
                pytest.approx(figures.get("cloud_services_credits", 0.0)),
            )
            if rates:
                assert currency == "EUR" and cost == pytest.approx(compute * rates["compute"] + cloud_services * rates["cloud services"])
            else:
                assert currency == "USD" and cost == pytest.approx((compute + cloud_services) * PRICE)
