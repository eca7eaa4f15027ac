"""Source connector for the shop's transactional database (SQLite locally, like source-postgres).

Discovery reads the tables' declared column types; incremental reads select rows with
``cursor > state`` ordered by cursor, the way Airbyte's database sources do.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import sqlite3
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from embedded_airbyte.connectors.sdk import Checkpoint, Record, Source, checkpoints, resume_after, stream_entry
from embedded_airbyte.schema import Column

SQL_TYPES = {
    "integer": "integer",
    "text": "string",
    "real": "number",
    "numeric": "number",
    "boolean": "boolean",
    "timestamptz": "timestamp_with_timezone",
    "date": "date",
}
CHECKPOINT_EVERY = 10_000
"""A STATE every 10,000 records, the default state emission frequency of Airbyte's database
sources (the destination commits at each; tests pass ``checkpoint_interval`` to crash between them)."""


def _connect(config: Mapping[str, Any]) -> sqlite3.Connection:
    path = Path(config["database_path"])
    if not path.exists():
        raise FileNotFoundError(f"database {path} does not exist (run the simulation first)")
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True)


def check(config: Mapping[str, Any]) -> str | None:
    try:
        with contextlib.closing(_connect(config)) as db:
            db.execute("select 1 from orders limit 1").fetchall()
    except (sqlite3.Error, FileNotFoundError) as error:
        return f"cannot read the shop database: {error}"
    return None


def _tables(db: sqlite3.Connection) -> dict[str, list[tuple[str, str, bool]]]:
    """table -> [(column, declared type, is primary key)]"""
    names = [
        r[0] for r in db.execute("select name from sqlite_master where type='table' and name not like '\\_%' escape '\\' order by name")
    ]
    return {t: [(c[1], c[2].lower(), bool(c[5])) for c in db.execute(f"pragma table_info({t})")] for t in names}


def discover(config: Mapping[str, Any]) -> list[dict[str, Any]]:
    with contextlib.closing(_connect(config)) as db:
        streams = []
        for table, columns in _tables(db).items():
            properties = {name: Column(name, SQL_TYPES.get(sql_type, "string")).json_schema for name, sql_type, _ in columns}
            cursor = "updated_at" if any(c[0] == "updated_at" for c in columns) else None
            primary_key = [c[0] for c in columns if c[2]]
            streams.append(stream_entry(table, properties, cursor, primary_key))
        return streams


def read(config: Mapping[str, Any], stream: str, mode: str, state: Mapping[str, Any] | None) -> Iterator[Record | Checkpoint]:
    with contextlib.closing(_connect(config)) as db:
        tables = _tables(db)
        if stream not in tables:
            raise ValueError(f"stream {stream!r} is not a table of the shop database")
        columns = tables[stream]
        booleans = [name for name, sql_type, _ in columns if sql_type == "boolean"]
        # cursor values compared as instants (julianday parses ISO 8601 with or without a zone), never
        # as text; a value that is no timestamp at all is read every time, for the contract check to flag
        keys = [c[0] for c in columns if c[2]]
        order = ", ".join(["julianday(updated_at) is not null", "julianday(updated_at)", *keys]) if mode == "incremental" else "rowid"
        where, params = "", ()
        after = resume_after(state, config) if mode == "incremental" else None
        if after is not None:  # from the checkpoint minus the lookback: a row committed late with an earlier stamp is still read
            where, params = (
                "where julianday(updated_at) > julianday(?) or julianday(updated_at) is null",
                (after.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S"),),
            )
        cursor = db.execute(f"select * from {stream} {where} order by {order}", params)
        names = [d[0] for d in cursor.description]

        def rows() -> Iterator[Record]:
            for values in cursor:
                row = dict(zip(names, values, strict=True))
                for name in booleans:
                    if row[name] is not None:
                        row[name] = bool(row[name])
                yield row

        if mode == "incremental":
            yield from checkpoints(
                rows(), "updated_at", int(config.get("checkpoint_interval", CHECKPOINT_EVERY)), (state or {}).get("cursor")
            )
        else:
            yield from rows()


SPEC = {
    "type": "object",
    "required": ["database_path"],
    "properties": {
        "checkpoint_interval": {"type": "integer", "description": "Emit a STATE message at least every N records."},
        "database_path": {"type": "string", "description": "Path of the shop's SQLite database."},
    },
}
source = Source(name="source-shop-db", spec=SPEC, check=check, discover=discover, read=read)

if __name__ == "__main__":
    sys.exit(source.run())
