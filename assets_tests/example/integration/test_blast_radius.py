"""A bad row stops only what it touches.

Two faults injected into the shop's database after the shared build, each followed by one
main-job run over the whole graph:

- one payment updated to a null ``status`` (a row rule): the row is quarantined with its PII
  hashed, the owner gets one alert, and every model is still built in that run, the payment
  facts from the rows that passed;
- one merchant duplicated (a primary key): only the merchants' descendants are left out of
  the run, each with an observation naming the check; every other model is built.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import hashlib
import io
import json
import re
import sqlite3

import dagster as dg
import pytest

from data_platform.automation.end_to_end import EndToEnd
from data_platform.quality.blast_radius import descendants, full_graph
from data_platform.reporting import not_materialized, print_run_summary

from ...support.alerting import AlertingSensor
from ...support.smtp_receiver import SmtpReceiver
from ...support.webhook_receiver import WebhookReceiver
from ..support.platforms import T0, Platform, using

CHANGED_AT = (T0 + dt.timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
"""After the build's last sync (T0), so the next incremental sync reads the injected change."""
MERCHANTS = dg.AssetKey(["raw_shop", "merchants"])


@dataclasses.dataclass
class InjectedRun:
    platform: Platform
    instance: dg.DagsterInstance
    result: EndToEnd
    alerting: AlertingSensor
    injected: dict

    @property
    def materialized(self) -> set[dg.AssetKey]:
        return {e.asset_key for run in self.result.runs for e in run.get_asset_materialization_events()}

    def evaluation(self, asset: str, check: str) -> dg.AssetCheckEvaluation:
        evaluations = [e for run in self.result.runs for e in run.get_asset_check_evaluations()]
        return next(e for e in evaluations if e.asset_key.to_user_string() == asset and e.check_name == check)

    @property
    def not_materialized(self) -> dict[str, list[str]]:
        return not_materialized(self.result.runs, self.result.left_out)

    def dbt_models(self) -> set[dg.AssetKey]:
        graph = self.platform.defs.resolve_asset_graph()
        return {key for key in graph.get_all_asset_keys() if "dbt" in graph.get(key).kinds and graph.get(key).is_materializable}


def write_source(platform: Platform, *statements: str) -> None:
    with contextlib.closing(sqlite3.connect(platform.source_systems_dir / "shop_db.sqlite")) as db, db:
        for statement in statements:
            db.execute(statement)


@contextlib.contextmanager
def injected_run(built_platform: Platform, root, inject) -> InjectedRun:
    receiver, smtp = WebhookReceiver(), SmtpReceiver()
    try:
        with using(built_platform.copy(root / "data")) as platform, platform.instance() as instance:
            injected = inject(platform)
            alerting = AlertingSensor(platform.defs, instance, receiver, smtp, root / "alerts.jsonl")
            result = platform.run_end_to_end(instance)
            alerting.tick()
            yield InjectedRun(platform, instance, result, alerting, injected)
    finally:
        receiver.close()
        smtp.close()


def null_status_and_bad_country(platform: Platform) -> dict:
    payment_id, order_id = platform.source_db("select payment_id, order_id from payments order by payment_id limit 1 offset 7")[0]
    customer_id, email, phone, first_name = platform.source_db(
        "select customer_id, email, phone, first_name from customers order by customer_id limit 1 offset 3"
    )[0]
    write_source(
        platform,
        f"update payments set status = null, updated_at = '{CHANGED_AT}' where payment_id = {payment_id}",
        f"update customers set country_code = 'XX', updated_at = '{CHANGED_AT}' where customer_id = {customer_id}",
    )
    return {"payment_id": payment_id, "order_id": order_id, "customer_id": customer_id, "pii": (email, phone, first_name)}


@pytest.fixture(scope="module")
def null_status(built_platform, tmp_path_factory):
    with injected_run(built_platform, tmp_path_factory.mktemp("null_status"), null_status_and_bad_country) as run:
        yield run


def duplicate_merchant(platform: Platform) -> dict:
    write_source(platform, "insert into merchants select * from merchants where merchant_id = (select min(merchant_id) from merchants)")
    return {}


@pytest.fixture(scope="module")
def duplicate_key(built_platform, tmp_path_factory):
    with injected_run(built_platform, tmp_path_factory.mktemp("duplicate_key"), duplicate_merchant) as run:
        yield run


