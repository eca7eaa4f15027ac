with source as (
    {{ contract_passed_rows('marketing', 'marketing_spend') }}
),

renamed as (
    select
        spend_date,
        lower(channel) as channel,
        campaign_id,
        campaign_name,
        impressions,
        clicks,
        cast(spend_eur as decimal(18, 2)) as spend_eur,
        upper(currency) as currency_code,
        reported_at,
        _airbyte_extracted_at
    from source
),

final as (
    -- the latest restatement of each day and campaign
    select
        spend_date,
        channel,
        campaign_id,
        campaign_name,
        impressions,
        clicks,
        spend_eur,
        currency_code,
        reported_at
    from renamed
    qualify row_number() over (
        partition by spend_date, channel, campaign_id order by reported_at desc, _airbyte_extracted_at desc, clicks desc
    ) = 1
)

select * from final
