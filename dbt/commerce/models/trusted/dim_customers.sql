with customers as (
    select * from {{ ref('stg_shop__customers') }}
),

final as (
    select
        customer_id,
        email_hash,
        phone_masked,
        country_code,
        marketing_opt_in,
        signed_up_at,
        updated_at
    from customers
)

select * from final
