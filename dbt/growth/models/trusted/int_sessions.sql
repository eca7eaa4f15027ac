{{ config(materialized='ephemeral') }}

-- One row per visit: where it came from (the landing page's campaign) and how far down the
-- funnel it went. Shared by the funnel and the marketing attribution marts.
with events as (
    select * from {{ ref('fct_web_events') }}
),

landing as (
    select
        session_id,
        utm_source,
        utm_medium,
        utm_campaign
    from events
    where event_type = 'page_view'
    qualify row_number() over (partition by session_id order by occurred_at, event_id) = 1
),

steps as (
    select
        session_id,
        min(event_date) as session_date,
        min(platform) as platform,
        max(case when event_type = 'product_view' then 1 else 0 end) as reached_product_view,
        max(case when event_type = 'add_to_cart' then 1 else 0 end) as reached_cart,
        max(case when event_type = 'begin_checkout' then 1 else 0 end) as reached_checkout,
        max(case when event_type = 'purchase' then 1 else 0 end) as reached_purchase,
        max(case when event_type = 'purchase' then order_id end) as order_id
    from events
    group by session_id
),

final as (
    select
        steps.session_id,
        steps.session_date,
        steps.platform,
        landing.utm_source,
        landing.utm_medium,
        landing.utm_campaign,
        steps.reached_product_view,
        steps.reached_cart,
        steps.reached_checkout,
        steps.reached_purchase,
        steps.order_id
    from steps
    left join landing on steps.session_id = landing.session_id
)

select * from final
