{{ config(materialized='incremental', unique_key='spend_date', tags=['daily']) }}

-- Spend against revenue attributed to each campaign, per day. Attribution is last-click on
-- the visit: an order belongs to the campaign of the landing page of the visit that placed
-- it. ROAS = attributed revenue / spend.
with spend as (
    select * from {{ ref('stg_marketing__spend') }}
),

sessions as (
    select * from {{ ref('int_sessions') }}
),

orders as (
    select * from {{ source('commerce', 'fct_orders') }}
),

attributed as (
    select
        orders.order_date,
        sessions.utm_campaign as campaign_id,
        count(distinct orders.order_id) as attributed_orders,
        sum(orders.items_total_eur) as attributed_revenue_eur
    from sessions
    inner join orders on sessions.order_id = orders.order_id
    where
        sessions.reached_purchase = 1
        and orders.counts_toward_gmv
        and sessions.utm_campaign is not null
        and {{ incremental_window('orders.order_date', 'orders.order_date', 'spend_date') }}
    group by orders.order_date, sessions.utm_campaign
),

final as (
    select
        spend.spend_date,
        spend.channel,
        spend.campaign_id,
        spend.campaign_name,
        cast(spend.spend_eur as decimal(18, 2)) as spend_eur,
        cast(spend.clicks as bigint) as clicks,
        cast(coalesce(attributed.attributed_orders, 0) as bigint) as attributed_orders,
        cast(coalesce(attributed.attributed_revenue_eur, 0) as decimal(18, 2)) as attributed_revenue_eur,
        cast(
            case when spend.spend_eur > 0 then coalesce(attributed.attributed_revenue_eur, 0) / spend.spend_eur end as decimal(10, 4)
        ) as roas
    from spend
    left join attributed
        on
            spend.spend_date = attributed.order_date
            and spend.campaign_id = attributed.campaign_id
    where {{ incremental_window('spend.spend_date', 'spend.spend_date', 'spend_date') }}
)

select * from final
