{#- The rows an incremental run processes.

    In a Dagster partition or range: rows whose `date_column` falls in [min_date, max_date).
    The platform passes the window as environment variables DBT_PARTITION_MIN_DATE and
    DBT_PARTITION_MAX_DATE (a changed variable re-parses only the files that read it; changed
    --vars would discard dbt's saved parse); vars min_date/max_date override them by hand.
    Without a window: rows whose `changed_column` is at most `incremental_lookback_days` older
    than the newest one already in the table (`this_changed_column`, default the same name):
    late events and late updates. A full refresh or first run: everything. -#}
{% macro incremental_window(date_column, changed_column, this_changed_column=none) -%}
    {%- set min_date = var('min_date', '') or env_var('DBT_PARTITION_MIN_DATE', '') -%}
    {%- set max_date = var('max_date', '') or env_var('DBT_PARTITION_MAX_DATE', '') -%}
    {%- if min_date and max_date -%}
        {{ date_column }} >= cast('{{ min_date }}' as date) and {{ date_column }} < cast('{{ max_date }}' as date)
    {%- elif is_incremental() -%}
        {{ changed_column }} >= (
            select {{ dbt.dateadd('day', -1 * var('incremental_lookback_days'), 'max(' ~ (this_changed_column or changed_column) ~ ')') }} from {{ this }}
        )
    {%- else -%}
        1 = 1
    {%- endif -%}
{%- endmacro %}
