"""The dbt project: documented, tested where it matters, contracts on published layers, parses for Snowflake."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from data_platform.environment import resolve_settings
from data_platform.transformation.project import DBT_EXECUTABLE, DBT_PROJECT_DIR, prepared_manifest


@pytest.fixture(scope="module")
def manifest(tmp_path_factory):
    settings = resolve_settings({"DATA_PLATFORM_DATA_DIR": str(tmp_path_factory.mktemp("data"))})
    return json.loads(prepared_manifest(settings).read_text())


def models(manifest) -> list[dict]:
    return [n for n in manifest["nodes"].values() if n["resource_type"] == "model"]


def _data_tests_on(manifest, model: dict) -> list[dict]:
    return [n for n in manifest["nodes"].values() if n["resource_type"] == "test" and model["unique_id"] in n["depends_on"]["nodes"]]


def test_every_model_and_column_is_documented(manifest):
    for model in models(manifest):
        assert model["description"].strip(), f"{model['name']} has no description"
        assert model["columns"], f"{model['name']} documents no columns"
        for column in model["columns"].values():
            assert column["description"].strip(), f"{model['name']}.{column['name']} has no description"


def test_every_model_has_a_uniqueness_and_not_null_test(manifest):
    for model in models(manifest):
        if model["config"]["materialized"] == "ephemeral":
            continue
        kinds = {t["test_metadata"]["name"] for t in _data_tests_on(manifest, model) if t.get("test_metadata")}
        assert "unique" in kinds, f"{model['name']} has no uniqueness test on its key"
        assert "not_null" in kinds, f"{model['name']} has no not_null test"


def test_marts_and_presentation_enforce_contracts(manifest):
    for model in models(manifest):
        if model["config"]["schema"] in ("marts", "presentation"):
            assert model["config"]["contract"]["enforced"], model["name"]


def test_incremental_and_ephemeral_models_exist(manifest):
    by_kind = {}
    for model in models(manifest):
        by_kind.setdefault(model["config"]["materialized"], set()).add(model["name"])
    assert {"fct_orders", "fct_order_lines", "fct_web_events"} <= by_kind["incremental"]
    assert {"int_order_lines_enriched", "int_sessions"} <= by_kind["ephemeral"]
    for name in ("fct_orders", "fct_order_lines", "fct_web_events"):
        config = next(m for m in models(manifest) if m["name"] == name)["config"]
        assert config["incremental_strategy"] == "delete+insert" and config["unique_key"]


def test_kpis_are_semantic_metrics_and_marts_have_unit_tests(manifest):
    assert {"gmv", "orders", "commission", "take_rate", "roas", "conversion_rate"} <= {m["name"] for m in manifest["metrics"].values()}
    tested = {u["model"] for u in manifest["unit_tests"].values()}
    assert {"mart_daily_gmv", "mart_merchant_commission", "mart_customer_cohorts", "mart_marketing_roas"} <= tested


def test_project_parses_for_snowflake_with_placeholder_credentials_and_no_connection(tmp_path):
    env = {
        **os.environ,
        "SNOWFLAKE_ACCOUNT": "placeholder.eu-west-1",
        "SNOWFLAKE_USER": "placeholder",
        "SNOWFLAKE_PASSWORD": "placeholder",
        "DBT_TARGET_PATH": str(tmp_path / "target"),
        "DBT_LOG_PATH": str(tmp_path / "logs"),
    }
    proc = subprocess.run(
        [DBT_EXECUTABLE, "parse", "--target", "snowflake", "--profiles-dir", str(DBT_PROJECT_DIR), "--project-dir", str(DBT_PROJECT_DIR)],
        env=env, capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stdout[-3000:]
    manifest = json.loads((tmp_path / "target" / "manifest.json").read_text())
    assert manifest["metadata"]["adapter_type"] == "snowflake"
    assert any(n["name"] == "mart_daily_gmv" for n in manifest["nodes"].values())


def test_cross_adapter_macros_compile_to_snowflake_sql():
    """The Snowflake bodies of our dispatch macros are the ones dbt picks for that adapter."""
    macros = (DBT_PROJECT_DIR / "macros" / "cross_adapter.sql").read_text()
    for name in ("json_text_field", "is_valid_json", "hash_pii", "utc_date", "days_between", "date_series"):
        assert f"macro snowflake__{name}(" in macros and f"macro default__{name}(" in macros
