"""What a failed blocking check stops: exactly the descendants of the asset it failed on.

A stream check that fails with ERROR (``quality/stream_check.py``: a duplicated key, a broken
contract beyond its tolerance, a sync that lost its rows) is judged in the sync's step and
fails nothing by itself. Each step downstream asks here which of its upstream assets are
blocked, by the latest completed evaluation of their blocking checks (in this run when the
run synced them, else the last one: the raw table is still what that check judged), and
leaves out their descendants; everything else in the run is built. The blocked assets get
an observation naming the check, so the UI and the run summary say why they were not
materialized.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Mapping, Sequence

import dagster as dg

from data_platform.alerting.check_records import latest_evaluation
from data_platform.quality.stream_check import blocks_descendants
from data_platform.quality.waivers import Waiver, waiver_in_force

BLOCKED_BY = "platform/blocked_by"
"""Observation metadata on an asset left out of a run: the checks that blocked it."""


@dataclasses.dataclass(frozen=True)
class Block:
    check: dg.AssetCheckKey
    run_id: str
    description: str | None

    @property
    def label(self) -> str:
        return f"{self.check.asset_key.to_user_string()}:{self.check.name}"


def failed_blocking_checks(
    instance: dg.DagsterInstance,
    gates: Mapping[dg.AssetKey, Sequence[dg.AssetCheckKey]],
    waivers: Sequence[Waiver] = (),
    now: dt.datetime | None = None,
) -> dict[dg.AssetKey, list[Block]]:
    """For each asset of ``gates`` (asset -> its blocking checks), the checks whose latest completed
    evaluation failed and block now: at ERROR unless a waiver is in force now, or at WARN under a
    waiver that has expired since (the waivers are judged now, not when the check ran)."""
    now = now or dt.datetime.now(dt.UTC)
    blocks: dict[dg.AssetKey, list[Block]] = {}
    for asset_key, check_keys in gates.items():
        for check_key in check_keys:
            latest = latest_evaluation(instance, check_key)
            if latest is None:
                continue
            run_id, evaluation = latest
            if evaluation.passed or waiver_in_force(waivers, check_key, now) is not None:
                continue
            waived_until = getattr(evaluation.metadata.get("waived_until"), "value", None)
            expired = waived_until is not None and dt.datetime.fromisoformat(str(waived_until)) <= now
            if evaluation.severity == dg.AssetCheckSeverity.ERROR or expired:
                blocks.setdefault(asset_key, []).append(Block(check_key, run_id, evaluation.description))
    return blocks


def blocked_upstream(instance: dg.DagsterInstance, keys: Iterable[dg.AssetKey]) -> dict[dg.AssetKey, list[Block]]:
    """Assets (another domain's models, read across code locations) left out of their last run
    by a block upstream and not materialized since: the observation that left them out is newer
    than their latest materialization. Their readers stay blocked by the same checks, whichever
    code location, run or entry point they are built from."""
    blocks: dict[dg.AssetKey, list[Block]] = {}
    for key in keys:
        observed = next((r for r in instance.fetch_observations(key, limit=5).records if _blocked_labels(r)), None)
        if observed is None:
            continue
        materialized = instance.fetch_materializations(key, limit=1).records
        if materialized and materialized[0].storage_id > observed.storage_id:
            continue
        description = observed.asset_observation.description if observed.asset_observation else None
        blocks[key] = [Block(check_key(label), observed.run_id, description) for label in _blocked_labels(observed)]
    return blocks


def _blocked_labels(record) -> list[str]:
    observation = record.asset_observation
    value = observation.metadata.get(BLOCKED_BY) if observation is not None else None
    return list(getattr(value, "value", value) or [])


def check_key(label: str) -> dg.AssetCheckKey:
    """The check named by a ``Block.label`` (``raw_shop/orders:primary_key_unique``)."""
    asset, _, name = label.rpartition(":")
    return dg.AssetCheckKey(dg.AssetKey.from_user_string(asset), name)


def gates_of(specs: Iterable[dg.AssetCheckSpec]) -> dict[dg.AssetKey, list[dg.AssetCheckKey]]:
    """Asset -> its checks that block descendants (by the check specs' metadata)."""
    gates: dict[dg.AssetKey, list[dg.AssetCheckKey]] = {}
    for spec in sorted(specs, key=lambda s: (s.asset_key.to_user_string(), s.name)):
        if blocks_descendants(spec):
            gates.setdefault(spec.asset_key, []).append(spec.key)
    return gates


def full_graph(job_def: dg.JobDefinition):
    """The asset graph of the whole job, also when this run executes a subset of it (a subset
    job's graph holds only the selected assets)."""
    selection = job_def.asset_selection_data
    return (selection.parent_job_def if selection else job_def).asset_layer.asset_graph


def descendants(graph, roots: Iterable[dg.AssetKey]) -> set[dg.AssetKey]:
    seen: set[dg.AssetKey] = set()
    frontier = list(roots)
    while frontier:
        key = frontier.pop()
        if not graph.has(key):  # another domain's asset this job's graph only reads
            continue
        for child in graph.get(key).child_keys:
            if child not in seen:
                seen.add(child)
                frontier.append(child)
    return seen


def blocked_descendants(graph, blocks: Mapping[dg.AssetKey, list[Block]]) -> dict[dg.AssetKey, list[Block]]:
    """Every descendant of a blocked asset, with the blocks that stop it."""
    found: dict[dg.AssetKey, list[Block]] = {}
    for root, root_blocks in blocks.items():
        for key in descendants(graph, [root]):
            found.setdefault(key, []).extend(root_blocks)
    return found


def observation(key: dg.AssetKey, blocks: list[Block], run_id: str) -> dg.AssetObservation:
    labels = sorted({b.label for b in blocks})
    return dg.AssetObservation(
        asset_key=key,
        description=f"not materialized in run {run_id}: blocked by the failed check(s) {', '.join(labels)} upstream",
        metadata={BLOCKED_BY: dg.MetadataValue.json(labels), "platform/not_materialized_in_run": run_id},
    )