# --- one payment with a null status -------------------------------------------------------


def test_a_row_rule_broken_by_one_row_is_a_warning_with_counts_not_a_block(null_status):
    check = null_status.evaluation("raw_shop/payments", "data_contract")
    assert not check.passed and check.severity == dg.AssetCheckSeverity.WARN, check.description
    assert check.metadata["rows_quarantined"].value == 1
    assert "status: required, got null (1)" in check.description and "the other rows flow on" in check.description


def test_the_row_is_quarantined_and_left_out_of_staging(null_status):
    payment_id = null_status.injected["payment_id"]
    assert null_status.platform.query("select primary_key, violations from quarantine.raw_shop__payments") == [
        (f'["{payment_id}"]', '["status: required, got null"]')
    ]
    assert not null_status.platform.query(f"select 1 from staging.stg_shop__payments where payment_id = {payment_id}")


def failures(run: InjectedRun) -> list[str]:
    return [
        f"{e.step_key}: {e.step_failure_data.error.message[:600] if e.step_failure_data.error else ''}"
        for result in run.result.runs
        for e in result.all_events
        if e.event_type == dg.DagsterEventType.STEP_FAILURE
    ]


def test_every_model_is_materialized_in_the_same_run(null_status):
    assert null_status.result.success, failures(null_status)
    missing = null_status.dbt_models() - null_status.materialized
    assert not missing, sorted(k.to_user_string() for k in missing)
    assert dg.AssetKey(["ml", "customer_features"]) in null_status.materialized
    assert null_status.not_materialized == {}


def test_the_payment_facts_are_built_from_the_rows_that_passed(null_status):
    passed = null_status.platform.scalar(
        "select count(*) from raw_shop.payments where _airbyte_raw_id not in (select _airbyte_raw_id from quarantine.raw_shop__payments)"
    )
    assert null_status.platform.scalar("select count(*) from staging.stg_shop__payments") == passed
    facts = null_status.platform.query(
        f"select count(*), count(*) filter (where payment_id = {null_status.injected['payment_id']}) from trusted.fct_payments"
    )
    assert facts[0][1] == 0 and facts[0][0] > 0


def test_the_payments_owner_gets_one_alert(null_status):
    (alert,) = null_status.alerting.webhook_alerts("raw_shop/payments", "data_contract")
    assert alert["severity"] == "WARN" and alert["owners"][0] == "team:commerce-platform"
    assert alert["metadata"]["rows_quarantined"] == 1
    (post,) = null_status.alerting.slack_posts("raw_shop/payments", "data_contract")
    assert post["channel"] == "#commerce-platform-alerts"


def test_a_quarantined_record_keeps_its_pii_hashed_as_staging_hashes_it(null_status):
    email, phone, first_name = null_status.injected["pii"]
    ((record,),) = null_status.platform.query("select record from quarantine.raw_shop__customers")
    record = json.loads(record)
    assert record["customer_id"] == null_status.injected["customer_id"] and record["country_code"] == "XX"
    for column, value in (("email", email), ("phone", phone), ("first_name", first_name)):
        assert record[column] == pseudonym(null_status.platform, value), column
        assert record[column] != hashlib.sha256(value.strip().lower().encode()).hexdigest(), "not a hash anyone can recompute"


def pseudonym(platform, value: str) -> str:
    """HMAC-SHA256 with the installation's own key (``secrets/pii_key`` in its data folder)."""
    import hmac

    key = (platform.data_dir / "secrets" / "pii_key").read_text().strip().encode()
    return hmac.new(key, value.strip().lower().encode(), hashlib.sha256).hexdigest()


def test_staging_pseudonymises_an_email_as_quarantine_does_and_no_plain_hash_matches(built_platform):
    rows = built_platform.query(
        "select c.email, s.email_hash from raw_shop.customers c join staging.stg_shop__customers s using (customer_id) "
        "where c.email is not null order by customer_id limit 50"
    )
    assert rows
    for email, stored in rows:
        assert stored == pseudonym(built_platform, email)
    plain = {hashlib.sha256(email.strip().lower().encode()).hexdigest() for email, _ in rows}
    assert not plain & {stored for _, stored in rows}, "a dictionary of unkeyed hashes matches no stored pseudonym"


