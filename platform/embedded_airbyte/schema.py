"""Column types of Airbyte streams: declared type <-> JSON schema <-> warehouse type.

Airbyte describes a stream with a JSON schema (``airbyte_type`` refines strings and numbers);
its destinations turn that into typed columns. These mappings follow Airbyte's
Destinations V2 typing for DuckDB and Snowflake.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

COLUMN_TYPES: dict[str, dict[str, Any]] = {
    # declared type: (JSON schema fragment)
    "string": {"type": "string"},
    "integer": {"type": "integer"},
    "number": {"type": "number"},
    "boolean": {"type": "boolean"},
    "date": {"type": "string", "format": "date"},
    "timestamp_with_timezone": {"type": "string", "format": "date-time", "airbyte_type": "timestamp_with_timezone"},
    "json": {"type": "object"},
}
DUCKDB_TYPES = {
    "string": "varchar",
    "integer": "bigint",
    "number": "decimal(38, 9)",
    "boolean": "boolean",
    "date": "date",
    "timestamp_with_timezone": "timestamp with time zone",
    "json": "json",
}
SNOWFLAKE_TYPES = {
    "string": "varchar",
    "integer": "number(38, 0)",
    "number": "float",
    "boolean": "boolean",
    "date": "date",
    "timestamp_with_timezone": "timestamp_tz",
    "json": "variant",
}
AIRBYTE_META_COLUMNS: tuple[tuple[str, str, str], ...] = (
    # name, duckdb type, meaning
    ("_airbyte_raw_id", "varchar", "Unique id Airbyte gave the record when it was loaded."),
    ("_airbyte_extracted_at", "timestamp with time zone", "When the source emitted the record."),
    ("_airbyte_meta", "json", "Sync id and the changes made to the record on the way (e.g. a value nulled by a failed cast)."),
    ("_airbyte_generation_id", "bigint", "Increments each time the stream is fully refreshed."),
)


@dataclasses.dataclass(frozen=True)
class Column:
    name: str
    type: str
    description: str = ""

    def __post_init__(self) -> None:
        if self.type not in COLUMN_TYPES:
            raise ValueError(f"column {self.name!r} has unknown type {self.type!r}; expected one of {sorted(COLUMN_TYPES)}")

    @property
    def duckdb_type(self) -> str:
        return DUCKDB_TYPES[self.type]

    @property
    def json_schema(self) -> dict[str, Any]:
        fragment = dict(COLUMN_TYPES[self.type])
        fragment["type"] = ["null", fragment["type"]]
        if self.description:
            fragment["description"] = self.description
        return fragment


@dataclasses.dataclass(frozen=True)
class SchemaChange:
    """How a stream's actual columns differ from its declared (contract) columns."""

    column: str
    change: str
    """removed (declared, not found), added (found, not declared) or retyped"""
    declared_type: str | None = None
    found_type: str | None = None

    @property
    def breaking(self) -> bool:
        """A removed or retyped column breaks consumers; an added one is only not loaded."""
        return self.change != "added"

    @property
    def message(self) -> str:
        if self.change == "removed":
            return f"column {self.column!r} ({self.declared_type}) is in the contract but the source no longer sends it"
        if self.change == "added":
            return f"column {self.column!r} ({self.found_type}) is new in the source and not in the contract (it is not loaded)"
        return f"column {self.column!r} is {self.declared_type} in the contract but the source sends {self.found_type}"

    def as_dict(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "message": self.message}


def schema_changes(declared: Mapping[str, str], found: Mapping[str, str]) -> list[SchemaChange]:
    """Columns (name -> type, in one type vocabulary) declared but not found, found but not declared, or retyped."""
    changes = [SchemaChange(n, "removed", declared_type=t) for n, t in declared.items() if n not in found]
    changes += [SchemaChange(n, "added", found_type=t) for n, t in found.items() if n not in declared]
    changes += [
        SchemaChange(n, "retyped", declared_type=t, found_type=found[n]) for n, t in declared.items() if n in found and found[n] != t
    ]
    return changes


def json_schema_for(columns: Sequence[Column]) -> dict[str, Any]:
    return {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "type": "object",
        "properties": {c.name: c.json_schema for c in columns},
    }


def column_type_from_json_schema(fragment: Mapping[str, Any]) -> str:
    """The declared type a JSON-schema property maps to (unknown shapes become ``json``)."""
    types = fragment.get("type", [])
    types = [types] if isinstance(types, str) else list(types)
    types = [t for t in types if t != "null"]
    if fragment.get("airbyte_type") in ("timestamp_with_timezone", "timestamp_without_timezone"):
        return "timestamp_with_timezone"
    if fragment.get("airbyte_type") == "integer":
        return "integer"
    if len(types) != 1:
        return "json" if types or "oneOf" in fragment or "anyOf" in fragment else "string"
    kind = types[0]
    if kind == "string":
        return {"date-time": "timestamp_with_timezone", "date": "date"}.get(fragment.get("format", ""), "string")
    if kind in ("integer", "number", "boolean"):
        return kind
    return "json"


def columns_from_json_schema(schema: Mapping[str, Any]) -> list[Column]:
    return [
        Column(name, column_type_from_json_schema(fragment), fragment.get("description", ""))
        for name, fragment in schema.get("properties", {}).items()
    ]
