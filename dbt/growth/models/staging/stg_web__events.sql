with source as (
    {{ contract_passed_rows('web', 'web_events') }}
),

renamed as (
    select
        event_id,
        lower(event_type) as event_type,
        event_timestamp as occurred_at,
        {{ utc_date('event_timestamp') }} as event_date,
        received_at,
        session_id,
        anonymous_id,
        customer_id,
        lower(platform) as platform,
        {{ is_valid_json('payload') }} as is_payload_valid,
        {{ json_text_field('payload', 'url') }} as page_url,
        {{ json_text_field('payload', 'utm_source') }} as utm_source,
        {{ json_text_field('payload', 'utm_medium') }} as utm_medium,
        {{ json_text_field('payload', 'utm_campaign') }} as utm_campaign,
        cast({{ json_text_field('payload', 'product_id') }} as bigint) as product_id,
        cast({{ json_text_field('payload', 'quantity') }} as integer) as quantity,
        cast({{ json_text_field('payload', 'order_id') }} as bigint) as order_id,
        cast(
            coalesce({{ json_text_field('payload', 'value_eur') }}, {{ json_text_field('payload', 'cart_value_eur') }}) as decimal(18, 2)
        ) as value_eur
    from source
),

final as (
    -- a duplicated delivery keeps its first arrival
    select *
    from renamed
    qualify row_number() over (partition by event_id order by received_at) = 1
)

select * from final
