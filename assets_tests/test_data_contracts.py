"""Data contracts with the source owners: written in ODCS v3, checked after every sync, breaches
quarantined (never dropped), reconciled, blocking downstream and alerted to the right owner."""

import copy
from pathlib import Path

import dagster as dg
import duckdb
import pytest
import yaml

from data_platform.definitions import build_definitions
from data_platform.environment import resolve_settings
from data_platform.governance.contracts import CONTRACTS_DIR, ContractError, load_contract
from data_platform.ingestion.connections import load_connections
from data_platform.simulation import DirtSwitches, SimulationConfig, simulate

from .conftest import START, T0, run_main_job

DOWNSTREAM_OF_ORDERS = ("staging/stg_shop__orders", "trusted/fct_orders", "marts/mart_daily_gmv", "ml/customer_features")


def contract_evaluation(result: dg.ExecuteInProcessResult, asset: str) -> dg.AssetCheckEvaluation:
    return next(e for e in result.get_asset_check_evaluations() if e.asset_key.to_user_string() == asset and e.check_name == "data_contract")


def materialized(result: dg.ExecuteInProcessResult) -> set[str]:
    return {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}


def query(settings, sql: str):
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as conn:
        return conn.execute(sql).fetchall()


# --- the contract files -------------------------------------------------------------------------

def test_every_source_stream_has_an_odcs_contract_with_owner_types_pii_and_sla():
    for connection in load_connections():
        for stream in connection.streams:
            contract = stream.contract
            assert contract is not None and contract.path.name == f"{connection.destination_namespace}.{stream.name}.odcs.yaml"
            assert contract.owners[0].startswith("team:") and any("@" in o for o in contract.owners)
            assert contract.slack_channel and contract.email, "breaches reach the owner somewhere"
            assert [c.name for c in contract.columns] == list(stream.column_names)
            assert contract.primary_key == stream.primary_key and all(contract.column(k).required for k in stream.primary_key)
            assert contract.freshness_error_minutes > contract.freshness_warn_minutes > 0
            assert all(c.classification in ("pii", "internal") for c in contract.columns)
    customers = next(c for c in load_connections() if c.name == "shop_db").stream("customers").contract
    assert {c.name for c in customers.columns if c.is_pii} == {"email", "phone", "first_name", "last_name"}
    assert customers.column("email").required and customers.column("country_code").valid_values == ("FR", "ES", "IT", "DE", "GB")


def test_contracts_are_valid_against_the_odcs_json_schema_and_round_trip_through_its_model():
    from open_data_contract_standard.model import OpenDataContractStandard

    for path in sorted(CONTRACTS_DIR.glob("*.odcs.yaml")):
        document = yaml.safe_load(path.read_text())
        model = OpenDataContractStandard(**document)
        assert yaml.safe_load(model.to_yaml())["schema"][0]["name"] == document["schema"][0]["name"]
        load_contract(path)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d.pop("apiVersion"), "not a valid ODCS v3 contract at (top level): 'apiVersion' is a required property"),
        (lambda d: d["schema"][0]["properties"][1].update(logicalType="decimal"), "not a valid ODCS v3 contract at schema/0/properties/1/logicalType"),
        (lambda d: d["schema"][0]["properties"][1].update(logicalType="array"), "property 'email': logicalType 'array' cannot be loaded"),
        (lambda d: d["schema"][0]["properties"][1].update(quality=[{"metric": "duplicateValues", "mustBe": 0}]),
         "property 'email': quality rule 'duplicateValues' is not enforced by this platform"),
        (lambda d: d["schema"][0]["properties"][0].update(logicalTypeOptions={"pattern": "^C"}), "schema/0/properties/0/logicalTypeOptions: Additional properties are not allowed"),
        (lambda d: d["schema"][0]["properties"][1].update(logicalTypeOptions={"pattern": "["}), "property 'email': pattern '[' is not a regular expression"),
        (lambda d: d["team"].update(members=[{"username": "bob", "role": "owner"}]), "team member 'bob' must be an email address"),
        (lambda d: d["slaProperties"][0].update(element="customers.last_login"), "latency element 'customers.last_login' is not a property of customers"),
        (lambda d: d.update(slaProperties=[]), "needs exactly one latency SLA"),
    ],
)
def test_mistakes_in_a_contract_are_named(tmp_path, mutate, message):
    document = copy.deepcopy(yaml.safe_load((CONTRACTS_DIR / "raw_shop.customers.odcs.yaml").read_text()))
    document["slaProperties"][0]["element"] = "customers.updated_at"
    mutate(document)
    path = tmp_path / "raw_shop.customers.odcs.yaml"
    path.write_text(yaml.safe_dump(document))
    with pytest.raises(ContractError, match=message.replace("(", r"\(").replace(")", r"\)").replace("[", r"\[")) as raised:
        load_contract(path)
    assert path.name in str(raised.value)


