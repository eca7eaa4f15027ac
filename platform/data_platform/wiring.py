"""Load-time checks that the graph is wired as declared: a silent wrong result becomes an error.

Dagster accepts a dependency on a key nothing defines (it becomes an external asset), dagster-dbt
turns a dbt source without the stream's key into an unlinked asset, and a dbt test that no dbt
step runs is dropped with a log line. Each would leave a team believing something is checked or
connected when it is not, so each fails the definitions, naming what is wrong.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import dagster as dg

from data_platform.transformation.project import manifest_document


class WiringError(dg.DagsterInvalidDefinitionError):
    """The asset graph is not wired as declared; the message names every problem found."""


def dangling_dependencies(assets: Iterable[dg.AssetsDefinition | dg.AssetSpec], elsewhere: set[dg.AssetKey] = frozenset()) -> list[str]:
    """Dependencies on keys that no asset of the code location provides (``elsewhere``: keys another
    domain's code location provides, read here as dbt sources that name their domain)."""
    provided: set[dg.AssetKey] = set()
    deps: list[tuple[dg.AssetKey, dg.AssetKey]] = []
    for item in assets:
        specs = [item] if isinstance(item, dg.AssetSpec) else list(item.specs)
        for spec in specs:
            provided.add(spec.key)
            deps.extend((spec.key, dep.asset_key) for dep in spec.deps)
    return [
        f"asset {asset.to_user_string()} depends on {dep.to_user_string()}, which no asset provides"
        for asset, dep in sorted(deps, key=lambda d: (d[0].to_user_string(), d[1].to_user_string()))
        if dep not in provided and dep not in elsewhere
    ]


def unlinked_dbt_sources(source_keys: dict[dg.AssetKey, str], stream_keys: set[dg.AssetKey], domain: str) -> list[str]:
    """dbt sources whose asset key is not an Airbyte stream's (``meta.dagster.asset_key`` missing or wrong)."""
    return [
        f"domain {domain}: dbt source {selector.removeprefix('source:')} has asset key {key.to_user_string()}, which is no Airbyte "
        f"stream of its connections.yaml; set its meta.dagster.asset_key to the stream's key (<destination_namespace>/<stream>), "
        f"or, for a model another domain publishes, its meta.domain to that domain"
        for key, selector in sorted(source_keys.items(), key=lambda kv: kv[1])
        if key not in stream_keys
    ]


def unknown_publishers(domain: str, publishers: dict[str, str], known_domains: set[str]) -> list[str]:
    """dbt sources read from another domain (``meta.domain``) that names no domain folder."""
    return [
        f"domain {domain}: dbt {selector} is published by domain {publisher!r}, which has no folder"
        for selector, publisher in sorted(publishers.items())
        if publisher not in known_domains
    ]


def tests_no_step_runs(manifest: Path, dbt_assets: Sequence[dg.AssetsDefinition]) -> list[str]:
    """dbt data tests that are no asset check of a dbt step (on a source, or on several models without ``meta.dagster.ref``)."""
    document = manifest_document(manifest)
    checks = {spec.name for assets in dbt_assets for spec in assets.check_specs}
    orphans = {
        unique_id: node
        for unique_id, node in document.get("nodes", {}).items()
        if node.get("resource_type") == "test" and node["name"] not in checks
    }
    return [
        f"dbt test {node['name']} ({node.get('original_file_path', unique_id)}) is attached to no model a dbt step builds, "
        "so it would never run: test the model instead (a source's rules belong in its data contract), or name the model "
        "with meta.dagster.ref"
        for unique_id, node in sorted(orphans.items())
    ]


def validate(problems: Sequence[str]) -> None:
    if problems:
        raise WiringError("the asset graph is not wired as declared:\n- " + "\n- ".join(problems))
