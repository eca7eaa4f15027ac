"""The whole platform from one launch: a domain that reads another runs its own end-to-end job
after each end-to-end run of that domain finishes, succeeded or failed, for the same days.

On small jobs of their own named as the domains' (the chain keys on job names and run status,
nothing else), with the platform's sensor and a real instance."""

from __future__ import annotations

import dagster as dg
import pytest

from data_platform.automation.domain_chain import AFTER_RUN_TAG, CHAIN_TAG, LAUNCHED_BY_TAG, after_upstream_domains_sensor
from data_platform.transformation.partitions import range_tags

SENSOR = after_upstream_domains_sensor("growth", ["commerce"])
DAYS = range_tags("2026-10-18", "2026-10-20")


@dg.op
def works() -> None: ...


@dg.op
def breaks() -> None:
    raise RuntimeError("a step failed")


@dg.job(name="commerce_end_to_end")
def commerce_succeeds() -> None:
    works()


@dg.job(name="commerce_end_to_end")
def commerce_fails() -> None:
    breaks()


@dg.job(name="growth_end_to_end")
def growth() -> None:
    works()


REPOSITORY = dg.Definitions(jobs=[growth], sensors=[SENSOR]).get_repository_def()


@pytest.fixture
def instance():
    with dg.instance_for_test() as instance:
        yield instance


def tick(instance, cursor=None):
    return SENSOR.evaluate_tick(dg.build_sensor_context(instance=instance, cursor=cursor, repository_def=REPOSITORY))


def test_a_finished_upstream_run_starts_the_domain_for_the_same_days(instance):
    first = tick(instance)
    upstream = commerce_succeeds.execute_in_process(instance=instance, tags=DAYS)
    (request,) = tick(instance, first.cursor).run_requests
    assert {k: v for k, v in request.tags.items() if k not in ("dagster/sensor_name", CHAIN_TAG)} == {
        **DAYS,
        AFTER_RUN_TAG: upstream.run_id,
    }
    assert request.run_key == f"after-{upstream.run_id}"


def test_a_failed_upstream_run_starts_it_too(instance):
    first = tick(instance)
    upstream = commerce_fails.execute_in_process(instance=instance, tags=DAYS, raise_on_error=False)
    assert not upstream.success
    (request,) = tick(instance, first.cursor).run_requests
    assert request.tags[AFTER_RUN_TAG] == upstream.run_id


def test_each_upstream_run_is_followed_once(instance):
    first = tick(instance)
    commerce_succeeds.execute_in_process(instance=instance, tags=DAYS)
    second = tick(instance, first.cursor)
    assert len(second.run_requests) == 1
    assert tick(instance, second.cursor).run_requests == []


def test_runs_of_data_platform_run_are_not_followed_it_orders_the_domains_itself(instance):
    first = tick(instance)
    commerce_succeeds.execute_in_process(instance=instance, tags={**DAYS, LAUNCHED_BY_TAG: "data-platform run"})
    assert tick(instance, first.cursor).run_requests == []


def test_history_before_the_sensor_started_is_not_replayed(instance):
    commerce_succeeds.execute_in_process(instance=instance, tags=DAYS)
    assert tick(instance).run_requests == []


def test_a_cycle_of_domains_reading_each_other_stops_instead_of_running_for_ever(instance):
    """Commerce's run was itself started by the chain after growth's: growth does not follow it again."""
    first = tick(instance)
    commerce_succeeds.execute_in_process(instance=instance, tags={**DAYS, CHAIN_TAG: "growth"})
    assert tick(instance, first.cursor).run_requests == []


def test_the_chain_so_far_travels_with_the_request(instance):
    first = tick(instance)
    commerce_succeeds.execute_in_process(instance=instance, tags={**DAYS, CHAIN_TAG: "marketing"})
    (request,) = tick(instance, first.cursor).run_requests
    assert request.tags[CHAIN_TAG] == "marketing,commerce"
