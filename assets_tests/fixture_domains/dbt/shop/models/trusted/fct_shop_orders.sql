with

orders as (

    select * from {{ ref('stg_shop__orders') }}

),

final as (

    select
        order_id,
        customer_id,
        amount_eur,
        cast(ordered_at as date) as order_date
    from orders

)

select * from final
