"""``data-platform new-domain NAME``: a working domain a team then makes its own.

It writes the domain folder (``domain.yaml``, ``connections.yaml`` with one CSV-files
connection, the stream's data contract, sample files, ``definitions.py``) and its dbt project
(a staging model and a daily incremental fact, with tests, and the ``.sqlfluff`` CI lints it
with). Everything runs and lints as written: ``data-platform run`` syncs the sample file, checks
it against the contract and builds both models; the daily partitions start on the sample data's
first day (``partitions_start``), not years before it.
"""

from __future__ import annotations

from pathlib import Path

from data_platform.domains import DOMAIN_NAME, RESERVED_NAMES
from data_platform.settings import Settings


class ScaffoldError(ValueError):
    pass


def create_domain(name: str, settings: Settings) -> list[Path]:
    """Write the domain ``name``; returns the files written (its ``definitions.py`` first)."""
    if not DOMAIN_NAME.fullmatch(name):
        raise ScaffoldError(f"domain name {name!r}: use lowercase snake_case (it names schemas, steps and the dbt project)")
    if name in RESERVED_NAMES:
        raise ScaffoldError(f"domain name {name!r} names the platform's own code location: pick another name")
    folder, project = settings.domains_dir / name, settings.dbt_dir / name
    for existing in (folder, project):
        if existing.exists():
            raise ScaffoldError(f"{existing} already exists: pick another name or remove it")
    files = {
        folder / "definitions.py": DEFINITIONS,
        folder / "domain.yaml": DOMAIN,
        folder / "connections.yaml": CONNECTIONS,
        folder / "contracts" / f"raw_{name}.items.odcs.yaml": CONTRACT,
        folder / "sample_data" / "items.csv": SAMPLE,
        project / "dbt_project.yml": DBT_PROJECT,
        project / "models" / "sources.yml": SOURCES,
        project / "models" / "staging" / f"stg_{name}__items.sql": STAGING_SQL,
        project / "models" / "staging" / "_staging.yml": STAGING_YML,
        project / "models" / "trusted" / f"fct_{name}__item_changes.sql": FACT_SQL,
        project / "models" / "trusted" / "_trusted.yml": FACT_YML,
        project / ".sqlfluff": SQLFLUFF,
    }
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text.replace("{name}", name).replace("{NAME}", name.upper()).lstrip("\n"))
    return list(files)


DEFINITIONS = '''
"""The {name} domain's code location (``workspace.yaml`` loads it): everything in this folder and ``dbt/{name}``."""

from pathlib import Path

import dagster as dg

from data_platform.definitions import domain_location


@dg.definitions
def defs() -> dg.Definitions:
    return domain_location(Path(__file__).parent)
'''

DOMAIN = """
# The {name} domain: what the team owns (see the README, "Add your own domain").
description: >
  Describe what the {name} team owns and who uses it.
owners: [team:{name}, {name}-data@example.com]
alerts:
  slack_channel: "#{name}-data-alerts"
source_systems:
  {name}_files:
    kind: csv
    description: Extracts the {name} team drops as CSV files (the sample file in sample_data/ to start with).
# the first daily partition: the first day of the domain's data (the sample's); move it to where yours starts
partitions_start: 2026-01-05
# the models other domains may read (as dbt sources naming this domain); the others may change at will
publishes: [fct_{name}__item_changes]
"""

CONNECTIONS = """
# Airbyte connections of the {name} domain. In production each is synced through the Airbyte API
# by its connection id; locally its embedded source runs through the embedded runner into DuckDB.
# What each stream holds and who owns it is its data contract in contracts/.
connections:
  {name}_files:
    description: The {name} team's CSV extracts.
    source_system: {name}_files
    destination_namespace: raw_{name}
    group: ingestion
    sync_schedule: "0 * * * *"
    production:
      connection_id_env: AIRBYTE_CONNECTION_ID_{NAME}_FILES
    embedded_source:
      module: embedded_airbyte.connectors.csv_files
      config:
        path: "{domain_dir}/sample_data"
        streams: "{streams}"  # each stream's cursor, key and column types, from its contract and its entry below
    streams:
      items:
        sync_mode: incremental_append_dedup
        cursor_field: updated_at
"""

