"""The data_contract check's Snowflake SQL, run against fakesnow (a Snowflake emulator; there
is no Snowflake account here): same quarantine, ledger and reconciliation as on DuckDB."""

import contextlib
import json

import dagster as dg
import fakesnow
import pytest
import snowflake.connector

from data_platform.quality.contract_checks import contract_result
from data_platform.quality.contract_rules import contract_rules, table_schema_changes
from data_platform.quality.quarantine import ContractEnforcer
from data_platform.settings import resolve_settings

from ...support.environments import PROD_ENV
from ..support.example import example_connections


class EmulatedSnowflake:
    """What SnowflakeResource hands the checks: ``get_connection()`` giving a DB-API connection."""

    def __init__(self, connection):
        self.connection = connection

    @contextlib.contextmanager
    def get_connection(self):
        yield self.connection


@pytest.fixture
def snowflake_warehouse():
    with fakesnow.patch():
        conn = snowflake.connector.connect(database="RAW", schema="RAW_SHOP")
        conn.cursor().execute("create schema if not exists RAW.RAW_SHOP")
        yield EmulatedSnowflake(conn)
        conn.close()


def meta(sync_id: int, changes: list | None = None) -> str:
    return json.dumps({"sync_id": sync_id, "changes": changes or []}).replace("'", "''")


def test_the_snowflake_dialect_quarantines_reconciles_and_reports_drift(snowflake_warehouse):
    settings = resolve_settings(PROD_ENV)
    shop = next(c for c in example_connections() if c.name == "shop_db")
    enforcer = ContractEnforcer(shop, shop.stream("orders"), settings.warehouse)
    assert enforcer.dialect.name == "snowflake" and enforcer.table == "RAW.raw_shop.orders"
    cursor = snowflake_warehouse.connection.cursor()
    # Airbyte's Snowflake destination: upper-case columns, _airbyte_meta a VARIANT; spend of a column left out: drift
    cursor.execute(
        "create table RAW.RAW_SHOP.ORDERS (ORDER_ID number(38,0), CUSTOMER_ID number(38,0), MERCHANT_ID number(38,0), STATUS varchar, "
        "PLATFORM varchar, CURRENCY varchar, ITEMS_TOTAL_EUR float, CREATED_AT timestamp_tz, UPDATED_AT timestamp_tz, COUPON_CODE varchar, "
        "_AIRBYTE_RAW_ID varchar, _AIRBYTE_EXTRACTED_AT timestamp_tz, _AIRBYTE_META variant, _AIRBYTE_GENERATION_ID number(38,0))"
    )
    rows = [
        (1, 10, "paid", "web", meta(1)),
        (2, None, "paid", "web", meta(1)),  # required customer_id is null
        (3, 12, "lost", "web", meta(1)),  # not an allowed status
        (4, 13, "paid", "web", meta(2)),
    ]
    for order_id, customer_id, status, platform, airbyte_meta in rows:
        cursor.execute(
            "insert into RAW.RAW_SHOP.ORDERS select %s, %s, 1, %s, %s, 'EUR', 10.5, current_timestamp(), current_timestamp(), null, "
            "%s, current_timestamp(), parse_json(%s), 0",
            (order_id, customer_id, status, platform, f"raw-{order_id}", airbyte_meta.replace("''", "'")),
        )

    found = enforcer.table_columns(snowflake_warehouse)
    assert found["order_id"] and found["_airbyte_meta"]
    drift = table_schema_changes(enforcer.contract, found)
    assert {(c.column, c.change) for c in drift} == {("shipping_fee_eur", "removed"), ("coupon_code", "added")}
    enforcer.ensure_tables(snowflake_warehouse)
    figures = enforcer.enforce(snowflake_warehouse, contract_rules(enforcer.contract, set(found), enforcer.dialect), "run-1")

    assert (figures["rows_received"], figures["rows_passed"], figures["rows_quarantined"]) == (4, 2, 2)
    assert figures["violations_by_rule"] == {"customer_id: required, got null": 1, "status: not an allowed value": 1}
    cursor.execute("select primary_key, record from RAW.QUARANTINE.RAW_SHOP__ORDERS order by primary_key")
    quarantined = [(json.loads(key), json.loads(record)) for key, record in cursor.fetchall()]
    assert [key for key, _ in quarantined] == [["2"], ["3"]]
    assert {k.lower(): v for k, v in quarantined[1][1].items()}["status"] == "lost", "the whole record is kept"
    result = contract_result(enforcer, figures, drift)
    assert not result.passed and "2 of 4 rows synced broke the contract" in result.description
    assert (
        result.severity == dg.AssetCheckSeverity.ERROR
        and "(50.00 %) are quarantined, above the contract's tolerance of 5 %" in result.description
    )
    # judged syncs are not judged again
    again = enforcer.enforce(snowflake_warehouse, contract_rules(enforcer.contract, set(found), enforcer.dialect), "run-2")
    assert (again["rows_received"], again["rows_quarantined"]) == (4, 2) and again["judged_in_run"] == "run-1"
