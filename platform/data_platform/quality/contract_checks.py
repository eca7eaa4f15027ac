"""``data_contract``: each Airbyte stream against its ODCS contract, after every sync.

- **Schema drift**: the table's columns against the contract (a column missing, added or
  retyped), plus what the sync itself found between the contract and what the source sent
  (``airbyte/schema_drift``: locally from the embedded runner's discover).
- **Rows**: every row loaded by a sync the check has not judged yet is tested against the
  contract's rules: required, allowed values, minimum/maximum, pattern, lengths, and values
  Airbyte could not type (nulled and recorded in ``_airbyte_meta``).
- **Quarantine**: violating rows are copied, with the rules they broke and the record as JSON
  (its PII columns, by the contract's classification, hashed as staging hashes them), to
  ``quarantine.<namespace>__<stream>``; the raw table keeps them (Airbyte owns it), and the dbt
  staging models leave them out. ``quarantine.contract_ledger`` records per sync: rows the
  source sent = rows that landed (passed + quarantined) + rows superseded in deduplication,
  so nothing disappears unaccounted.

Severity, in the sync's step (``quality/stream_check.py``): rows quarantined up to the
contract's tolerance (a share of the table's rows: a schema-level ``invalidValues`` rule in
percent, 5 % when none is stated) are a WARN: the good rows flow on, the owner is alerted. ERROR, which blocks the
stream's descendants (only them), when the damage is too much: more rows quarantined than
the tolerance, a column removed or retyped, or rows that do not reconcile. Everything runs in
the warehouse; only counts and a 5-row sample come back, and alerts carry rule names and
primary keys, never the rows' values.
"""

import dataclasses
import json
from collections.abc import Sequence
from typing import Any

import dagster as dg

from data_platform.governance.contracts import ContractColumn, StreamContract
from data_platform.ingestion.connections import ConnectionSpec, StreamSpec
from data_platform.ingestion.keys import RECORDS_SUPERSEDED, SCHEMA_DRIFT, stream_key
from data_platform.ingestion.schema import SchemaChange, schema_changes
from data_platform.quality.stream_check import StreamCheck, Synced, stream_check_spec
from data_platform.warehouse.profile import WarehouseProfile
from data_platform.warehouse.sql import (
    WarehouseDialect,
    execute,
    execute_in_transaction,
    fetch_all,
    identifier,
    literal,
    logical_type_of,
)

QUARANTINE_SCHEMA = "quarantine"
LEDGER = "contract_ledger"
SAMPLE_ROWS = 5
FUTURE_TOLERANCE_MINUTES = 60
"""A timestamp up to this far past the warehouse's clock is clock skew; beyond it, it is in the future."""
CHECK_NAME = "data_contract"


@dataclasses.dataclass(frozen=True)
class Rule:
    label: str
    """What was broken, without the value (values may be personal data)."""
    violated: str
    """SQL condition true for a violating row."""


def contract_rules(contract: StreamContract, columns_present: set[str], dialect: WarehouseDialect) -> list[Rule]:
    """The contract's row-level rules, for the columns the table has (a missing column is drift)."""
    rules = []
    for column in contract.columns:
        if column.name not in columns_present:
            continue
        rules.extend(_column_rules(column, dialect))
    return rules


