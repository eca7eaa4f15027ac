"""Quarantine: the rows of a stream that break its contract, copied aside, counted and reconciled.

``ContractEnforcer`` runs a contract's rules (``contract_rules.py``) in the warehouse over the
rows no check has judged yet, copies the violating rows (PII hashed) to
``quarantine.<namespace>__<stream>``, and records per sync in ``quarantine.contract_ledger``
what the source sent, what landed and what deduplication superseded.
"""

import json
from collections.abc import Sequence
from typing import Any

from data_platform.ingestion.connections import ConnectionSpec, StreamSpec
from data_platform.ingestion.keys import RECORDS_SUPERSEDED
from data_platform.quality.contract_rules import Rule
from data_platform.quality.stream_check import Synced
from data_platform.warehouse.pii_key import attach_statement, ensure_snowflake_key
from data_platform.warehouse.profile import WarehouseProfile
from data_platform.warehouse.sql import (
    execute,
    execute_in_transaction,
    fetch_all,
    identifier,
    literal,
    session,
)

QUARANTINE_SCHEMA = "quarantine"
LEDGER = "contract_ledger"
SAMPLE_ROWS = 5


class ContractEnforcer:
    """The SQL of one stream's contract check, in one warehouse."""

    def __init__(self, connection: ConnectionSpec, stream: StreamSpec, warehouse: WarehouseProfile):
        self.contract = stream.contract
        self.stream = stream
        self.table = warehouse.raw_table(connection.destination_namespace, stream.name)
        self.database, self.namespace, self.name = self.table.split(".")
        self.dialect = warehouse.dialect
        self.profile = warehouse
        self.quarantine = f"{self.database}.{QUARANTINE_SCHEMA}.{self.namespace}__{self.name}"
        self.ledger = f"{self.database}.{QUARANTINE_SCHEMA}.{LEDGER}"
        self.stream_id = f"{self.namespace}.{self.name}"

    @property
    def masked(self) -> dict[str, str]:
        """PII columns (the contract's classification) -> their pseudonym, as staging computes it."""
        return {c.name: self.dialect.hash_pii(identifier(c.name), self.profile.pii_key_table) for c in self.contract.columns if c.is_pii}

    def key_session(self, warehouse: Any) -> list[str]:
        """Make the PII key readable where ``masked`` reads it; the statements the session needs first."""
        if not self.masked:
            return []
        if self.profile.duckdb_path is not None:
            self.profile.ensure_local_folder()
            return [attach_statement(self.profile.duckdb_path)]
        with session(warehouse) as cursor:
            ensure_snowflake_key(cursor, self.database)
        return []

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
        execute_in_transaction(warehouse, statements, before=self.key_session(warehouse) if rules else ())
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
