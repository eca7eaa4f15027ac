{#- A layer's models live in a schema named after the layer (staging, trusted, marts,
    presentation) in every target, so relations and Dagster asset keys read the same. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}{{ target.schema }}{%- else -%}{{ custom_schema_name | trim }}{%- endif -%}
{%- endmacro %}
