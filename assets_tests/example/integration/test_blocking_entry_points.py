"""Blocking wherever a run starts: the same dbt step decides, so every entry point leaves out the
same descendants, each with the observation naming the check.

The shop's merchants table repeats a merchant; commerce's connection is synced once (its
``ingest_shop_db`` job), and ``raw_shop/merchants:primary_key_unique`` fails. Then commerce's
models are launched the ways an operator or Dagster launches them, each on commerce's own code
location (as ``workspace.yaml`` serves it):

- *Materialize* on one model in the UI: a run of the implicit asset job selecting that model;
- a schedule (the daily partitions schedule's request, executed as the daemon would) and a
  backfill or a launchpad range: the daily job over a range of days in one run;
- declarative automation: what the automation sensor requests, executed as its runs are;
- Dagster's CLI: ``dagster asset materialize --select ...``.

The UI's job page, the domain-chain sensor and ``data-platform run`` are in
``browser/test_cockpit.py`` and ``test_blocks_hold_until_fixed.py``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import dagster as dg
import pytest

from data_platform.quality.blast_radius import BLOCKED_BY
from data_platform.settings import REPO_ROOT
from data_platform.transformation.assets import BLOCKED_TAG
from data_platform.transformation.partitions import range_tags

from ..support.platforms import START, T0, Platform, using
from .test_blocks_hold_until_fixed import write_shop

CHECK = "raw_shop/merchants:primary_key_unique"
DIM_MERCHANTS = dg.AssetKey(["trusted", "dim_merchants"])
FCT_ORDERS = dg.AssetKey(["trusted", "fct_orders"])
DIM_CUSTOMERS = dg.AssetKey(["trusted", "dim_customers"])


@dataclasses.dataclass
class Blocked:
    platform: Platform
    instance: dg.DagsterInstance
    defs: dg.Definitions
    before_sync: str
    """The automation cursor before the sync."""


@pytest.fixture(scope="module")
def blocked(built_platform, tmp_path_factory):
    from data_platform.definitions import domain_location

    platform = built_platform.copy(tmp_path_factory.mktemp("entry_points") / "data")
    with using(platform), platform.instance() as instance:
        write_shop(platform, "insert into merchants select * from merchants where merchant_id = (select min(merchant_id) from merchants)")
        defs = domain_location(REPO_ROOT / "platform" / "domains" / "commerce")
        before_sync = dg.evaluate_automation_conditions(defs=defs, instance=instance)
        streams = [k for k in defs.resolve_asset_graph().get_all_asset_keys() if k.path[0] == "raw_shop"]
        synced = defs.resolve_job_def("ingest_shop_db").execute_in_process(instance=instance, raise_on_error=False, asset_selection=streams)
        assert synced.success
        failed = [f"{e.asset_key.to_user_string()}:{e.check_name}" for e in synced.get_asset_check_evaluations() if not e.passed]
        assert CHECK in failed
        yield Blocked(platform, instance, defs, before_sync.cursor)


def left_out(instance: dg.DagsterInstance, run_id: str) -> dict[str, list[str]]:
    found = {}
    for entry in instance.all_logs(run_id, of_type=dg.DagsterEventType.ASSET_OBSERVATION):
        observation = entry.dagster_event.event_specific_data.asset_observation
        if BLOCKED_BY in observation.metadata:
            found[observation.asset_key.to_user_string()] = observation.metadata[BLOCKED_BY].value
    return found


def materialized(result: dg.ExecuteInProcessResult) -> set[dg.AssetKey]:
    return {e.asset_key for e in result.get_asset_materialization_events()}


def test_materialize_on_one_model_in_the_ui_leaves_it_out_naming_the_check(blocked):
    run = blocked.defs.resolve_implicit_global_asset_job_def().execute_in_process(
        instance=blocked.instance, raise_on_error=False, asset_selection=[DIM_MERCHANTS]
    )
    assert run.success and DIM_MERCHANTS not in materialized(run)
    assert left_out(blocked.instance, run.run_id) == {"trusted/dim_merchants": [CHECK]}


def test_a_scheduled_day_leaves_out_the_blocked_daily_models(blocked):
    schedule = blocked.defs.get_schedule_def("commerce_daily_partition_schedule")
    context = dg.build_schedule_context(
        instance=blocked.instance,
        scheduled_execution_time=dt.datetime(2026, 10, 21, 5, tzinfo=dt.UTC),
        repository_def=blocked.defs.get_repository_def(),
    )
    (request,) = schedule.evaluate_tick(context).run_requests
    run = blocked.defs.resolve_job_def(schedule.job_name).execute_in_process(
        instance=blocked.instance, raise_on_error=False, partition_key=request.partition_key
    )
    assert run.success and FCT_ORDERS not in materialized(run)
    assert CHECK in left_out(blocked.instance, run.run_id)["trusted/fct_orders"]


def test_a_backfill_or_launchpad_range_leaves_out_the_blocked_daily_models(blocked):
    run = blocked.defs.resolve_job_def("commerce_daily_partitions_job").execute_in_process(
        instance=blocked.instance, raise_on_error=False, tags=range_tags(START.isoformat(), T0.date().isoformat())
    )
    assert run.success and FCT_ORDERS not in materialized(run)
    assert CHECK in left_out(blocked.instance, run.run_id)["marts/mart_daily_gmv"]
    assert int(blocked.instance.get_run_by_id(run.run_id).tags[BLOCKED_TAG]) >= 4


def test_what_automation_requests_builds_the_unrelated_and_leaves_out_the_blocked(blocked):
    requested = dg.evaluate_automation_conditions(defs=blocked.defs, instance=blocked.instance, cursor=blocked.before_sync)
    dims = sorted((k for k in (DIM_MERCHANTS, DIM_CUSTOMERS) if requested.get_num_requested(k)), key=lambda k: k.to_user_string())
    assert dims == [DIM_CUSTOMERS, DIM_MERCHANTS], "the sync refreshed both streams: automation asks for both"
    run = blocked.defs.resolve_implicit_global_asset_job_def().execute_in_process(
        instance=blocked.instance, raise_on_error=False, asset_selection=dims
    )
    assert DIM_CUSTOMERS in materialized(run) and DIM_MERCHANTS not in materialized(run)
    assert left_out(blocked.instance, run.run_id) == {"trusted/dim_merchants": [CHECK]}


def test_dagsters_cli_leaves_out_the_same_descendants(blocked):
    """``dagster asset materialize`` of a blocked model and an unrelated one, as typed in a terminal
    (``dagster job execute`` of a whole job would first move the simulated shop forward, which
    rewrites its merchants: the defect would be gone; ``e2e/test_dagster_cli_jobs.py`` runs it)."""
    location = REPO_ROOT / "platform" / "domains" / "commerce" / "definitions.py"
    done = blocked.platform.dagster(
        "asset", "materialize", "-f", str(location), "--select", "key:trusted/dim_merchants or key:trusted/dim_customers"
    )
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    (record,) = blocked.instance.get_run_records(limit=1)
    assert left_out(blocked.instance, record.dagster_run.run_id) == {"trusted/dim_merchants": [CHECK]}
    built = blocked.instance.fetch_materializations(DIM_CUSTOMERS, limit=1).records
    assert built and built[0].run_id == record.dagster_run.run_id, "the unrelated model is built in the same run"
    assert int(record.dagster_run.tags[BLOCKED_TAG]) == 1


def test_a_reversed_range_is_refused_before_anything_is_built(blocked):
    run = blocked.defs.resolve_job_def("commerce_daily_partitions_job").execute_in_process(
        instance=blocked.instance, raise_on_error=False, tags=range_tags(T0.date().isoformat(), START.isoformat())
    )
    failures = [e.step_failure_data.error.message for e in run.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE]
    assert not run.success and materialized(run) == set()
    assert any(f"launch it as {START.isoformat()}...{T0.date().isoformat()}" in f for f in failures), failures
