"""DuckDB destination in Airbyte's Destinations V2 shape.

Final tables ``<namespace>.<stream>`` hold typed columns plus ``_airbyte_raw_id``,
``_airbyte_extracted_at``, ``_airbyte_meta`` and ``_airbyte_generation_id``. Records travel
buffer file -> stage table -> final table:

- the runner appends raw protocol lines to a per-stream buffer file, DuckDB parsing each line
  once when the buffer loads;
- an append-only stream loads its buffer straight into the final table at its STATE
  checkpoint, in the transaction that stores the state;
- a deduplicated or full-refresh stream loads its buffer into the stream's stage table (a
  temporary table of the sync's connection) every batch and at each checkpoint; at a STATE
  checkpoint, one transaction applies the stage to the final table with the stream's sync
  mode *and* stores the state. Data and state cannot disagree: what is committed is exactly
  what the stored state says was read;
- a full-refresh stream is applied only when the source finished successfully, replacing the
  table's contents in one transaction and bumping the generation id.

Anything not yet committed when a sync fails lives only in stage tables, which are dropped
(or vanish with the process).
Bookkeeping lives in ``airbyte_internal``: ``sync_state`` (per stream) and ``sync_runs``
(one row per stream and sync, the history volume checks read).
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import duckdb
import orjson

from embedded_airbyte.bookkeeping import CONFLICTS_TABLE, INTERNAL_SCHEMA, conflict_cursor_sql, conflict_key_sql
from embedded_airbyte.schema import AIRBYTE_META_COLUMNS, Column
from embedded_airbyte.streams import Stream, SyncMode

CHANGE_TYPE = "struct(field varchar, change varchar, reason varchar)"
SYNC_CHECKPOINT_THRESHOLD = "256MB"
"""DuckDB's write-ahead log size at which a commit also checkpoints (writes the log into the
database file). Its default, 16 MB, makes a sync that commits at every Airbyte checkpoint rewrite
its tables' last row groups dozens of times (measured: 5.8 s instead of 2.4 s for 82 commits of
10,000 web events). A sync raises it while it runs and checkpoints once at the end. Durability is
unchanged: every commit is in the log, on disk, before the state is acknowledged."""


class RecordsRejected(Exception):
    """DuckDB refused to load a buffer of RECORD lines (``__cause__``: its error)."""


class _RaisedThreshold:
    """DuckDB's checkpoint threshold is global to a database, shared by every connection of the
    process to the same file: the first sync to open raises it, the last to close gives it back."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._open: dict[str, tuple[int, str]] = {}

    def raise_for(self, database: str, conn: duckdb.DuckDBPyConnection) -> None:
        with self._lock:
            count, original = self._open.get(database, (0, ""))
            if not count:
                original = conn.execute("select current_setting('checkpoint_threshold')").fetchone()[0]
                conn.execute(f"set checkpoint_threshold = '{SYNC_CHECKPOINT_THRESHOLD}'")
            self._open[database] = (count + 1, original)

    def give_back(self, database: str, conn: duckdb.DuckDBPyConnection) -> None:
        with self._lock:
            count, original = self._open.pop(database, (1, ""))
            if count > 1:
                self._open[database] = (count - 1, original)
            elif original:
                conn.execute(f"set checkpoint_threshold = '{original}'")


_THRESHOLD = _RaisedThreshold()


def quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


@dataclasses.dataclass(frozen=True)
class StreamTarget:
    """Where and how one stream of one connection lands."""

    connection: str
    namespace: str
    spec: Stream
    columns: tuple[Column, ...]

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def final_table(self) -> str:
        return f"{quote(self.namespace)}.{quote(self.name)}"

    @property
    def stage_table(self) -> str:
        """A temporary table: never written to the database file (the records reach the file once, at
        their checkpoint), private to the sync's connection, and gone if the process dies."""
        return f"temp.main.{quote(f'{self.namespace}__{self.name}__stage')}"


