-- a table, not a view: the pseudonym is computed once, where the PII key is, and stored; readers
-- of staging need neither the raw PII nor the key
{{ config(materialized='table') }}

with source as (
    {{ contract_passed_rows('shop', 'customers') }}
),

renamed as (
    select
        customer_id,
        {{ hash_pii('email') }} as email_hash,
        {{ mask_phone('phone') }} as phone_masked,
        upper(country_code) as country_code,
        marketing_opt_in,
        created_at as signed_up_at,
        updated_at,
        _airbyte_extracted_at
    from source
),

final as (
    -- names, email and phone stop here: downstream sees a pseudonym and a masked phone only
    select
        customer_id,
        email_hash,
        phone_masked,
        country_code,
        marketing_opt_in,
        signed_up_at,
        updated_at
    from renamed
    qualify row_number() over (partition by customer_id order by updated_at desc, _airbyte_extracted_at desc) = 1
)

select * from final
