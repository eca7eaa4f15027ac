"""The Dagster UI as an operator meets it, in headless Chromium, in order: the alerts of a failure
that happened while no daemon ran, the lineage, a stream's page, the whole platform launched from
one job page on dirty data (commerce, then growth after it: a block in commerce leaves growth's
unrelated models built and its cross-domain mart out), a model materialized from its page, a
3-day backfill as one run whose downstream marts automation refreshes for the same days, and
``data-platform dev`` stopping with all its processes. Each step leaves a screenshot."""

from __future__ import annotations

import datetime as dt
import json
import re
import signal
import time
from pathlib import Path

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

GROUPS = ("exposures", "ingestion", "marts", "ml", "platform", "presentation", "source_systems", "staging", "trusted")
SENSOR_TICKS = """query($location: String!, $name: String!) {
  sensorOrError(sensorSelector: {repositoryLocationName: $location, repositoryName: "__repository__", sensorName: $name}) {
    __typename ... on Sensor { sensorState { ticks(limit: 5) { status } } } } }"""
RUNS = """query($job: String!) { runsOrError(filter: {pipelineName: $job}, limit: 20) {
  ... on Runs { results { runId status assetSelection { path } tags { key value } } } } }"""
BACKFILLS = """{ partitionBackfillsOrError(limit: 5) { ... on PartitionBackfills { results { id status partitionNames } } } }"""
BACKFILL_RUNS = """query($id: String!) { runsOrError(filter: {tags: [{key: "dagster/backfill", value: $id}]}) {
  ... on Runs { results { runId status endTime tags { key value } } } } }"""
MATERIALIZATIONS = """query($path: [String!]!, $partitions: [String!]) { assetOrError(assetKey: {path: $path}) {
  ... on Asset { assetMaterializations(partitions: $partitions) { partition runId timestamp } } } }"""
LAUNCH = """mutation($params: ExecutionParams!) { launchPipelineExecution(executionParams: $params) {
  __typename ... on LaunchRunSuccess { run { runId } } ... on PythonError { message } } }"""
DONE = ("SUCCESS", "FAILURE", "CANCELED")
BACKFILL_DAYS = [f"2026-10-{day}" for day in range(13, 16)]


def runs(cockpit, job: str, location: str | None = None) -> list[dict]:
    found = cockpit.graphql(RUNS, {"job": job})["runsOrError"]["results"]
    return [r for r in found if location is None or {"key": "dagster/code_location", "value": location} in r["tags"]]


def wait_for_new_run(cockpit, job: str, before: set[str], location: str | None = None, timeout: float = 600) -> dict:
    """The newest run of ``job`` launched from the UI since ``before`` (the automation sensor and
    backfills launch runs of the same asset job), once it has finished."""

    def launched_by_hand(run: dict) -> bool:
        return not any(t["key"] in ("dagster/sensor_name", "dagster/backfill", "dagster/schedule_name") for t in run["tags"])

    def finished():
        new = [r for r in runs(cockpit, job, location) if r["runId"] not in before and launched_by_hand(r)]
        return new[0] if new and new[0]["status"] in DONE else None

    return cockpit.wait_for(finished, timeout, f"no new run of {job} finished")


def test_a_failure_that_happened_while_no_daemon_ran_is_alerted_and_nothing_else(cockpit, ui):
    """Before the UI started, ``dagster job execute`` synced the dirty ad-spend report: its checks
    failed with no daemon running. The alert sensor's first tick catches up on them, and only them;
    the freshness sensor alerts nobody about assets that never had data."""
    for location in ("commerce", "growth"):
        for sensor in ("failure_alert_sensor", "partition_freshness_sensor"):

            def ticked(location=location, sensor=sensor):
                state = cockpit.graphql(SENSOR_TICKS, {"location": location, "name": sensor})["sensorOrError"]
                return state["__typename"] == "Sensor" and state["sensorState"]["ticks"]

            cockpit.wait_for(ticked, 180, f"{location}'s {sensor} never ticked", interval=2)
    alerts = cockpit.wait_for(lambda: [json.loads(line) for line in cockpit.alerts] or None, 120, "the earlier failure was not alerted")
    ui.see("/automation", "01_automation_after_start")
    assert {a["run_id"] for a in alerts} == {cockpit.before_start}, "alerts for the run that happened before the start, and only it"
    assert {(a["asset"], a["check"]) for a in alerts} >= {("raw_marketing/marketing_spend", "primary_key_unique")}
    assert all(a["channels"] for a in alerts), "every alert names its channel"
    assert not re.findall(r"\w+Warning: .*", cockpit.log.read_text()), "no warning is printed while the definitions load"


def test_the_lineage_page_renders_every_group_with_no_errors(cockpit, ui):
    ui.open("/asset-groups")
    ui.page.get_by_text("staging", exact=True).first.wait_for()
    ui.shot("02_lineage")
    text = ui.text()
    assert all(group in text for group in GROUPS), [g for g in GROUPS if g not in text]
    code_locations = ui.see("/locations", "03_code_locations")
    assert "Failed" not in code_locations and "Error" not in code_locations
    assert ui.console_errors == [] and ui.http_errors == []


