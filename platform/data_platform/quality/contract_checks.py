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

from collections.abc import Sequence
from typing import Any

import dagster as dg

from data_platform.ingestion.connections import ConnectionSpec, StreamSpec
from data_platform.ingestion.keys import SCHEMA_DRIFT, stream_key
from data_platform.quality.contract_rules import contract_rules, table_schema_changes
from data_platform.quality.quarantine import ContractEnforcer
from data_platform.quality.stream_check import PLATFORM_BLOCKING, StreamCheck, Synced, stream_check_spec
from data_platform.warehouse.profile import WarehouseProfile
from embedded_airbyte.schema import SchemaChange

CHECK_NAME = "data_contract"


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
        f"retyped, or rows that do not reconcile fail at ERROR. {PLATFORM_BLOCKING}",
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
