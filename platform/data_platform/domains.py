"""Domains: what one team owns, in one folder, loaded without a line of platform Python.

A domain is a folder under ``platform/domains/`` (``DATA_PLATFORM_DOMAINS_DIR``) holding
``domain.yaml``, and usually:

- ``connections.yaml``: its Airbyte connections (``ingestion/connections.py``);
- ``contracts/<namespace>.<stream>.odcs.yaml``: the data contract of each stream it ingests;
- ``definitions.py``: its code location (three lines; ``workspace.yaml`` loads it);
- Python consumers named in ``domain.yaml`` (``file.py:function``, relative to the folder);
- ``waivers.yaml``: owners' waivers of failing blocking checks (``quality/waivers.py``).

Its dbt project is ``dbt/<name>/`` (``DATA_PLATFORM_DBT_DIR``) when that folder exists. Models
another domain publishes are read as dbt sources whose ``meta.domain`` names that domain, so
each project parses, loads and builds on its own, and Dagster links the two by asset key.

``domain.yaml``::

    description: What the team owns.
    owners: [team:growth, growth-data@example.com]     # default owners of what it builds
    alerts: {slack_channel: "#growth-data-alerts"}       # where its failures are alerted
    source_systems:                                      # the operational systems its connections read
      web_events:
        kind: s3
        description: The event collector's landing bucket.
        local_stand_in: some_package.module:function     # optional: what moves it forward on a laptop
    consumers: [ml_features.py:customer_features]        # optional: Python assets downstream of its models
    publishes: [fct_orders]                              # its models other domains may read (nothing else)
    partitions_start: 2024-03-01                         # first daily partition: where its data starts
    schedules: {end_to_end: "0 4 * * *", daily_partitions: "0 5 * * *", late_events_rerun: "30 */6 * * *"}
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import importlib
import importlib.util
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from data_platform.ingestion.connections import ConnectionsFileError, ConnectionSpec, load_connections
from data_platform.quality.waivers import Waiver, WaiverError, load_waivers
from data_platform.settings import Settings
from data_platform.yaml_text import load_yaml

DOMAIN_FILE = "domain.yaml"
DOMAIN_NAME = re.compile(r"[a-z][a-z0-9_]*")
RESERVED_NAMES = frozenset({"platform"})
"""Code location names the platform itself uses (``platform_location.py``)."""
"""A domain's name, matched whole (``fullmatch``: a trailing newline is not part of a name)."""
_KNOWN = {"description", "owners", "alerts", "source_systems", "consumers", "schedules", "publishes", "partitions_start"}
DEFAULT_SCHEDULES = {"end_to_end": "0 4 * * *", "daily_partitions": "0 5 * * *", "late_events_rerun": "30 */6 * * *"}


class DomainError(ValueError):
    """A domain's folder does not describe a usable domain; the message names the file and the element."""


@dataclasses.dataclass(frozen=True)
class SourceSystem:
    name: str
    kind: str
    description: str
    local_stand_in: str | None = None
    """``module:function`` that moves the system forward to now locally (a simulation); None: an external asset."""


@dataclasses.dataclass(frozen=True)
class Domain:
    name: str
    folder: Path
    description: str
    owners: tuple[str, ...]
    slack_channel: str | None
    connections: tuple[ConnectionSpec, ...]
    source_systems: tuple[SourceSystem, ...]
    consumers: tuple[str, ...]
    schedules: Mapping[str, str]
    dbt_project_dir: Path | None
    waivers: tuple[Waiver, ...] = ()
    """Owners' waivers of failing blocking checks (``waivers.yaml``, see ``quality/waivers.py``)."""
    publishes: tuple[str, ...] = ()
    """Names of its dbt models other domains may read (as dbt sources naming this domain)."""
    partitions_start: str | None = None
    """Its first daily partition (YYYY-MM-DD), where its data starts; None: the platform's (``Settings.partitions_start``)."""


