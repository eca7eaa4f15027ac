"""The repeat-purchase model's customer features: a Python consumer of the dbt models.

Computed in the warehouse (one ``create or replace table ... as select``), so it scales with
the warehouse, not with this process. It sits downstream of the dbt models and, through them,
of the Airbyte streams: when a blocking check upstream fails (a broken data contract, a
duplicate key), this asset is skipped in that run like any dbt model, and the last good
feature table stays in place for the training job.
"""

import dagster as dg

from data_platform.domains import Domain
from data_platform.settings import Settings
from data_platform.warehouse.sql import execute, fetch_all, query_tag

CUSTOMER_FEATURES_KEY = dg.AssetKey(["ml", "customer_features"])
UPSTREAM = (
    dg.AssetKey(["trusted", "fct_orders"]),
    dg.AssetKey(["trusted", "dim_customers"]),
    dg.AssetKey(["marts", "mart_customer_cohorts"]),
)
FEATURES_SQL = """
with orders as (
    select customer_id, order_date, order_total_eur
    from {fct_orders}
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
from {dim_customers} c
left join per_customer p on p.customer_id = c.customer_id
left join {cohorts} cohorts
    on cohorts.cohort_month = date_trunc('month', p.first_order_date)
"""


def customer_features(domain: Domain, settings: Settings) -> list[dg.AssetsDefinition]:
    """Named in ``domain.yaml`` (``consumers``): the platform calls it with the domain and the settings."""
    warehouse = settings.warehouse
    table = warehouse.analytics_table("ml", "customer_features")
    sql = FEATURES_SQL.format(
        fct_orders=warehouse.analytics_table("trusted", "fct_orders"),
        dim_customers=warehouse.analytics_table("trusted", "dim_customers"),
        cohorts=warehouse.analytics_table("marts", "mart_customer_cohorts"),
    )

    @dg.asset(
        key=CUSTOMER_FEATURES_KEY,
        deps=list(UPSTREAM),
        group_name="ml",
        kinds={"python", warehouse.kind},
        owners=["team:data-science", "data-science@marketplace.example"],
        tags={"domain": domain.name},
        pool=warehouse.pool,
        required_resource_keys={"warehouse"},
        description="Customer features of the repeat-purchase model (one row per customer), rebuilt in the warehouse from the trusted models.",
        metadata={"dagster/table_name": table},
    )
    def _customer_features(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        resource = context.resources.warehouse
        with query_tag(asset=CUSTOMER_FEATURES_KEY.to_user_string(), team="data-science"):
            execute(
                resource, [f"create schema if not exists {warehouse.analytics_schema('ml')}", f"create or replace table {table} as {sql}"]
            )
            ((rows, repeaters),) = fetch_all(resource, f"select count(*), sum(case when is_repeat_customer then 1 else 0 end) from {table}")
        return dg.MaterializeResult(metadata={"dagster/row_count": int(rows), "repeat_customers": int(repeaters or 0)})

    return [_customer_features]
