"""Domains as the platform promises them, on the fixture domains the tests own (shop publishes its
orders fact; reports reads it): each domain is its own code location, lineage crosses them by
asset key, what a domain has not published cannot be read, and two domains cannot define one
model or land one stream."""

from __future__ import annotations

import csv
import datetime as dt
import shutil
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from data_platform.automation.end_to_end import run_end_to_end
from data_platform.definitions import build_definitions
from data_platform.domains import load_domains
from data_platform.settings import Settings
from data_platform.wiring import WiringError

from ..support.fixture_domains import FIXTURE_DOMAINS, fixture_settings

MART = dg.AssetKey(["marts", "mart_shop_revenue"])
PUBLISHED = dg.AssetKey(["trusted", "fct_shop_orders"])


@pytest.fixture
def fixture(tmp_path) -> Settings:
    with fixture_settings(tmp_path) as settings:
        yield settings


def location(settings: Settings, name: str) -> dg.Definitions:
    """One domain's code location, as ``workspace.yaml`` serves it."""
    return build_definitions(settings, load_domains(settings, [name]), location=name)


def test_a_domain_reads_a_published_model_of_another_code_location_by_asset_key(fixture):
    mart = location(fixture, "reports").resolve_asset_graph().get(MART)
    assert mart.parent_keys == {PUBLISHED}
    assert mart.tags["domain"] == "reports" and mart.owners == ["team:reports"]


def test_the_domains_run_end_to_end_and_the_mart_adds_up_to_the_source_file(fixture):
    with dg.instance_for_test() as instance:
        runs = run_end_to_end(
            {name: location(fixture, name) for name in ("reports", "shop")}, instance, leave_out=lambda key: key.path[0] == "source_system"
        )
    assert runs.success and len(runs.runs) == 2
    expected: dict[dt.date, list] = defaultdict(lambda: [0, Decimal(0)])
    with (FIXTURE_DOMAINS / "domains" / "shop" / "source_files" / "orders.csv").open() as rows:
        for row in csv.DictReader(rows):
            day = expected[dt.date.fromisoformat(row["ordered_at"][:10])]
            day[0] += 1
            day[1] += Decimal(row["amount_eur"])
    with duckdb.connect(str(fixture.warehouse.duckdb_path), read_only=True) as warehouse:
        built = warehouse.execute("select order_date, orders, revenue_eur from marts.mart_shop_revenue order by 1").fetchall()
    assert [(day, n, Decimal(str(revenue))) for day, n, revenue in built] == sorted((d, n, r) for d, (n, r) in expected.items())


def test_reading_a_model_the_other_domain_does_not_publish_is_a_load_error_naming_both(fixture):
    domain_file = fixture.domains_dir / "shop" / "domain.yaml"
    domain_file.write_text(domain_file.read_text().replace("publishes: [fct_shop_orders]", "publishes: []"))
    with pytest.raises(WiringError) as error:
        location(fixture, "reports")
    message = str(error.value)
    assert "domain reports reads fct_shop_orders of domain shop" in message
    assert str(domain_file) in message and "source:shop.fct_shop_orders" in message


def test_two_domains_defining_one_model_is_a_load_error_naming_both_domains_and_files(fixture):
    theirs = fixture.dbt_dir / "shop" / "models" / "staging" / "stg_shop__orders.sql"
    mine = fixture.dbt_dir / "reports" / "models" / "marts" / "stg_shop__orders.sql"
    shutil.copy(theirs, mine)
    for name in ("reports", "shop"):  # each domain's location refuses it: neither can tell which one is right
        with pytest.raises(WiringError) as error:
            location(fixture, name)
        message = str(error.value)
        assert "dbt model stg_shop__orders is defined by two domains" in message
        assert str(mine) in message and str(theirs) in message


def test_all_domains_in_one_location_name_the_collision_instead_of_a_duplicate_asset_key(fixture):
    shutil.copy(fixture.dbt_dir / "shop" / "models" / "trusted" / "fct_shop_orders.sql", fixture.dbt_dir / "reports" / "models" / "marts")
    with pytest.raises(WiringError, match=r"dbt model fct_shop_orders is defined by two domains: reports .* and shop"):
        build_definitions(fixture)


def test_two_domains_landing_one_stream_is_a_load_error_naming_both_files(fixture):
    shutil.copy(fixture.domains_dir / "shop" / "connections.yaml", fixture.domains_dir / "reports" / "connections.yaml")
    shutil.copytree(fixture.domains_dir / "shop" / "contracts", fixture.domains_dir / "reports" / "contracts")
    contract = fixture.domains_dir / "reports" / "contracts" / "raw_shop.orders.odcs.yaml"
    contract.write_text(contract.read_text().replace("domain: shop", "domain: reports"))
    with pytest.raises(WiringError) as error:
        location(fixture, "reports")
    message = str(error.value)
    assert "stream raw_shop.orders is landed by two domains" in message
    assert all(str(fixture.domains_dir / d / "connections.yaml") in message for d in ("reports", "shop"))


def test_the_fixture_domains_need_nothing_outside_their_folders():
    files = [p for p in FIXTURE_DOMAINS.rglob("*") if p.is_file() and p.suffix in (".py", ".yaml", ".yml", ".sql")]
    assert files and not [p.name for p in files if "marketplace" in p.read_text().lower()]
    assert Path(FIXTURE_DOMAINS / "domains").is_dir()
