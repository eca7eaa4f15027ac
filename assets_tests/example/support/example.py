"""The example domains (commerce, growth) as the tests read them: their connections and contract files."""

from __future__ import annotations

from pathlib import Path

from data_platform.domains import load_domains
from data_platform.ingestion.connections import ConnectionSpec
from data_platform.settings import REPO_ROOT, resolve_settings

DOMAINS_DIR = REPO_ROOT / "platform" / "domains"


def example_connections() -> tuple[ConnectionSpec, ...]:
    """Every connection of every example domain."""
    return tuple(c for d in load_domains(resolve_settings({"DATA_PLATFORM_DOMAINS_DIR": str(DOMAINS_DIR)})) for c in d.connections)


def connection(name: str) -> ConnectionSpec:
    return next(c for c in example_connections() if c.name == name)


def contract_files() -> list[Path]:
    return sorted(DOMAINS_DIR.glob("*/contracts/*.odcs.yaml"))


def contract_file(name: str) -> Path:
    """``raw_shop.customers.odcs.yaml`` -> its path in its domain's folder."""
    (path,) = DOMAINS_DIR.glob(f"*/contracts/{name}")
    return path


EXAMPLE_DOMAINS = ("commerce", "growth")


def manifest_paths(target: str) -> dict[str, Path]:
    """Each example domain's dbt manifest for ``target`` (built when definitions load, or by prepare-dbt)."""
    return {d: REPO_ROOT / "dbt" / d / "target" / target / "manifest.json" for d in EXAMPLE_DOMAINS}


def merged_manifest(target: str) -> dict:
    """The example domains' manifests as one document (nodes, sources, exposures of both projects)."""
    import json

    merged: dict = {}
    for path in manifest_paths(target).values():
        document = json.loads(path.read_text())
        for section, value in document.items():
            if isinstance(value, dict) and section != "metadata":
                merged.setdefault(section, {}).update(value)
            else:
                merged.setdefault(section, value)
    return merged
