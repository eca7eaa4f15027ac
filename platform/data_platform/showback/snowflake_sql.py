"""Cost per team per day on Snowflake, computed in Snowflake from ``SNOWFLAKE.ACCOUNT_USAGE``.

What Snowflake bills for a warehouse is what it meters per hour (``WAREHOUSE_METERING_HISTORY``:
``CREDITS_USED_COMPUTE``, idle time included), plus cloud services above 10 % of the day's
compute (``METERING_DAILY_HISTORY``: used + adjustment). Dagster+'s estimate (execution time x a
credits-per-hour table) ignores idle time, concurrency and cloud services; dbt-snowflake-monitoring's
``cost_per_query`` spreads each hour's metered credits over that hour's queries but drops hours
in which no query ran. Here, for one UTC day:

1. each query (``QUERY_HISTORY``, team from its query tag, ``unattributed`` without one) is cut
   into the metered hours it overlaps, by wall time;
2. its weight in an hour is its attributed compute credits (``QUERY_ATTRIBUTION_HISTORY``) for
   that piece, or, where attribution is missing (very short queries, hours of latency), its
   execution time at the credits-per-millisecond of the hour's attributed queries (execution time
   alone when the hour has none);
3. each hour's metered credits are split over the teams by weight: idle time within the hour goes
   the same way (``idle_credits`` is the part of a team's share beyond its attributed credits);
4. an hour metered with no query in it is the warehouse owner's idle cost, never dropped;
5. the day's billed cloud services are split over the teams by their queries' cloud services credits.

So the day's credits add up to the bill: metered compute + billed cloud services.
"""

from __future__ import annotations

from collections.abc import Mapping

from data_platform.showback.table import UNATTRIBUTED
from data_platform.warehouse.sql import literal

USAGE = "snowflake.account_usage"
ORGANIZATION_USAGE = "snowflake.organization_usage"


def owners_values(owners: Mapping[str, str]) -> str:
    rows = [f"({literal(w.upper())}, {literal(t)})" for w, t in sorted(owners.items())] or [f"('', {literal(UNATTRIBUTED)})"]
    return ", ".join(rows)


