{{ config(materialized='incremental', unique_key='session_date', tags=['daily']) }}

-- Visits per day and platform and how far they went: view -> cart -> checkout -> order.
with sessions as (
    select * from {{ ref('int_sessions') }}
),

daily as (
    select
        session_date,
        platform,
        count(*) as sessions,
        sum(reached_product_view) as product_view_sessions,
        sum(reached_cart) as cart_sessions,
        sum(reached_checkout) as checkout_sessions,
        sum(reached_purchase) as purchase_sessions
    from sessions
    where {{ incremental_window('session_date', 'session_date') }}
    group by session_date, platform
),

final as (
    select
        session_date,
        platform,
        cast(sessions as bigint) as sessions,
        cast(product_view_sessions as bigint) as product_view_sessions,
        cast(cart_sessions as bigint) as cart_sessions,
        cast(checkout_sessions as bigint) as checkout_sessions,
        cast(purchase_sessions as bigint) as purchase_sessions,
        cast(
            case when product_view_sessions > 0 then cart_sessions * 1.0 / product_view_sessions end as decimal(10, 4)
        ) as view_to_cart_rate,
        cast(case when cart_sessions > 0 then checkout_sessions * 1.0 / cart_sessions end as decimal(10, 4)) as cart_to_checkout_rate,
        cast(
            case when checkout_sessions > 0 then purchase_sessions * 1.0 / checkout_sessions end as decimal(10, 4)
        ) as checkout_to_order_rate,
        cast(case when sessions > 0 then purchase_sessions * 1.0 / sessions end as decimal(10, 4)) as conversion_rate
    from daily
)

select * from final
