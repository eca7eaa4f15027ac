with source as (
    {{ contract_passed_rows('shop', 'payments') }}
),

renamed as (
    select
        payment_id,
        order_id,
        lower(payment_method) as payment_method,
        cast(amount_eur as decimal(18, 2)) as amount_eur,
        lower(status) as payment_status,
        settled_at,
        created_at as authorized_at,
        updated_at,
        _airbyte_extracted_at
    from source
),

final as (
    select
        payment_id,
        order_id,
        payment_method,
        amount_eur,
        payment_status,
        authorized_at,
        settled_at,
        updated_at
    from renamed
    qualify row_number() over (partition by payment_id order by updated_at desc, _airbyte_extracted_at desc) = 1
)

select * from final
