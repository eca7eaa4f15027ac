"""Run SQL in whichever warehouse the environment has: DuckDB and Snowflake resources both
hand out DB-API connections, so checks push their SQL down and only read small results.

``WarehouseDialect`` holds the few expressions that differ between the two.

On Snowflake every connection these helpers open runs under the query tag of what is running
(``query_tag(...)``: the asset, the check, the owning team), set first and unset last, so its
cost is shown back to that team and nothing after it is billed to it."""

import contextlib
import contextvars
import dataclasses
import json
import re
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

_PLAIN = re.compile(r"^[a-z_][a-z0-9_]*$")
_QUERY_TAG: contextvars.ContextVar[str | None] = contextvars.ContextVar("query_tag", default=None)


@contextlib.contextmanager
def query_tag(**fields: Any) -> Iterator[None]:
    """Tag the Snowflake statements run inside the block: ``{"app": "dagster", **fields}``."""
    token = _QUERY_TAG.set(json.dumps({"app": "dagster", **fields}, sort_keys=True))
    try:
        yield
    finally:
        _QUERY_TAG.reset(token)


@contextlib.contextmanager
def _cursor(warehouse: Any) -> Iterator[Any]:
    with warehouse.get_connection() as conn:
        cursor = conn.cursor()
        tag = _QUERY_TAG.get()
        tagged = tag is not None and "snowflake" in type(conn).__module__.lower()
        if tagged:
            cursor.execute(f"alter session set query_tag = {literal(tag)}")
        try:
            yield cursor
        finally:
            if tagged:
                cursor.execute("alter session unset query_tag")


def fetch_all(warehouse: Any, sql: str) -> list[tuple]:
    with _cursor(warehouse) as cursor:
        cursor.execute(sql)
        return [tuple(row) for row in cursor.fetchall()]


def execute(warehouse: Any, statements: Sequence[str]) -> None:
    """One after the other, each committed on its own (DDL: Snowflake commits it anyway)."""
    with _cursor(warehouse) as cursor:
        for statement in statements:
            cursor.execute(statement)


def session(warehouse: Any):
    """A cursor of one connection (query-tagged on Snowflake), for statements that need one session."""
    return _cursor(warehouse)


def execute_in_transaction(warehouse: Any, statements: Sequence[str], before: Sequence[str] = ()) -> None:
    """All of ``statements`` or none of them (``before``: run first in the same session, outside the transaction)."""
    with _cursor(warehouse) as cursor:
        for statement in before:
            cursor.execute(statement)
        cursor.execute("begin")
        try:
            for statement in statements:
                cursor.execute(statement)
        except BaseException:
            cursor.execute("rollback")
            raise
        cursor.execute("commit")


