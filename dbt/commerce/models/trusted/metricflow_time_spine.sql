-- Calendar the semantic layer aggregates metrics over (one row per day).
with days as (
    {{ date_series('2024-01-01', '2031-01-01') }}
),

final as (
    select cast(date_day as date) as date_day from days
)

select * from final
