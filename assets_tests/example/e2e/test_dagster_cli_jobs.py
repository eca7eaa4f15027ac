"""Every job of every code location runs from Dagster's own CLI with its defaults: ``dagster job
execute -f platform/domains/<domain>/definitions.py -j <job>``, no tags, no config, as an
operator or a CI script would type it (and as the UI's launchpad launches it).

A job holding daily models, launched without a partition, builds everything else and says
what it left out (run tag ``platform/needs_partition``, an observation on each model); with a
range (``dagster asset materialize --partition-range``) it builds those too.
"""

from __future__ import annotations

import subprocess

import dagster as dg
import pytest

from data_platform.settings import REPO_ROOT
from data_platform.transformation.assets import NEEDS_PARTITION_TAG

from ..support.platforms import T0, using

JOBS = {
    "commerce": ["commerce_end_to_end", "ingest_shop_db", "commerce_daily_partitions_job", "freshness_checks_job", "reconcile_sources_job"],
    "growth": [
        "growth_end_to_end",
        "ingest_web_events",
        "ingest_marketing_spend",
        "growth_daily_partitions_job",
        "freshness_checks_job",
        "reconcile_sources_job",
    ],
}


def location_file(domain: str) -> str:
    return str(REPO_ROOT / "platform" / "domains" / domain / "definitions.py")


def dagster_cli(platform, *arguments: str) -> subprocess.CompletedProcess:
    return platform.dagster(*arguments)


@pytest.fixture(scope="module")
def cli_platform(built_platform, tmp_path_factory):
    platform = built_platform.copy(tmp_path_factory.mktemp("cli") / "data")
    with using(platform):
        yield platform


def test_the_jobs_listed_are_every_job_of_each_location(cli_platform):
    from data_platform.definitions import domain_location

    for domain, jobs in JOBS.items():
        defs = domain_location(REPO_ROOT / "platform" / "domains" / domain)
        served = {j.name for j in defs.resolve_all_job_defs() if not j.name.startswith("__")}
        assert served == set(jobs), f"{domain}: a job was added or renamed; run it here too"


@pytest.mark.parametrize("domain,job", [(d, j) for d, jobs in JOBS.items() for j in jobs])
def test_dagster_job_execute_runs_each_job_with_its_defaults(cli_platform, domain, job):
    done = dagster_cli(cli_platform, "job", "execute", "-f", location_file(domain), "-j", job)
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    assert "RUN_SUCCESS" in done.stdout + done.stderr


def test_an_end_to_end_run_without_a_partition_says_what_it_left_out(cli_platform):
    with cli_platform.instance() as instance:
        (run,) = [r.dagster_run for r in instance.get_run_records(dg.RunsFilter(job_name="growth_end_to_end"), limit=1)]
        left_out = int(run.tags[NEEDS_PARTITION_TAG])
        observed = [
            r.asset_observation.asset_key.to_user_string()
            for r in instance.fetch_observations(dg.AssetKey(["marts", "mart_web_funnel"]), limit=5).records
            if r.run_id == run.run_id and NEEDS_PARTITION_TAG in r.asset_observation.metadata
        ]
    assert left_out >= 3 and observed == ["marts/mart_web_funnel"]


def test_dagster_asset_materialize_builds_a_range_of_days_in_one_run(cli_platform):
    done = dagster_cli(
        cli_platform,
        "asset",
        "materialize",
        "-f",
        location_file("growth"),
        "--select",
        "tag:daily",
        "--partition-range",
        f"{T0.date().replace(day=T0.day - 2).isoformat()}...{T0.date().isoformat()}",
    )
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    with cli_platform.instance() as instance:
        records = instance.fetch_materializations(dg.AssetKey(["marts", "mart_web_funnel"]), limit=10).records
    assert {r.partition_key for r in records[:3]} == {(T0.date().replace(day=T0.day - n)).isoformat() for n in range(3)}
    assert len({r.run_id for r in records[:3]}) == 1, "one run for the three days"
