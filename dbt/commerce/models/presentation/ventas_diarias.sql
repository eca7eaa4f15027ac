-- Ventas diarias por comerciante y categoría, para el panel de ventas (Metabase).
with gmv as (
    select * from {{ ref('mart_daily_gmv') }}
),

merchants as (
    select * from {{ ref('dim_merchants') }}
),

final as (
    select
        gmv.order_date as fecha,
        gmv.merchant_id as id_comerciante,
        merchants.merchant_name as comerciante,
        case gmv.category
            when 'tools' then 'Herramientas'
            when 'garden' then 'Jardín'
            when 'plumbing' then 'Fontanería'
            when 'electricity' then 'Electricidad'
            when 'paint' then 'Pintura'
            when 'kitchen' then 'Cocina'
            when 'bathroom' then 'Baño'
            when 'lighting' then 'Iluminación'
            else 'Otros'
        end as categoria,
        gmv.orders as pedidos,
        gmv.items_sold as unidades_vendidas,
        gmv.gmv_eur as volumen_ventas_eur
    from gmv
    left join merchants on gmv.merchant_id = merchants.merchant_id
)

select * from final
