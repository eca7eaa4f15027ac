{{ config(materialized='incremental', unique_key='order_id', tags=['daily']) }}

with orders as (
    select * from {{ ref('stg_shop__orders') }}
),

payments as (
    select * from {{ ref('stg_shop__payments') }}
),

merchants as (
    select * from {{ ref('stg_shop__merchants') }}
),

customers as (
    select * from {{ ref('stg_shop__customers') }}
),

final as (
    select
        orders.order_id,
        orders.customer_id,
        orders.merchant_id,
        orders.order_date,
        orders.ordered_at,
        orders.order_status,
        orders.platform,
        customers.country_code as customer_country_code,
        orders.items_total_eur,
        orders.shipping_fee_eur,
        cast(orders.items_total_eur + orders.shipping_fee_eur as decimal(18, 2)) as order_total_eur,
        orders.order_status != 'cancelled' as counts_toward_gmv,
        case
            when orders.order_status not in ('cancelled', 'refunded')
                then cast(orders.items_total_eur * coalesce(merchants.commission_rate, 0) as decimal(18, 2))
            else cast(0 as decimal(18, 2))
        end as commission_eur,
        payments.payment_method,
        payments.payment_status,
        payments.settled_at,
        greatest(orders.updated_at, coalesce(payments.updated_at, orders.updated_at)) as changed_at
    from orders
    left join payments on orders.order_id = payments.order_id
    left join merchants on orders.merchant_id = merchants.merchant_id
    left join customers on orders.customer_id = customers.customer_id
    where {{
        incremental_window('orders.order_date', 'greatest(orders.updated_at, coalesce(payments.updated_at, orders.updated_at))', 'changed_at')
    }}
)

select * from final
