with source as (
    {{ contract_passed_rows('shop', 'orders') }}
),

renamed as (
    select
        order_id,
        customer_id,
        merchant_id,
        lower(status) as order_status,
        lower(platform) as platform,
        upper(currency) as currency_code,
        cast(items_total_eur as decimal(18, 2)) as items_total_eur,
        cast(shipping_fee_eur as decimal(18, 2)) as shipping_fee_eur,
        created_at as ordered_at,
        {{ utc_date('created_at') }} as order_date,
        updated_at,
        _airbyte_extracted_at
    from source
),

final as (
    select
        order_id,
        customer_id,
        merchant_id,
        order_status,
        platform,
        currency_code,
        items_total_eur,
        shipping_fee_eur,
        ordered_at,
        order_date,
        updated_at
    from renamed
    qualify row_number() over (partition by order_id order by updated_at desc, _airbyte_extracted_at desc) = 1
)

select * from final