CONTRACT = """
# Data contract (ODCS v3) of raw_{name}.items between the {name} team and the data platform.
apiVersion: v3.1.0
kind: DataContract
id: {name}.raw_{name}.items
name: items ({name}_files)
version: 1.0.0
status: active
domain: {name}
dataProduct: {name}_files
description:
  purpose: Items the {name} team maintains, one row per item at its latest version.
  usage: Loaded by the Airbyte connection {name}_files into raw_{name}.items; read by dbt staging.
# no team: the stream's owners and alert channel are the domain's (domain.yaml); name the source's
# team here when another team owns the source.
servers:
- server: local
  type: duckdb
  environment: dev
  database: warehouse
  schema: raw_{name}
schema:
- name: items
  physicalName: items
  physicalType: table
  description: Items the {name} team maintains, one row per item at its latest version.
  properties:
  - name: item_id
    logicalType: integer
    description: Item identifier.
    primaryKey: true
    primaryKeyPosition: 1
    required: true
    unique: true
  - name: item_name
    logicalType: string
    description: Name of the item.
    required: true
  - name: price_eur
    logicalType: number
    logicalTypeOptions:
      minimum: 0
    description: Price in euros.
    required: true
  - name: updated_at
    logicalType: timestamp
    logicalTypeOptions:
      timezone: true
    description: Last change to the row (UTC).
    required: true
slaProperties:
- property: latency
  value: 7
  unit: d
  driver: operational
  description: The warehouse copy is at most a week old.
"""

SAMPLE = """
item_id,item_name,price_eur,updated_at
1,first item,9.90,2026-01-05T10:00:00Z
2,second item,24.50,2026-01-06T11:30:00Z
3,third item,3.20,2026-01-07T09:15:00Z
"""

DBT_PROJECT = """
# The {name} domain's dbt project. Shared macros and the profile are the platform's (../macros, ../profiles.yml).
name: {name}
version: "1.0.0"
config-version: 2
profile: data_platform

model-paths: ["models"]
macro-paths: ["../macros"]
target-path: target
clean-targets: [target]

flags:
  send_anonymous_usage_stats: false
  indirect_selection: buildable

vars:
  min_date: ""
  max_date: ""
  incremental_lookback_days: 3
  quarantine_schema: quarantine

models:
  {name}:
    +meta: {dagster: {owners: ["team:{name}"]}}   # default owner: Dagster owners and the Snowflake query tag's team
    staging:
      +schema: staging
      +materialized: view
    trusted:
      +schema: trusted
"""

SOURCES = """
version: 2

sources:
  - name: {name}
    description: The {name} team's CSV extracts, replicated by the Airbyte connection {name}_files.
    schema: raw_{name}
    database: "{{ env_var('SNOWFLAKE_DATABASE', 'RAW') if target.type == 'snowflake' else target.database }}"
    tables:
      - name: items
        description: Items at their latest version.
        config: {meta: {dagster: {asset_key: ["raw_{name}", "items"]}}}
"""

STAGING_SQL = """
with

source as (

    {{ contract_passed_rows('{name}', 'items') }}

),

renamed as (

    select
        item_id,
        item_name,
        price_eur,
        updated_at
    from source

),

final as (

    select * from renamed

)

select * from final
"""

STAGING_YML = """
version: 2

models:
  - name: stg_{name}__items
    description: The {name} team's items, one row per item, rows that broke the contract left out.
    columns:
      - name: item_id
        description: Item identifier.
        data_tests: [unique, not_null]
      - name: item_name
        description: Name of the item.
      - name: price_eur
        description: Price in euros.
      - name: updated_at
        description: Last change to the row (UTC).
"""

FACT_SQL = """
{{ config(materialized='incremental', unique_key='item_id', tags=['daily']) }}

with

items as (

    select * from {{ ref('stg_{name}__items') }}

),

final as (

    select
        item_id,
        item_name,
        price_eur,
        updated_at,
        cast(updated_at as date) as updated_date
    from items
    where {{ incremental_window('cast(updated_at as date)', 'updated_at') }}

)

select * from final
"""

FACT_YML = """
version: 2

models:
  - name: fct_{name}__item_changes
    description: Items by the day they last changed, built a day (a daily partition) at a time.
    columns:
      - name: item_id
        description: Item identifier.
        data_tests: [unique, not_null]
      - name: item_name
        description: Name of the item.
      - name: price_eur
        description: Price in euros.
      - name: updated_at
        description: Last change to the row (UTC).
      - name: updated_date
        description: The day of the last change (UTC); the model's daily partition.
"""

SQLFLUFF = """
# sqlfluff on this project's models: the repository's .sqlfluff, with this folder as the dbt project.
# The dbt templater renders one project per run, so pass this file:
#   sqlfluff lint dbt/{name}/models --config dbt/{name}/.sqlfluff
[sqlfluff:templater:dbt]
project_dir = .
"""