def cost_per_team_sql(
    day: str, price_per_credit: float, currency: str, warehouse_owners: Mapping[str, str], rate_sheet_account: str | None = None
) -> str:
    """One row per team for ``day`` (``YYYY-MM-DD``, UTC), in the columns of ``table.COLUMNS``.
    ``rate_sheet_account``: price the day's credits at the account's contracted rates
    (``ORGANIZATION_USAGE.RATE_SHEET_DAILY``: compute and cloud services, in the sheet's currency)
    instead of ``price_per_credit``; a day the sheet has no rate for keeps the configured price."""
    # ACCOUNT_USAGE times are TIMESTAMP_LTZ: compared in UTC whatever the session's time zone
    price, configured = repr(float(price_per_credit)), literal(currency)
    if rate_sheet_account:
        sheet = (
            f"from {ORGANIZATION_USAGE}.rate_sheet_daily where date = to_date({literal(day)}) "
            f"and account_locator = {literal(rate_sheet_account.upper())} and service_type = 'WAREHOUSE_METERING'"
        )
        rate_select = (
            f"coalesce((select max(effective_rate) {sheet} and usage_type = 'compute'), {price}) as compute_rate, "
            f"coalesce((select max(effective_rate) {sheet} and usage_type = 'cloud services'), "
            f"(select max(effective_rate) {sheet} and usage_type = 'compute'), {price}) as cloud_services_rate, "
            f"coalesce((select max(currency) {sheet}), {configured}) as currency"
        )
    else:
        rate_select = f"{price} as compute_rate, {price} as cloud_services_rate, {configured} as currency"
    start = f"to_timestamp_ntz({literal(day)})"
    end = f"dateadd('day', 1, {start})"
    return f"""
with metered_hours as (
    select warehouse_name, convert_timezone('UTC', start_time)::timestamp_ntz as hour_start, convert_timezone('UTC', end_time)::timestamp_ntz as hour_end,
           credits_used_compute as metered
    from {USAGE}.warehouse_metering_history
    where convert_timezone('UTC', start_time)::timestamp_ntz >= {start} and convert_timezone('UTC', start_time)::timestamp_ntz < {end}
),

queries as (
    select q.query_id, q.warehouse_name,
           convert_timezone('UTC', q.start_time)::timestamp_ntz as started,
           greatest(convert_timezone('UTC', q.end_time)::timestamp_ntz, dateadd('millisecond', 1, convert_timezone('UTC', q.start_time)::timestamp_ntz)) as ended,
           q.execution_time,
           coalesce(nullif(try_parse_json(q.query_tag):team::varchar, ''), {literal(UNATTRIBUTED)}) as team,
           a.credits_attributed_compute as attributed
    from {USAGE}.query_history q
    left join {USAGE}.query_attribution_history a on a.query_id = q.query_id
    where q.warehouse_name is not null
      and convert_timezone('UTC', q.start_time)::timestamp_ntz < {end}
      and convert_timezone('UTC', q.end_time)::timestamp_ntz >= dateadd('hour', -1, {start})
),

pieces as (
    select h.warehouse_name, h.hour_start, h.metered, q.team, q.query_id, q.attributed, q.execution_time,
           timestampdiff('millisecond', greatest(q.started, h.hour_start), least(q.ended, h.hour_end))
               / timestampdiff('millisecond', q.started, q.ended) as fraction
    from metered_hours h
    join queries q on q.warehouse_name = h.warehouse_name and q.started < h.hour_end and q.ended > h.hour_start
),

hour_rates as (
    select warehouse_name, hour_start,
           sum(attributed * fraction) / nullif(sum(iff(attributed is null, null, execution_time * fraction)), 0) as credits_per_ms,
           sum(attributed * fraction) as attributed_credits
    from pieces
    group by warehouse_name, hour_start
),

weighted as (
    select p.warehouse_name, p.hour_start, p.metered, p.team, p.query_id, r.attributed_credits,
           coalesce(p.attributed * p.fraction, p.execution_time * p.fraction * r.credits_per_ms, p.execution_time * p.fraction) as weight,
           r.credits_per_ms is not null as weight_in_credits
    from pieces p
    join hour_rates r on r.warehouse_name = p.warehouse_name and r.hour_start = p.hour_start
),

hour_teams as (
    select warehouse_name, hour_start, team, any_value(metered) as metered,
           sum(weight) as weight, bool_and(weight_in_credits) as weight_in_credits
    from weighted
    group by warehouse_name, hour_start, team
),

shared_hours as (
    select team,
           metered * iff(sum(weight) over (partition by warehouse_name, hour_start) > 0,
                         weight / sum(weight) over (partition by warehouse_name, hour_start),
                         1.0 / count(*) over (partition by warehouse_name, hour_start)) as compute_credits,
           iff(weight_in_credits, greatest(compute_credits - weight, 0), 0) as idle_credits
    from hour_teams
),

idle_hours as (
    select coalesce(o.team, {literal(UNATTRIBUTED)}) as team, h.metered as compute_credits, h.metered as idle_credits
    from metered_hours h
    left join (values {owners_values(warehouse_owners)}) as o (warehouse_name, team) on o.warehouse_name = upper(h.warehouse_name)
    where not exists (select 1 from pieces p where p.warehouse_name = h.warehouse_name and p.hour_start = h.hour_start)
),

cloud_services_billed as (
    select coalesce(sum(credits_used_cloud_services + credits_adjustment_cloud_services), 0) as billed
    from {USAGE}.metering_daily_history
    where usage_date = to_date({literal(day)})
),

cloud_services_used as (
    select coalesce(nullif(try_parse_json(query_tag):team::varchar, ''), {literal(UNATTRIBUTED)}) as team,
           sum(credits_used_cloud_services) as used
    from {USAGE}.query_history
    where convert_timezone('UTC', start_time)::timestamp_ntz >= {start} and convert_timezone('UTC', start_time)::timestamp_ntz < {end}
    group by 1
),

cloud_services as (
    select coalesce(u.team, {literal(UNATTRIBUTED)}) as team,
           b.billed * coalesce(u.used / nullif(sum(u.used) over (), 0), 1) as cloud_services_credits
    from cloud_services_billed b
    left join cloud_services_used u on u.used > 0
    where b.billed > 0
),

rates as (
    select {rate_select}
),

queries_started as (
    select team, count(distinct query_id) as queries from queries where started >= {start} group by team
),

by_team as (
    select team, compute_credits, idle_credits, 0 as cloud_services_credits from shared_hours
    union all
    select team, compute_credits, idle_credits, 0 from idle_hours
    union all
    select team, 0, 0, cloud_services_credits from cloud_services
)

select to_date({literal(day)}) as usage_date, team,
       sum(compute_credits) as compute_credits,
       sum(idle_credits) as idle_credits,
       sum(cloud_services_credits) as cloud_services_credits,
       sum(compute_credits) + sum(cloud_services_credits) as credits,
       sum(compute_credits) * any_value(rates.compute_rate) + sum(cloud_services_credits) * any_value(rates.cloud_services_rate) as cost,
       any_value(rates.currency) as currency,
       coalesce(max(q.queries), 0) as queries,
       'metered' as method
from by_team
left join queries_started q using (team)
cross join rates
group by team
order by team
"""
