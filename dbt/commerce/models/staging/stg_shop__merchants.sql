with source as (
    {{ contract_passed_rows('shop', 'merchants') }}
),

renamed as (
    select
        merchant_id,
        merchant_name,
        upper(country_code) as country_code,
        lower(main_category) as main_category,
        cast(commission_rate as decimal(6, 4)) as commission_rate,
        lower(status) as merchant_status,
        created_at as onboarded_at,
        updated_at,
        _airbyte_extracted_at
    from source
),

final as (
    -- the back-office table has no primary key: keep one row per merchant, the latest
    select
        merchant_id,
        merchant_name,
        country_code,
        main_category,
        commission_rate,
        merchant_status,
        onboarded_at,
        updated_at
    from renamed
    qualify row_number() over (partition by merchant_id order by updated_at desc, _airbyte_extracted_at desc, merchant_name asc) = 1
)

select * from final
