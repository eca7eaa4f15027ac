with merchants as (
    select * from {{ ref('stg_shop__merchants') }}
),

final as (
    select
        merchant_id,
        merchant_name,
        country_code,
        main_category,
        commission_rate,
        merchant_status,
        onboarded_at,
        updated_at
    from merchants
)

select * from final
