"""The repeat-purchase model's customer features: a Python consumer of the dbt models.

Computed in the warehouse (one ``create or replace table ... as select``), so it scales with
the warehouse, not with this process. It sits downstream of the dbt models and, through them,
of the Airbyte streams: when a blocking check upstream fails (a broken data contract, a
duplicate key), this asset is skipped in that run like any dbt model, and the last good
feature table stays in place for the training job.
"""

import dagster as dg

from data_platform.environment import Settings
from data_platform.ingestion.assets import WAREHOUSE_POOL
from data_platform.quality.warehouse_sql import execute, fetch_all, query_tag

CUSTOMER_FEATURES_KEY = dg.AssetKey(["ml", "customer_features"])
UPSTREAM = (
    dg.AssetKey(["trusted", "fct_orders"]),
    dg.AssetKey(["trusted", "dim_customers"]),
    dg.AssetKey(["marts", "mart_customer_cohorts"]),
)
FEATURES_SQL = """
with orders as (
    select customer_id, order_date, order_total_eur
    from {analytics}trusted.fct_orders
    where counts_toward_gmv
),

per_customer as (
    select
        customer_id,
        count(*) as orders_count,
        sum(order_total_eur) as lifetime_value_eur,
        min(order_date) as first_order_date,
        max(order_date) as last_order_date
    from orders
    group by customer_id
)

select
    c.customer_id,
    c.country_code,
    c.marketing_opt_in,
    coalesce(p.orders_count, 0) as orders_count,
    coalesce(p.lifetime_value_eur, 0) as lifetime_value_eur,
    p.first_order_date,
    p.last_order_date,
    cohorts.repeat_rate as cohort_repeat_rate,
    coalesce(p.orders_count, 0) >= 2 as is_repeat_customer
from {analytics}trusted.dim_customers c
left join per_customer p on p.customer_id = c.customer_id
left join {analytics}marts.mart_customer_cohorts cohorts
    on cohorts.cohort_month = date_trunc('month', p.first_order_date)
"""


def customer_features_asset(settings: Settings) -> dg.AssetsDefinition:
    analytics = "" if settings.is_local else f"{settings.get('SNOWFLAKE_ANALYTICS_DATABASE', 'ANALYTICS')}."
    table = f"{analytics}ml.customer_features"

    @dg.asset(
        key=CUSTOMER_FEATURES_KEY,
        deps=list(UPSTREAM),
        group_name="ml",
        kinds={"python", settings.warehouse_kind},
        owners=["data-science@marketplace.example"],
        pool=WAREHOUSE_POOL,
        required_resource_keys={"warehouse"},
        description="Customer features of the repeat-purchase model (one row per customer), rebuilt in the warehouse from the trusted models.",
        metadata={"dagster/table_name": table},
    )
    def customer_features(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        warehouse = context.resources.warehouse
        with query_tag(asset=CUSTOMER_FEATURES_KEY.to_user_string(), team="data-science"):
            execute(
                warehouse,
                [
                    f"create schema if not exists {analytics}ml",
                    f"create or replace table {table} as {FEATURES_SQL.format(analytics=analytics)}",
                ],
            )
            ((rows, repeaters),) = fetch_all(
                warehouse, f"select count(*), sum(case when is_repeat_customer then 1 else 0 end) from {table}"
            )
        return dg.MaterializeResult(metadata={"dagster/row_count": int(rows), "repeat_customers": int(repeaters or 0)})

    return customer_features
