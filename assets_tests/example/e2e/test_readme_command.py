"""The README's first command, as a new user runs it: ``data-platform run`` in a fresh data
folder simulates the marketplace up to now, syncs every stream, builds every model and check,
and prints a summary. (Running it again incrementally is proven in-process, in
``integration/test_transformation_run.py``.)"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
import sqlite3
import subprocess
import sys

from data_platform.settings import REPO_ROOT

STREAMS = (
    "raw_shop/merchants", "raw_shop/products", "raw_shop/customers", "raw_shop/orders",
    "raw_shop/order_lines", "raw_shop/payments", "raw_web/web_events", "raw_marketing/marketing_spend",
)  # fmt: skip


def columns(summary: str, asset: str) -> list[str]:
    """The summary's row of ``asset``: asset, rows synced, rows in table, partitions."""
    return next(line for line in summary.splitlines() if line.startswith(asset)).split()


PAYMENT_NOT_YET = "2026-10-20T13:24:30Z"
"""An instant (seed 42, scale 0.2, 3 days of history) at which order 32 exists (placed 13:24:01) and its
payment does not yet (authorized 13:25:22): the instant at which the simulator used to write the
payment early, and the contract check quarantined it."""


def run_readme_command(tmp_path, **env_vars) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"}
    env.update(DATA_PLATFORM_DATA_DIR=str(tmp_path), DATA_PLATFORM_SIM_SCALE="0.2", DATA_PLATFORM_SIM_HISTORY_DAYS="3", **env_vars)
    return subprocess.run(
        [sys.executable, "-m", "data_platform.cli", "run"], env=env, capture_output=True, text=True, timeout=600, cwd=REPO_ROOT
    )


def assert_every_stream_and_model_built(run: subprocess.CompletedProcess, tmp_path) -> str:
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    summary = run.stdout[run.stdout.index("rows in table") :]
    for stream in STREAMS:
        assert int(columns(summary, stream)[-2].replace(",", "")) > 0, stream
    assert "run succeeded" in summary and str(tmp_path / "warehouse.duckdb") in summary
    assert re.search(r"peak memory: [\d,]+ MiB in this process", summary)
    assert "NOT MATERIALIZED" not in summary
    return summary


def test_the_main_command_lands_every_stream_builds_every_model_and_prints_row_counts(tmp_path):
    run = run_readme_command(tmp_path)
    summary = assert_every_stream_and_model_built(run, tmp_path)
    passed, failed = (int(n) for n in re.search(r"checks: (\d+) passed, (\d+) failed", run.stdout).groups())
    assert passed >= 90
    # at this scale the shop takes ~9 orders a day: a quiet spell can leave its newest row older
    # than the warning (2 h) or even the SLA (6 h), depending on the wall-clock instant this runs at;
    # data freshness may fail (it blocks nothing), nothing else may
    failures = [line for line in run.stdout.splitlines() if line.startswith("  FAILED check")]
    assert len(failures) == failed and all(re.search(r":data_freshness \((WARN|ERROR)\)$", line) for line in failures), failures
    assert int(columns(summary, "marts/mart_daily_gmv")[-1]) == 4, (
        "the daily marts are built for the 3 simulated days and today, in one run"
    )
    assert (tmp_path / "dagster_home" / "dagster.yaml").exists(), "runs are recorded in a persistent instance the UI can show"


def test_the_main_command_passes_at_an_instant_where_an_order_is_not_paid_yet(tmp_path):
    run = run_readme_command(tmp_path, DATA_PLATFORM_SIM_AS_OF=PAYMENT_NOT_YET)
    with contextlib.closing(sqlite3.connect(tmp_path / "source_systems" / "shop_db.sqlite")) as db:
        unpaid = db.execute(
            "select count(*) from orders o where created_at = '2026-10-20T13:24:01.033Z' "
            "and not exists (select 1 from payments p where p.order_id = o.order_id)"
        ).fetchone()[0]
    assert unpaid == 1, "the pinned instant still falls between an order and its payment"
    summary = assert_every_stream_and_model_built(run, tmp_path)
    # the pinned data is weeks old by the warehouse's clock: only its freshness may fail, and no row broke a contract
    failures = [line for line in run.stdout.splitlines() if line.startswith("  FAILED check")]
    assert all(":data_freshness (" in line for line in failures), failures
    first_day = dt.date(2026, 10, 17)
    assert int(columns(summary, "marts/mart_daily_gmv")[-1]) == (dt.datetime.now(dt.UTC).date() - first_day).days + 1, (
        "the first build covers every day with data (from the first simulated day), up to today"
    )
