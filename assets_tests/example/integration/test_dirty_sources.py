"""One run over dirty sources, and what each check makes of it.

The marketplace is simulated with three faults at once: a duplicated merchant id, nulls in
not-null columns (orders without customer, customers without email), and the ad platform
renaming ``spend_eur`` to ``cost_micros``. The main job runs once; the alerting sensor ticks
twice; the failed merchants sync is retried as a re-execution of the same run and the sensor
ticks again. Each test asserts one consequence: the right check fails, quarantine and ledger
reconcile, exactly what is downstream is blocked, and each owner is alerted exactly once.
"""

from __future__ import annotations

import dataclasses
import json

import dagster as dg
import pytest

from data_platform.reporting import blocked_assets
from marketplace_example.simulation import DirtSwitches, SimulationConfig

from ...support.alerting import AlertingSensor
from ...support.smtp_receiver import SmtpReceiver
from ...support.webhook_receiver import WebhookReceiver
from ..support.platforms import START, T0, Platform, using

DIRTY = SimulationConfig(
    seed=3, scale=0.3, start_date=START, dirt=DirtSwitches(duplicate_primary_key=True, null_violation_rate=0.05, changed_column=True)
)
DOWNSTREAM_OF_ORDERS = ("staging/stg_shop__orders", "trusted/fct_orders", "marts/mart_daily_gmv", "ml/customer_features")


@dataclasses.dataclass
class DirtyRun:
    platform: Platform
    instance: dg.DagsterInstance
    result: dg.ExecuteInProcessResult
    retry: dg.ExecuteInProcessResult
    alerting: AlertingSensor

    def evaluation(self, asset: str, check: str) -> dg.AssetCheckEvaluation:
        return next(e for e in self.result.get_asset_check_evaluations() if e.asset_key.to_user_string() == asset and e.check_name == check)

    def figures(self, asset: str, check: str = "data_contract") -> dict:
        return {k: v.value for k, v in self.evaluation(asset, check).metadata.items()}

    @property
    def materialized(self) -> set[str]:
        return {e.asset_key.to_user_string() for e in self.result.get_asset_materialization_events()}


@pytest.fixture(scope="module")
def dirty(tmp_path_factory):
    root = tmp_path_factory.mktemp("dirty")
    receiver, smtp = WebhookReceiver(), SmtpReceiver()
    with using(Platform(root / "data", DIRTY)) as platform, platform.instance() as instance:
        platform.simulate(T0)
        alerting = AlertingSensor(platform.defs, instance, receiver, smtp, root / "alerts.jsonl")
        result = platform.run_main_job(instance)
        alerting.tick()
        alerting.tick()  # a second tick must not repeat an alert
        retry = platform.run_job(  # the failed merchants sync, re-executed from the failed run
            instance,
            "ingest_shop_db",
            asset_selection=[dg.AssetKey(["raw_shop", "merchants"])],
            tags={"dagster/root_run_id": result.run_id, "dagster/parent_run_id": result.run_id},
        )
        alerting.tick()
        yield DirtyRun(platform, instance, result, retry, alerting)
    receiver.close()
    smtp.close()


def test_the_run_completes_and_keeps_every_raw_row_for_inspection(dirty):
    assert dirty.result.success, "a failed check stops its stream's descendants, not the run"
    assert {"raw_shop/merchants", "raw_shop/orders", "raw_shop/customers", "raw_marketing/marketing_spend"} <= dirty.materialized


# --- duplicate primary key ----------------------------------------------------------------


def test_a_duplicate_primary_key_fails_the_uniqueness_check_with_a_sample(dirty):
    check = dirty.evaluation("raw_shop/merchants", "primary_key_unique")
    assert not check.passed
    assert check.metadata["duplicate_keys"].value == 1 and check.metadata["duplicate_rows"].value == 1
    assert check.metadata["sample_duplicate_keys"].value == [{"merchant_id": "1", "rows": "2"}]
    assert "appear more than once" in check.description


def test_a_duplicate_primary_key_blocks_the_models_downstream(dirty):
    assert not dirty.materialized & {"staging/stg_shop__merchants", "trusted/dim_merchants"}