def domain_folders(settings: Settings) -> list[Path]:
    """Every domain folder (one holding ``domain.yaml``), by name."""
    if not settings.domains_dir.is_dir():
        return []
    return sorted(p.parent for p in settings.domains_dir.glob(f"*/{DOMAIN_FILE}"))


def load_domain(folder: Path, settings: Settings) -> Domain:
    """The domain in ``folder``: its ``domain.yaml``, connections and contracts, validated."""
    folder = Path(folder).resolve()
    path = folder / DOMAIN_FILE
    name = folder.name
    if not DOMAIN_NAME.fullmatch(name):
        raise DomainError(f"{folder}: a domain's folder name is lowercase snake_case (it names asset tags, steps and its dbt project)")
    if name in RESERVED_NAMES:
        raise DomainError(f"{folder}: {name!r} names the platform's own code location (cost per team, the catalog); pick another name")
    if not path.exists():
        raise DomainError(f"{folder}: has no {DOMAIN_FILE}, so it is not a domain")
    try:
        document = load_yaml(path.read_text()) or {}
    except yaml.YAMLError as error:
        raise DomainError(f"{path} is not valid YAML: {error}") from error
    if not isinstance(document, dict):
        raise DomainError(f"{path}: must be a mapping (description, owners, alerts, source_systems, ...)")
    unknown = sorted(set(document) - _KNOWN)
    if unknown:
        raise DomainError(f"{path}: unknown key(s) {', '.join(unknown)}; known: {', '.join(sorted(_KNOWN))}")
    connections_file = folder / "connections.yaml"
    try:
        connections = load_connections(connections_file, folder / "contracts", settings.contract_cache) if connections_file.exists() else ()
    except ConnectionsFileError as error:
        raise DomainError(f"domain {name}: {connections_file}: {error}") from None
    for connection in connections:
        for stream in connection.streams:
            if stream.contract.domain not in (None, name):
                raise DomainError(
                    f"domain {name}: contract {stream.contract.path} says domain {stream.contract.domain!r}; "
                    f"a contract lives in the folder of the domain it names"
                )
    owners = document.get("owners") or [f"team:{name}"]
    if not isinstance(owners, list) or not all(isinstance(o, str) for o in owners):
        raise DomainError(f"{path}: owners is a list of 'team:<name>' and email addresses")
    slack_channel = (document.get("alerts") or {}).get("slack_channel")
    connections = tuple(_owned(c, name, owners, slack_channel) for c in connections)
    systems = _source_systems(path, document.get("source_systems") or {})
    for connection in connections:
        if connection.source_system not in {s.name for s in systems}:
            systems.append(SourceSystem(connection.source_system, "source", ""))
    consumers = document.get("consumers") or []
    for reference in consumers:
        _check_reference(path, "consumers", reference)
    schedules = {**DEFAULT_SCHEDULES, **(document.get("schedules") or {})}
    for schedule, cron in schedules.items():
        if schedule not in DEFAULT_SCHEDULES or not isinstance(cron, str) or len(cron.split()) != 5:
            raise DomainError(
                f"{path}: schedules.{schedule}: {cron!r} (known schedules: {', '.join(DEFAULT_SCHEDULES)}, each a 5-field cron)"
            )
    publishes = document.get("publishes") or []
    if not isinstance(publishes, list) or not all(isinstance(m, str) and m for m in publishes):
        raise DomainError(f"{path}: publishes is a list of the names of its dbt models other domains may read")
    partitions_start = _partitions_start(path, document.get("partitions_start"))
    dbt_project = settings.dbt_dir / name
    return Domain(
        name=name,
        folder=folder,
        description=str(document.get("description") or "").strip(),
        owners=tuple(owners),
        slack_channel=slack_channel,
        connections=connections,
        source_systems=tuple(systems),
        consumers=tuple(consumers),
        schedules=schedules,
        dbt_project_dir=dbt_project if (dbt_project / "dbt_project.yml").exists() else None,
        waivers=_waivers(folder),
        publishes=tuple(publishes),
        partitions_start=partitions_start,
    )


