{{ config(materialized='incremental', unique_key='event_id', tags=['daily']) }}

with events as (
    select * from {{ ref('stg_web__events') }}
),

final as (
    select
        event_id,
        event_type,
        occurred_at,
        event_date,
        received_at,
        session_id,
        anonymous_id,
        customer_id,
        platform,
        is_payload_valid,
        page_url,
        utm_source,
        utm_medium,
        utm_campaign,
        product_id,
        quantity,
        order_id,
        value_eur
    from events
    where {{ incremental_window('event_date', 'received_at') }}
)

select * from final
