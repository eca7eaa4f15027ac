{#- Where DuckDB and Snowflake SQL differ, models call these macros; adapter.dispatch picks
    the right body for the target (duckdb__*, snowflake__*, default__*). No macro_namespace: every
    domain project loads this folder as its own macros (macro-paths ../macros), so dispatch finds
    the bodies in whichever project runs. -#}

{#- A string field of a JSON text column; null when the text is not valid JSON. -#}
{% macro json_text_field(column, field) -%}
    {{ return(adapter.dispatch('json_text_field')(column, field)) }}
{%- endmacro %}
{% macro default__json_text_field(column, field) -%}
    case when json_valid({{ column }}) then json_extract_string({{ column }}, '$.{{ field }}') end
{%- endmacro %}
{% macro snowflake__json_text_field(column, field) -%}
    try_parse_json({{ column }}):{{ field }}::varchar
{%- endmacro %}

{#- True when a text column holds valid JSON. -#}
{% macro is_valid_json(column) -%}
    {{ return(adapter.dispatch('is_valid_json')(column)) }}
{%- endmacro %}
{% macro default__is_valid_json(column) -%}
    coalesce(json_valid({{ column }}), false)
{%- endmacro %}
{% macro snowflake__is_valid_json(column) -%}
    ({{ column }} is not null and try_parse_json({{ column }}) is not null)
{%- endmacro %}

{#- Keyed pseudonym of a PII value: HMAC-SHA256 (hex) of the trimmed, lowercased value, with the
    installation's secret key, whose pads the platform keeps in a table of their own (never in
    this SQL's text; see platform/data_platform/warehouse/pii_key.py). Quarantine computes the same. -#}
{% macro hash_pii(column) -%}
    {{ return(adapter.dispatch('hash_pii')(column)) }}
{%- endmacro %}
{% macro default__hash_pii(column) -%}
    {%- set key = 'platform_secrets.main.pii_key' -%}
    sha256(unhex((select outer_pad from {{ key }})) || unhex(sha256(unhex((select inner_pad from {{ key }})) || encode(lower(trim(cast({{ column }} as varchar)))))))
{%- endmacro %}
{% macro snowflake__hash_pii(column) -%}
    {%- set key = env_var('SNOWFLAKE_DATABASE', 'RAW') ~ '.platform_secrets.pii_key' -%}
    sha2(to_binary((select outer_pad from {{ key }}), 'HEX') || sha2_binary(to_binary((select inner_pad from {{ key }}), 'HEX') || to_binary(lower(trim(cast({{ column }} as varchar))), 'UTF-8'), 256), 256)
{%- endmacro %}

{#- Keep the last n characters of a phone number, mask the rest. -#}
{% macro mask_phone(column) -%}
    case when {{ column }} is not null then concat('******', right({{ column }}, 3)) end
{%- endmacro %}

{#- Calendar date in UTC of a timestamp with time zone, whatever the session time zone. -#}
{% macro utc_date(column) -%}
    {{ return(adapter.dispatch('utc_date')(column)) }}
{%- endmacro %}
{% macro default__utc_date(column) -%}
    cast(timezone('UTC', {{ column }}) as date)
{%- endmacro %}
{% macro snowflake__utc_date(column) -%}
    to_date(convert_timezone('UTC', {{ column }}))
{%- endmacro %}

{#- Whole days from one date to another. -#}
{% macro days_between(start_date, end_date) -%}
    {{ return(adapter.dispatch('days_between')(start_date, end_date)) }}
{%- endmacro %}
{% macro default__days_between(start_date, end_date) -%}
    date_diff('day', {{ start_date }}, {{ end_date }})
{%- endmacro %}
{% macro snowflake__days_between(start_date, end_date) -%}
    datediff(day, {{ start_date }}, {{ end_date }})
{%- endmacro %}

{#- First day of the month of a date. -#}
{% macro month_start(column) -%}
    cast(date_trunc('month', {{ column }}) as date)
{%- endmacro %}

{#- One row per day in [start_date, end_date), column date_day. -#}
{% macro date_series(start_date, end_date) -%}
    {{ return(adapter.dispatch('date_series')(start_date, end_date)) }}
{%- endmacro %}
{% macro default__date_series(start_date, end_date) -%}
    select cast(range as date) as date_day from range(date '{{ start_date }}', date '{{ end_date }}', interval 1 day)
{%- endmacro %}
{% macro snowflake__date_series(start_date, end_date) -%}
    {#- seq4() may skip numbers; row_number() over it is dense, so the spine has no gaps -#}
    select dateadd(day, row_number() over (order by seq4()) - 1, '{{ start_date }}'::date) as date_day
    from table(generator(rowcount => {{ (modules.datetime.date.fromisoformat(end_date) - modules.datetime.date.fromisoformat(start_date)).days }}))
{%- endmacro %}
