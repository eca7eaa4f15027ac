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

joined as (
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
        {{ counts_toward_gmv('orders.order_status') }} as counts_toward_gmv,
        case
            when {{ earns_commission('orders.order_status') }}
                then {{ commission_on('orders.items_total_eur', 'merchants.commission_rate') }}
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
),

final as (
    select
        order_id,
        customer_id,
        merchant_id,
        order_date,
        ordered_at,
        order_status,
        platform,
        customer_country_code,
        items_total_eur,
        shipping_fee_eur,
        order_total_eur,
        counts_toward_gmv,
        commission_eur,
        payment_method,
        payment_status,
        settled_at,
        changed_at
    from joined
    where {{ incremental_window('order_date', 'changed_at') }}
)

select * from final
