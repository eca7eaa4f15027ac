"""``data-platform draft-contract DOMAIN CONNECTION``: a data contract drafted from what the source
sends, for its owners to review, instead of 60 lines per stream written by hand.

The connection's embedded source runs as it does in a sync (its discover, then a full read)
into a scratch DuckDB, never the warehouse. From the discovered schema and a sample of the
landed rows (``SAMPLE_ROWS``, a reservoir sample) each column gets:

- a logical type: the discovered one, narrowed where every sampled text value is an integer, a
  number, a boolean, a date or an instant (CSV files discover everything as text);
- ``required`` when no sampled value is missing;
- key candidates: columns whose sampled values are all present and distinct (the first one, an
  ``*_id`` preferred, becomes the primary key; the others are listed in a comment);
- a PII guess, from the column's name (email, phone, names, address, birth date, IP, IBAN…) or
  from its values looking like email addresses: ``classification: pii``.

The draft names no team, so the stream's owners and alert channel are the domain's
(``domain.yaml``), written once there; the latency SLA is a
placeholder of one day on the stream's cursor. Every guess is marked ``# REVIEW``. The draft
names columns and counts only: no value of a record is printed or written (the guesses about
values are computed in the scratch database). The text loads as a valid contract as written.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import duckdb

from data_platform.governance.contracts import LOGICAL_TO_COLUMN_TYPE, StreamContract
from data_platform.ingestion.connections import (
    ConnectionsFileError,
    ConnectionSpec,
    StreamSpec,
    SyncMode,
    embedded_source_of,
    with_declared_streams,
)
from data_platform.settings import Settings
from data_platform.yaml_text import load_yaml
from embedded_airbyte.runner import EmbeddedAirbyte
from embedded_airbyte.schema import AIRBYTE_META_COLUMNS, column_type_from_json_schema
from embedded_airbyte.streams import Source

SAMPLE_ROWS = 10_000
PII_NAME = re.compile(
    r"(^|_)(e_?mail|phone|mobile|telephone|first_?name|last_?name|full_?name|surname|given_?name|family_?name|"
    r"address|street|post_?code|zip(_?code)?|birth(_?date|day)?|date_of_birth|dob|ip(_?address)?|iban|ssn|passport|"
    r"national_id|tax_id|license_plate)($|_)"
)
EMAIL_VALUE = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
COLUMN_TO_LOGICAL = {v: k for k, v in LOGICAL_TO_COLUMN_TYPE.items()} | {"timestamp_without_timezone": "timestamp"}
NARROWER = (  # tried in order on a text column: the first every sampled value casts to
    ("integer", "bigint", r"^-?(0|[1-9][0-9]*)$"),  # a leading zero (a postcode, a code) stays text
    ("number", "double", r"^-?((0|[1-9][0-9]*)([.][0-9]*)?|[.][0-9]+)([eE][+-]?[0-9]+)?$"),
    ("boolean", "boolean", r"^([Tt][Rr][Uu][Ee]|[Ff][Aa][Ll][Ss][Ee])$"),
    ("date", "date", r"^\d{4}-\d{2}-\d{2}$"),
    ("timestamp", "timestamptz", r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}"),
)


class DraftError(ValueError):
    """The connection cannot be drafted from; the message names the file and what to do."""


@dataclasses.dataclass(frozen=True)
class ColumnDraft:
    name: str
    logical_type: str
    timezone: bool | None
    required: bool
    distinct: bool
    pii: str | None
    """Why the column looks like personal data (its name, or its values), None if it does not."""


@dataclasses.dataclass(frozen=True)
class StreamDraft:
    namespace: str
    stream: str
    rows: int
    sampled: int
    columns: tuple[ColumnDraft, ...]
    cursor: str | None

    @property
    def key_candidates(self) -> list[str]:
        candidates = [c.name for c in self.columns if c.required and c.distinct and c.logical_type in ("integer", "string")]
        return sorted(candidates, key=lambda name: (not name.endswith("id"), name != f"{self.stream.rstrip('s')}_id", name))


def draft_contracts(domain_folder: Path, connection: str, settings: Settings, sample: int = SAMPLE_ROWS) -> dict[Path, str]:
    """The drafted contract of each stream of ``connection`` (a connection of the domain in
    ``domain_folder``), by the path it belongs at."""
    spec, cursors = _connection_to_draft(domain_folder, connection)
    with tempfile.TemporaryDirectory(prefix="contract-draft-") as scratch:
        warehouse = Path(scratch) / "warehouse.duckdb"
        runner = EmbeddedAirbyte(warehouse, connector_cache=settings.connector_cache)
        config = spec.embedded_source.resolved_config({"source_systems": str(settings.source_systems_dir)})
        discovered = runner.discover(runner_source(runner, spec), config)
        runner.sync(spec.embedded, config)
        with duckdb.connect(str(warehouse), read_only=True) as conn:
            drafts = [
                _profile(conn, spec.destination_namespace, s.name, discovered.get(s.name, {}), cursors.get(s.name), sample)
                for s in spec.streams
            ]
    return {
        domain_folder / "contracts" / f"{d.namespace}.{d.stream}.odcs.yaml": contract_text(d, domain_folder.name, connection)
        for d in drafts
    }


def runner_source(runner: EmbeddedAirbyte, spec: ConnectionSpec) -> Source:
    """The connector as the runner starts it (a PyPI connector from its virtual environment)."""
    return Source(runner.command(spec.embedded_source.source))


def _connection_to_draft(domain_folder: Path, name: str) -> tuple[ConnectionSpec, dict[str, str | None]]:
    """The connection read from ``connections.yaml`` without its contracts (they are what is
    drafted): every stream read in full, typed from what the source discovers."""
    path = domain_folder / "connections.yaml"
    if not path.exists():
        raise DraftError(f"{path}: no such file (a domain's connections are declared there)")
    connections = (load_yaml(path.read_text()) or {}).get("connections") or {}
    if name not in connections:
        raise DraftError(f"{path}: no connection {name!r} (connections: {', '.join(connections) or 'none'})")
    body = connections[name] or {}
    where = f"{path.name}: connection {name!r}"
    try:
        source = embedded_source_of(body, where, domain_folder)
    except ConnectionsFileError as error:
        raise DraftError(str(error)) from None
    namespace = body.get("destination_namespace")
    streams = body.get("streams") or {}
    if not namespace or not streams:
        raise DraftError(f"{where}: needs destination_namespace and streams")
    specs = tuple(
        StreamSpec(
            name=s,
            sync_mode=SyncMode.FULL_REFRESH_OVERWRITE,
            contract=_undeclared(namespace, s),
            cursor_field=(b or {}).get("cursor_field"),
        )
        for s, b in streams.items()
    )
    source = dataclasses.replace(source, config=with_declared_streams(source.config, specs))  # no types declared yet: all text
    spec = ConnectionSpec(
        name=name,
        description=body.get("description", ""),
        destination_namespace=namespace,
        owners=(),
        group="draft",
        source_system=body.get("source_system", name),
        streams=specs,
        embedded_source=source,
    )
    return spec, {s: (b or {}).get("cursor_field") for s, b in streams.items()}


def _undeclared(namespace: str, stream: str) -> StreamContract:
    """A contract declaring no columns: the stream is typed from what the source discovers."""
    return StreamContract(
        path=Path(f"{namespace}.{stream}.odcs.yaml"), id="draft", version="0.0.0", namespace=namespace, stream=stream,
        description="", team="draft", owners=(), slack_channel=None, email=None, columns=(), primary_key=(),
        freshness_error_minutes=1440, freshness_warn_minutes=720, freshness_column=None,
    )  # fmt: skip


def _profile(
    conn: duckdb.DuckDBPyConnection, namespace: str, stream: str, discovered: Mapping[str, Any], cursor: str | None, sample: int
) -> StreamDraft:
    meta = {name for name, _, _ in AIRBYTE_META_COLUMNS}
    properties = (discovered.get("json_schema") or {}).get("properties") or {}
    table = f'"{namespace}"."{stream}"'
    landed = [r[0] for r in conn.execute("select column_name from information_schema.columns where table_schema = ? and table_name = ? order by ordinal_position", [namespace, stream]).fetchall()]  # fmt: skip
    names = [n for n in landed if n not in meta and not n.startswith("_airbyte")]
    rows = conn.execute(f"select count(*) from {table}").fetchone()[0]
    conn.execute(f"create temp table sampled as select * from {table} using sample reservoir({int(sample)} rows) repeatable (42)")
    sampled = conn.execute("select count(*) from sampled").fetchone()[0]
    columns = []
    for name in names:
        column = f'"{name}"'
        declared = column_type_from_json_schema(properties.get(name, {})) if name in properties else "string"
        logical = COLUMN_TO_LOGICAL.get(declared, "string")
        present, distinct = conn.execute(f"select count({column}), count(distinct {column}) from sampled").fetchone()
        named_pii = bool(PII_NAME.search(name.lower()))
        if logical == "string" and present and not named_pii:  # a phone number or a postcode is text, digits or not
            logical = _narrowed(conn, column, present)
        emails = conn.execute(f"select count(*) from sampled where regexp_matches(cast({column} as varchar), ?)", [EMAIL_VALUE])
        looks_like_email = present and emails.fetchone()[0] == present
        pii = "its name" if named_pii else ("its values look like email addresses" if looks_like_email else None)
        timezone = (declared != "timestamp_without_timezone") if logical == "timestamp" else None
        columns.append(ColumnDraft(name, logical, timezone, bool(sampled) and present == sampled, present == distinct and present > 0, pii))
    conn.execute("drop table sampled")
    return StreamDraft(namespace, stream, rows, sampled, tuple(columns), cursor if cursor in names else None)


def _narrowed(conn: duckdb.DuckDBPyConnection, column: str, present: int) -> str:
    for logical, sql_type, shape in NARROWER:
        where = f"try_cast(trim(cast({column} as varchar)) as {sql_type}) is not null"
        if shape:
            where += f" and regexp_matches(trim(cast({column} as varchar)), '{shape}')"
        if conn.execute(f"select count(*) from sampled where {where}").fetchone()[0] == present:
            return logical
    return "string"


def contract_text(draft: StreamDraft, domain: str, connection: str) -> str:
    """The ODCS v3 contract of the draft, with every guess marked for review."""
    keys = draft.key_candidates
    today = dt.datetime.now(dt.UTC).date().isoformat()
    lines = [
        f"# Data contract (ODCS v3) of {draft.namespace}.{draft.stream}, DRAFTED by `data-platform draft-contract {domain} {connection}`",
        f"# on {today} from the source's discovered schema and {draft.sampled:,} sampled rows of {draft.rows:,}.",
        "# Review every line marked REVIEW with the source's owners, then remove this header.",
        "apiVersion: v3.1.0",
        "kind: DataContract",
        f"id: {domain}.{draft.namespace}.{draft.stream}",
        f"name: {draft.stream} ({connection})",
        "version: 0.1.0",
        "status: draft",
        f"domain: {domain}",
        f"dataProduct: {connection}",
        "description:",
        f"  purpose: {draft.stream} as the source sends it.  # REVIEW: what one row is, and who produces it",
        f"  usage: Loaded by the Airbyte connection {connection} into {draft.namespace}.{draft.stream}; read by dbt staging.",
        "# team: left out, so the stream's owners and alert channel are the domain's (domain.yaml). REVIEW: if another",
        "# team owns the source, name it here (team: {name, members: [{username: email, role: owner}]}).",
    ]
    lines += [
        "servers:",
        "- server: local",
        "  type: duckdb",
        "  environment: dev",
        "  database: warehouse",
        f"  schema: {draft.namespace}",
    ]
    lines += [
        "schema:",
        f"- name: {draft.stream}",
        f"  physicalName: {draft.stream}",
        "  physicalType: table",
        f"  description: {draft.stream} as the source sends it.  # REVIEW",
        "  properties:",
    ]
    for column in draft.columns:
        lines += [f"  - name: {column.name}", f"    logicalType: {column.logical_type}"]
        if column.timezone is not None:
            lines += ["    logicalTypeOptions:", f"      timezone: {str(column.timezone).lower()}"]
        lines.append(f"    description: {column.name.replace('_', ' ')}.  # REVIEW")
        if keys and column.name == keys[0]:
            lines += ["    primaryKey: true  # REVIEW: distinct and present in every sampled row", "    primaryKeyPosition: 1"]
            lines += ["    required: true", "    unique: true"]
        elif column.required:
            lines.append("    required: true  # REVIEW: present in every sampled row")
        if column.pii:
            lines += [f"    classification: pii  # REVIEW: guessed from {column.pii}", "    tags:", "    - pii"]
    if len(keys) > 1:
        lines.append(f"  # REVIEW: other key candidates (distinct and present in every sampled row): {', '.join(keys[1:])}")
    lines += [
        "slaProperties:",
        "- property: latency",
        "  value: 1",
        "  unit: d",
        "  driver: operational",
        *([f"  element: {draft.stream}.{draft.cursor}"] if draft.cursor else []),
        "  description: The newest data in the warehouse is at most a day old.  # REVIEW: the SLA agreed with the owners",
    ]
    return "\n".join(lines) + "\n"


def write_drafts(drafts: Mapping[Path, str], overwrite: bool = False) -> Sequence[Path]:
    """Write each draft at its path; an existing contract is never replaced unless ``overwrite``."""
    existing = [p for p in drafts if p.exists()]
    if existing and not overwrite:
        raise DraftError(f"{', '.join(map(str, existing))} already exist(s): print the draft instead, or pass --force to replace it")
    for path, text in drafts.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return list(drafts)
