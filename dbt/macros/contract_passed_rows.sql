{#- The rows of an Airbyte source that met the stream's data contract.

    Dagster's data_contract check copies the rows that break a contract to
    quarantine.<namespace>__<stream> (the raw table keeps them: Airbyte owns it). Staging reads
    sources through this macro so quarantined rows never reach trusted models; once the owner
    fixes the source, the corrected version of a row arrives with a new _airbyte_raw_id and
    flows on. Before the first contract check there is no quarantine table, and every row passes. -#}
{% macro contract_passed_rows(source_name, table_name) -%}
    {%- set relation = source(source_name, table_name) -%}
    {%- set quarantine = none -%}
    {%- if execute -%}
        {%- set quarantine = adapter.get_relation(
            database=relation.database,
            schema=var('quarantine_schema'),
            identifier=relation.schema ~ '__' ~ relation.identifier) -%}
    {%- endif -%}
    select * from {{ relation }}
    {%- if quarantine is not none %}
    where _airbyte_raw_id not in (select _airbyte_raw_id from {{ quarantine }})
    {%- endif -%}
{%- endmacro %}
