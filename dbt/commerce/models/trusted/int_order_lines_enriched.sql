{{ config(materialized='ephemeral') }}

-- Order lines with their order's status and date, product category and merchant commission:
-- the join GMV, commission and cohorts are computed from.
with lines as (
    select * from {{ ref('stg_shop__order_lines') }}
),

orders as (
    select * from {{ ref('stg_shop__orders') }}
),

products as (
    select * from {{ ref('stg_shop__products') }}
),

merchants as (
    select * from {{ ref('stg_shop__merchants') }}
),

final as (
    select
        lines.order_line_id,
        lines.order_id,
        orders.order_date,
        orders.ordered_at,
        orders.customer_id,
        orders.merchant_id,
        orders.order_status,
        lines.product_id,
        coalesce(products.category, 'unknown') as category,
        lines.quantity,
        lines.unit_price_eur,
        lines.discount_eur,
        lines.line_amount_eur,
        {{ counts_toward_gmv('orders.order_status') }} as counts_toward_gmv,
        {{ earns_commission('orders.order_status') }} as earns_commission,
        {{ commission_on('lines.line_amount_eur', 'merchants.commission_rate') }} as commission_eur,
        greatest(lines.updated_at, orders.updated_at) as changed_at
    from lines
    inner join orders on lines.order_id = orders.order_id
    left join products on lines.product_id = products.product_id
    left join merchants on orders.merchant_id = merchants.merchant_id
)

select * from final
