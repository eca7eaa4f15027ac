with source as (
    {{ contract_passed_rows('shop', 'products') }}
),

renamed as (
    select
        product_id,
        merchant_id,
        sku,
        product_name,
        lower(category) as category,
        cast(price_eur as decimal(18, 2)) as price_eur,
        cast(weight_kg as decimal(10, 2)) as weight_kg,
        is_active,
        created_at as listed_at,
        updated_at,
        _airbyte_extracted_at
    from source
),

final as (
    select
        product_id,
        merchant_id,
        sku,
        product_name,
        category,
        price_eur,
        weight_kg,
        is_active,
        listed_at,
        updated_at
    from renamed
    qualify row_number() over (partition by product_id order by updated_at desc, _airbyte_extracted_at desc) = 1
)

select * from final
