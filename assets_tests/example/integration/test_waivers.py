"""Waivers: an owner's recorded decision, judged when a step asks what is blocked, not when the
check last ran: a waiver recorded after the failure lifts the block at once, and one that has
expired blocks again without waiting for the next sync. A waiver that does not say who, when,
why and until when is refused naming its file and entry."""

from __future__ import annotations

import datetime as dt

import dagster as dg
import pytest

from data_platform.quality.blast_radius import failed_blocking_checks
from data_platform.quality.waivers import Waiver, WaiverError, apply_waiver, load_waivers

NOW = dt.datetime(2026, 10, 20, 12, tzinfo=dt.UTC)
KEY = dg.AssetCheckKey(dg.AssetKey(["raw_shop", "orders"]), "primary_key_unique")


def waiver(until: dt.datetime) -> Waiver:
    return Waiver(KEY, by="ana.lopez@shop.example", at=NOW - dt.timedelta(days=1), why="a copy in the admin tool", until=until)


def record(instance, result: dg.AssetCheckResult) -> None:
    @dg.asset(key=["raw_shop", "orders"])
    def orders() -> None: ...

    @dg.asset_check(asset=orders, name="primary_key_unique")
    def unique() -> dg.AssetCheckResult:
        return result

    dg.materialize([orders, unique], instance=instance, raise_on_error=False)


@pytest.fixture
def instance():
    with dg.instance_for_test() as instance:
        yield instance


FAILED = dg.AssetCheckResult(passed=False, severity=dg.AssetCheckSeverity.ERROR, description="2 keys twice")
GATES = {KEY.asset_key: [KEY]}


def test_a_failed_check_blocks(instance):
    record(instance, FAILED)
    assert list(failed_blocking_checks(instance, GATES, now=NOW)) == [KEY.asset_key]


def test_a_waiver_recorded_after_the_failure_lifts_the_block_at_once(instance):
    record(instance, FAILED)
    assert failed_blocking_checks(instance, GATES, [waiver(NOW + dt.timedelta(days=2))], now=NOW) == {}


def test_an_expired_waiver_blocks_again_before_the_next_sync(instance):
    until = NOW + dt.timedelta(days=2)
    record(instance, apply_waiver(FAILED, waiver(until)))  # judged at WARN while the waiver was in force
    assert failed_blocking_checks(instance, GATES, [waiver(until)], now=NOW) == {}
    assert list(failed_blocking_checks(instance, GATES, [waiver(until)], now=until)) == [KEY.asset_key]


def write_waivers(folder, until="2026-10-27T00:00:00Z", at="2026-10-20T12:00:00Z", why="fix on Monday") -> None:
    why_line = f"    why: {why}\n" if why else ""
    (folder / "waivers.yaml").write_text(
        f"waivers:\n  - check: raw_shop/orders:primary_key_unique\n    by: ana\n    at: {at}\n{why_line}    until: {until}\n"
    )


def test_a_waiver_says_who_when_why_and_until_when(tmp_path):
    write_waivers(tmp_path, why=None)
    with pytest.raises(WaiverError, match=r"waivers.yaml: waiver 1: missing why"):
        load_waivers(tmp_path)


def test_a_waiver_longer_than_ninety_days_is_refused(tmp_path):
    write_waivers(tmp_path, at="2026-01-01T00:00:00Z", until="2027-01-01T00:00:00Z", why="forever")
    with pytest.raises(WaiverError, match=r"at most 90 days"):
        load_waivers(tmp_path)


def test_a_valid_waiver_file_loads(tmp_path):
    write_waivers(tmp_path)
    (loaded,) = load_waivers(tmp_path)
    assert loaded.check == KEY and loaded.in_force(NOW) and not loaded.in_force(dt.datetime(2026, 10, 27, tzinfo=dt.UTC))


def test_a_domain_folder_carries_its_waivers(tmp_path):
    import shutil

    from data_platform.domains import load_domain
    from data_platform.settings import REPO_ROOT, resolve_settings

    folder = tmp_path / "commerce"
    shutil.copytree(REPO_ROOT / "platform" / "domains" / "commerce", folder)
    write_waivers(folder)
    domain = load_domain(folder, resolve_settings({"DATA_PLATFORM_DATA_DIR": str(tmp_path / "data")}))
    assert [w.check for w in domain.waivers] == [KEY]