# --- contracts enforced after each sync ---------------------------------------------------------

def test_a_null_in_a_not_null_column_is_quarantined_blocks_dbt_and_python_consumers_and_alerts_the_owner(platform, alerting, receiver):
    settings, defs, instance = platform
    slack = receiver  # also stands in for Slack's Web API
    simulate(SimulationConfig(seed=3, scale=0.3, start_date=START, dirt=DirtSwitches(null_violation_rate=0.05)), settings.source_systems_dir, T0)
    result = run_main_job(defs, instance)

    check = contract_evaluation(result, "raw_shop/orders")
    figures = {k: v.value for k, v in check.metadata.items()}
    assert not check.passed and check.severity == dg.AssetCheckSeverity.ERROR
    assert "customer_id: required, got null" in check.description and "quarantine.raw_shop__orders" in check.description
    assert figures["rows_quarantined"] > 0 and figures["violations_by_rule"] == {"customer_id: required, got null": figures["rows_quarantined"]}
    assert figures["sample_quarantined"][0]["broken"] == ["customer_id: required, got null"]

    # quarantined rows are there to inspect, whole, and the counts reconcile
    quarantined = query(settings, "select primary_key, violations, json_extract_string(record, '$.customer_id'), json_extract_string(record, '$.order_id') from quarantine.raw_shop__orders")
    assert len(quarantined) == figures["rows_quarantined"]
    assert all(customer is None and order is not None for _, _, customer, order in quarantined)
    ((received, passed, in_quarantine),) = query(settings, "select rows_received, rows_passed, rows_quarantined from quarantine.contract_ledger where stream = 'raw_shop.orders'")
    ((raw_rows, raw_nulls),) = query(settings, "select count(*), count(*) filter (where customer_id is null) from raw_shop.orders")
    assert (received, passed, in_quarantine) == (raw_rows, raw_rows - raw_nulls, raw_nulls) == (figures["rows_received"], figures["rows_passed"], figures["rows_quarantined"])
    assert received == passed + in_quarantine

    # downstream is blocked: dbt models and the Python ML consumer alike; the raw data is kept
    done = materialized(result)
    assert "raw_shop/orders" in done
    assert not done & set(DOWNSTREAM_OF_ORDERS), done & set(DOWNSTREAM_OF_ORDERS)
    assert contract_evaluation(result, "raw_shop/payments").passed, "streams that met their contract are not blamed"

    # exactly one alert per broken contract reaches the owner: webhook and the contract's Slack channel
    alerting.tick()
    alerting.tick()
    webhook = alerting.webhook_alerts("raw_shop/orders", "data_contract")
    assert len(webhook) == 1, receiver.bodies
    assert webhook[0]["owners"][0] == "team:commerce-platform" and webhook[0]["severity"] == "ERROR"
    assert webhook[0]["metadata"]["rows_quarantined"] == figures["rows_quarantined"]
    posts = alerting.slack_posts("raw_shop/orders", "data_contract")
    assert len(posts) == 1 and posts[0]["channel"] == "#commerce-platform-alerts"
    assert "data_contract" in posts[0]["text"] and "customer_id: required, got null" in posts[0]["text"]
    assert all(headers.get("Authorization") == "Bearer xoxb-test-token" for path, headers in slack.requests if path.endswith("chat.postMessage"))
    customer_alerts = alerting.webhook_alerts("raw_shop/customers", "data_contract")
    assert len(customer_alerts) == 1 and "email: required, got null" in customer_alerts[0]["description"]

    # staging reads only rows that met the contract
    staging = dg.AssetSelection.assets(dg.AssetKey(["staging", "stg_shop__orders"]))
    assert run_main_job(defs, instance, staging).success
    ((staged, staged_nulls),) = query(settings, "select count(*), count(*) filter (where customer_id is null) from staging.stg_shop__orders")
    assert (staged, staged_nulls) == (passed, 0)


