{{ config(materialized='incremental', unique_key='order_date', tags=['daily']) }}

-- What the marketplace earns per merchant and day. Take rate = commission / GMV.
with lines as (
    select * from {{ ref('fct_order_lines') }}
),

daily as (
    select
        order_date,
        merchant_id,
        sum(case when counts_toward_gmv then line_amount_eur else 0 end) as gmv_eur,
        sum(case when earns_commission then commission_eur else 0 end) as commission_eur
    from lines
    where {{ incremental_window('order_date', 'order_date') }}
    group by order_date, merchant_id
),

final as (
    select
        order_date,
        merchant_id,
        cast(gmv_eur as decimal(18, 2)) as gmv_eur,
        cast(commission_eur as decimal(18, 2)) as commission_eur,
        cast(case when gmv_eur > 0 then commission_eur / gmv_eur end as decimal(10, 4)) as take_rate
    from daily
)

select * from final
