"""PII pseudonyms are keyed: HMAC-SHA256 with the installation's secret, which no SQL text holds,
so a dictionary of hashed guesses matches nothing without the key."""

from __future__ import annotations

import hashlib
import hmac
import stat

import duckdb
import pytest

from data_platform.warehouse.pii_key import KEY_VARIABLE, PiiKeyError, attach_statement, ensure_local_key, hmac_pads, pii_key
from data_platform.warehouse.profile import WarehouseProfile

VALUES = ["sofia", "  Sofia ", "+34 600 111 222", "ana.lopez@shop.example", "ü-ñ 漢字", "x" * 200]


def local(tmp_path) -> WarehouseProfile:
    return WarehouseProfile(kind="duckdb", raw_database="warehouse", analytics_database=None, duckdb_path=tmp_path / "warehouse.duckdb")


def pseudonyms_in_sql(tmp_path, values: list[str | None]) -> list[str | None]:
    profile = local(tmp_path)
    ensure_local_key(profile.duckdb_path)
    expression = profile.dialect.hash_pii("v", profile.pii_key_table)
    with duckdb.connect(str(profile.duckdb_path)) as conn:
        conn.execute(attach_statement(profile.duckdb_path))
        return [conn.execute(f"select {expression} from (select ?::varchar as v)", [v]).fetchone()[0] for v in values]


def test_the_warehouse_computes_rfc_2104_hmac_sha256_of_the_trimmed_lowercased_value(tmp_path, monkeypatch):
    monkeypatch.delenv(KEY_VARIABLE, raising=False)
    key = pii_key(tmp_path)
    expected = [hmac.new(key, v.strip().lower().encode(), hashlib.sha256).hexdigest() for v in VALUES]
    assert pseudonyms_in_sql(tmp_path, [*VALUES, None]) == [*expected, None]


def test_a_key_longer_than_a_block_is_hashed_first_as_rfc_2104_says(tmp_path, monkeypatch):
    monkeypatch.setenv(KEY_VARIABLE, "k" * 100)
    assert pseudonyms_in_sql(tmp_path, ["sofia"]) == [hmac.new(b"k" * 100, b"sofia", hashlib.sha256).hexdigest()]


def test_an_unkeyed_hash_of_a_guess_matches_no_pseudonym(tmp_path, monkeypatch):
    monkeypatch.delenv(KEY_VARIABLE, raising=False)
    (stored,) = pseudonyms_in_sql(tmp_path, ["sofia"])
    assert stored not in {hashlib.sha256(b"sofia").hexdigest(), hashlib.sha512(b"sofia").hexdigest()[:64]}


def test_each_installation_generates_its_own_key_once_readable_by_its_owner_only(tmp_path, monkeypatch):
    monkeypatch.delenv(KEY_VARIABLE, raising=False)
    first, again = pii_key(tmp_path / "one"), pii_key(tmp_path / "one")
    assert first == again and len(first) == 64, "generated once, then read"
    assert pii_key(tmp_path / "two") != first, "another installation, another key"
    mode = (tmp_path / "one" / "secrets" / "pii_key").stat().st_mode
    assert stat.S_IMODE(mode) == 0o600


def test_the_key_from_the_environment_wins_and_a_short_one_is_refused_naming_the_variable(tmp_path, monkeypatch):
    monkeypatch.setenv(KEY_VARIABLE, "a" * 40)
    assert pii_key(tmp_path) == b"a" * 40
    monkeypatch.setenv(KEY_VARIABLE, "short")
    with pytest.raises(PiiKeyError, match=rf"{KEY_VARIABLE} has 5 characters; a PII key needs at least 32"):
        pii_key(tmp_path)


def test_production_without_the_key_in_its_environment_is_refused_naming_the_variable(monkeypatch):
    monkeypatch.delenv(KEY_VARIABLE, raising=False)
    with pytest.raises(PiiKeyError, match=rf"{KEY_VARIABLE} is not set"):
        pii_key(None)


def test_no_sql_text_holds_the_key_or_its_pads_and_the_warehouse_file_holds_neither(tmp_path, monkeypatch):
    monkeypatch.setenv(KEY_VARIABLE, "s3cret-" * 6)
    inner, outer = hmac_pads(("s3cret-" * 6).encode())
    profile = local(tmp_path)
    snowflake = WarehouseProfile(kind="snowflake", raw_database="RAW", analytics_database="ANALYTICS")
    for sql in (profile.dialect.hash_pii("email", profile.pii_key_table), snowflake.dialect.hash_pii("email", snowflake.pii_key_table)):
        assert "s3cret" not in sql and inner not in sql and outer not in sql
    pseudonyms_in_sql(tmp_path, ["sofia"])
    with duckdb.connect(str(profile.duckdb_path), read_only=True) as conn:
        tables = conn.execute("select table_catalog, table_schema, table_name from information_schema.tables").fetchall()
    assert not [t for t in tables if "pii" in t[2]], "the pads live in pii_key.duckdb, not in the warehouse"
    assert (tmp_path / "warehouse.duckdb").read_bytes().find(inner[:32].encode()) < 0


def test_a_changed_key_is_written_again(tmp_path, monkeypatch):
    monkeypatch.setenv(KEY_VARIABLE, "a" * 40)
    (before,) = pseudonyms_in_sql(tmp_path, ["sofia"])
    monkeypatch.setenv(KEY_VARIABLE, "b" * 40)
    (after,) = pseudonyms_in_sql(tmp_path, ["sofia"])
    assert before != after == hmac.new(b"b" * 40, b"sofia", hashlib.sha256).hexdigest()
