{#- The rows an incremental run processes.

    With vars min_date/max_date (a Dagster partition or range): rows whose `date_column`
    falls in [min_date, max_date). Without: rows whose `changed_column` is at most
    `incremental_lookback_days` older than the newest one already in the table
    (`this_changed_column`, default the same name): late events and late updates.
    A full refresh or first run: everything. -#}
{% macro incremental_window(date_column, changed_column, this_changed_column=none) -%}
    {%- if var('min_date', '') and var('max_date', '') -%}
        {{ date_column }} >= cast('{{ var("min_date") }}' as date) and {{ date_column }} < cast('{{ var("max_date") }}' as date)
    {%- elif is_incremental() -%}
        {{ changed_column }} >= (
            select {{ dbt.dateadd('day', -1 * var('incremental_lookback_days'), 'max(' ~ (this_changed_column or changed_column) ~ ')') }} from {{ this }}
        )
    {%- else -%}
        1 = 1
    {%- endif -%}
{%- endmacro %}
