"""Production wiring against a Snowflake emulator (fakesnow's HTTP server behind the harness's
proxy, ``support/snowflake_emulator.py``; there is no Snowflake account here): the dbt sources
read the raw database Airbyte writes, the quarantine filter reads where the checks write, and
both dbt and the Python resource reach the endpoint named by the environment."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

from data_platform.quality.quarantine import ContractEnforcer
from data_platform.resources import production_snowflake
from data_platform.settings import REPO_ROOT, resolve_settings

from ...support.environments import PROD_ENV
from ...support.snowflake_emulator import snowflake_emulator, snowflake_env
from ..support.example import example_connections


@pytest.fixture
def emulator(monkeypatch):
    """The emulator (one in-memory database per test worker: tests create what they need with ``create or replace``)."""
    with snowflake_emulator() as (connect, log):
        env = {**PROD_ENV, **snowflake_env(connect)}
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        yield env, log


def snowflake_resource(env: dict):
    resource = production_snowflake(resolve_settings(env))
    return dg.build_resources({"warehouse": resource})


def run_dbt(env: dict, target_path: Path, *args: str) -> subprocess.CompletedProcess:
    """dbt on the snowflake target (the emulator, through the environment), as a person runs it."""
    return subprocess.run(
        [
            *(str(Path(sys.executable).parent / "dbt"), *args, "--target", "snowflake"),
            *("--target-path", str(target_path), "--profiles-dir", str(REPO_ROOT / "dbt")),
        ],
        cwd=REPO_ROOT / "dbt" / "commerce",
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_dbt_sources_read_the_raw_database_airbyte_writes(prod_manifest):
    sources = json.loads(prod_manifest.read_text())["sources"].values()
    streams = [s for s in sources if not s["config"]["meta"].get("domain")]
    assert {(s["database"], s["schema"]) for s in streams} == {("RAW", "raw_shop"), ("RAW", "raw_web"), ("RAW", "raw_marketing")}
    published = [s for s in sources if s["config"]["meta"].get("domain")]
    assert published and {s["database"] for s in published} == {"ANALYTICS"}, "another domain's models are read where dbt built them"
    models = json.loads(prod_manifest.read_text())["nodes"].values()
    assert {m["database"] for m in models if m["resource_type"] == "model"} == {"ANALYTICS"}


def test_the_python_resource_reaches_the_endpoint_from_the_environment(emulator):
    env, log = emulator
    with snowflake_resource(env) as resources, resources.warehouse.get_connection() as conn:
        ((database,),) = conn.cursor().execute("select current_database()").fetchall()
    assert database == "RAW"
    assert any("current_database()" in s.sql for s in log.statements), "the statement reached the emulator"


def test_dbt_reaches_the_endpoint_and_filters_quarantine_where_the_checks_write(emulator, prod_manifest, tmp_path):
    env, log = emulator
    shop = next(c for c in example_connections() if c.name == "shop_db")
    enforcer = ContractEnforcer(shop, shop.stream("orders"), resolve_settings(env).warehouse)
    with snowflake_resource(env) as resources:
        enforcer.ensure_tables(resources.warehouse)  # what the data_contract check creates
    compiled = tmp_path / "target"
    proc = run_dbt(env, compiled, "compile", "--select", "stg_shop__orders")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    (sql_file,) = compiled.rglob("stg_shop__orders.sql")
    sql = sql_file.read_text().lower()
    assert "from raw.raw_shop.orders" in sql, sql
    assert "raw.quarantine.raw_shop__orders" in sql.replace('"', ""), sql[sql.index("where") : sql.index("where") + 200]
    assert enforcer.quarantine.lower() == "raw.quarantine.raw_shop__orders"
    assert log.statements, "dbt's statements reached the emulator"


def test_the_snowflake_date_spine_has_one_row_per_day_and_no_gap(emulator, prod_manifest, tmp_path):
    env, _ = emulator
    proc = run_dbt(env, tmp_path / "target", "run", "--select", "metricflow_time_spine")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    with snowflake_resource(env) as resources, resources.warehouse.get_connection() as conn:
        ((days, first, last),) = (
            conn.cursor().execute("select count(*), min(date_day), max(date_day) from ANALYTICS.TRUSTED.METRICFLOW_TIME_SPINE").fetchall()
        )
    assert days > 300 and (last - first).days + 1 == days, "one row per day, none skipped"


SNOWFLAKE_TYPES = {"integer": "number(38,0)", "number": "float", "string": "varchar", "boolean": "boolean", "date": "date"}


def airbyte_shaped_table(connection, stream_name: str) -> str:
    """``create table`` of a stream as Airbyte's Snowflake destination writes it: upper-case names, VARIANT meta."""
    stream = connection.stream(stream_name)
    columns = [f"{c.name.upper()} {SNOWFLAKE_TYPES.get(c.logical_type, 'timestamp_tz')}" for c in stream.contract.columns]
    columns += [
        "_AIRBYTE_RAW_ID varchar",
        "_AIRBYTE_EXTRACTED_AT timestamp_tz",
        "_AIRBYTE_META variant",
        "_AIRBYTE_GENERATION_ID number(38,0)",
    ]
    return f"create or replace table RAW.{connection.destination_namespace.upper()}.{stream_name.upper()} ({', '.join(columns)})"