def test_a_stream_page_shows_columns_owners_kinds_contract_and_checks(ui):
    text = ui.see("/assets/raw_shop/orders", "04_stream_raw_shop_orders", showing="order_id", full_page=True)
    for expected in ("order_id", "integer", "timestamp_with_timezone", "commerce-platform", "Airbyte", "DuckDB"):
        assert expected in text, expected
    assert "contract" in text.lower(), "the stream's data contract is on its page"
    checks = ui.see("/assets/raw_shop/orders?view=checks", "05_stream_raw_shop_orders_checks", showing="primary_key_unique")
    assert all(check in checks for check in ("data_contract", "primary_key_unique", "row_volume", "data_freshness"))


def test_the_whole_platform_from_one_job_page_blocks_only_what_the_failed_check_feeds_in_every_domain(cockpit, ui):
    """Commerce reads no other domain: its end-to-end job is the platform's launch (its schedule
    does the same daily). Growth follows by its ``growth_after_upstream_domains`` sensor, for
    the same day. The dirty shop repeats a merchant: commerce's models fed by merchants are left
    out, and so is growth's ROAS mart, which reads commerce's orders; the rest is built."""
    before = {r["runId"] for r in runs(cockpit, "commerce_end_to_end")}
    ui.open("/locations/commerce/jobs/commerce_end_to_end")
    ui.page.get_by_role("button", name="Materialize all…").click()
    confirm, latest = ui.page.get_by_role("button", name="Confirm"), ui.page.get_by_role("button", name="Latest")
    confirm.or_(latest).first.wait_for()
    if confirm.is_visible():
        confirm.click()
    latest.click()
    ui.page.get_by_role("button", name="Launch 1 run").click()
    commerce = wait_for_new_run(cockpit, "commerce_end_to_end", before, "commerce")
    assert commerce["status"] == "SUCCESS", "a failed stream check fails nothing by itself"

    def growth_followed():
        found = [r for r in runs(cockpit, "growth_end_to_end", "growth") if tag(r, "platform/after_run") == commerce["runId"]]
        return found[0] if found and found[0]["status"] in DONE else None

    growth = cockpit.wait_for(growth_followed, 600, "growth did not follow commerce's run", interval=2)
    assert growth["status"] == "SUCCESS"
    assert tag(growth, "dagster/partition") == tag(commerce, "dagster/partition"), "the same day"
    assert int(tag(commerce, "platform/blocked")) >= 5 and int(tag(growth, "platform/blocked")) >= 1

    runs_page = ui.see("/runs", "06_runs_list_with_blocked_tags", showing="growth_end_to_end")
    assert "platform/blocked" in runs_page, "the runs list says a run left assets out"
    ui.open(f"/runs/{growth['runId']}")
    ui.page.get_by_placeholder("Filter…").fill("blocked")
    ui.page.get_by_text("its descendants are left out").first.wait_for()
    ui.shot("07_growth_run_blocked_across_domains")

    events = ui.see("/assets/marts/mart_marketing_roas?view=events", "08_cross_domain_descendant_events", showing="blocked by")
    assert "raw_shop/merchants:primary_key_unique" in events, "growth's mart names commerce's check"
    overview = ui.see("/assets/trusted/dim_merchants", "09_blocked_descendant_overview")
    assert "Never materialized" in overview and "Failed" not in overview, "blocked is not a failure of its own"
    assert "Never materialized" not in ui.see("/assets/staging/stg_web__events", "10_unrelated_model_materialized")
    assert "Failed" in ui.see("/assets/raw_shop/merchants?view=checks", "11_failed_check", showing="primary_key_unique")

    def alerted():
        alerts = [json.loads(line) for line in cockpit.alerts]
        return alerts if any(a["check"] == "primary_key_unique" and a["run_id"] == commerce["runId"] for a in alerts) else None

    alerts = cockpit.wait_for(alerted, 180, "the failed check was not alerted", interval=2)
    assert [a for a in alerts if a["run_id"] == commerce["runId"] and a["asset"] == "raw_shop/merchants"], "the owner hears of it"


def test_the_cost_per_team_chart_is_on_the_showback_assets_page(cockpit, ui):
    """The runs above, billed per team: the platform location's showback job for today (usage
    days), launched as the launchpad would; the stacked chart shows on the asset's page."""
    today = dt.datetime.now(dt.UTC).date().isoformat()
    before = {r["runId"] for r in runs(cockpit, "showback_job")}
    selector = {"repositoryLocationName": "platform", "repositoryName": "__repository__", "pipelineName": "showback_job"}
    days = [{"key": f"dagster/asset_partition_range_{end}", "value": today} for end in ("start", "end")]
    launched = cockpit.graphql(LAUNCH, {"params": {"selector": selector, "mode": "default", "executionMetadata": {"tags": days}}})
    assert launched["launchPipelineExecution"]["__typename"] == "LaunchRunSuccess", launched
    assert wait_for_new_run(cockpit, "showback_job", before)["status"] == "SUCCESS"
    ui.open("/assets/platform/cost_per_team_daily")
    assert "commerce-platform" in ui.text() and "growth" in ui.text(), "the cost by team table, inline"
    ui.page.locator("tr", has_text="chart").first.get_by_text("[Show Markdown]").click()  # the UI opens long markdown in a dialog
    chart = ui.page.locator("img[src^='data:image/svg+xml']").first
    chart.wait_for()
    assert chart.evaluate("img => img.complete && img.naturalWidth > 0"), "the chart renders"
    ui.page.wait_for_timeout(1000)  # the dialog fades in
    ui.shot("11b_cost_per_team_chart")


