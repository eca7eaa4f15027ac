with

source as (

    {{ contract_passed_rows('shop', 'orders') }}

),

renamed as (

    select
        order_id,
        customer_id,
        amount_eur,
        ordered_at,
        updated_at
    from source

)

select * from renamed