def _column_rules(column: ContractColumn, dialect: WarehouseDialect) -> list[Rule]:
    c = identifier(column.name)
    rules = []
    if column.logical_type not in ("string", "object"):
        # Airbyte nulls a value its column type cannot hold and lists it in _airbyte_meta.changes;
        # the JSON text is compact ('"field":"x"') in both warehouses
        changes = dialect.json_text("_airbyte_meta", "changes")
        listed = literal(f'"field":"{column.name}"')
        rules.append(Rule(f"{column.name}: not a valid {column.logical_type}", f"coalesce(contains({changes}, {listed}), false)"))
    if column.required:
        rules.append(Rule(f"{column.name}: required, got null", f"{c} is null"))
    if column.logical_type in ("timestamp", "date"):
        # a time that has not happened yet (year 2999, a wrong clock): never trusted as fresh, never a cursor
        rules.append(Rule(f"{column.name}: later than now", f"{c} > {dialect.later_than_now(FUTURE_TOLERANCE_MINUTES)}"))
    if column.valid_values is not None:
        allowed = ", ".join(literal(str(v)) for v in column.valid_values)
        rules.append(Rule(f"{column.name}: not an allowed value", f"{c} is not null and cast({c} as varchar) not in ({allowed})"))
    if column.minimum is not None:
        rules.append(Rule(f"{column.name}: below the minimum {column.minimum}", f"{c} < {literal(column.minimum)}"))
    if column.maximum is not None:
        rules.append(Rule(f"{column.name}: above the maximum {column.maximum}", f"{c} > {literal(column.maximum)}"))
    if column.pattern is not None:
        rules.append(
            Rule(f"{column.name}: does not match {column.pattern}", f"{c} is not null and not {dialect.full_match(c, column.pattern)}")
        )
    if column.min_length is not None:
        rules.append(Rule(f"{column.name}: shorter than {column.min_length}", f"length({c}) < {column.min_length}"))
    if column.max_length is not None:
        rules.append(Rule(f"{column.name}: longer than {column.max_length}", f"length({c}) > {column.max_length}"))
    return rules


def table_schema_changes(contract: StreamContract, found: dict[str, str]) -> list[SchemaChange]:
    """The warehouse table's columns (name -> warehouse type) against the contract."""
    return schema_changes(
        {c.name: c.logical_type for c in contract.columns},
        {n: logical_type_of(t) for n, t in found.items() if not n.startswith("_airbyte_")},
    )


