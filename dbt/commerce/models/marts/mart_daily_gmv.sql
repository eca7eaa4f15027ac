{{ config(materialized='incremental', unique_key='order_date', tags=['daily']) }}

-- GMV and orders per day, merchant and category. GMV = value of items sold (after line
-- discounts, before shipping) on orders that were not cancelled; refunds stay in GMV.
with lines as (
    select * from {{ ref('fct_order_lines') }}
),

final as (
    select
        order_date,
        merchant_id,
        category,
        count(distinct order_id) as orders,
        cast(sum(quantity) as bigint) as items_sold,
        cast(sum(line_amount_eur) as decimal(18, 2)) as gmv_eur
    from lines
    where counts_toward_gmv and {{ incremental_window('order_date', 'order_date') }}
    group by order_date, merchant_id, category
)

select * from final