class DuckDBDestination:
    def __init__(self, database: Path | str, memory_limit: str | None = None):
        """``memory_limit``: DuckDB's (its default is 80% of the machine); past it, DuckDB spills to disk."""
        self.database = str(database)
        # the same configuration as dagster-duckdb's resource: DuckDB refuses a second connection
        # to a file with another configuration while one is open in the process
        config = {"custom_user_agent": "dagster", **({"memory_limit": memory_limit} if memory_limit else {})}
        self.conn = duckdb.connect(self.database, config=config)
        try:
            self._prepare_internal_tables()
            _THRESHOLD.raise_for(self.database, self.conn)
        except BaseException:
            self.conn.close()
            raise

    def _prepare_internal_tables(self) -> None:
        self.conn.execute(f"create schema if not exists {INTERNAL_SCHEMA}")
        self.conn.execute(
            f"""create table if not exists {INTERNAL_SCHEMA}.sync_state (
                connection varchar, namespace varchar, stream varchar, state json,
                generation_id bigint, updated_at timestamp with time zone,
                primary key (connection, namespace, stream))"""
        )
        self.conn.execute(
            f"""create table if not exists {INTERNAL_SCHEMA}.sync_runs (
                sync_id bigint, connection varchar, namespace varchar, stream varchar, sync_mode varchar,
                started_at timestamp with time zone, finished_at timestamp with time zone, status varchar,
                records_read bigint, records_committed bigint, rows_in_table bigint, cursor json, error varchar)"""
        )
        self.conn.execute(
            f"""create table if not exists {INTERNAL_SCHEMA}.{CONFLICTS_TABLE} (
                namespace varchar, stream varchar, key_json varchar, cursor_value varchar,
                first_seen_at timestamp with time zone, primary key (namespace, stream, key_json, cursor_value))"""
        )

    def close(self) -> None:
        """Give DuckDB's checkpoint threshold back and checkpoint what the sync committed, both at
        best: everything is already durable in the write-ahead log, so a checkpoint that fails (or
        that another open transaction prevents) is left to the next commit or to the database's
        shutdown, and never hides how the sync ended."""
        try:
            with contextlib.suppress(duckdb.Error):
                _THRESHOLD.give_back(self.database, self.conn)
            with contextlib.suppress(duckdb.Error):
                self.conn.execute("checkpoint")
        finally:
            self.conn.close()

    # ---- state -----------------------------------------------------------------------
    def next_sync_id(self) -> int:
        return int(self.conn.execute(f"select coalesce(max(sync_id), 0) + 1 from {INTERNAL_SCHEMA}.sync_runs").fetchone()[0])

    def stored_state(self, connection: str, targets: Sequence[StreamTarget]) -> list[dict[str, Any]]:
        """Per-stream STATE messages to pass to the source's ``read --state``."""
        rows = self.conn.execute(
            f"select namespace, stream, state from {INTERNAL_SCHEMA}.sync_state where connection = ? and state is not null",
            [connection],
        ).fetchall()
        incremental = {(t.namespace, t.name) for t in targets if t.spec.sync_mode is not SyncMode.FULL_REFRESH_OVERWRITE}
        return [
            {"type": "STREAM", "stream": {"stream_descriptor": {"name": stream}, "stream_state": orjson.loads(state)}}
            for namespace, stream, state in rows
            if (namespace, stream) in incremental
        ]

    def stream_state(self, target: StreamTarget) -> dict[str, Any] | None:
        row = self.conn.execute(
            f"select state from {INTERNAL_SCHEMA}.sync_state where connection = ? and namespace = ? and stream = ?",
            [target.connection, target.namespace, target.name],
        ).fetchone()
        return orjson.loads(row[0]) if row and row[0] else None

    def _generation(self, target: StreamTarget) -> int:
        row = self.conn.execute(
            f"select generation_id from {INTERNAL_SCHEMA}.sync_state where connection = ? and namespace = ? and stream = ?",
            [target.connection, target.namespace, target.name],
        ).fetchone()
        return int(row[0]) if row and row[0] is not None else 0

    def _store_state(self, target: StreamTarget, state: Mapping[str, Any] | None, generation: int) -> None:
        self.conn.execute(
            f"""insert or replace into {INTERNAL_SCHEMA}.sync_state values (?, ?, ?, ?, ?, now())""",
            [target.connection, target.namespace, target.name, orjson.dumps(state).decode() if state is not None else None, generation],
        )

    # ---- tables ----------------------------------------------------------------------
    def prepare(self, target: StreamTarget) -> None:
        """Create the final table (or add newly declared columns) and an empty stage table."""
        self.conn.execute(f"create schema if not exists {quote(target.namespace)}")
        definitions = [f"{quote(c.name)} {c.duckdb_type}" for c in target.columns]
        definitions += [f"{name} {kind}" for name, kind, _ in AIRBYTE_META_COLUMNS]
        self.conn.execute(f"create table if not exists {target.final_table} ({', '.join(definitions)})")
        existing = {
            r[0]
            for r in self.conn.execute(
                "select column_name from duckdb_columns() where schema_name = ? and table_name = ?", [target.namespace, target.name]
            ).fetchall()
        }
        for column in target.columns:
            if column.name not in existing:
                self.conn.execute(f"alter table {target.final_table} add column {quote(column.name)} {column.duckdb_type}")
        self.conn.execute(f"create or replace temp table {target.stage_table} as select * from {target.final_table} limit 0")
        self.conn.execute(f"alter table {target.stage_table} add column _airbyte_line bigint")

    def discard_after(self, target: StreamTarget, covered: int) -> None:
        """Drop the staged records after the stream's ``covered``-th of this sync: no STATE vouches for them."""
        self.conn.execute(f"delete from {target.stage_table} where _airbyte_line > ?", [covered])

    def drop_stage(self, target: StreamTarget) -> None:
        self.conn.execute(f"drop table if exists {target.stage_table}")

    def load_buffer(self, target: StreamTarget, buffer: Path, sync_id: int, first_line: int) -> None:
        """Type the RECORD lines of ``buffer`` into the stage table (autocommit; invisible to readers).

        A line that is not valid JSON, a ``data`` that is not an object or an ``emitted_at`` that is
        not a number raises ``RecordsRejected`` naming the buffer's line: the runner turns that into a
        protocol error naming the connector's line."""
        # only a deduplicated stream's stage orders records one by one (the later of two versions of a
        # key with one cursor value and one emitted_at wins); numbering each costs a serial pass, so
        # other streams number their records by buffer: the stage is cut only at a buffer's edge
        per_record = target.spec.sync_mode is SyncMode.INCREMENTAL_APPEND_DEDUP
        select, parameters = _typed_records(target, buffer, sync_id, first_line, per_record=per_record)
        self._insert_records(f"insert into {target.stage_table} ({_column_list(target)}, _airbyte_line) {select}", parameters)

    def append_checkpoint(
        self, target: StreamTarget, buffers: Sequence[Path], sync_id: int, state: Mapping[str, Any] | None, *, from_stage: bool = False
    ) -> CommitFigures:
        """An append-only stream's checkpoint: the RECORD lines of ``buffers`` (none: no record since
        the last one; ``from_stage``: the stage's records instead) typed into the final table, but for
        the rows it already holds, and ``state`` stored, in one transaction. A line DuckDB cannot
        read rolls both back and raises ``RecordsRejected``."""
        self.conn.execute("begin transaction")
        try:
            staged, repeats, generation = 0, 0, self._generation(target)
            columns = _column_list(target)
            if buffers and not from_stage and self._cannot_repeat(target, buffers):
                # the common case (a first sync, a cursor that moves forward): straight into the table
                select, parameters = _typed_records(target, buffers, sync_id, None, generation)
                staged = self._insert_records(f"insert into {target.final_table} ({columns}) {select}", parameters)
            elif buffers or from_stage:
                self.conn.execute("drop table if exists _airbyte_append")
                if buffers:
                    select, parameters = _typed_records(target, buffers, sync_id, None, generation)
                    select = f"select * from ({select}) n({columns})"
                else:  # the records the stage holds (loaded and checked there), then the stage emptied
                    select, parameters = f"select {_select_list(target, generation)} from {target.stage_table} b", []
                try:
                    self.conn.execute(f"create temp table _airbyte_append as {select}", parameters)
                except duckdb.Error as error:
                    raise RecordsRejected(str(error)) from error
                if from_stage:
                    self.conn.execute(f"delete from {target.stage_table}")
                staged = int(self.conn.execute("select count(*) from _airbyte_append").fetchone()[0])
                # a row the table already holds (a lookback re-read, a line the source sends at every sync
                # because its cursor cannot be trusted) is not appended again: same values in every column
                held = " and ".join(f"f.{quote(c.name)} is not distinct from n.{quote(c.name)}" for c in target.columns)
                cursor = _cursor_column(target)
                if held and cursor is not None:
                    # counted first, where DuckDB skips older row groups by their min/max: with a cursor
                    # that moves forward there are none, and the batch is appended without comparing
                    # it to the table (measured: half the append)
                    candidates = _could_repeat(cursor, f"select min({quote(cursor.name)}) from _airbyte_append")
                    if not self.conn.execute(f"select count(*) from {target.final_table} f where {candidates}").fetchone()[0]:
                        held = ""
                    held += f" and {candidates}" if held else ""
                new = f"not exists (select 1 from {target.final_table} f where {held})" if held else "true"
                appended = self.conn.execute(f"insert into {target.final_table} ({columns}) select * from _airbyte_append n where {new}")
                repeats = staged - int(appended.fetchone()[0])
                self.conn.execute("drop table _airbyte_append")
            self._store_state(target, state, generation)
            self.conn.execute("commit")
        except BaseException:
            self._rollback()
            raise
        return CommitFigures(staged, repeats, 0, ())

    def _cannot_repeat(self, target: StreamTarget, buffers: Sequence[Path]) -> bool:
        """Whether no record of ``buffers`` can repeat a row the final table holds: the table is
        empty, or none of its rows has a cursor value from the buffers' lowest on (or none). A
        repeat has the same cursor value, so this is exact, not a guess. The lowest is read in a
        pass that types only the cursor (measured: 0.1 s for 265k web events whose typed append
        takes 0.9 s); the records then go straight into the table, without the temp table the
        comparison needs (measured: 12 % off the destination's whole time on 1M records)."""
        if not self.conn.execute(f"select count(*) from {target.final_table}").fetchone()[0]:
            return True
        cursor = _cursor_column(target)
        if cursor is None:
            return False
        c = quote(cursor.name)
        read = f"read_json(?, format = 'newline_delimited', records = 'true', columns = {{'record': 'struct(data struct({c} varchar))'}})"
        try:
            lowest = self.conn.execute(
                f"select min(try_cast(record.data.{c} as {cursor.duckdb_type})) from {read}", [[str(b) for b in buffers]]
            ).fetchone()[0]
        except duckdb.Error as error:
            raise RecordsRejected(str(error)) from error
        return not self.conn.execute(
            f"select count(*) from {target.final_table} f where {_could_repeat(cursor, '?')}", [lowest]
        ).fetchone()[0]

    def _insert_records(self, insert: str, parameters: list[Any]) -> int:
        """Run an insert of a buffer's records; what DuckDB refuses is ``RecordsRejected``. Returns the rows inserted."""
        try:
            return int(self.conn.execute(insert, parameters).fetchone()[0])
        except duckdb.Error as error:
            raise RecordsRejected(str(error)) from error

    def commit(self, target: StreamTarget, state: Mapping[str, Any] | None, *, final: bool) -> CommitFigures:
        """Apply the stage to the final table and store ``state``, atomically.

        Incremental streams are applied at every checkpoint; a full-refresh stream only with
        ``final=True`` (the source finished), as one swap of the table's contents.
        """
        mode = target.spec.sync_mode
        if mode is SyncMode.FULL_REFRESH_OVERWRITE and not final:
            return CommitFigures(0, 0, 0, ())
        self.conn.execute("begin transaction")
        try:
            staged = int(self.conn.execute(f"select count(*) from {target.stage_table}").fetchone()[0])
            generation = self._generation(target)
            superseded, conflicts, sample = 0, 0, ()
            if mode is SyncMode.FULL_REFRESH_OVERWRITE:
                generation += 1
                self.conn.execute(f"delete from {target.final_table}")
            if mode is SyncMode.INCREMENTAL_APPEND_DEDUP:
                conflicts, sample = self._conflicting_versions(target)
                superseded = staged - self._apply_dedup(target, generation)
            else:
                self.conn.execute(
                    f"insert into {target.final_table} ({_column_list(target)}) "
                    f"select {_select_list(target, generation)} from {target.stage_table} b"
                )
            self.conn.execute(f"delete from {target.stage_table}")
            self._store_state(target, state if mode is not SyncMode.FULL_REFRESH_OVERWRITE else None, generation)
            self.conn.execute("commit")
        except BaseException:
            self._rollback()
            raise
        return CommitFigures(staged, superseded, conflicts, sample)

    def _rollback(self) -> None:
        """Roll back the open transaction; a failed commit has already ended it, and saying so
        would hide the commit's own error."""
        with contextlib.suppress(duckdb.TransactionException):
            self.conn.execute("rollback")

    def _conflicting_versions(self, target: StreamTarget) -> tuple[int, tuple[str, ...]]:
        """Keys staged in two or more different versions with the same cursor value: deduplication
        keeps one of them, and which one is right only the source's owner can say. Each is
        recorded in ``CONFLICTS_TABLE`` (in the commit's transaction). Only the rows of a key
        staged more than once with one cursor value are hashed (usually none)."""
        pk = ", ".join(quote(k) for k in target.spec.primary_key)
        cursor = quote(target.spec.cursor_field) if target.spec.cursor_field else "null"
        staged_cursor = f"s.{cursor}" if target.spec.cursor_field else "null"
        values = ", ".join(quote(c.name) for c in target.columns)
        same_key = " and ".join(f"s.{quote(k)} = r.{quote(k)}" for k in target.spec.primary_key)
        rows = self.conn.execute(
            f"""with repeated as (
                    select {pk}, {cursor} as _cursor from {target.stage_table}
                    where {" and ".join(f"{quote(k)} is not null" for k in target.spec.primary_key)}
                    group by all having count(*) > 1
                )
                select {conflict_key_sql(target.spec.primary_key, "s.")}, {conflict_cursor_sql(staged_cursor)} from {target.stage_table} s
                semi join repeated r on {same_key} and {staged_cursor} is not distinct from r._cursor
                group by all having count(distinct md5(cast(to_json(struct_pack({values})) as varchar))) > 1
                order by 1"""
        ).fetchall()
        if rows:
            self.conn.executemany(
                f"insert or ignore into {INTERNAL_SCHEMA}.{CONFLICTS_TABLE} values (?, ?, ?, ?, now())",
                [[target.namespace, target.name, key, value] for key, value in rows],
            )
        return len(rows), tuple(r[0] for r in rows[:5])

    def _apply_dedup(self, target: StreamTarget, generation: int) -> int:
        """Append + deduped: the final table keeps the latest version of each primary key
        (highest cursor, then latest extracted), as Airbyte's typing-and-deduping does. Returns
        the rows of this sync that stay (inserted, minus versions an earlier checkpoint of the
        same sync landed and this one replaced); the others were superseded (by a later version
        of the same sync, or by a newer one already in the table).

        A row whose key is null is never deduplicated against another: null is not a key, and
        collapsing such rows would lose them silently. They are all kept, for the contract check
        to quarantine (a primary key column is required)."""
        pk = [quote(k) for k in target.spec.primary_key]
        cursor = quote(target.spec.cursor_field) if target.spec.cursor_field else "null"
        keyless = _any_null(pk)
        latest = f"""
            select * from {target.stage_table}
            qualify ({keyless}) or row_number() over (
                partition by {", ".join(pk)} order by {cursor} desc nulls last, _airbyte_extracted_at desc, _airbyte_line desc) = 1
        """
        match = " and ".join(f"f.{k} = b.{k}" for k in pk)
        self.conn.execute(f"create or replace temp table _airbyte_batch as {latest}")
        # a version the table already holds, read again (a lookback): superseded, not landed again
        same = " and ".join(f"f.{quote(c.name)} is not distinct from b.{quote(c.name)}" for c in target.columns)
        if pk and same:
            self.conn.execute(f"delete from _airbyte_batch b where exists (select 1 from {target.final_table} f where {match} and {same})")
        replaced = (
            f"{match} and (f.{cursor} is null or b.{cursor} is not null and f.{cursor} <= b.{cursor})"
            if target.spec.cursor_field
            else match
        )
        # a version landed by an earlier checkpoint of this same sync and replaced now was superseded, not lost
        same_sync = "json_extract_string(f._airbyte_meta, '$.sync_id') = json_extract_string(b._airbyte_meta, '$.sync_id')"
        replaced_from_this_sync = self.conn.execute(
            f"select count(distinct f._airbyte_raw_id) from {target.final_table} f, _airbyte_batch b where {replaced} and {same_sync}"
        ).fetchone()[0]
        self.conn.execute(f"delete from {target.final_table} f using _airbyte_batch b where {replaced}")
        inserted = self.conn.execute(
            f"""insert into {target.final_table} ({_column_list(target)})
                select {_select_list(target, generation)}
                from _airbyte_batch b where ({_any_null(pk, "b.")})
                   or not exists (select 1 from {target.final_table} f where {match})"""
        ).fetchone()[0]
        self.conn.execute("drop table _airbyte_batch")
        return int(inserted) - int(replaced_from_this_sync)

    def row_count(self, target: StreamTarget) -> int:
        return int(self.conn.execute(f"select count(*) from {target.final_table}").fetchone()[0])

    def record_run(
        self,
        sync_id: int,
        target: StreamTarget,
        started_at: dt.datetime,
        status: str,
        records_read: int,
        records_committed: int,
        rows_in_table: int | None,
        cursor: Mapping[str, Any] | None,
        error: str | None,
    ) -> None:
        self.conn.execute(
            f"insert into {INTERNAL_SCHEMA}.sync_runs values (?, ?, ?, ?, ?, ?, now(), ?, ?, ?, ?, ?, ?)",
            [
                sync_id,
                target.connection,
                target.namespace,
                target.name,
                target.spec.sync_mode.value,
                started_at,
                status,
                records_read,
                records_committed,
                rows_in_table,
                orjson.dumps(cursor).decode() if cursor is not None else None,
                error,
            ],
        )


