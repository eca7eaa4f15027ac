with payments as (
    select * from {{ ref('stg_shop__payments') }}
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
        {{ utc_date('authorized_at') }} as authorized_date,
        updated_at
    from payments
)

select * from final