class ContractEnforcer:
    """The SQL of one stream's contract check, in one warehouse."""

    def __init__(self, connection: ConnectionSpec, stream: StreamSpec, warehouse: WarehouseProfile):
        self.contract = stream.contract
        self.stream = stream
        self.table = warehouse.raw_table(connection.destination_namespace, stream.name)
        self.database, self.namespace, self.name = self.table.split(".")
        self.dialect = warehouse.dialect
        self.quarantine = f"{self.database}.{QUARANTINE_SCHEMA}.{self.namespace}__{self.name}"
        self.ledger = f"{self.database}.{QUARANTINE_SCHEMA}.{LEDGER}"
        self.stream_id = f"{self.namespace}.{self.name}"

    @property
    def masked(self) -> dict[str, str]:
        """PII columns (the contract's classification) -> their pseudonym, as staging computes it."""
        return {c.name: self.dialect.hash_pii(identifier(c.name)) for c in self.contract.columns if c.is_pii}

    def table_columns(self, warehouse: Any) -> dict[str, str]:
        if self.dialect.name == "duckdb":
            sql = (
                "select column_name, data_type from information_schema.columns "
                f"where table_catalog = {literal(self.database)} and table_schema = {literal(self.namespace)} and table_name = {literal(self.name)}"
            )
        else:
            sql = (
                "select lower(column_name), case when data_type = 'NUMBER' and numeric_scale > 0 then 'decimal' else data_type end "
                f"from {self.database}.information_schema.columns "
                f"where table_schema = upper({literal(self.namespace)}) and table_name = upper({literal(self.name)})"
            )
        return {str(name): str(data_type) for name, data_type in fetch_all(warehouse, sql)}

    def ensure_tables(self, warehouse: Any) -> None:
        ts = self.dialect.timestamp_type
        execute(
            warehouse,
            [
                f"create schema if not exists {self.database}.{QUARANTINE_SCHEMA}",
                f"create table if not exists {self.quarantine} (_airbyte_raw_id varchar, sync_id varchar, primary_key varchar, "
                f"violations varchar, record varchar, contract_version varchar, quarantined_at {ts}, run_id varchar)",
                f"create table if not exists {self.ledger} (stream varchar, sync_id varchar, rows_received bigint, rows_passed bigint, "
                f"rows_quarantined bigint, contract_version varchar, checked_at {ts}, run_id varchar)",
                # added later: what the source sent, and what deduplication collapsed (known for the sync in this step)
                f"alter table {self.ledger} add column if not exists rows_sent bigint",
                f"alter table {self.ledger} add column if not exists rows_superseded bigint",
            ],
        )

    def enforce(self, warehouse: Any, rules: Sequence[Rule], run_id: str, synced: Synced | None = None) -> dict[str, Any]:
        """Judge the rows of syncs not judged yet; quarantine violators; record the ledger. Returns figures.

        ``synced``: the metadata of the sync made in this step, whose rows sent and superseded
        complete the ledger row of that sync."""
        d = self.dialect
        sync_id = f"coalesce({d.json_text('_airbyte_meta', 'sync_id')}, 'unknown')"
        unjudged = f"{sync_id} not in (select sync_id from {self.ledger} where stream = {literal(self.stream_id)})"
        pk = (
            d.to_json_text(d.non_null_array(f"cast({identifier(k)} as varchar)" for k in self.stream.primary_key))
            if self.stream.primary_key
            else "null"
        )
        version, run = literal(self.contract.version), literal(run_id)
        statements = []
        if rules:
            violations = d.non_null_array(f"case when {r.violated} then {literal(r.label)} end" for r in rules)
            any_violated = " or ".join(f"({r.violated})" for r in rules)
            statements.append(
                f"insert into {self.quarantine} "
                f"select _airbyte_raw_id, sync_id, primary_key, {d.to_json_text('violations')}, record, {version}, {d.now}, {run} from ("
                f"  select _airbyte_raw_id, {sync_id} as sync_id, {pk} as primary_key, {violations} as violations, "
                f"         case when {any_violated} then {d.row_as_json('r', self.masked)} end as record "
                f"  from {self.table} r where {unjudged}"
                f") v where record is not null"
            )
        quarantined_here = f"select _airbyte_raw_id from {self.quarantine} where run_id = {run}"
        # passed is counted on its own (rows of the sync not in quarantine), so the ledger's
        # received = passed + quarantined is a real reconciliation, not arithmetic
        statements.append(
            f"insert into {self.ledger} (stream, sync_id, rows_received, rows_passed, rows_quarantined, contract_version, checked_at, run_id) "
            f"select {literal(self.stream_id)}, p.sync_id, count(*), "
            f"sum(case when p._airbyte_raw_id in ({quarantined_here}) then 0 else 1 end), coalesce(max(q.n), 0), {version}, {d.now}, {run} "
            f"from (select _airbyte_raw_id, {sync_id} as sync_id from {self.table} where {unjudged}) p "
            f"left join (select sync_id, count(*) as n from {self.quarantine} where run_id = {run} group by sync_id) q on q.sync_id = p.sync_id "
            f"group by p.sync_id"
        )
        if synced and synced.get("airbyte/sync_id") is not None and synced.get("airbyte/rows_synced") is not None:
            statements.append(
                f"update {self.ledger} set rows_sent = {int(synced['airbyte/rows_synced'])}, "
                f"rows_superseded = {int(synced.get(RECORDS_SUPERSEDED) or 0)} "
                f"where stream = {literal(self.stream_id)} and run_id = {run} and sync_id = {literal(str(synced['airbyte/sync_id']))}"
            )
        execute_in_transaction(warehouse, statements)
        return self.figures(warehouse, rules, run_id)

    def figures(self, warehouse: Any, rules: Sequence[Rule], run_id: str) -> dict[str, Any]:
        """This run's ledger rows; when this run judged no new sync, the latest judged sync's."""
        ledger = (
            f"select sync_id, rows_received, rows_passed, rows_quarantined, rows_sent, rows_superseded from {self.ledger} "
            f"where stream = {literal(self.stream_id)} and run_id = {{run}} order by sync_id"
        )
        rows = fetch_all(warehouse, ledger.format(run=literal(run_id)))
        judged_run = run_id
        if not rows:  # nothing new: the verdict of the run that judged the latest syncs stands
            latest = fetch_all(
                warehouse, f"select run_id from {self.ledger} where stream = {literal(self.stream_id)} order by checked_at desc limit 1"
            )
            if latest:
                judged_run = latest[0][0]
                rows = fetch_all(warehouse, ledger.format(run=literal(judged_run)))
        received, passed, quarantined = (sum(int(r[i] or 0) for r in rows) for i in (1, 2, 3))
        # a sync whose source-side figures are known: sent = landed + superseded
        unreconciled = [
            {"sync_id": str(r[0]), "rows_sent": int(r[4]), "rows_landed": int(r[1]), "rows_superseded": int(r[5] or 0)}
            for r in rows
            if r[4] is not None and int(r[4]) != int(r[1] or 0) + int(r[5] or 0)
        ]
        by_rule: dict[str, int] = {}
        sample: list[dict[str, Any]] = []
        if quarantined:
            # grouped in the warehouse: one row per combination of broken rules, not per quarantined row
            combinations = f"select violations, count(*) from {self.quarantine} where run_id = {literal(judged_run)} group by violations"
            for violations, count in fetch_all(warehouse, combinations):
                for label in json.loads(violations):
                    by_rule[label] = by_rule.get(label, 0) + int(count)
            for key, violations in fetch_all(
                warehouse,
                f"select primary_key, violations from {self.quarantine} where run_id = {literal(judged_run)} order by primary_key limit {SAMPLE_ROWS}",
            ):
                sample.append({"primary_key": json.loads(key) if key else None, "broken": json.loads(violations)})
        # the tolerance is about the stream's rows, not one sync's: one bad row in a quiet hour's sync is not 100 % damage
        ((table_rows, table_quarantined),) = fetch_all(
            warehouse,
            f"select count(*), coalesce(sum(case when _airbyte_raw_id in (select _airbyte_raw_id from {self.quarantine}) then 1 else 0 end), 0) "
            f"from {self.table}",
        )
        return {
            "table_rows": int(table_rows),
            "table_rows_quarantined": int(table_quarantined),
            "syncs": [str(r[0]) for r in rows],
            "rows_received": received,
            "rows_passed": passed,
            "rows_quarantined": quarantined,
            "rows_sent": sum(int(r[4]) for r in rows if r[4] is not None) if any(r[4] is not None for r in rows) else None,
            "rows_superseded": sum(int(r[5] or 0) for r in rows),
            "unreconciled_syncs": unreconciled,
            "violations_by_rule": dict(sorted(by_rule.items(), key=lambda kv: -kv[1])),
            "sample": sample,
            "judged_in_run": judged_run,
        }


