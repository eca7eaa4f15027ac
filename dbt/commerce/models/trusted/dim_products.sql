with products as (
    select * from {{ ref('stg_shop__products') }}
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
    from products
)

select * from final