def literal(value: Any) -> str:
    """A SQL literal (strings quoted and escaped; numbers as they are)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def identifier(name: str) -> str:
    """Unquoted when plain snake_case, so it resolves in DuckDB and in Snowflake (which upper-cases
    unquoted names, as Airbyte's Snowflake destination does with columns); quoted otherwise."""
    return name if _PLAIN.match(name) else '"' + name.replace('"', '""') + '"'


@dataclasses.dataclass(frozen=True)
class WarehouseDialect:
    name: str
    """duckdb or snowflake"""

    @property
    def timestamp_type(self) -> str:
        return "timestamp with time zone" if self.name == "duckdb" else "timestamp_tz"

    @property
    def now(self) -> str:
        return "now()" if self.name == "duckdb" else "current_timestamp()"

    def minutes_since(self, expression: str) -> str:
        """Minutes from the newest value of ``expression`` to now (an aggregate)."""
        if self.name == "duckdb":
            return f"date_diff('second', max({expression}), now()) / 60.0"
        return f"datediff('second', max({expression}), current_timestamp()) / 60.0"

    def later_than_now(self, minutes: int) -> str:
        if self.name == "duckdb":
            return f"now() + interval {int(minutes)} minute"
        return f"dateadd(minute, {int(minutes)}, current_timestamp())"

    def json_text(self, column: str, field: str) -> str:
        """A top-level field of a JSON column (Airbyte's ``_airbyte_meta``) as text."""
        if self.name == "duckdb":
            return f"json_extract_string({column}, '$.{field}')"
        return f"to_varchar({column}:{field})"

    def full_match(self, column: str, pattern: str) -> str:
        if self.name == "duckdb":
            return f"regexp_full_match({column}, {literal(pattern)})"
        return f"regexp_like({column}, {literal(pattern)})"  # Snowflake's regexp_like matches the whole string

    def non_null_array(self, expressions: Iterable[str]) -> str:
        """An array of the expressions that are not null."""
        items = ", ".join(expressions)
        if self.name == "duckdb":
            return f"list_filter([{items}], lambda x: x is not null)"
        return f"array_compact(array_construct({items}))"

    def array_size(self, array: str) -> str:
        return f"len({array})" if self.name == "duckdb" else f"array_size({array})"

    def to_json_text(self, value: str) -> str:
        return f"cast(to_json({value}) as varchar)" if self.name == "duckdb" else f"to_json({value})"

    def row_as_json(self, alias: str, replaced: dict[str, str] | None = None) -> str:
        """The row as JSON text, with the columns in ``replaced`` given other values (PII pseudonyms)."""
        if self.name == "duckdb":
            row = f"to_json({alias})"
            if replaced:
                pairs = ", ".join(f"{literal(k)}, {v}" for k, v in replaced.items())
                row = f"json_merge_patch({row}, json_object({pairs}))"
            return f"cast({row} as varchar)"
        row = f"object_construct({alias}.*)"
        for column, value in (replaced or {}).items():
            row = f"object_insert({row}, {literal(column.upper())}, {value}, true)"  # Snowflake's column names are upper case
        return f"to_json({row})"

    def top_objects_json(self, fields: dict[str, str], by: str, n: int) -> str:
        """An aggregate: JSON text of an array of up to ``n`` objects ``{name: expression}``, those
        with the largest ``by`` (ties in no particular order); NULL over no rows."""
        if self.name == "duckdb":
            items = ", ".join(f"{literal(name)}: {expression}" for name, expression in fields.items())
            return f"cast(to_json(max_by({{{items}}}, {by}, {int(n)})) as varchar)"
        pairs = ", ".join(f"{literal(name)}, {expression}" for name, expression in fields.items())
        return f"to_json(max_by(object_construct({pairs}), {by}, {int(n)}))"

    def hash_pii(self, expression: str, key_table: str) -> str:
        """The same pseudonym as the dbt macro ``hash_pii``: HMAC-SHA256 (hex) of the trimmed,
        lower-cased text, keyed by the pads in ``key_table`` (see ``pii_key.py``)."""
        text = f"lower(trim(cast({expression} as varchar)))"
        inner, outer = f"(select inner_pad from {key_table})", f"(select outer_pad from {key_table})"
        if self.name == "duckdb":
            return f"sha256(unhex({outer}) || unhex(sha256(unhex({inner}) || encode({text}))))"
        return f"sha2(to_binary({outer}, 'HEX') || sha2_binary(to_binary({inner}, 'HEX') || to_binary({text}, 'UTF-8'), 256), 256)"


def logical_type_of(data_type: str) -> str:
    """The ODCS logical type of a warehouse column type (DuckDB or Snowflake spelling)."""
    t = data_type.lower()
    if t.startswith(("varchar", "text", "string", "char")):
        return "string"
    if t in ("bigint", "integer", "int", "smallint", "tinyint", "hugeint") or t in ("number(38,0)", "number"):
        return "integer"
    if t.startswith(("decimal", "numeric", "double", "float", "real", "number")):
        return "number"
    if t.startswith("bool"):
        return "boolean"
    if t == "date":
        return "date"
    if t.startswith(("timestamp", "datetime")):
        return "timestamp"
    if t in ("json", "variant", "object") or t.startswith("struct"):
        return "object"
    return t
