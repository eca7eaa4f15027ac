{#- Snowflake query tag of every node: which model (or test of which model) ran and which team
    owns it, as JSON, so cost can be shown back per business team (QUERY_HISTORY.QUERY_TAG).
    Overrides dbt-snowflake's snowflake__set_query_tag (models, tests) and
    snowflake__unset_query_tag: dbt-snowflake resets the tag only for nodes that configure one,
    which left every later statement on the connection billed to the previous node. A query_tag
    configured on a model still wins. -#}
{% macro snowflake__set_query_tag() -%}
    {%- set configured = config.get('query_tag') -%}
    {%- set new_query_tag = configured if configured and configured != target.query_tag else model_query_tag(model) -%}
    {%- set current = run_query("show parameters like 'query_tag' in session") -%}
    {%- set original_query_tag = current.rows[0]['value'] if current is not none and current.rows | length > 0 else '' -%}
    {% do run_query("alter session set query_tag = '{}'".format(new_query_tag | replace("'", "''"))) %}
    {{ return(original_query_tag) }}
{%- endmacro %}

{#- Back to the tag the connection had before the node (the profile's, or none): nothing runs
    under a finished node's tag. -#}
{% macro snowflake__unset_query_tag(original_query_tag) -%}
    {%- if original_query_tag -%}
        {% do run_query("alter session set query_tag = '{}'".format(original_query_tag | replace("'", "''"))) %}
    {%- else -%}
        {% do run_query("alter session unset query_tag") %}
    {%- endif -%}
{%- endmacro %}

{#- Unit tests tagged like data tests: billed to the owner of the model they test (see model_query_tag). -#}
{%- materialization unit, adapter='snowflake' -%}
    {% set original_query_tag = set_query_tag() %}
    {% set relations = materialization_unit_default() %}
    {% do unset_query_tag(original_query_tag) %}
    {{ return(relations) }}
{%- endmaterialization -%}

{#- {"app": "dbt", "project", "model", "layer", "team" (first owner in meta.dagster.owners), "target"};
    a test also names itself ("test") and is billed to the team that owns the model it tests. -#}
{% macro model_query_tag(node) -%}
    {%- set tested = none -%}
    {%- if node.resource_type in ('test', 'unit_test') -%}
        {%- set parent_id = node.get('attached_node') or ((node.depends_on or {}).get('nodes') or [none])[0] -%}
        {#- a unit test's context has no graph of nodes: it is billed to the unit test's own meta, else analytics -#}
        {%- set nodes = (graph.get('nodes') if graph is mapping else none) or {} -%}
        {%- set tested = nodes.get(parent_id) if parent_id else none -%}
    {%- endif -%}
    {%- set owner = tested or node -%}
    {%- set owners = ((owner.config.get('meta') or {}).get('dagster') or {}).get('owners') or ['team:analytics'] -%}
    {%- set tag = {'app': 'dbt', 'project': project_name, 'model': owner.name, 'layer': owner.config.get('schema'), 'team': owners[0] | replace('team:', ''), 'target': target.name} -%}
    {%- if node.resource_type == 'unit_test' and tested is none -%}
        {#- no graph here: the platform hands each unit test's team (its tested model's owner, as
            Dagster shows it) in DBT_PLATFORM_UNIT_TEST_TEAMS, read at run time only (not parsed) -#}
        {%- set teams = fromjson(env_var('DBT_PLATFORM_UNIT_TEST_TEAMS', '{}')) -%}
        {%- set billed = teams.get(node.unique_id) or teams.get(node.name) -%}
        {%- if billed -%}
            {%- do tag.update({'team': billed.team, 'model': billed.model, 'layer': billed.layer}) -%}
        {%- endif -%}
    {%- endif -%}
    {%- if node.resource_type in ('test', 'unit_test') -%}
        {%- do tag.update({'test': node.name}) -%}
    {%- endif -%}
    {{ return(tojson(tag)) }}
{%- endmacro %}