def _owned(connection: ConnectionSpec, domain: str, owners: Sequence[str], slack_channel: str | None) -> ConnectionSpec:
    """Streams whose contract names no team are owned by the domain: its owners, its channel."""
    streams = tuple(
        s
        if s.contract.owners
        else dataclasses.replace(
            s,
            contract=dataclasses.replace(
                s.contract, team=domain, owners=tuple(owners), slack_channel=s.contract.slack_channel or slack_channel
            ),
        )
        for s in connection.streams
    )
    return dataclasses.replace(connection, streams=streams, owners=tuple(dict.fromkeys(o for s in streams for o in s.owners)))


def _partitions_start(path: Path, value: Any) -> str | None:
    if value is None:
        return None
    try:  # YAML reads an unquoted 2026-01-05 as a date already
        return (value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))).isoformat()
    except ValueError:
        raise DomainError(f"{path}: partitions_start: {value!r} is not a YYYY-MM-DD date (the first day of the domain's data)") from None


def published_models(folder: Path) -> tuple[str, ...]:
    """The models the domain in ``folder`` lets other domains read (``publishes`` in its
    ``domain.yaml``), read alone: another domain's location checks what it reads against it."""
    try:
        document = load_yaml((folder / DOMAIN_FILE).read_text()) or {}
    except (OSError, yaml.YAMLError):
        return ()
    publishes = document.get("publishes") if isinstance(document, dict) else None
    return tuple(m for m in publishes if isinstance(m, str)) if isinstance(publishes, list) else ()


def _waivers(folder: Path) -> tuple[Waiver, ...]:
    try:
        return load_waivers(folder)
    except WaiverError as error:
        raise DomainError(str(error)) from None


def load_domains(settings: Settings, names: Sequence[str] | None = None) -> list[Domain]:
    """The domains named (all of them by default); a name without a folder is an error."""
    folders = {p.name: p for p in domain_folders(settings)}
    missing = [n for n in names or () if n not in folders]
    if missing:
        raise DomainError(f"no domain folder for {', '.join(missing)} in {settings.domains_dir} (domains: {', '.join(folders) or 'none'})")
    return [load_domain(folders[n], settings) for n in (names if names is not None else folders)]


def _source_systems(path: Path, body: Mapping[str, Any]) -> list[SourceSystem]:
    systems = []
    for name, system in body.items():
        system = system or {}
        where = f"{path}: source_systems.{name}"
        if not isinstance(system, dict):
            raise DomainError(f"{where}: must be a mapping (kind, description, local_stand_in)")
        stand_in = system.get("local_stand_in")
        if stand_in is not None:
            _check_reference(path, f"source_systems.{name}.local_stand_in", stand_in)
        systems.append(SourceSystem(name, str(system.get("kind", "source")), str(system.get("description", "")).strip(), stand_in))
    return systems


def _check_reference(path: Path, where: str, reference: Any) -> None:
    if not isinstance(reference, str) or reference.count(":") != 1 or not all(reference.split(":")):
        raise DomainError(f"{path}: {where}: {reference!r} is not 'module:function' or 'file.py:function'")


def resolve_callable(domain: Domain, reference: str) -> Callable[..., Any]:
    """``file.py:function`` (a file of the domain's folder) or ``package.module:function``."""
    target, function = reference.split(":")
    if target.endswith(".py"):
        file = domain.folder / target
        module_name = f"data_platform_domains.{domain.name}.{file.stem}"
        module = sys.modules.get(module_name)
        if module is None:
            if not file.exists():
                raise DomainError(f"{domain.folder / DOMAIN_FILE}: {reference}: no file {file}")
            spec = importlib.util.spec_from_file_location(module_name, file)
            module = importlib.util.module_from_spec(spec)
            sys.modules[module_name] = module
            spec.loader.exec_module(module)
    else:
        module = importlib.import_module(target)
    if not hasattr(module, function):
        raise DomainError(f"{domain.folder / DOMAIN_FILE}: {reference}: {target} has no {function}")
    return getattr(module, function)
