with source as (
    {{ contract_passed_rows('shop', 'order_lines') }}
),

renamed as (
    select
        order_line_id,
        order_id,
        product_id,
        quantity,
        cast(unit_price_eur as decimal(18, 2)) as unit_price_eur,
        cast(discount_eur as decimal(18, 2)) as discount_eur,
        created_at,
        updated_at,
        _airbyte_extracted_at
    from source
),

final as (
    select
        order_line_id,
        order_id,
        product_id,
        quantity,
        unit_price_eur,
        discount_eur,
        cast(quantity * unit_price_eur - discount_eur as decimal(18, 2)) as line_amount_eur,
        created_at,
        updated_at
    from renamed
    qualify row_number() over (partition by order_line_id order by updated_at desc, _airbyte_extracted_at desc) = 1
)

select * from final
