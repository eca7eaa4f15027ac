{#- Snowflake query tag of every model: which model ran and which team owns it, as JSON, so
    cost can be shown back per business team (QUERY_HISTORY.QUERY_TAG). Overrides dbt-snowflake's
    snowflake__set_query_tag; a query_tag configured on a model still wins. -#}
{% macro snowflake__set_query_tag() -%}
    {%- set configured = config.get('query_tag') -%}
    {%- set new_query_tag = configured if configured and configured != target.query_tag else model_query_tag(model) -%}
    {%- set current = run_query("show parameters like 'query_tag' in session") -%}
    {%- set original_query_tag = current.rows[0]['value'] if current is not none and current.rows | length > 0 else '' -%}
    {% do run_query("alter session set query_tag = '{}'".format(new_query_tag | replace("'", "''"))) %}
    {{ return(original_query_tag) }}
{%- endmacro %}

{#- {"app": "dbt", "project", "model", "layer", "team" (first owner in meta.dagster.owners), "target"} -#}
{% macro model_query_tag(node) -%}
    {%- set owners = ((node.config.get('meta') or {}).get('dagster') or {}).get('owners') or ['team:analytics'] -%}
    {{ return(tojson({'app': 'dbt', 'project': project_name, 'model': node.name, 'layer': node.config.get('schema'), 'team': owners[0] | replace('team:', ''), 'target': target.name})) }}
{%- endmacro %}
