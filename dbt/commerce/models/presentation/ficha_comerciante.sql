-- Ficha de cada comerciante: últimos 30 días con datos (para el panel de comerciantes).
with commission as (
    select * from {{ ref('mart_merchant_commission') }}
),

merchants as (
    select * from {{ ref('dim_merchants') }}
),

last_day as (
    select max(order_date) as ultimo_dia from commission
),

recent as (
    select
        commission.merchant_id,
        sum(commission.gmv_eur) as gmv_eur,
        sum(commission.commission_eur) as commission_eur
    from commission
    cross join last_day
    where commission.order_date > {{ dbt.dateadd('day', -30, 'last_day.ultimo_dia') }}
    group by commission.merchant_id
),

final as (
    select
        merchants.merchant_id as id_comerciante,
        merchants.merchant_name as comerciante,
        merchants.country_code as pais,
        merchants.main_category as categoria_principal,
        case merchants.merchant_status when 'active' then 'Activo' else 'Suspendido' end as estado,
        merchants.commission_rate as tasa_comision,
        cast(coalesce(recent.gmv_eur, 0) as decimal(18, 2)) as volumen_ventas_30d_eur,
        cast(coalesce(recent.commission_eur, 0) as decimal(18, 2)) as comision_30d_eur
    from merchants
    left join recent on merchants.merchant_id = recent.merchant_id
)

select * from final
