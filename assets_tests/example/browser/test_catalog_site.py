"""The catalog as a reader meets it, in headless Chromium from plain files (no server): search a
KPI, read how it is computed, follow it to its mart, the mart's owner and that team's cost.
The site is built by the platform's own job on the shared build of the marketplace (every
model, check and run of a real end-to-end build), after the showback of those runs."""

from __future__ import annotations

import datetime as dt

import pytest

from data_platform.catalog.assets import JOB as CATALOG_JOB
from data_platform.platform_location import build_platform_definitions
from data_platform.showback.assets import JOB as SHOWBACK_JOB
from data_platform.transformation.partitions import range_tags

from ..support.platforms import using
from .conftest import ARTIFACTS

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


@pytest.fixture(scope="module")
def site(built_platform, tmp_path_factory):
    platform = built_platform.copy(tmp_path_factory.mktemp("catalog") / "data")
    with using(platform), platform.instance() as instance:
        defs = build_platform_definitions(platform.settings)
        days = sorted({dt.datetime.fromtimestamp(r.create_timestamp.timestamp(), dt.UTC).date() for r in instance.get_run_records()})
        showback = defs.resolve_job_def(SHOWBACK_JOB).execute_in_process(
            instance=instance, tags=range_tags(days[0].isoformat(), days[-1].isoformat())
        )
        catalog = defs.resolve_job_def(CATALOG_JOB).execute_in_process(instance=instance)
    assert showback.success and catalog.success
    (materialization,) = catalog.get_asset_materialization_events()
    return platform, materialization.materialization.metadata["index"].value


@pytest.fixture(scope="module")
def page(browser):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.set_default_timeout(15_000)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    yield page
    assert errors == [], errors
    page.close()


def test_a_kpi_is_found_by_search_and_followed_to_its_mart_its_owner_and_its_cost(site, page):
    _, index = site
    page.goto(f"file://{index}")
    page.fill("#search", "gmv")
    hit = page.locator("#results li", has_text="KPI").filter(has_text="GMV (EUR)").first
    hit.wait_for()
    page.screenshot(path=str(ARTIFACTS / "catalog_01_search_gmv.png"))
    hit.locator("a").click()

    page.locator("pre.sql").wait_for()
    sql = page.inner_text("pre.sql")
    assert "sum(case when counts_toward_gmv then items_total_eur else 0 end)" in sql and "trusted.fct_orders" in sql
    assert "presentation/ventas_diarias.volumen_ventas_eur" in page.inner_text("td.spanish"), "the Spanish label end users see"
    page.screenshot(path=str(ARTIFACTS / "catalog_02_kpi_gmv.png"), full_page=True)
    page.locator("a.mart", has_text="marts/mart_daily_gmv").click()

    page.get_by_role("heading", name="marts/mart_daily_gmv").wait_for()
    owners = page.inner_text("td.owners")
    assert "analytics" in owners
    assert page.locator("svg.lineage").count() == 1 and "source_system/shop_db" in page.inner_html("svg.lineage")
    assert "exposures/panel_ventas" in page.inner_html("svg.lineage"), "lineage reaches the dashboard"
    cost = page.inner_text("td.team-s-cost")
    assert "USD over the last 30 days" in cost and "for team analytics" in cost
    page.screenshot(path=str(ARTIFACTS / "catalog_03_mart_daily_gmv.png"), full_page=True)
    page.locator("td.owners a.team").click()

    page.get_by_role("heading", name="Team analytics").wait_for()
    assert "USD over the last 30 days" in page.inner_text("p.cost")
    assert "marts/mart_daily_gmv" in page.inner_text("main")
    page.screenshot(path=str(ARTIFACTS / "catalog_04_team_analytics.png"), full_page=True)


def test_a_column_search_finds_the_stream_with_its_pii_classification_and_contract(site, page):
    _, index = site
    page.goto(f"file://{index}?q=email")
    page.locator("#results li a", has_text="raw_shop/customers.email").first.click()
    row = page.locator("table.columns tr", has_text="email").first
    assert "pii" in row.inner_text()
    assert "raw_shop.customers.odcs.yaml" in page.inner_text("table.contract")


def test_the_cost_page_shows_every_team_stacked_per_day(site, page):
    _, index = site
    page.goto(f"file://{index.rsplit('/', 1)[0]}/cost.html")
    chart = page.locator("div.chart svg")
    assert chart.count() == 1
    teams = page.locator("table.cost tr td:first-child").all_inner_texts()
    assert {"commerce-platform", "growth", "analytics"} <= set(teams)
    page.screenshot(path=str(ARTIFACTS / "catalog_05_cost_per_team.png"), full_page=True)


def test_a_kpi_without_a_description_of_its_own_is_described_by_its_measure(site, page):
    _, index = site
    page.goto(f"file://{index.rsplit('/', 1)[0]}/kpis/visits.html")
    assert page.inner_text("p.definition").strip(), "growth's visits metric: its measure's description"