def test_a_failed_check_alerts_its_owner_once_across_ticks_and_a_retried_run(dirty):
    retried = next(e for e in dirty.retry.get_asset_check_evaluations() if e.check_name == "primary_key_unique")
    assert not retried.passed, "the retry failed the same check again"
    alerts = dirty.alerting.webhook_alerts("raw_shop/merchants", "primary_key_unique")
    assert len(alerts) == 1, dirty.alerting.receiver.bodies
    (alert,) = alerts
    assert alert["asset"] == "raw_shop/merchants" and alert["severity"] == "ERROR" and alert["kind"] == "check_failed"
    assert "team:commerce-platform" in alert["owners"]
    assert alert["metadata"]["duplicate_keys"] == 1 and "appear more than once" in alert["description"]
    assert "primary_key_unique" in alert["text"], "Slack-compatible text"
    logged = [json.loads(line) for line in dirty.alerting.log_path.read_text().splitlines()]
    assert len([a for a in logged if (a["asset"], a["check"]) == ("raw_shop/merchants", "primary_key_unique")]) == 1


# --- null in a not-null column ------------------------------------------------------------


def test_a_null_in_a_not_null_column_fails_the_contract_naming_rule_and_quarantine(dirty):
    check = dirty.evaluation("raw_shop/orders", "data_contract")
    figures = dirty.figures("raw_shop/orders")
    assert not check.passed and check.severity == dg.AssetCheckSeverity.ERROR
    assert "customer_id: required, got null" in check.description and "quarantine.raw_shop__orders" in check.description
    assert figures["rows_quarantined"] > 0 and figures["violations_by_rule"] == {
        "customer_id: required, got null": figures["rows_quarantined"]
    }
    assert figures["sample_quarantined"][0]["broken"] == ["customer_id: required, got null"]


def test_quarantined_rows_are_kept_whole_and_the_ledger_reconciles_with_raw(dirty):
    figures = dirty.figures("raw_shop/orders")
    quarantined = dirty.platform.query(
        "select primary_key, violations, json_extract_string(record, '$.customer_id'), json_extract_string(record, '$.order_id')"
        " from quarantine.raw_shop__orders"
    )
    assert len(quarantined) == figures["rows_quarantined"]
    assert all(customer is None and order is not None for _, _, customer, order in quarantined)
    assert all(order in key and "customer_id: required, got null" in broken for key, broken, _, order in quarantined)
    ((received, passed, in_quarantine),) = dirty.platform.query(
        "select rows_received, rows_passed, rows_quarantined from quarantine.contract_ledger where stream = 'raw_shop.orders'"
    )
    ((raw_rows, raw_nulls),) = dirty.platform.query("select count(*), count(*) filter (where customer_id is null) from raw_shop.orders")
    assert (received, passed, in_quarantine) == (raw_rows, raw_rows - raw_nulls, raw_nulls)
    assert (received, passed, in_quarantine) == (figures["rows_received"], figures["rows_passed"], figures["rows_quarantined"])
    assert received == passed + in_quarantine


def test_a_broken_contract_blocks_dbt_models_and_python_consumers_downstream(dirty):
    assert not dirty.materialized & set(DOWNSTREAM_OF_ORDERS)


def test_streams_that_met_their_contract_are_not_blamed(dirty):
    for stream in ("raw_shop/payments", "raw_shop/products", "raw_web/web_events"):
        assert dirty.evaluation(stream, "data_contract").passed, stream


