"""The schema diff a sync and the contract check both use: declared columns vs found columns."""

from data_platform.warehouse.sql import logical_type_of
from embedded_airbyte.schema import SchemaChange, schema_changes

DECLARED = {"order_id": "integer", "status": "string", "spend_eur": "number"}


def test_identical_columns_are_no_change():
    assert schema_changes(DECLARED, dict(DECLARED)) == []


def test_column_order_does_not_matter():
    assert schema_changes(DECLARED, dict(reversed(list(DECLARED.items())))) == []


def test_a_renamed_column_is_one_removed_and_one_added():
    found = {"order_id": "integer", "status": "string", "cost_micros": "integer"}
    assert schema_changes(DECLARED, found) == [
        SchemaChange("spend_eur", "removed", declared_type="number"),
        SchemaChange("cost_micros", "added", found_type="integer"),
    ]


def test_a_retyped_column_names_both_types():
    (change,) = schema_changes(DECLARED, {**DECLARED, "order_id": "string"})
    assert (change.column, change.change, change.declared_type, change.found_type) == ("order_id", "retyped", "integer", "string")
    assert change.message == "column 'order_id' is integer in the contract but the source sends string"


def test_only_an_added_column_does_not_break_consumers():
    removed, added = schema_changes({"a": "string"}, {"b": "string"})
    assert removed.breaking and not added.breaking
    assert SchemaChange("a", "retyped", "string", "integer").breaking


def test_warehouse_types_map_to_contract_logical_types_in_both_dialects():
    duckdb = {
        "VARCHAR": "string",
        "BIGINT": "integer",
        "DECIMAL(38,9)": "number",
        "DOUBLE": "number",
        "BOOLEAN": "boolean",
        "DATE": "date",
        "TIMESTAMP WITH TIME ZONE": "timestamp",
        "JSON": "object",
    }
    snowflake = {
        "TEXT": "string",
        "NUMBER": "integer",
        "decimal": "number",
        "FLOAT": "number",
        "TIMESTAMP_TZ": "timestamp",
        "VARIANT": "object",
        "BOOLEAN": "boolean",
    }
    for warehouse_type, logical in {**duckdb, **snowflake}.items():
        assert logical_type_of(warehouse_type) == logical, warehouse_type