def node_of(sql: str) -> str | None:
    """The dbt node a statement belongs to, from the comment dbt appends to every query."""
    match = re.search(r"/\*\s*(\{.*\})\s*\*/\s*;?\s*$", sql, re.S)
    return json.loads(match.group(1)).get("node_id") if match else None


def test_every_dbt_statement_runs_under_its_own_nodes_query_tag_tests_billed_to_the_tested_models_owner(emulator, prod_manifest, tmp_path):
    env, log = emulator
    shop = next(c for c in example_connections() if c.name == "shop_db")
    with snowflake_resource(env) as resources, resources.warehouse.get_connection() as conn:
        conn.cursor().execute("create schema if not exists RAW.RAW_SHOP")
        conn.cursor().execute(airbyte_shaped_table(shop, "orders"))
    proc = run_dbt(env, tmp_path / "target", "build", "--select", "stg_shop__orders", "--threads", "1")
    assert proc.returncode == 0, proc.stdout[-3000:]
    tagged: dict[str, set[str]] = {}
    for statement in log.statements:
        node = node_of(statement.sql)
        if node is None or re.match(r"\s*(alter session|show parameters)", statement.sql, re.I):
            continue
        tag = json.loads(statement.query_tag) if statement.query_tag else {}
        label = tag.get("test") or tag.get("model")
        assert not tag or node.split(".")[2] == label, f"{node} ran under the tag of {label}: {statement.sql[:120]}"
        if tag:
            tagged.setdefault(node, set()).add(tag["team"])
    tests = {n for n in tagged if n.startswith("test.")}
    assert "model.commerce.stg_shop__orders" in tagged and tests, sorted(tagged)
    assert all(teams == {"commerce-platform"} for teams in tagged.values()), tagged


def test_the_contract_checks_statements_and_quarantine_writes_are_tagged_with_the_stream_and_its_owner(emulator):
    from data_platform.quality.contract_checks import contract_check

    env, log = emulator
    shop = next(c for c in example_connections() if c.name == "shop_db")
    settings = resolve_settings(env)
    with snowflake_resource(env) as resources:
        with resources.warehouse.get_connection() as conn:
            cursor = conn.cursor()
            cursor.execute("create schema if not exists RAW.RAW_SHOP")
            cursor.execute(airbyte_shaped_table(shop, "orders"))
            for table in ("RAW_SHOP__ORDERS", "CONTRACT_LEDGER"):  # the emulator's database lives as long as the test worker
                cursor.execute(f"drop table if exists RAW.QUARANTINE.{table}")
            cursor.execute(  # one order without its required customer: quarantined
                "insert into RAW.RAW_SHOP.ORDERS (ORDER_ID, CUSTOMER_ID, MERCHANT_ID, STATUS, _AIRBYTE_RAW_ID, _AIRBYTE_META) "
                """select 1, null, 1, 'paid', 'raw-1', parse_json('{"sync_id": 1, "changes": []}')"""
            )
        first = len(log.statements)
        context = dg.build_asset_context(resources={"warehouse": resources.warehouse}, instance=dg.DagsterInstance.ephemeral())
        result = contract_check(shop, shop.stream("orders"), settings.warehouse).run(context, None, team="commerce-platform")
    assert result.metadata["rows_quarantined"].value == 1
    statements = log.statements[first:]
    # the tag itself, and the resource's closing COMMIT (transaction control, after the reset) aside
    work = [s for s in statements if not re.match(r"\s*(alter session|commit|rollback)\b", s.sql, re.I)]
    assert any(s.sql.lower().startswith("insert into raw.quarantine.raw_shop__orders") for s in work), "the quarantine write is among them"
    for statement in work:
        assert statement.query_tag, f"untagged: {statement.sql[:120]}"
        tag = json.loads(statement.query_tag)
        assert (tag["asset"], tag["check"], tag["team"]) == ("raw_shop/orders", "data_contract", "commerce-platform"), statement.sql[:100]
    assert all(log.tags.get(s.session) == "" for s in statements), "every session's tag is reset when the check is done"
