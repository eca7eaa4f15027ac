"""Data contracts with the owners of each source stream, in the Open Data Contract Standard (ODCS v3).

One file per stream in the owning domain's ``contracts/<namespace>.<stream>.odcs.yaml``. A contract is the single
declaration of what its stream holds and who answers for it: description, owners (team and
members), columns with their types, primary key, nullability (``required``), allowed values
(``invalidValues`` quality rule with ``validValues``), ranges and patterns
(``logicalTypeOptions``), PII classification, and the freshness SLA (``latency``).
``connections.yaml`` only says how Airbyte moves the stream.

Files are validated against the ODCS JSON schema shipped with ``open-data-contract-standard``,
read into its pydantic model, then checked for what this platform can enforce: a rule it
cannot check is an error, never silently ignored.
"""

import dataclasses
import functools
import hashlib
import json
import re
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import yaml
from open_data_contract_standard.model import OpenDataContractStandard, SchemaProperty

from data_platform.settings import REPO_ROOT
from data_platform.yaml_text import load_yaml
from embedded_airbyte.schema import Column

LOGICAL_TO_COLUMN_TYPE = {
    "string": "string",
    "integer": "integer",
    "number": "number",
    "boolean": "boolean",
    "date": "date",
    "timestamp": "timestamp_with_timezone",
    "object": "json",
}
"""ODCS logical type -> the Airbyte column type the stream is loaded with."""
UNIT_MINUTES = {"m": 1, "min": 1, "minute": 1, "minutes": 1, "h": 60, "hour": 60, "hours": 60, "d": 1440, "day": 1440, "days": 1440}
SUPPORTED_OPTIONS = {"minimum", "maximum", "pattern", "minLength", "maxLength", "timezone"}
PII = "pii"
DEFAULT_QUARANTINE_TOLERANCE_PERCENT = 5.0
"""Share of a stream's rows that may be quarantined before the stream blocks its descendants,
when the contract states none (a schema-level ``invalidValues`` rule with ``unit: percent``)."""
SLACK_CHANNEL_METADATA = "contract/slack_channel"


class ContractError(ValueError):
    """A data contract is missing or invalid; the message names the file and the element."""