def tag(run: dict, key: str) -> str | None:
    return next((t["value"] for t in run["tags"] if t["key"] == key), None)


def test_materialize_on_a_staging_model_reaches_success(cockpit, ui):
    before = {r["runId"] for r in runs(cockpit, "__ASSET_JOB")}
    ui.open("/assets/staging/stg_web__events")
    ui.page.locator("button", has_text=re.compile(r"^\s*Materialize\s*$")).first.click()
    run = wait_for_new_run(cockpit, "__ASSET_JOB", before)
    ui.open(f"/runs/{run['runId']}")
    ui.page.wait_for_timeout(2000)
    ui.shot("12_staging_model_run")
    assert run["status"] == "SUCCESS"
    assert run["assetSelection"] == [{"path": ["staging", "stg_web__events"]}]


def test_a_three_day_backfill_of_a_daily_model_is_one_run(cockpit, ui):
    ui.open("/assets/trusted/fct_web_events")
    ui.page.locator("button", has_text=re.compile(r"^\s*Materialize…\s*$")).first.click()
    dialog = ui.page.get_by_role("dialog")
    dialog.get_by_text("Partition selection").first.wait_for()
    ui.shot("13_backfill_dialog_opened")
    picker = dialog.locator("input[type=text], input:not([type])").first
    picker.fill(f"[{BACKFILL_DAYS[0]}...{BACKFILL_DAYS[-1]}]")
    picker.press("Enter")
    ui.shot("13_backfill_dialog_range")
    ui.page.get_by_role("button", name="Launch backfill").click()

    def backfill():
        found = cockpit.graphql(BACKFILLS)["partitionBackfillsOrError"]["results"]
        return found[0] if found and found[0]["status"] in ("COMPLETED", "COMPLETED_SUCCESS", "COMPLETED_FAILED", "FAILED") else None

    done = cockpit.wait_for(backfill, 600, "the backfill did not complete", interval=2)
    ui.open(f"/runs/b/{done['id']}")
    ui.page.wait_for_timeout(2000)
    ui.shot("14_backfill")
    assert sorted(done["partitionNames"]) == BACKFILL_DAYS
    backfill_runs = cockpit.graphql(BACKFILL_RUNS, {"id": done["id"]})["runsOrError"]["results"]
    assert [r["status"] for r in backfill_runs] == ["SUCCESS"], "three partitions, one run"
    tags = {t["key"]: t["value"] for t in backfill_runs[0]["tags"]}
    assert (tags["dagster/asset_partition_range_start"], tags["dagster/asset_partition_range_end"]) == (BACKFILL_DAYS[0], BACKFILL_DAYS[-1])

    def downstream_refreshed():
        found = cockpit.graphql(MATERIALIZATIONS, {"path": ["marts", "mart_web_funnel"], "partitions": BACKFILL_DAYS})["assetOrError"]
        after = {
            m["partition"] for m in found["assetMaterializations"] if float(m["timestamp"]) / 1000 > float(backfill_runs[0]["endTime"] or 0)
        }
        return after if after == set(BACKFILL_DAYS) else None

    cockpit.wait_for(downstream_refreshed, 420, "automation did not refresh the backfilled days of the downstream mart", interval=5)
    ui.see("/assets/marts/mart_web_funnel?view=partitions", "14b_downstream_mart_refreshed_for_the_backfilled_days")


def test_the_overview_timeline_shows_the_runs(ui):
    assert "No runs" not in ui.see("/overview/activity/timeline", "15_overview_timeline", showing="commerce_end_to_end")
    ui.open("/assets/exposures/panel_ventas")
    ui.page.wait_for_timeout(2000)
    ui.shot("16_exposure")


def test_data_platform_dev_stops_with_every_process_within_ten_seconds_of_ctrl_c(cockpit, ui):
    assert ui.console_errors == [] and ui.http_errors == [], (ui.console_errors, ui.http_errors)
    family = _descendants(cockpit.dev.pid)
    assert len(family) >= 4, "webserver, daemon and code servers are running"
    started = time.monotonic()
    cockpit.dev.send_signal(signal.SIGINT)
    cockpit.dev.wait(timeout=30)
    assert time.monotonic() - started < 10
    assert [pid for pid in family if _alive(pid)] == []


def _descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, frontier = [], [pid]
    while frontier:
        for child in children.get(frontier.pop(), []):
            found.append(child)
            frontier.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False
