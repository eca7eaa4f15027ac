"""The production path end to end, on a Snowflake emulator: the shared build's raw tables loaded
into fakesnow's HTTP server in the shape Airbyte's Snowflake destination writes (upper-case
names, ``_AIRBYTE_META`` as VARIANT, TIMESTAMP_TZ), then the main job in
``DATA_PLATFORM_ENV=prod`` through Dagster: the Airbyte API stand-in for the syncs, every stream
check on the emulator, a dbt build of every model, data test and unit test (partitioned and
not), and the ML consumer. Every mart equals the DuckDB run of the same data.

What fakesnow cannot run is absorbed by the harness's proxy (``support/snowflake_emulator.py``,
listed in the README), never by the production SQL."""

from __future__ import annotations

import dataclasses

import dagster as dg
import pytest
import snowflake.connector

from data_platform.transformation.partitions import range_tags

from ...support.fake_airbyte_api import FakeAirbyteApi
from ...support.snowflake_emulator import StatementLog, snowflake_emulator, snowflake_env
from ..support.example import example_connections
from ..support.platforms import LAST_DAY, START, Platform

MARTS = ("mart_daily_gmv", "mart_merchant_commission", "mart_customer_cohorts", "mart_web_funnel", "mart_marketing_roas")


@dataclasses.dataclass
class ProductionRun:
    result: dg.ExecuteInProcessResult
    defs: dg.Definitions
    connect: dict
    duckdb: Platform
    log: StatementLog

    def emulator_rows(self, sql: str) -> list[tuple]:
        with snowflake.connector.connect(**self.connect, database="ANALYTICS") as conn:
            return conn.cursor().execute(sql).fetchall()


def load_raw_tables(built: Platform, connect: dict) -> dict[str, int]:
    """The build's raw tables into the emulator, as Airbyte's Snowflake destination writes them."""
    import fakesnow.server

    with snowflake.connector.connect(**connect, database="RAW") as conn:
        cursor = conn.cursor()
        for database in ("RAW", "ANALYTICS"):
            cursor.execute(f"create database if not exists {database}")
        rows = {}
        for connection in example_connections():
            cursor.execute(f"create schema if not exists RAW.{connection.destination_namespace.upper()}")
            for stream in connection.streams:
                rows[stream.name] = built.scalar(f"select count(*) from {connection.destination_namespace}.{stream.name}")
    duck = fakesnow.server.shared_fs.duck_conn.cursor()  # the emulator's storage, in this process: a bulk copy
    duck.execute(f"attach '{built.warehouse_path}' as build (read_only)")
    try:
        for connection in example_connections():
            namespace = connection.destination_namespace
            for stream in connection.streams:
                columns = duck.execute(
                    "select column_name from duckdb_columns() where database_name = 'build' and schema_name = ? and table_name = ?",
                    [namespace, stream.name],
                ).fetchall()
                select = ", ".join(f'"{c}" as "{c.upper()}"' for (c,) in columns)
                duck.execute(
                    f"create or replace table RAW.{namespace.upper()}.{stream.name.upper()} as select {select} from build.{namespace}.{stream.name}"
                )
    finally:
        duck.execute("detach build")
    return rows


@pytest.fixture(scope="module")
def production_run(built_platform, prod_manifest):
    with snowflake_emulator() as (connect, log), FakeAirbyteApi() as airbyte, pytest.MonkeyPatch.context() as env:
        airbyte.stream_rows = load_raw_tables(built_platform, connect)
        for name, value in {
            "DATA_PLATFORM_ENV": "prod",
            **snowflake_env(connect),
            "AIRBYTE_SERVER_URL": airbyte.url,
            "AIRBYTE_WORKSPACE_ID": airbyte.workspace_id,
            "AIRBYTE_CLIENT_ID": airbyte.client_id,
            "AIRBYTE_CLIENT_SECRET": airbyte.client_secret,
            "AIRBYTE_CONNECTION_ID_SHOP_DB": "conn-shop-db",
            "AIRBYTE_CONNECTION_ID_WEB_EVENTS": "conn-web-events",
            "AIRBYTE_CONNECTION_ID_MARKETING_SPEND": "conn-marketing-spend",
            "AIRBYTE_POLL_INTERVAL_SECONDS": "0.01",
            # production's key from the environment: the DuckDB build's own, so the pseudonyms (and marts) compare
            "DATA_PLATFORM_PII_KEY": (built_platform.data_dir / "secrets" / "pii_key").read_text().strip(),
        }.items():
            env.setenv(name, value)
        env.delenv("DAGSTER_HOME", raising=False)
        from data_platform.definitions import MAIN_JOB, build_definitions

        defs = build_definitions()
        selection = (dg.AssetSelection.all() - dg.AssetSelection.groups("source_systems", "reconciliation")).resolve(
            defs.resolve_asset_graph()
        )
        result = defs.resolve_job_def(MAIN_JOB).execute_in_process(
            instance=dg.DagsterInstance.ephemeral(),
            raise_on_error=False,
            asset_selection=list(selection),
            tags=range_tags(START.isoformat(), LAST_DAY.isoformat()),
        )
        yield ProductionRun(result, defs, connect, built_platform, log)


def test_the_main_job_succeeds_on_snowflake(production_run):
    failures = [
        e.step_failure_data.error.message[:2000] if e.step_failure_data.error else e.step_key
        for e in production_run.result.all_events
        if e.event_type == dg.DagsterEventType.STEP_FAILURE
    ]
    assert production_run.result.success, failures


def test_every_model_and_the_ml_consumer_are_materialized(production_run):
    graph = production_run.defs.resolve_asset_graph()
    wanted = {
        k
        for k in graph.get_all_asset_keys()
        if graph.get(k).is_materializable and graph.get(k).group_name not in ("source_systems", "reconciliation")
    }
    materialized = {e.asset_key for e in production_run.result.get_asset_materialization_events()}
    assert not wanted - materialized, sorted(k.to_user_string() for k in wanted - materialized)