@dataclasses.dataclass(frozen=True)
class ContractColumn:
    name: str
    logical_type: str
    description: str = ""
    required: bool = False
    valid_values: tuple[Any, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None
    pattern: str | None = None
    min_length: int | None = None
    max_length: int | None = None
    classification: str | None = None

    @property
    def column(self) -> Column:
        return Column(self.name, LOGICAL_TO_COLUMN_TYPE[self.logical_type], self.description)

    @property
    def is_pii(self) -> bool:
        return self.classification == PII


@dataclasses.dataclass(frozen=True)
class StreamContract:
    path: Path
    id: str
    version: str
    namespace: str
    stream: str
    description: str
    team: str
    owners: tuple[str, ...]
    """``team:<name>`` then the members' emails: Dagster asset owners, and who is alerted."""
    slack_channel: str | None
    email: str | None
    columns: tuple[ContractColumn, ...]
    primary_key: tuple[str, ...]
    freshness_error_minutes: int
    freshness_warn_minutes: int
    freshness_column: str | None
    """The column whose newest value the latency SLA is about; None: judged on syncs only."""
    quarantine_tolerance_percent: float = DEFAULT_QUARANTINE_TOLERANCE_PERCENT
    """Up to this share of the stream's rows quarantined, the good rows flow on (a warning); above it the stream blocks."""
    domain: str | None = None
    """The ODCS ``domain``: the platform domain whose folder holds the contract."""

    def column(self, name: str) -> ContractColumn:
        return next(c for c in self.columns if c.name == name)

    @property
    def required_columns(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)


def contract_path(namespace: str, stream: str, directory: Path) -> Path:
    return directory / f"{namespace}.{stream}.odcs.yaml"


def contract_for(namespace: str, stream: str, directory: Path, validated: Path | None = None) -> StreamContract:
    """``validated``: the folder remembering contents that passed JSON-schema validation (see ``load_contract``)."""
    path = contract_path(namespace, stream, directory)
    if not path.exists():
        raise ContractError(f"stream {namespace}.{stream} has no data contract: expected {path}")
    contract = load_contract(path, validated)
    if (contract.namespace, contract.stream) != (namespace, stream):
        raise ContractError(f"{path.name}: describes {contract.namespace}.{contract.stream}, not {namespace}.{stream}")
    return contract


@functools.cache
def _odcs_schema_text() -> str:
    return resources.files("open_data_contract_standard").joinpath("schema.json").read_text()


@functools.cache
def _odcs_schema_digest() -> str:
    return hashlib.sha256(_odcs_schema_text().encode()).hexdigest()


@functools.cache
def _odcs_validator() -> jsonschema.protocols.Validator:
    schema = json.loads(_odcs_schema_text())
    return jsonschema.validators.validator_for(schema)(schema)


def load_contract(path: Path, validated: Path | None = None) -> StreamContract:
    """The contract in ``path``, validated once per content.

    JSON-schema validation of the ODCS schema is most of a contract's load time (~50 ms each, in
    every process loading definitions). A content that passed is remembered in ``validated`` as a
    marker named by the hash of the contract and of the ODCS schema, so later processes skip only
    that step; any change to either is validated again. The platform's own checks always run."""
    text = path.read_text()
    return _validated_contract(path, hashlib.sha256(text.encode()).hexdigest(), text, validated)


@functools.lru_cache(maxsize=256)
def _validated_contract(path: Path, digest: str, text: str, validated: Path | None) -> StreamContract:
    try:
        document = load_yaml(text)
    except yaml.YAMLError as error:
        raise ContractError(f"{path.name} is not valid YAML: {error}") from error
    marker = validated / f"{digest}-{_odcs_schema_digest()}" if validated else None
    if marker is None or not marker.exists():
        errors = sorted(_odcs_validator().iter_errors(document), key=lambda e: list(e.absolute_path))
        if errors:
            where = "/".join(map(str, errors[0].absolute_path)) or "(top level)"
            raise ContractError(f"{path.name} is not a valid ODCS v3 contract at {where}: {errors[0].message}")
        if marker is not None:
            try:
                marker.parent.mkdir(parents=True, exist_ok=True)
                marker.touch()
            except OSError:  # a read-only home: validate every time
                pass
    odcs = OpenDataContractStandard(**document)
    return _stream_contract(path, odcs)


def _stream_contract(path: Path, odcs: OpenDataContractStandard) -> StreamContract:
    name = path.name
    if odcs.kind != "DataContract":
        raise ContractError(f"{name}: kind must be DataContract")
    if not odcs.schema_ or len(odcs.schema_) != 1:
        raise ContractError(f"{name}: a stream contract describes exactly one schema object (the stream's table)")
    table = odcs.schema_[0]
    stream = table.physicalName or table.name
    namespaces = {s.schema_ for s in odcs.servers or [] if s.schema_}
    if len(namespaces) != 1:
        raise ContractError(
            f"{name}: servers must name the stream's schema (its Airbyte destination namespace) exactly once, found {sorted(namespaces)}"
        )
    columns = tuple(_column(name, p) for p in table.properties or [])
    if not columns:
        raise ContractError(f"{name}: schema {stream!r} declares no properties")
    keyed = sorted((p.primaryKeyPosition or 0, p.name) for p in table.properties or [] if p.primaryKey)
    team, owners, slack, email = _team(name, odcs)
    error_minutes, warn_minutes, freshness_column = _latency(name, odcs, stream, {c.name for c in columns})
    tolerance = _quarantine_tolerance(name, table.quality or [])
    return StreamContract(
        path=path,
        id=odcs.id or "",
        version=odcs.version or "",
        namespace=namespaces.pop(),
        stream=str(stream),
        description=(table.description or (odcs.description.purpose if odcs.description else "") or "").strip(),
        team=team,
        owners=owners,
        slack_channel=slack,
        email=email,
        columns=columns,
        primary_key=tuple(str(n) for _, n in keyed),
        freshness_error_minutes=error_minutes,
        freshness_warn_minutes=warn_minutes,
        freshness_column=freshness_column,
        quarantine_tolerance_percent=tolerance,
        domain=odcs.domain,
    )


def _quarantine_tolerance(file: str, rules: list) -> float:
    """The schema-level ``invalidValues`` threshold in percent: how many bad rows the consumers accept."""
    tolerance = DEFAULT_QUARANTINE_TOLERANCE_PERCENT
    for rule in rules:
        metric = rule.metric or rule.rule
        bound = rule.mustBeLessOrEqualTo if rule.mustBeLessOrEqualTo is not None else rule.mustBeLessThan
        if (
            metric != "invalidValues"
            or (rule.unit or "").lower() != "percent"
            or not isinstance(bound, int | float)
            or not 0 <= bound <= 100
        ):
            raise ContractError(
                f"{file}: schema-level quality rule {metric!r} is not enforced by this platform "
                "(supported: invalidValues with unit: percent and mustBeLessOrEqualTo between 0 and 100, the share of the stream's rows "
                "that may be quarantined before the stream blocks)"
            )
        tolerance = float(bound)
    return tolerance


def _column(file: str, prop: SchemaProperty) -> ContractColumn:
    where = f"{file}: property {prop.name!r}"
    if prop.logicalType not in LOGICAL_TO_COLUMN_TYPE:
        raise ContractError(f"{where}: logicalType {prop.logicalType!r} cannot be loaded; use one of {sorted(LOGICAL_TO_COLUMN_TYPE)}")
    options = dict(prop.logicalTypeOptions or {})
    unsupported = set(options) - SUPPORTED_OPTIONS
    if unsupported:
        raise ContractError(f"{where}: logicalTypeOptions {sorted(unsupported)} are not enforced by this platform")
    valid_values = None
    for rule in prop.quality or []:
        metric = rule.metric or rule.rule
        if metric == "invalidValues" and (rule.arguments or {}).get("validValues") and rule.mustBe in (0, None):
            valid_values = tuple(rule.arguments["validValues"])
        elif metric == "nullValues" and rule.mustBe == 0:
            prop = prop.model_copy(update={"required": True})
        else:
            raise ContractError(
                f"{where}: quality rule {metric!r} is not enforced by this platform "
                "(supported: invalidValues with arguments.validValues and mustBe 0, nullValues with mustBe 0)"
            )
    for bound in ("minimum", "maximum"):
        if bound in options and prop.logicalType not in ("integer", "number"):
            raise ContractError(f"{where}: {bound} applies to integer and number properties only")
    if {"pattern", "minLength", "maxLength"} & set(options) and prop.logicalType != "string":
        raise ContractError(f"{where}: pattern and lengths apply to string properties only")
    if "pattern" in options:
        try:
            re.compile(options["pattern"])
        except re.error as error:
            raise ContractError(f"{where}: pattern {options['pattern']!r} is not a regular expression: {error}") from None
    return ContractColumn(
        name=str(prop.name),
        logical_type=prop.logicalType,
        description=(prop.description or "").strip(),
        required=bool(prop.required or prop.primaryKey),
        valid_values=valid_values,
        minimum=options.get("minimum"),
        maximum=options.get("maximum"),
        pattern=options.get("pattern"),
        min_length=options.get("minLength"),
        max_length=options.get("maxLength"),
        classification=prop.classification,
    )


def _team(file: str, odcs: OpenDataContractStandard) -> tuple[str, tuple[str, ...], str | None, str | None]:
    team = odcs.team
    slack = next((s.channel for s in odcs.support or [] if s.tool == "slack" and s.channel), None)
    email = next((s.channel for s in odcs.support or [] if s.tool == "email" and s.channel), None)
    if team is None:  # owned by its domain: the domain's owners (domain.yaml) fill it in (domains.load_domain)
        return "", (), slack, email
    if isinstance(team, list) or not team.name:
        raise ContractError(
            f"{file}: team needs a name and members (the owners alerted when the contract breaks), or leave team out for the domain's owners"
        )
    members = tuple(m.username for m in team.members or [] if m.username and (m.role or "owner") == "owner")
    for member in members:
        if "@" not in member:
            raise ContractError(f"{file}: team member {member!r} must be an email address")
    if not members:
        raise ContractError(f"{file}: team {team.name!r} has no member with role owner")
    return team.name, (f"team:{team.name}", *members), slack, email


def _latency(file: str, odcs: OpenDataContractStandard, stream: str, columns: set[str]) -> tuple[int, int, str | None]:
    latency = [p for p in odcs.slaProperties or [] if p.property in ("latency", "freshness")]
    if len(latency) != 1:
        raise ContractError(f"{file}: needs exactly one latency SLA (slaProperties with property: latency), found {len(latency)}")
    sla = latency[0]
    unit = (sla.unit or "").lower()
    if unit not in UNIT_MINUTES or not isinstance(sla.value, (int, float)) or sla.value <= 0:
        raise ContractError(
            f"{file}: latency needs a positive number value and a unit among {sorted(set(UNIT_MINUTES))}, got {sla.value!r} {sla.unit!r}"
        )
    error = int(sla.value * UNIT_MINUTES[unit])
    custom = {c.property: c.value for c in sla.customProperties or []}
    warn = int(custom.get("warnAfter", error // 2))
    if not 1 <= warn < error:
        raise ContractError(f"{file}: latency warnAfter ({warn} min) must be below the SLA ({error} min)")
    element = sla.element.split(".")[-1] if sla.element else None
    if element is not None and element not in columns:
        raise ContractError(f"{file}: latency element {sla.element!r} is not a property of {stream}")
    return error, warn, element


def contract_metadata(contract: StreamContract) -> Mapping[str, Any]:
    """What the asset shows of its contract in the UI."""
    return {
        "contract/id": contract.id,
        "contract/version": contract.version,
        "contract/file": str(contract.path.relative_to(REPO_ROOT)) if contract.path.is_relative_to(REPO_ROOT) else str(contract.path),
        "contract/pii_columns": [c.name for c in contract.columns if c.is_pii],
        "contract/latency_sla_minutes": contract.freshness_error_minutes,
        "contract/quarantine_tolerance_percent": contract.quarantine_tolerance_percent,
        **({SLACK_CHANNEL_METADATA: contract.slack_channel} if contract.slack_channel else {}),
        **({"contract/email": contract.email} if contract.email else {}),
    }