def _sync_drift(context: dg.AssetExecutionContext, key: dg.AssetKey, synced: Synced | None) -> list[SchemaChange]:
    """What the sync reported between the contract and the source's schema (this step's, else the latest)."""
    if synced is not None:
        found = synced.get(SCHEMA_DRIFT) or []
    else:
        records = context.instance.fetch_materializations(key, limit=1).records
        if not records or not records[0].asset_materialization:
            return []
        value = records[0].asset_materialization.metadata.get(SCHEMA_DRIFT)
        found = value.value if value else []
    fields = ("column", "change", "declared_type", "found_type")
    return [SchemaChange(**{f: d.get(f) for f in fields}) for d in found]


def contract_check(connection: ConnectionSpec, stream: StreamSpec, warehouse: WarehouseProfile) -> StreamCheck:
    enforcer = ContractEnforcer(connection, stream, warehouse)
    key = stream_key(connection, stream.name)
    contract = enforcer.contract

    def evaluate(context: dg.AssetExecutionContext, synced: Synced | None) -> dg.AssetCheckResult:
        warehouse = context.resources.warehouse
        found = enforcer.table_columns(warehouse)
        if not found:
            return dg.AssetCheckResult(passed=True, description=f"{enforcer.table} does not exist yet: nothing synced to judge")
        drift = list(
            {(c.column, c.change): c for c in [*_sync_drift(context, key, synced), *table_schema_changes(contract, found)]}.values()
        )
        enforcer.ensure_tables(warehouse)
        figures = enforcer.enforce(warehouse, contract_rules(contract, set(found), enforcer.dialect), context.run_id, synced)
        return contract_result(enforcer, figures, drift)

    spec = stream_check_spec(
        key,
        CHECK_NAME,
        f"Rows and columns of {enforcer.table} against the data contract {contract.id} v{contract.version} "
        f"({contract.path.name}, owner {contract.team}). Violating rows go to {enforcer.quarantine} (PII hashed) and the rest "
        f"flow on (a warning); more than {contract.quarantine_tolerance_percent:g} % of a sync quarantined, a column removed or "
        "retyped, or rows that do not reconcile block the stream's descendants.",
        blocks=True,
        metadata={"contract/id": contract.id, "quarantine_table": enforcer.quarantine},
    )
    return StreamCheck(spec, evaluate)


