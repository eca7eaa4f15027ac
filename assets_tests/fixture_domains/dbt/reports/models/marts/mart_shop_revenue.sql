with

orders as (

    select * from {{ source('shop', 'fct_shop_orders') }}

),

final as (

    select
        order_date,
        count(*) as orders,
        sum(amount_eur) as revenue_eur
    from orders
    group by order_date

)

select * from final
