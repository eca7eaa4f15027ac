"""Cost per team on a laptop: ``data-platform run``'s path (every domain's end-to-end job, then the
platform's) fills ``platform.cost_per_team_daily`` from the execution time Dagster measured, in
the production table's columns, with a chart in the asset's metadata; the catalog is rebuilt
after it. The figures are checked against the instance's own step timings."""

from __future__ import annotations

import base64
import re

import dagster as dg
import duckdb
import pytest

from data_platform.automation.end_to_end import run_end_to_end
from data_platform.definitions import build_definitions
from data_platform.domains import load_domains
from data_platform.platform_location import LOCATION, build_platform_definitions
from data_platform.showback.assets import KEY
from data_platform.transformation.partitions import daily_partitions, recent_range_tags

from ..support.fixture_domains import fixture_settings

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def laptop(tmp_path_factory):
    with fixture_settings(tmp_path_factory.mktemp("showback")) as settings, dg.instance_for_test() as instance:
        definitions = {name: build_definitions(settings, load_domains(settings, [name]), location=name) for name in ("reports", "shop")}
        definitions[LOCATION] = build_platform_definitions(settings)
        done = run_end_to_end(
            definitions,
            instance,
            tags_for=lambda name, _: recent_range_tags(daily_partitions(settings), 2) if name == LOCATION else {},
            leave_out=lambda key: key.path[0] == "source_system",
        )
        domain_runs = [r.run_id for r in done.runs[:-1]]
        measured = sum(
            s.end_time - s.start_time for run_id in domain_runs for s in instance.get_run_step_stats(run_id) if s.end_time and s.start_time
        )
        with duckdb.connect(str(settings.warehouse.duckdb_path), read_only=True) as conn:
            rows = conn.execute(
                "select team, sum(credits), sum(cost), sum(queries), min(method) from platform.cost_per_team_daily group by team"
            ).fetchall()
            spanish = conn.execute("select equipo, sum(coste) from presentation.coste_por_equipo group by equipo").fetchall()
        yield settings, done, rows, spanish, measured


def test_the_platform_runs_after_every_domain(laptop):
    _, done, *_ = laptop
    assert done.success and [r.dagster_run.job_name for r in done.runs][-1] == f"{LOCATION}_end_to_end"


def test_each_team_is_billed_its_measured_execution_time(laptop):
    settings, _, rows, _, measured = laptop
    teams = {team: (credits, cost, nodes, method) for team, credits, cost, nodes, method in rows}
    assert {"shop", "reports"} <= set(teams) <= {"shop", "reports", "unattributed"}
    assert teams["reports"][2] >= 2, "the reports mart and its checks"
    assert {t[3] for t in teams.values()} == {"measured"}
    total_seconds = sum(t[0] for t in teams.values()) * 3600 / settings.showback.local_credits_per_hour
    assert total_seconds == pytest.approx(measured, rel=1e-6), "every measured second billed once"
    assert sum(t[1] for t in teams.values()) == pytest.approx(sum(t[0] for t in teams.values()) * settings.showback.price_per_credit)


def test_the_spanish_view_shows_the_same_cost(laptop):
    _, _, rows, spanish, _ = laptop
    assert sorted((t, round(c, 9)) for t, c in spanish) == sorted((t, round(c, 9)) for t, _, c, _, _ in rows)


def test_the_chart_is_in_the_assets_metadata_as_an_image_the_ui_renders(laptop):
    _, done, *_ = laptop
    (materialization, *_) = [m for m in done.runs[-1].get_asset_materialization_events() if m.asset_key == KEY]
    chart = materialization.materialization.metadata["chart"].value
    encoded = re.fullmatch(r"!\[cost per team per day\]\(data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)\)", chart)
    assert encoded, chart[:80]
    svg = base64.b64decode(encoded.group(1)).decode()
    assert svg.startswith("<svg") and ">shop</text>" in svg and ">reports</text>" in svg


def test_the_catalog_is_rebuilt_after_the_showback_with_each_product_its_owner_and_lineage(laptop):
    settings, done, *_ = laptop
    assert dg.AssetKey(["platform", "catalog"]) in {m.asset_key for m in done.runs[-1].get_asset_materialization_events()}
    page = (settings.data_dir / "catalog" / "products" / "marts-mart-shop-revenue.html").read_text()
    assert "teams/reports.html" in page and "trusted/fct_shop_orders" in page and "<svg" in page
    assert "mart_shop_revenue" in (settings.data_dir / "catalog" / "index.html").read_text()
