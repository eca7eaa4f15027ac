"""A contract's row rules as SQL: the conditions that mark a row as breaking its contract."""

import dataclasses

import duckdb
import pytest

from data_platform.governance.contracts import ContractColumn, load_contract
from data_platform.quality.contract_rules import contract_rules
from data_platform.warehouse.sql import WarehouseDialect, identifier, literal

from ..support.example import contract_file

DUCKDB, SNOWFLAKE = WarehouseDialect("duckdb"), WarehouseDialect("snowflake")


@pytest.fixture(scope="module")
def contract():
    columns = (
        ContractColumn("id", "integer", required=True),
        ContractColumn("country", "string", valid_values=("FR", "ES")),
        ContractColumn("amount", "number", minimum=0, maximum=1000),
        ContractColumn("sku", "string", pattern="^SKU-[0-9]+$", min_length=5, max_length=12),
    )
    return dataclasses.replace(load_contract(contract_file("raw_shop.customers.odcs.yaml")), columns=columns, primary_key=("id",))


def rules_by_label(contract, dialect=DUCKDB, present=("id", "country", "amount", "sku")):
    return {r.label: r.violated for r in contract_rules(contract, set(present), dialect)}


def test_each_contract_property_becomes_one_rule_labelled_without_values(contract):
    assert set(rules_by_label(contract)) == {
        "id: not a valid integer",
        "id: required, got null",
        "country: not an allowed value",
        "amount: not a valid number",
        "amount: below the minimum 0",
        "amount: above the maximum 1000",
        "sku: does not match ^SKU-[0-9]+$",
        "sku: shorter than 5",
        "sku: longer than 12",
    }


def test_a_column_missing_from_the_table_has_no_row_rules(contract):
    assert not any(label.startswith("sku") for label in rules_by_label(contract, present=("id", "country", "amount")))


def test_the_snowflake_rules_use_snowflake_functions(contract):
    rules = rules_by_label(contract, SNOWFLAKE)
    assert rules["sku: does not match ^SKU-[0-9]+$"] == "sku is not null and not regexp_like(sku, '^SKU-[0-9]+$')"
    assert rules["amount: not a valid number"] == 'coalesce(contains(to_varchar(_airbyte_meta:changes), \'"field":"amount"\'), false)'


ROWS = {
    # id, country, amount, sku, _airbyte_meta -> the rules it breaks
    1: ((1, "FR", 10, "SKU-1", '{"changes":[]}'), set()),
    2: ((None, "FR", 10, "SKU-1", '{"changes":[]}'), {"id: required, got null"}),
    3: ((3, "DE", 10, "SKU-1", '{"changes":[]}'), {"country: not an allowed value"}),
    4: ((4, None, -1, "SKU-1", '{"changes":[]}'), {"amount: below the minimum 0"}),
    5: ((5, "ES", 1001, "sku-12", '{"changes":[]}'), {"amount: above the maximum 1000", "sku: does not match ^SKU-[0-9]+$"}),
    6: (
        (6, "ES", None, "SKU-1", '{"changes":[{"field":"amount","change":"NULLED","reason":"DESTINATION_TYPECAST_ERROR"}]}'),
        {"amount: not a valid number"},
    ),
    7: ((7, "ES", 1, "SKU-1234567890", '{"changes":[]}'), {"sku: longer than 12"}),
}


def test_the_duckdb_rules_flag_exactly_the_rows_that_break_them(contract):
    rules = rules_by_label(contract)
    with duckdb.connect() as conn:
        conn.execute("create table t (id bigint, country varchar, amount decimal(38, 9), sku varchar, _airbyte_meta json, row_no int)")
        conn.executemany("insert into t values (?, ?, ?, ?, ?, ?)", [(*values, n) for n, (values, _) in ROWS.items()])
        for n, (_, expected) in ROWS.items():
            broken = {label for label, sql in rules.items() if conn.execute(f"select ({sql}) from t where row_no = {n}").fetchone()[0]}
            assert broken == expected, n


def test_identifiers_and_literals_are_safe_in_both_warehouses():
    assert identifier("order_id") == "order_id", "plain names stay unquoted so Snowflake upper-cases them like Airbyte"
    assert identifier("Order Id") == '"Order Id"' and identifier('a"b') == '"a""b"'
    assert literal("O'Brien") == "'O''Brien'" and literal(3) == "3" and literal(True) == "true"
