"""Where the DuckDB destination keeps its bookkeeping, and how a conflicting key is written:
shared with the checks that read it."""

from collections.abc import Sequence

INTERNAL_SCHEMA = "airbyte_internal"
"""The embedded destination's bookkeeping schema (sync state, sync runs, conflicting versions)."""
CONFLICTS_TABLE = "conflicting_versions"
"""Keys received in two or more different versions with one cursor value, one row per (key,
cursor value), kept after the sync: the uniqueness check judges the table against it, so the
conflict stays open until a newer version of the key (the source's fix) replaces that cursor value."""


NO_CURSOR = "\u2205"
"""The cursor value recorded for a conflict whose versions carry no cursor value (NULL)."""


def conflict_cursor_sql(cursor: str) -> str:
    """A cursor value as text, NULL included (it is part of the conflict's key)."""
    return f"coalesce(cast({cursor} as varchar), '{NO_CURSOR}')"


def conflict_key_sql(primary_key: Sequence[str], prefix: str = "") -> str:
    """A key's identity as text (a JSON array of its values), the same in the destination that
    records a conflict and in the check that looks for it in the table (DuckDB)."""
    quoted = (prefix + '"' + k.replace('"', '""') + '"' for k in primary_key)
    return f"cast(json_array({', '.join(quoted)}) as varchar)"