def test_a_broken_contract_alerts_its_owner_once_by_webhook_and_slack(dirty):
    alerting = dirty.alerting
    webhook = alerting.webhook_alerts("raw_shop/orders", "data_contract")
    assert len(webhook) == 1, alerting.receiver.bodies
    assert webhook[0]["owners"][0] == "team:commerce-platform" and webhook[0]["severity"] == "ERROR"
    assert webhook[0]["metadata"]["rows_quarantined"] == dirty.figures("raw_shop/orders")["rows_quarantined"]
    posts = alerting.slack_posts("raw_shop/orders", "data_contract")
    assert len(posts) == 1 and posts[0]["channel"] == "#commerce-platform-alerts"
    assert "data_contract" in posts[0]["text"] and "customer_id: required, got null" in posts[0]["text"]
    assert all(
        headers.get("Authorization") == "Bearer xoxb-test-token"
        for path, headers in alerting.receiver.requests
        if path.endswith("chat.postMessage")
    )
    (customers,) = alerting.webhook_alerts("raw_shop/customers", "data_contract")
    assert "email: required, got null" in customers["description"]


def test_alerts_name_rules_and_keys_never_row_values(dirty):
    emails = {e for (e,) in dirty.platform.query("select email from raw_shop.customers where email is not null")}
    sent = [str(body) for body in dirty.alerting.receiver.bodies] + [
        message.get_content() for _, _, message in dirty.alerting.smtp.messages
    ]
    assert emails and sent and not any(email in text for text in sent for email in emails)


def test_a_later_run_still_leaves_out_the_blocked_streams_descendants_and_says_why(dirty):
    staging = dg.AssetKey(["staging", "stg_shop__orders"])
    later = dirty.platform.run_main_job(dirty.instance, dg.AssetSelection.assets(staging, dg.AssetKey(["staging", "stg_shop__products"])))
    assert later.success
    assert {e.asset_key.to_user_string() for e in later.get_asset_materialization_events()} == {"staging/stg_shop__products"}
    assert blocked_assets(later) == {"staging/stg_shop__orders": ["raw_shop/orders:data_contract"]}


# --- a renamed (dropped) column -----------------------------------------------------------


def test_a_dropped_column_is_reported_as_schema_drift(dirty):
    check = dirty.evaluation("raw_marketing/marketing_spend", "data_contract")
    assert not check.passed and check.severity == dg.AssetCheckSeverity.ERROR
    drift = {(d["column"], d["change"]) for d in dirty.figures("raw_marketing/marketing_spend")["schema_drift"]}
    assert drift == {("spend_eur", "removed"), ("cost_micros", "added")}
    assert "column 'spend_eur' (number) is in the contract but the source no longer sends it" in check.description
    assert "column 'cost_micros' (integer) is new in the source and not in the contract" in check.description


def test_the_rows_without_the_dropped_column_are_quarantined_and_reconciled(dirty):
    figures = dirty.figures("raw_marketing/marketing_spend")
    missing = dirty.platform.scalar("select count(*) from raw_marketing.marketing_spend where spend_eur is null")
    assert missing > 0 and figures["rows_quarantined"] == missing  # the last three reports, each restating three days
    assert figures["rows_received"] == figures["rows_passed"] + figures["rows_quarantined"]
    quarantined_days = dirty.platform.query(
        "select distinct json_extract_string(record, '$.spend_date') from quarantine.raw_marketing__marketing_spend order by 1"
    )
    assert quarantined_days == dirty.platform.query(
        "select distinct cast(spend_date as varchar) from raw_marketing.marketing_spend where spend_eur is null order by 1"
    )
    assert not dirty.materialized & {"staging/stg_marketing__spend", "marts/mart_marketing_roas"}


def test_schema_drift_reaches_the_owner_in_slack_and_by_email_once(dirty):
    alerting = dirty.alerting
    (alert,) = alerting.webhook_alerts("raw_marketing/marketing_spend", "data_contract")
    assert alert["owners"] == ["team:marketing", "marketing-ops@marketplace.example"]
    assert [d["column"] for d in alert["metadata"]["schema_drift"]] == ["spend_eur", "cost_micros"]
    (post,) = alerting.slack_posts("raw_marketing/marketing_spend", "data_contract")
    assert post["channel"] == "#marketing-ops-alerts" and "no longer sends it" in post["text"]
    ((to, message),) = alerting.emails("raw_marketing/marketing_spend", "data_contract")
    assert to == ["marketing-ops@marketplace.example"] and message["Subject"].startswith("[ERROR]")
    assert "cost_micros" in message.get_content()