@dataclasses.dataclass(frozen=True)
class CommitFigures:
    staged: int
    """Records the source sent in this checkpoint."""
    superseded: int
    """Of those, records not inserted: an older version of a key (deduplicated streams), a row the
    table already held (append streams)."""
    conflicting_keys: int
    """Keys sent in two or more different versions with the same cursor value."""
    conflict_sample: tuple[str, ...]


def _any_null(keys: Sequence[str], prefix: str = "") -> str:
    """True for a row whose key has a null part: such a row is never deduplicated against another."""
    return " or ".join(f"{prefix}{k} is null" for k in keys)


def _cursor_column(target: StreamTarget) -> Column | None:
    """The stream's cursor among its columns (None: no cursor, or one the stream does not land)."""
    return next((c for c in target.columns if c.name == target.spec.cursor_field), None)


def _could_repeat(cursor: Column, lowest: str) -> str:
    """The final table's rows (alias ``f``) that a batch whose lowest cursor is ``lowest`` (an SQL
    expression) could repeat: a repeat has the same cursor value, so only those from it on, or with none."""
    c = quote(cursor.name)
    return f"(f.{c} >= ({lowest}) or f.{c} is null)"


def _column_list(target: StreamTarget) -> str:
    return ", ".join([*(quote(c.name) for c in target.columns), *(n for n, _, _ in AIRBYTE_META_COLUMNS)])


