"""Definitions of a set of domains: one domain per code location in ``workspace.yaml``, all of them for the CLI.

- A domain's code location (its folder's ``definitions.py``) calls ``domain_location``: that
  domain alone, so a domain whose YAML, contract or dbt project is broken fails to load on its
  own while the others load. Lineage across locations holds by asset key.
- ``defs`` (this module) and ``data-platform run`` build every domain together, one graph.

Everything is built lazily (``@dg.definitions``): importing this module does nothing.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
from collections.abc import Iterator, Sequence
from pathlib import Path

import dagster as dg

from data_platform import wiring
from data_platform.alerting.sensors import failure_alert_sensor, heartbeat_spec
from data_platform.automation.domain_chain import after_upstream_domains_sensor, end_to_end_job_name, end_to_end_schedule
from data_platform.automation.jobs import daily_partitions_job, every_domains_daily_job, ingestion_jobs
from data_platform.automation.schedules import daily_partition_schedule, ingestion_schedules, late_events_rerun_schedule
from data_platform.automation.sensors import automation_sensor
from data_platform.domain_boundaries import colliding_names, unpublished_reads
from data_platform.domains import Domain, domain_folders, load_domain, load_domains, resolve_callable
from data_platform.ingestion.assets import build_ingestion_assets
from data_platform.ingestion.keys import stream_key
from data_platform.ingestion.source_systems import build_source_system_assets
from data_platform.quality.blast_radius import gates_of
from data_platform.quality.contract_checks import build_contract_checks
from data_platform.quality.freshness import freshness_checks_job, freshness_sensor, partition_freshness_checks
from data_platform.quality.reconciliation import GROUP as RECONCILIATION_GROUP
from data_platform.quality.reconciliation import reconciliation_assets, reconciliation_job, reconciliation_schedule
from data_platform.quality.stream_checks import build_stream_checks
from data_platform.resources import build_resources
from data_platform.settings import Settings, resolve_settings
from data_platform.transformation.assets import (
    build_dbt_assets,
    build_exposure_specs,
    exposure_inputs_sensor,
    exposures_by_foreign_input,
)
from data_platform.transformation.partitions import daily_partitions
from data_platform.transformation.project import prepared_manifest

MAIN_JOB = "platform_main_job"
"""The end-to-end job where every domain loads together (``data_platform.definitions``: the CLI's
and the tests' single location). In a domain's own code location it is ``<domain>_end_to_end``."""


def main_job_name(location: str | None) -> str:
    return end_to_end_job_name(location) if location else MAIN_JOB


def build_definitions(
    settings: Settings | None = None, domains: Sequence[Domain] | None = None, location: str | None = None
) -> dg.Definitions:
    """The definitions of ``domains`` (default: every domain folder). ``location``: the code
    location's name when it holds one domain (names its alerting heartbeat).

    Python's cyclic garbage collector is paused while they are built: the build allocates
    millions of long-lived objects (the dbt manifest, dbt's own parse of it for selection, one
    spec per model) and nothing cyclic to free, so each full collection only walks them. On a
    2,500-model project that walking was a third of the load. Reference counting still frees
    everything as usual; the collector resumes, as it was, when the build returns or fails."""
    with _collector_paused():
        return _build_definitions(settings, domains, location)


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _build_definitions(settings: Settings | None, domains: Sequence[Domain] | None, location: str | None) -> dg.Definitions:
    settings = settings or resolve_settings()
    domains = load_domains(settings) if domains is None else list(domains)
    loaded = {d.name for d in domains}
    known_domains = {p.name for p in domain_folders(settings)} | loaded
    assets: list = []
    checks: list = []
    jobs: list = []
    schedules: list = []
    problems: list[str] = []
    foreign: set[dg.AssetKey] = set()
    materializable_systems: set[dg.AssetKey] = set()
    dbt_assets_all: list[dg.AssetsDefinition] = []
    daily_by_domain: dict[str, list[dg.AssetKey]] = {}
    upstream_domains: set[str] = set()
    foreign_exposure_inputs: dict = {}
    reconciliation_keys: list[dg.AssetKey] = []
    for domain in domains:
        wiring.validate(colliding_names(domain, settings))  # before dbt parses: a collision explains what else would fail
        stream_checks = [
            check
            for c in domain.connections
            for check in (*build_contract_checks(c, settings.warehouse), *build_stream_checks(c, settings.warehouse))
        ]
        systems = build_source_system_assets(domain, settings)
        materializable_systems |= {k for a in systems if isinstance(a, dg.AssetsDefinition) for k in a.keys}
        assets += [*systems, *build_ingestion_assets(domain.connections, settings.warehouse, domain.name, stream_checks, domain.waivers)]
        reconciled = reconciliation_assets(domain.connections, domain.name)
        assets += reconciled
        reconciliation_keys += [key for a in reconciled for key in a.keys]
        jobs += ingestion_jobs(domain.connections, materializable_systems)
        schedules += ingestion_schedules(domain.connections, settings)
        stream_keys = {stream_key(c, s.name) for c in domain.connections for s in c.streams}
        if domain.dbt_project_dir is not None:
            manifest = prepared_manifest(domain.dbt_project_dir, settings)
            dbt, sources = build_dbt_assets(domain, manifest, settings, gates_of(c.spec for c in stream_checks))
            dbt_assets_all += dbt
            assets += [*dbt, *build_exposure_specs(manifest, dbt, domain.name, sources.keys_by_id)]
            published = sources.publishers
            upstream_domains |= set(published.values()) - {domain.name}
            foreign_exposure_inputs.update(exposures_by_foreign_input(manifest, sources))
            problems += wiring.unknown_publishers(domain.name, {sources.selectors[k]: p for k, p in published.items()}, known_domains)
            problems += unpublished_reads(domain, published, sources.selectors, settings)
            foreign |= {key for key, publisher in published.items() if publisher not in loaded}  # another code location provides it
            problems += wiring.unlinked_dbt_sources(
                {k: s for k, s in sources.selectors.items() if k not in published}, stream_keys, domain.name
            )
            problems += wiring.tests_no_step_runs(manifest, dbt)
            daily = [spec.key for d in dbt for spec in d.specs if spec.partitions_def is not None]
            if daily:
                daily_by_domain[domain.name] = daily
                checks += partition_freshness_checks(domain.name, daily, daily_partitions(settings, domain.partitions_start))
                jobs.append(daily_partitions_job(domain.name, daily))
                schedules += [
                    daily_partition_schedule(settings, domain.name, domain.schedules["daily_partitions"]),
                    late_events_rerun_schedule(
                        settings, domain.name, domain.schedules["late_events_rerun"], daily_partitions(settings, domain.partitions_start)
                    ),
                ]
        for reference in domain.consumers:
            assets += list(resolve_callable(domain, reference)(domain, settings))
    assets.append(heartbeat_spec(location))
    problems += wiring.dangling_dependencies(assets, foreign)
    wiring.validate(problems)
    main_job = dg.define_asset_job(
        main_job_name(location),
        # the weekly whole reads of the sources are their own job's, never every run's
        selection=dg.AssetSelection.all() - dg.AssetSelection.groups(RECONCILIATION_GROUP),
        description=_main_job_description(domains, location, upstream_domains),
    )
    sensors = [
        failure_alert_sensor(
            location,
            {d.name: d.slack_channel for d in domains if d.slack_channel},
            lookback=dt.timedelta(hours=settings.alerting.lookback_hours),
        ),
    ]
    if dbt_assets_all:
        sensors.append(automation_sensor(dg.AssetSelection.assets(*dbt_assets_all)))
    if foreign_exposure_inputs:
        sensors.append(exposure_inputs_sensor(foreign_exposure_inputs))
    if location is not None and upstream_domains:
        sensors.append(after_upstream_domains_sensor(location, sorted(upstream_domains)))
    elif location is not None:
        schedules.append(
            end_to_end_schedule(
                location,
                domains[0].schedules["end_to_end"],
                daily_partitions(settings, domains[0].partitions_start),
                running=not settings.is_local,
            )
        )
    if reconciliation_keys:
        jobs.append(reconciliation_job(reconciliation_keys))
        schedules.append(reconciliation_schedule(running=settings.is_local))
    if len(daily_by_domain) > 1:
        jobs.append(every_domains_daily_job([key for keys in daily_by_domain.values() for key in keys]))
    if checks:
        jobs.append(freshness_checks_job(checks))
        sensors.append(freshness_sensor(checks))
    channel = domains[0].slack_channel if len(domains) == 1 else None
    return dg.Definitions(
        assets=assets,
        asset_checks=checks,
        jobs=[main_job, *jobs],
        schedules=schedules,
        sensors=sensors,
        resources=build_resources(settings, channel),
        # locally every warehouse step queues on the single-writer DuckDB pool anyway, and a step
        # process costs an interpreter and a code-location load (5-10 s): run steps in the run's
        # process. In production (Snowflake) steps run in parallel processes, Dagster's default.
        executor=dg.in_process_executor if settings.is_local else None,
    )


def _main_job_description(domains: Sequence[Domain], location: str | None, upstream: set[str]) -> str:
    names = ", ".join(d.name for d in domains) or "none"
    connections = ", ".join(c.name for d in domains for c in d.connections) or "none"
    if location is None:
        where = ""
    elif upstream:
        where = f"It runs by itself after each end-to-end run of {', '.join(sorted(upstream))} (the domains it reads). "
    else:
        where = "Launch the whole platform here: the domains that read this one run after it, for the same days. "
    return where + (
        f"End to end, for the domain(s) {names}: the local stand-ins of their source systems, their Airbyte connections "
        f"({connections}) with every stream check, then every dbt model, test and Python consumer; a failed blocking check "
        "leaves out exactly its descendants (run tag platform/blocked). Another domain's models are read here, never built: "
        "they refresh in their own domain's runs. Daily models need a partition or a range (the partition picker, the schedule, "
        "a backfill); launched without one, the run builds everything else and tags what it left out (platform/needs_partition)."
    )


def domain_location(folder: Path | str) -> dg.Definitions:
    """The code location of the domain in ``folder`` (what its ``definitions.py`` returns)."""
    settings = resolve_settings()
    domain = load_domain(Path(folder), settings)
    return build_definitions(settings, [domain], location=domain.name)


@dg.definitions
def defs() -> dg.Definitions:
    """Every domain in one code location (``dagster dev -m data_platform.definitions``)."""
    return build_definitions()


__all__ = ["MAIN_JOB", "build_definitions", "defs", "domain_location", "main_job_name"]
