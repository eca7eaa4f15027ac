-- Customers grouped by the month of their first order: how many came back.
-- Repeat rate = customers with 2+ orders / customers in the cohort.
with orders as (
    select * from {{ ref('fct_orders') }}
),

per_customer as (
    select
        customer_id,
        min(order_date) as first_order_date,
        count(*) as orders,
        sum(items_total_eur) as revenue_eur
    from orders
    where counts_toward_gmv and customer_id is not null
    group by customer_id
),

final as (
    select
        {{ month_start('first_order_date') }} as cohort_month,
        cast(count(*) as bigint) as customers,
        cast(sum(case when orders >= 2 then 1 else 0 end) as bigint) as repeat_customers,
        cast(sum(case when orders >= 2 then 1 else 0 end) * 1.0 / count(*) as decimal(10, 4)) as repeat_rate,
        cast(sum(revenue_eur) as decimal(18, 2)) as revenue_eur
    from per_customer
    group by {{ month_start('first_order_date') }}
)

select * from final
