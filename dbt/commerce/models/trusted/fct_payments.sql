with payments as (
    select * from {{ ref('stg_shop__payments') }}
),

orders as (
    select * from {{ ref('stg_shop__orders') }}
),

final as (
    select
        payments.payment_id,
        payments.order_id,
        orders.order_date,
        payments.payment_method,
        payments.amount_eur,
        payments.payment_status,
        payments.authorized_at,
        payments.settled_at,
        {{ utc_date('payments.authorized_at') }} as authorized_date,
        payments.updated_at
    from payments
    left join orders on payments.order_id = orders.order_id
)

select * from final
