{{ config(materialized='incremental', unique_key='order_line_id', tags=['daily']) }}

with enriched as (
    select * from {{ ref('int_order_lines_enriched') }}
),

final as (
    select
        order_line_id,
        order_id,
        order_date,
        ordered_at,
        customer_id,
        merchant_id,
        order_status,
        product_id,
        category,
        quantity,
        unit_price_eur,
        discount_eur,
        line_amount_eur,
        counts_toward_gmv,
        earns_commission,
        commission_eur,
        changed_at
    from enriched
    where {{ incremental_window('order_date', 'changed_at') }}
)

select * from final