def test_a_dropped_column_is_reported_as_schema_drift_and_its_rows_quarantined(platform, alerting):
    settings, defs, instance = platform
    simulate(SimulationConfig(seed=3, scale=0.3, start_date=START, dirt=DirtSwitches(changed_column=True)), settings.source_systems_dir, T0)
    result = run_main_job(defs, instance)
    check = contract_evaluation(result, "raw_marketing/marketing_spend")
    figures = {k: v.value for k, v in check.metadata.items()}
    assert not check.passed and check.severity == dg.AssetCheckSeverity.ERROR
    drift = {(d["column"], d["change"]) for d in figures["schema_drift"]}
    assert drift == {("spend_eur", "removed"), ("cost_micros", "added")}
    assert "column 'spend_eur' (number) is in the contract but the source no longer sends it" in check.description
    assert "column 'cost_micros' (integer) is new in the source and not in the contract" in check.description
    # the last three reports came without spend_eur (each restates three days): exactly those rows are quarantined
    ((missing,),) = query(settings, "select count(*) from raw_marketing.marketing_spend where spend_eur is null")
    assert missing > 0 and figures["rows_quarantined"] == missing
    assert figures["rows_received"] == figures["rows_passed"] + figures["rows_quarantined"]
    quarantined_days = query(settings, "select distinct json_extract_string(record, '$.spend_date') from quarantine.raw_marketing__marketing_spend order by 1")
    assert quarantined_days == query(settings, "select distinct cast(spend_date as varchar) from raw_marketing.marketing_spend where spend_eur is null order by 1")
    assert not materialized(result) & {"staging/stg_marketing__spend", "marts/mart_marketing_roas"}
    assert contract_evaluation(result, "raw_shop/orders").passed
    # the ad platforms' owner is told, in their Slack channel and by email, once
    alerting.tick()
    alerting.tick()
    (alert,) = alerting.webhook_alerts("raw_marketing/marketing_spend", "data_contract")
    assert alert["owners"] == ["team:marketing", "marketing-ops@marketplace.example"]
    assert [d["column"] for d in alert["metadata"]["schema_drift"]] == ["spend_eur", "cost_micros"]
    (post,) = alerting.slack_posts("raw_marketing/marketing_spend", "data_contract")
    assert post["channel"] == "#marketing-ops-alerts" and "no longer sends it" in post["text"]
    ((to, message),) = alerting.emails("raw_marketing/marketing_spend", "data_contract")
    assert to == ["marketing-ops@marketplace.example"] and message["Subject"].startswith("[ERROR]")
    assert "cost_micros" in message.get_content()


def test_on_clean_data_every_contract_holds_and_no_sync_is_judged_twice(platform):
    settings, defs, instance = platform
    simulate(SimulationConfig(seed=3, scale=0.3, start_date=START, dirt=DirtSwitches.clean()), settings.source_systems_dir, T0)
    streams = dg.AssetSelection.groups("ingestion")
    first = run_main_job(defs, instance, streams)
    contracts = [e for e in first.get_asset_check_evaluations() if e.check_name == "data_contract"]
    assert len(contracts) == 8 and all(e.passed for e in contracts), [e.description for e in contracts if not e.passed]
    assert query(settings, "select count(*) from quarantine.raw_shop__orders") == [(0,)]
    ledger_rows = query(settings, "select count(*) from quarantine.contract_ledger")
    # the checks alone again: nothing new to judge, the verdict of the last sync stands, nothing is counted twice
    recheck = dg.define_asset_job("recheck", selection=dg.AssetSelection.checks(dg.AssetCheckKey(dg.AssetKey(["raw_shop", "orders"]), "data_contract")))
    again = dg.Definitions.merge(defs, dg.Definitions(jobs=[recheck])).resolve_job_def("recheck").execute_in_process(instance=instance)
    evaluation = contract_evaluation(again, "raw_shop/orders")
    assert evaluation.passed and evaluation.metadata["rows_received"].value == contract_evaluation(first, "raw_shop/orders").metadata["rows_received"].value
    assert query(settings, "select count(*) from quarantine.contract_ledger") == ledger_rows


def test_the_ml_features_are_built_from_the_trusted_models_on_clean_data(platform):
    settings, defs, instance = platform
    simulate(SimulationConfig(seed=3, scale=0.3, start_date=START, dirt=DirtSwitches.clean()), settings.source_systems_dir, T0)
    result = run_main_job(defs, instance)
    assert result.success
    features = next(e for e in result.get_asset_materialization_events() if e.asset_key == dg.AssetKey(["ml", "customer_features"]))
    ((customers,),) = query(settings, "select count(*) from trusted.dim_customers")
    assert features.materialization.metadata["dagster/row_count"].value == customers
    ((repeaters,),) = query(settings, "select count(*) from (select customer_id from trusted.fct_orders where counts_toward_gmv group by 1 having count(*) >= 2)")
    assert features.materialization.metadata["repeat_customers"].value == repeaters


def test_contract_metadata_is_on_each_stream_asset():
    settings = resolve_settings({"DATA_PLATFORM_DATA_DIR": str(Path("/nonexistent"))})
    defs = build_definitions(settings)
    spec = next(s for s in defs.resolve_all_asset_specs() if s.key == dg.AssetKey(["raw_shop", "customers"]))
    assert spec.metadata["contract/id"] == "marketplace.raw_shop.customers"
    assert spec.metadata["contract/pii_columns"] == ["email", "phone", "first_name", "last_name"]
    assert spec.owners == ["team:commerce-platform", "commerce-platform@marketplace.example"]
    columns = {c.name: c for c in spec.metadata["dagster/column_schema"].columns}
    assert columns["email"].tags == {"pii": ""} and not columns["email"].constraints.nullable and columns["phone"].constraints.nullable