def test_every_stream_check_and_dbt_test_ran_and_every_one_but_freshness_passed(production_run):
    evaluations = production_run.result.get_asset_check_evaluations()
    names = {e.check_name for e in evaluations}
    assert {"data_contract", "primary_key_unique", "row_volume", "data_freshness"} <= names
    assert len(evaluations) >= 90
    # the build's data stopped at a pinned instant weeks ago: its freshness (of rows, of the latest
    # partition) fails by the wall clock, whatever the warehouse; every other check must pass
    freshness = ("data_freshness", "freshness_check")
    failed = [f"{e.asset_key.to_user_string()}:{e.check_name}" for e in evaluations if not e.passed and e.check_name not in freshness]
    assert not failed, failed


@pytest.mark.parametrize("mart", MARTS)
def test_each_mart_equals_the_duckdb_run(production_run, mart):
    def normal(rows):
        return sorted(
            tuple(round(float(v), 4) if isinstance(v, int | float) or type(v).__name__ == "Decimal" else str(v) for v in row)
            for row in rows
        )

    on_duckdb = normal(production_run.duckdb.query(f"select * from marts.{mart}"))
    on_snowflake = normal(production_run.emulator_rows(f"select * from ANALYTICS.MARTS.{mart.upper()}"))
    assert on_duckdb and on_snowflake == on_duckdb


def test_the_ml_consumers_statements_are_billed_to_data_science(production_run):
    import json

    writes = [s for s in production_run.log.statements if "ml.customer_features" in s.sql.lower()]
    assert writes
    for statement in writes:
        tag = json.loads(statement.query_tag)
        assert (tag["asset"], tag["team"]) == ("ml/customer_features", "data-science"), statement.sql[:100]


def dbt_model_teams(production_run) -> dict[str, str]:
    """Each dbt model's team, as Dagster shows its owners."""
    graph = production_run.defs.resolve_asset_graph()
    return {
        key.path[-1]: next(o for o in graph.get(key).owners if o.startswith("team:")).removeprefix("team:")
        for key in graph.get_all_asset_keys()
        if "dbt" in graph.get(key).kinds and graph.get(key).is_materializable
    }


def test_every_dbt_model_ran_under_its_owners_tag(production_run):
    import json

    owner = dbt_model_teams(production_run)
    tags = [json.loads(s.query_tag) for s in production_run.log.statements if s.query_tag.startswith('{"app": "dbt"')]
    billed = {t["model"]: t["team"] for t in tags if "test" not in t}
    assert set(billed) == set(owner), set(owner) ^ set(billed)
    assert billed == owner


def test_unit_tests_are_billed_to_the_owner_of_the_model_they_test(production_run):
    import json

    from data_platform.domains import load_domains
    from data_platform.settings import resolve_settings
    from data_platform.transformation.project import dbt_project

    owner = dbt_model_teams(production_run)
    tested = {}
    for domain in load_domains(resolve_settings()):
        manifest = json.loads(dbt_project(domain.dbt_project_dir, "snowflake").manifest_path.read_text())
        tested |= {u["name"]: u["model"] for u in manifest.get("unit_tests", {}).values()}
    tags = [json.loads(s.query_tag) for s in production_run.log.statements if s.query_tag.startswith('{"app": "dbt"')]
    billed = {t["test"]: (t["model"], t["team"]) for t in tags if t.get("test") in tested}
    assert len(tested) >= 4 and billed == {name: (model, owner[model]) for name, model in tested.items()}
    assert {team for _, team in billed.values()} != {"analytics"}, "not all on the default tag"


@pytest.mark.parametrize("domain", ["commerce", "growth"])
def test_dagster_job_execute_runs_each_domains_end_to_end_job_on_snowflake(production_run, domain, tmp_path):
    """Dagster's own CLI, with the job's defaults, against the emulator and the Airbyte stand-in:
    the same code location the UI serves, in production settings (``DATA_PLATFORM_ENV=prod``)."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    from data_platform.settings import REPO_ROOT

    env = {**os.environ, "DAGSTER_HOME": str(tmp_path)}
    (tmp_path / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    done = subprocess.run(
        [
            str(Path(sys.executable).with_name("dagster")),
            "job",
            "execute",
            "-f",
            str(REPO_ROOT / "platform" / "domains" / domain / "definitions.py"),
            "-j",
            f"{domain}_end_to_end",
        ],
        env=env,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=280,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0 and "RUN_SUCCESS" in output, output[-3000:]
    assert "STEP_FAILURE" not in output


@pytest.mark.parametrize(
    "domain,job",
    [
        ("commerce", "ingest_shop_db"),
        ("commerce", "commerce_daily_partitions_job"),
        ("commerce", "freshness_checks_job"),
        ("growth", "ingest_web_events"),
        ("growth", "ingest_marketing_spend"),
        ("growth", "growth_daily_partitions_job"),
        ("growth", "freshness_checks_job"),
    ],
)
def test_every_other_job_of_each_location_runs_with_its_defaults_on_snowflake(production_run, domain, job):
    """The launchpad's defaults (no partition, no config) in production settings, on each domain's
    own code location; the end-to-end jobs run through Dagster's CLI above."""
    from data_platform.definitions import domain_location
    from data_platform.settings import REPO_ROOT

    defs = domain_location(REPO_ROOT / "platform" / "domains" / domain)
    result = defs.resolve_job_def(job).execute_in_process(instance=dg.DagsterInstance.ephemeral(), raise_on_error=False)
    failures = [e.step_failure_data.error.message[:1500] for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE]
    assert result.success, failures