def test_no_schema_outside_raw_holds_a_clear_text_email_phone_or_name(null_status):
    platform = null_status.platform
    emails, phones, names = (
        {v for (v,) in platform.source_db(f"select {column} from customers where {column} is not null")}
        for column in ("email", "phone", "first_name || ' ' || last_name")
    )
    first_names = {n.split(" ")[0] for n in names}
    columns = platform.query(
        "select table_schema, table_name, column_name from information_schema.columns "
        "where table_schema not like 'raw_%' and table_schema not in ('airbyte_internal', 'information_schema', 'pg_catalog') "
        "and data_type = 'VARCHAR'"
    )
    assert {schema for schema, _, _ in columns} >= {"staging", "trusted", "quarantine"}
    found = []
    for schema, table, column in columns:
        values = {v for (v,) in platform.query(f'select distinct "{column}" from "{schema}"."{table}" where "{column}" is not null')}
        for value in values:
            words = set(re.split(r"[^\w@+.]+", value))
            if words & emails or words & phones or words & first_names or any(e in value for e in emails):
                found.append(f"{schema}.{table}.{column}: {value[:60]}")
    assert not found, found[:10]


# --- one duplicated primary key -------------------------------------------------------------


def test_a_duplicate_primary_key_blocks_its_stream(duplicate_key):
    check = duplicate_key.evaluation("raw_shop/merchants", "primary_key_unique")
    assert not check.passed and check.severity == dg.AssetCheckSeverity.ERROR


def test_only_the_streams_descendants_are_left_out(duplicate_key):
    graph = full_graph(duplicate_key.platform.defs.resolve_job_def("platform_main_job"))
    stopped = {k for k in descendants(graph, [MERCHANTS]) if graph.get(k).is_materializable}
    assert dg.AssetKey(["staging", "stg_shop__merchants"]) in stopped
    assert not stopped & duplicate_key.materialized
    others = duplicate_key.dbt_models() - stopped
    assert others and not others - duplicate_key.materialized, sorted(k.to_user_string() for k in others - duplicate_key.materialized)
    assert duplicate_key.result.success, failures(duplicate_key)


def test_the_summary_names_the_blocking_check_for_each_asset_left_out(duplicate_key):
    graph = full_graph(duplicate_key.platform.defs.resolve_job_def("platform_main_job"))
    stopped = {k.to_user_string() for k in descendants(graph, [MERCHANTS]) if graph.get(k).is_materializable}
    assert duplicate_key.not_materialized == {key: ["raw_shop/merchants:primary_key_unique"] for key in sorted(stopped)}
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = print_run_summary(duplicate_key.result.runs, duplicate_key.platform.settings, 1.0, duplicate_key.result.left_out)
    assert code == 1
    assert "NOT MATERIALIZED staging/stg_shop__merchants: blocked by raw_shop/merchants:primary_key_unique" in out.getvalue()


def test_the_ui_shows_why_an_asset_was_not_materialized(duplicate_key):
    records = duplicate_key.instance.fetch_observations(dg.AssetKey(["staging", "stg_shop__merchants"]), limit=1).records
    observation = records[0].asset_observation
    assert observation.metadata["platform/blocked_by"].value == ["raw_shop/merchants:primary_key_unique"]
    assert "not materialized in run" in observation.description


# --- domains: one domain's blocking failure never stops another's -------------------------


def test_a_blocking_failure_in_commerce_leaves_growths_own_models_materialized_in_the_same_run(duplicate_key):
    graph = duplicate_key.platform.defs.resolve_asset_graph()
    growth = {k for k in duplicate_key.dbt_models() if graph.get(k).tags.get("domain") == "growth"}
    blocked = {dg.AssetKey.from_user_string(k) for k in duplicate_key.not_materialized}
    assert dg.AssetKey(["marts", "mart_web_funnel"]) in growth
    assert growth - descendants(graph, {MERCHANTS}) <= duplicate_key.materialized, "growth's models that do not read commerce are built"
    assert not (blocked & growth) - descendants(graph, {MERCHANTS}), "no growth model is blocked by commerce except through commerce's data"
    assert dg.AssetKey(["marts", "mart_marketing_roas"]) in blocked, "ROAS reads commerce's orders, which read the merchants"
