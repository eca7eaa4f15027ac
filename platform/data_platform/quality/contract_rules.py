"""A data contract's row rules as SQL predicates, and its schema against a table's columns.

Pure functions of the contract and the warehouse dialect (no connection): what
``quarantine.py`` runs and ``contract_checks.py`` judges.
"""

import dataclasses

from data_platform.governance.contracts import ContractColumn, StreamContract
from data_platform.warehouse.sql import (
    WarehouseDialect,
    identifier,
    literal,
    logical_type_of,
)
from embedded_airbyte.schema import SchemaChange, schema_changes

FUTURE_TOLERANCE_MINUTES = 60
"""A timestamp up to this far past the warehouse's clock is clock skew; beyond it, it is in the future."""


@dataclasses.dataclass(frozen=True)
class Rule:
    label: str
    """What was broken, without the value (values may be personal data)."""
    violated: str
    """SQL condition true for a violating row."""


def contract_rules(contract: StreamContract, columns_present: set[str], dialect: WarehouseDialect) -> list[Rule]:
    """The contract's row-level rules, for the columns the table has (a missing column is drift)."""
    rules = []
    for column in contract.columns:
        if column.name not in columns_present:
            continue
        rules.extend(_column_rules(column, dialect))
    return rules


def _column_rules(column: ContractColumn, dialect: WarehouseDialect) -> list[Rule]:
    c = identifier(column.name)
    rules = []
    if column.logical_type not in ("string", "object"):
        # Airbyte nulls a value its column type cannot hold and lists it in _airbyte_meta.changes;
        # the JSON text is compact ('"field":"x"') in both warehouses
        changes = dialect.json_text("_airbyte_meta", "changes")
        listed = literal(f'"field":"{column.name}"')
        rules.append(Rule(f"{column.name}: not a valid {column.logical_type}", f"coalesce(contains({changes}, {listed}), false)"))
    if column.required:
        rules.append(Rule(f"{column.name}: required, got null", f"{c} is null"))
    if column.logical_type in ("timestamp", "date"):
        # a time that has not happened yet (year 2999, a wrong clock): never trusted as fresh, never a cursor
        rules.append(Rule(f"{column.name}: later than now", f"{c} > {dialect.later_than_now(FUTURE_TOLERANCE_MINUTES)}"))
    if column.valid_values is not None:
        allowed = ", ".join(literal(str(v)) for v in column.valid_values)
        rules.append(Rule(f"{column.name}: not an allowed value", f"{c} is not null and cast({c} as varchar) not in ({allowed})"))
    if column.minimum is not None:
        rules.append(Rule(f"{column.name}: below the minimum {column.minimum}", f"{c} < {literal(column.minimum)}"))
    if column.maximum is not None:
        rules.append(Rule(f"{column.name}: above the maximum {column.maximum}", f"{c} > {literal(column.maximum)}"))
    if column.pattern is not None:
        rules.append(
            Rule(f"{column.name}: does not match {column.pattern}", f"{c} is not null and not {dialect.full_match(c, column.pattern)}")
        )
    if column.min_length is not None:
        rules.append(Rule(f"{column.name}: shorter than {column.min_length}", f"length({c}) < {column.min_length}"))
    if column.max_length is not None:
        rules.append(Rule(f"{column.name}: longer than {column.max_length}", f"length({c}) > {column.max_length}"))
    return rules


def table_schema_changes(contract: StreamContract, found: dict[str, str]) -> list[SchemaChange]:
    """The warehouse table's columns (name -> warehouse type) against the contract."""
    return schema_changes(
        {c.name: c.logical_type for c in contract.columns},
        {n: logical_type_of(t) for n, t in found.items() if not n.startswith("_airbyte_")},
    )
