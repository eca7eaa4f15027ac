-- Rendimiento de las campañas: gasto frente a ingresos atribuidos (ROAS).
with roas as (
    select * from {{ ref('mart_marketing_roas') }}
),

final as (
    select
        spend_date as fecha,
        case channel
            when 'google_ads' then 'Google Ads'
            when 'meta_ads' then 'Meta'
            when 'tiktok_ads' then 'TikTok'
            when 'affiliate' then 'Afiliación'
            else channel
        end as canal,
        campaign_name as campana,
        spend_eur as gasto_eur,
        clicks as clics,
        attributed_orders as pedidos_atribuidos,
        attributed_revenue_eur as ingresos_atribuidos_eur,
        roas as retorno_inversion_publicitaria
    from roas
)

select * from final