def contract_result(enforcer: ContractEnforcer, figures: dict[str, Any], drift: Sequence[SchemaChange]) -> dg.AssetCheckResult:
    received, passed, quarantined = figures["rows_received"], figures["rows_passed"], figures["rows_quarantined"]
    tolerance = enforcer.contract.quarantine_tolerance_percent
    share = 100.0 * figures["table_rows_quarantined"] / figures["table_rows"] if figures["table_rows"] else 0.0
    problems, blocking = [], []
    if quarantined:
        rules = "; ".join(f"{label} ({n})" for label, n in figures["violations_by_rule"].items())
        problems.append(
            f"{quarantined:,} of {received:,} rows synced broke the contract and were quarantined in {enforcer.quarantine}: {rules}"
        )
        if share > tolerance:
            blocking.append(
                f"{figures['table_rows_quarantined']:,} of the {figures['table_rows']:,} rows of {enforcer.table} ({share:.2f} %) are "
                f"quarantined, above the contract's tolerance of {tolerance:g} %"
            )
    if received != passed + quarantined:
        blocking.append(f"rows do not reconcile: {received:,} received != {passed:,} passed + {quarantined:,} quarantined")
    for sync in figures["unreconciled_syncs"]:
        blocking.append(
            f"sync {sync['sync_id']} does not reconcile: the source sent {sync['rows_sent']:,} rows, {sync['rows_landed']:,} landed "
            f"and {sync['rows_superseded']:,} were superseded in deduplication"
        )
    if drift:
        problems.append("schema drift: " + "; ".join(c.message for c in drift))
        breaking = [c.message for c in drift if c.breaking]
        if breaking:
            blocking.append("a column was removed or retyped (" + "; ".join(breaking) + ")")
    metadata: dict[str, Any] = {
        "rows_received": received,
        "rows_passed": passed,
        "rows_quarantined": quarantined,
        "table_rows_quarantined": figures["table_rows_quarantined"],
        "quarantined_percent_of_table": round(share, 3),
        "tolerance_percent": tolerance,
        "rows_sent_by_source": figures["rows_sent"],
        "rows_superseded": figures["rows_superseded"],
        "syncs_judged": dg.MetadataValue.json(figures["syncs"]),
        "violations_by_rule": dg.MetadataValue.json(figures["violations_by_rule"]),
        "sample_quarantined": dg.MetadataValue.json(figures["sample"]),
        "schema_drift": dg.MetadataValue.json([c.as_dict() for c in drift]),
        "quarantine_table": enforcer.quarantine,
        "contract": f"{enforcer.contract.id} v{enforcer.contract.version}",
        "contract_owner": enforcer.contract.team,
    }
    if blocking:
        description = "BLOCKS descendants: " + "; ".join(blocking) + ". " + ". ".join(problems)
    elif problems:
        description = ". ".join(problems) + ". Within tolerance: the other rows flow on"
    else:
        description = f"{received:,} rows of {len(figures['syncs'])} sync(s) met the contract"
    return dg.AssetCheckResult(
        passed=not problems and not blocking,
        severity=dg.AssetCheckSeverity.ERROR if blocking else dg.AssetCheckSeverity.WARN,
        description=description.strip(". ") if blocking or problems else description,
        metadata={k: v for k, v in metadata.items() if v is not None},
    )


def build_contract_checks(connection: ConnectionSpec, warehouse: WarehouseProfile) -> list[StreamCheck]:
    return [contract_check(connection, s, warehouse) for s in connection.streams]
