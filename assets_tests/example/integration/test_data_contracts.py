"""Data contracts enforced after each sync, on clean data (the shared build): every contract
holds, nothing is judged twice, and what the contracts declare is on the assets."""

from __future__ import annotations

import dagster as dg

ORDERS_CONTRACT = dg.AssetCheckKey(dg.AssetKey(["raw_shop", "orders"]), "data_contract")


def test_on_clean_data_every_contract_holds_and_nothing_is_quarantined(built_platform, build_history):
    contracts = [e for e in build_history[0] if e.check_name == "data_contract"]
    assert len(contracts) == 8 and all(e.passed for e in contracts), [e.description for e in contracts if not e.passed]
    assert built_platform.query("select count(*) from quarantine.raw_shop__orders") == [(0,)]
    assert built_platform.query("select sum(rows_received) = sum(rows_passed) from quarantine.contract_ledger") == [(True,)]


def test_a_check_run_again_with_nothing_new_keeps_its_verdict_and_counts_nothing_twice(platform, instance, build_history):
    ledger_rows = platform.query("select count(*) from quarantine.contract_ledger")
    recheck = dg.define_asset_job("recheck", selection=dg.AssetSelection.checks(ORDERS_CONTRACT))
    again = (
        dg.Definitions.merge(platform.defs, dg.Definitions(jobs=[recheck])).resolve_job_def("recheck").execute_in_process(instance=instance)
    )
    (evaluation,) = again.get_asset_check_evaluations()
    first = next(e for e in build_history[0] if e.asset_key == ORDERS_CONTRACT.asset_key and e.check_name == "data_contract")
    assert evaluation.passed and evaluation.metadata["rows_received"].value == first.metadata["rows_received"].value
    assert platform.query("select count(*) from quarantine.contract_ledger") == ledger_rows


def test_the_ml_features_are_built_from_the_trusted_models(built_platform, build_history):
    features = build_history[1]["ml/customer_features"]
    assert features.metadata["dagster/row_count"].value == built_platform.scalar("select count(*) from trusted.dim_customers")
    repeaters = built_platform.scalar(
        "select count(*) from (select customer_id from trusted.fct_orders where counts_toward_gmv group by 1 having count(*) >= 2)"
    )
    assert features.metadata["repeat_customers"].value == repeaters


def test_contract_metadata_is_on_each_stream_asset(built_platform):
    spec = next(s for s in built_platform.defs.resolve_all_asset_specs() if s.key == dg.AssetKey(["raw_shop", "customers"]))
    assert spec.metadata["contract/id"] == "marketplace.raw_shop.customers"
    assert spec.metadata["contract/pii_columns"] == ["email", "phone", "first_name", "last_name"]
    assert spec.owners == ["team:commerce-platform", "commerce-platform@marketplace.example"]
    columns = {c.name: c for c in spec.metadata["dagster/column_schema"].columns}
    assert columns["email"].tags == {"pii": ""} and not columns["email"].constraints.nullable and columns["phone"].constraints.nullable