def _select_list(target: StreamTarget, generation: int) -> str:
    """Stage columns aliased ``b``, with the generation id of this commit."""
    meta = [f"{generation}" if n == "_airbyte_generation_id" else f"b.{n}" for n, _, _ in AIRBYTE_META_COLUMNS]
    return ", ".join([*(f"b.{quote(c.name)}" for c in target.columns), *meta])


def _typed_records(
    target: StreamTarget,
    buffer: Path | Sequence[Path],
    sync_id: int,
    first_line: int | None,
    generation: int = 0,
    *,
    per_record: bool = True,
) -> tuple[str, list[Any]]:
    """A ``select`` of the RECORD lines of ``buffer`` (a file, or files read in order) as the stream's columns plus Airbyte's
    (in ``_column_list`` order; with ``_airbyte_line`` after them when ``first_line`` is given).

    One ``read_json`` pass parses each line once, straight into the stream's columns (read as
    text, then cast, so a value that does not fit is nulled and reported as Airbyte does rather
    than failing the load). A malformed record raises, naming the buffer's line when lines are
    numbered (numbering them costs a serial pass, so only the stage, which orders by it, asks).
    Without ``per_record``, every record of the buffer gets the number of its first one."""
    fields = ", ".join(f"{quote(c.name)} {'json' if c.type == 'json' else 'varchar'}" for c in target.columns)
    record = f"struct({'data struct(' + fields + '), ' if fields else 'data json, '}emitted_at json, meta struct(changes {CHANGE_TYPE}[]))"
    typed = ", ".join(
        f"r.data.{quote(c.name)} as {quote(c.name)}"
        if c.type in ("string", "json")
        else f"try_cast(r.data.{quote(c.name)} as {c.duckdb_type}) as {quote(c.name)}"
        for c in target.columns
    )
    # Airbyte's behaviour for a value that does not fit its column: null it, and say so in _airbyte_meta.
    changes = ", ".join(
        f"case when r.data.{quote(c.name)} is not null and t.{quote(c.name)} is null "
        f"then {{'field': {_text(c.name)}, 'change': 'NULLED', 'reason': 'DESTINATION_TYPECAST_ERROR'}} end"
        for c in target.columns
        if c.type not in ("string", "json")
    )
    change_list = f"list_filter([{changes}], lambda x: x is not null)" if changes else f"cast([] as {CHANGE_TYPE}[])"
    malformed = "r.data is null" + ("" if fields else " or json_type(r.data) <> 'OBJECT'")
    numbered = first_line is not None and per_record
    problem = (
        "'malformed RECORD' || " + ("' in line ' || line || " if numbered else "") + "': it needs an object data and a numeric emitted_at'"
    )
    bad = f"{malformed} or coalesce(json_type(r.emitted_at) not in ('UBIGINT', 'BIGINT', 'DOUBLE'), true)"
    select = f"""
        with lines as (
            select record as r{", row_number() over () as line" if numbered else ""}
            from read_json(?, format = 'newline_delimited', records = 'true', columns = {{'record': '{record}'}})
        ), t as (
            select r{", line" if numbered else ""}{", " + typed if typed else ""} from lines
        )
        select {", ".join(f"t.{quote(c.name)}" for c in target.columns) + "," if target.columns else ""}
               case when {bad} then error({problem}) else cast(uuid() as varchar) end,
               make_timestamptz(cast(cast(r.emitted_at as double) as bigint) * 1000),
               json_object('sync_id', ?::bigint, 'changes',
                   to_json(list_concat(coalesce(r.meta.changes, cast([] as {CHANGE_TYPE}[])), {change_list}))),
               {generation}{", ? + line" if numbered else ", ? + 1" if first_line is not None else ""}
        from t"""
    files = str(buffer) if isinstance(buffer, Path) else [str(b) for b in buffer]
    return select, [files, sync_id, *([first_line] if first_line is not None else [])]


def _text(value: str) -> str:
    """A SQL string literal."""
    return "'" + value.replace("'", "''") + "'"
