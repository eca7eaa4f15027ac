{#- The calendar the semantic layer aggregates metrics over: one row per day, column date_day.
    Every domain project with semantic models needs a time spine model of its own (dbt checks it at
    parse time); each one's SQL is this macro, so the calendar is defined once. -#}
{% macro time_spine_days() -%}
with days as (
    {{ date_series('2024-01-01', '2031-01-01') }}
),

final as (
    select cast(date_day as date) as date_day from days
)

select * from final
{%- endmacro %}
