"""A check on an Airbyte stream, evaluated in the step that syncs the stream.

Why in the sync's step and not as a separate ``@asset_check`` op: a Dagster-blocking check
that fails ERROR fails its step, and every step downstream of it is skipped, so one bad
stream would stop the whole dbt multi-asset (all or nothing). Evaluated in the sync's step
instead, a check is over before any step downstream starts, fails nothing by itself, and the
steps downstream (the dbt steps) leave out exactly the descendants of the streams whose
blocking checks failed (``quality/blast_radius.py``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

import dagster as dg

from data_platform.warehouse.sql import query_tag

BLOCKS_DESCENDANTS = "platform/blocks_descendants"
"""Check-spec metadata: an ERROR result stops the stream's descendants (only them) in the same run and later ones."""

PLATFORM_BLOCKING = (
    "Blocks the stream's descendants when it fails at ERROR: the platform leaves them out of every run, whoever starts it. "
    "Dagster's own blocking flag is off on purpose (Dagster lists it as non-blocking): it would fail the sync's step and skip "
    "every model downstream of the connection, unrelated ones included."
)
"""Said by the description of every check that blocks descendants, so the description and Dagster's flag agree."""

Synced = Mapping[str, Any]
"""The metadata of the stream's materialization in this step (plain values); None when the step did not sync it."""


@dataclasses.dataclass(frozen=True)
class StreamCheck:
    spec: dg.AssetCheckSpec
    evaluate: Callable[[dg.AssetExecutionContext, Synced | None], dg.AssetCheckResult]

    @property
    def key(self) -> dg.AssetCheckKey:
        return self.spec.key

    def run(self, context: dg.AssetExecutionContext, synced: Synced | None, team: str = "data-platform") -> dg.AssetCheckResult:
        """Evaluate the check, its Snowflake statements tagged with the asset, the check and the owning team."""
        with query_tag(asset=self.spec.asset_key.to_user_string(), check=self.spec.name, team=team):
            result = self.evaluate(context, synced)
        return result._replace(asset_key=self.spec.asset_key, check_name=self.spec.name)


def stream_check_spec(asset: dg.AssetKey, name: str, description: str, *, blocks: bool, metadata: Mapping[str, Any] | None = None):
    return dg.AssetCheckSpec(
        name=name,
        asset=asset,
        description=description,
        metadata={**(metadata or {}), BLOCKS_DESCENDANTS: blocks},
    )


def blocks_descendants(spec: dg.AssetCheckSpec) -> bool:
    value = spec.metadata.get(BLOCKS_DESCENDANTS)
    return bool(getattr(value, "value", value))
