"""The key of PII pseudonyms: HMAC-SHA256 with a secret, so a stored pseudonym cannot be matched
by hashing guesses (a first name, every phone number of a country) without the key.

Where the key comes from: ``DATA_PLATFORM_PII_KEY`` (at least 32 characters, from a secret store;
required in production), else, locally, a key generated once per installation in
``$DATA_PLATFORM_DATA_DIR/secrets/pii_key`` (mode 0600; the data folder is never committed).

Where SQL finds it: never in a statement's text (dbt's logs, the query history). The warehouse
holds the HMAC pads in a table of their own, written with bound parameters: locally a separate
DuckDB file, ``pii_key.duckdb`` next to the warehouse, attached as ``platform_secrets`` by dbt's profile and by
the quarantine's connection, and absent from ``warehouse.duckdb`` (``data-platform sql`` and
whoever copies the warehouse never see it); on Snowflake ``<RAW>.PLATFORM_SECRETS.PII_KEY``,
written by the contract check before staging reads it (grant its schema to the loading and
transforming roles only). Staging (``hash_pii`` macro) and quarantine (``WarehouseDialect.hash_pii``)
compute the same pseudonym: RFC 2104 HMAC-SHA256 of the trimmed, lower-cased value, in hex.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import secrets
from pathlib import Path
from typing import Any

KEY_VARIABLE = "DATA_PLATFORM_PII_KEY"
MINIMUM_LENGTH = 32
SECRETS_CATALOG = "platform_secrets"
"""The attached DuckDB file's alias, and Snowflake's schema, holding the key table."""
KEY_TABLE = "pii_key"


class PiiKeyError(Exception):
    """The key is missing or too weak: the message names the variable."""


def pii_key(data_dir: Path | None, environ: os._Environ | dict = os.environ) -> bytes:
    """The key: from ``DATA_PLATFORM_PII_KEY``; else (``data_dir`` given: local) this installation's own."""
    value = environ.get(KEY_VARIABLE)
    if value:
        if len(value) < MINIMUM_LENGTH:
            raise PiiKeyError(f"{KEY_VARIABLE} has {len(value)} characters; a PII key needs at least {MINIMUM_LENGTH} (e.g. 64 hex digits)")
        return value.encode()
    if data_dir is None:
        raise PiiKeyError(
            f"{KEY_VARIABLE} is not set: production pseudonymises PII with a key from the environment "
            f"(at least {MINIMUM_LENGTH} characters, kept in your secret store; changing it changes every pseudonym)"
        )
    path = data_dir / "secrets" / "pii_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        with contextlib.suppress(FileExistsError):  # another process made it first: use theirs
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "w") as key_file:
                key_file.write(secrets.token_hex(32))
    return path.read_text().strip().encode()


def hmac_pads(key: bytes) -> tuple[str, str]:
    """The inner and outer pads of RFC 2104 HMAC-SHA256 for ``key``, in hex."""
    if len(key) > 64:
        key = hashlib.sha256(key).digest()
    key = key.ljust(64, b"\0")
    return bytes(b ^ 0x36 for b in key).hex(), bytes(b ^ 0x5C for b in key).hex()


def key_file(duckdb_path: Path) -> Path:
    """Next to the warehouse file (dbt's profile attaches it from there: a folder it would need may not exist)."""
    return duckdb_path.parent / "pii_key.duckdb"


def attach_statement(duckdb_path: Path) -> str:
    path = str(key_file(duckdb_path)).replace("'", "''")
    return f"attach if not exists '{path}' as {SECRETS_CATALOG}"


def ensure_local_key(duckdb_path: Path) -> None:
    """Write this installation's pads to ``secrets/pii_key.duckdb`` when it holds none or others."""
    import duckdb

    inner, outer = hmac_pads(pii_key(duckdb_path.parent))
    target = key_file(duckdb_path)
    # what the file was last written with (a digest of the pads, not the pads): a run does not open
    # the file, which a running dbt may hold, when nothing changed
    written = duckdb_path.parent / "secrets" / "pii_key.written"
    fingerprint = hashlib.sha256(f"{inner}:{outer}".encode()).hexdigest()
    if target.exists() and written.exists() and written.read_text() == fingerprint:
        return
    written.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    with (written.parent / "pii_key.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        with contextlib.closing(duckdb.connect(str(target))) as conn:
            if _stored(conn, f"main.{KEY_TABLE}") != (inner, outer):
                conn.execute(f"create or replace table main.{KEY_TABLE} (inner_pad varchar, outer_pad varchar)")
                conn.execute(f"insert into main.{KEY_TABLE} values (?, ?)", [inner, outer])
        target.chmod(0o600)
        written.write_text(fingerprint)


def ensure_snowflake_key(cursor: Any, raw_database: str) -> None:
    """Write the pads from ``DATA_PLATFORM_PII_KEY`` to ``<RAW>.PLATFORM_SECRETS.PII_KEY`` when they differ."""
    inner, outer = hmac_pads(pii_key(None))
    table = f"{raw_database}.{SECRETS_CATALOG}.{KEY_TABLE}"
    cursor.execute(f"create schema if not exists {raw_database}.{SECRETS_CATALOG}")
    cursor.execute(f"create table if not exists {table} (inner_pad varchar, outer_pad varchar)")
    if _stored(cursor, table) != (inner, outer):
        cursor.execute(f"delete from {table}")
        cursor.execute(f"insert into {table} (inner_pad, outer_pad) values (%s, %s)", (inner, outer))


def _stored(connection: Any, table: str) -> tuple[str, str] | None:
    try:
        rows = connection.execute(f"select inner_pad, outer_pad from {table}").fetchall()
    except Exception:  # no table yet
        return None
    return tuple(rows[0]) if len(rows) == 1 else None  # type: ignore[return-value]
