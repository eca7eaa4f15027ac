"""Boundaries between domains, checked when a domain's definitions load.

Domains share the warehouse's layer schemas (``staging``, ``trusted``, ``marts``, …) and one
asset graph keyed by ``[schema, name]``, so two domains that define the same dbt model or land
the same stream would write one table and make one asset key twice. Dagster would then refuse
the graph with "Duplicate asset key" naming neither domain, and only where both are loaded
together; a code location per domain would load each one fine and race on the table.

So each domain's location compares its own names with every other domain folder's files
(without loading them): a model name or a stream defined by two domains is a load error naming
both domains and both files. And a domain reads another's model only if that domain lists it in
``publishes`` (its ``domain.yaml``): what a team has not published it may change at will.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path

import dagster as dg
import yaml

from data_platform.domains import DOMAIN_FILE, Domain, domain_folders, published_models
from data_platform.settings import Settings
from data_platform.yaml_text import load_yaml

MODEL_SUFFIXES = (".sql", ".py")


def model_files(dbt_project: Path | None) -> dict[str, Path]:
    """A dbt project's models by name (dbt names a model after its file)."""
    if dbt_project is None or not (dbt_project / "models").is_dir():
        return {}
    return {p.stem: p for p in sorted((dbt_project / "models").rglob("*")) if p.suffix in MODEL_SUFFIXES and p.is_file()}


def _stream_declarations(connections_file: Path) -> Iterator[tuple[str, str]]:
    """``(namespace, stream)`` of each stream a ``connections.yaml`` lands (read leniently: its own
    domain reports what else is wrong with it)."""
    try:
        document = load_yaml(connections_file.read_text()) or {}
    except (OSError, yaml.YAMLError):
        return
    for connection in (document.get("connections") or {}).values() if isinstance(document, dict) else ():
        if isinstance(connection, dict) and isinstance(connection.get("streams"), dict):
            for stream in connection["streams"]:
                yield str(connection.get("destination_namespace")), str(stream)


def _others(domain: Domain, settings: Settings) -> list[Path]:
    return [folder for folder in domain_folders(settings) if folder.name != domain.name]


def colliding_names(domain: Domain, settings: Settings) -> list[str]:
    """Models and streams ``domain`` defines that another domain folder defines too."""
    problems = []
    mine = model_files(domain.dbt_project_dir)
    streams = {(c.destination_namespace, s.name) for c in domain.connections for s in c.streams}
    for folder in _others(domain, settings):
        theirs = model_files(settings.dbt_dir / folder.name if (settings.dbt_dir / folder.name / "dbt_project.yml").exists() else None)
        for name in sorted(mine.keys() & theirs.keys()):
            problems.append(
                f"dbt model {name} is defined by two domains: {domain.name} ({mine[name]}) and {folder.name} ({theirs[name]}); "
                "model names are unique across domains (their tables share the warehouse's schemas and asset keys): rename one"
            )
        for namespace, stream in sorted(streams & set(_stream_declarations(folder / "connections.yaml"))):
            problems.append(
                f"stream {namespace}.{stream} is landed by two domains: {domain.name} ({domain.folder / 'connections.yaml'}) and "
                f"{folder.name} ({folder / 'connections.yaml'}); a raw table has one owner: use another destination_namespace"
            )
    return problems


def unpublished_reads(
    domain: Domain, publishers: Mapping[dg.AssetKey, str], selectors: Mapping[dg.AssetKey, str], settings: Settings
) -> list[str]:
    """Models of another domain that ``domain`` reads (dbt sources naming it) but that domain does not publish."""
    problems = []
    for key, publisher in sorted(publishers.items(), key=lambda kv: kv[0].to_user_string()):
        folder = settings.domains_dir / publisher
        if publisher == domain.name or not (folder / DOMAIN_FILE).exists():
            continue  # an unknown publisher is reported on its own (wiring.unknown_publishers)
        model = key.path[-1]
        if model not in published_models(folder):
            problems.append(
                f"domain {domain.name} reads {model} of domain {publisher} (dbt {selectors[key]}), which {publisher} does not publish: "
                f"{publisher}'s owners add it to publishes in {folder / DOMAIN_FILE}, or {domain.name} reads something published"
            )
    return problems
