"""The platform's own code location, ``platform``: what spans every domain.

Cost per team (``showback/``) and the catalog (``catalog/``) read every domain, so they belong
to none: they are served by this location, listed first in ``workspace.yaml`` and run last by
``data-platform run``. It needs no domain to load (with the example deleted it still serves the
showback of whatever ran); at run time it builds each domain's definitions to learn owners,
descriptions and lineage, and a domain that fails to load is named and skipped.
"""

from __future__ import annotations

import logging

import dagster as dg

from data_platform.settings import Settings, resolve_settings

LOCATION = "platform"
MAIN_JOB = f"{LOCATION}_end_to_end"
logger = logging.getLogger(__name__)


_BUILT: dict[tuple, dict[str, dg.Definitions]] = {}
_SKIPPED: dict[tuple, list[str]] = {}


def domain_definitions(settings: Settings) -> dict[str, dg.Definitions]:
    """Each domain's code location, as its ``definitions.py`` builds it (once per process and
    settings); a broken one is logged and left out."""
    cache_key = _cache_key(settings)
    if cache_key not in _BUILT:
        _SKIPPED[cache_key] = []
        _BUILT[cache_key] = _domain_definitions(settings, _SKIPPED[cache_key])
    return _BUILT[cache_key]


def skipped_domains(settings: Settings) -> list[str]:
    """Domains left out of the platform's view, each with the first line of its error."""
    domain_definitions(settings)
    return _SKIPPED[_cache_key(settings)]


def _cache_key(settings: Settings) -> tuple:
    return (settings.environment, settings.data_dir, settings.domains_dir, settings.dbt_dir)


def _domain_definitions(settings: Settings, skipped: list[str]) -> dict[str, dg.Definitions]:
    from data_platform.definitions import build_definitions
    from data_platform.domains import DomainError, domain_folders, load_domain

    built = {}
    for folder in domain_folders(settings):
        try:
            built[folder.name] = build_definitions(settings, [load_domain(folder, settings)], location=folder.name)
        except (DomainError, dg.DagsterError, ValueError) as error:
            first_line = (str(error).splitlines() or [type(error).__name__])[0][:300]
            logger.warning("domain %s left out of the platform's view: %s", folder.name, first_line)
            skipped.append(f"{folder.name}: {first_line}")
    return built


def teams_by_key(settings: Settings) -> dict[dg.AssetKey, str]:
    """The team each asset (of any domain) is billed to."""
    from data_platform.showback.measured import team_of_owners

    teams: dict[dg.AssetKey, str] = {}
    for spec, domain in owned_specs(settings):
        teams[spec.key] = team_of_owners(spec.owners, spec.tags.get("domain") or domain)
    return teams


def owned_specs(settings: Settings) -> list[tuple[dg.AssetSpec, str]]:
    """Every asset once, as the domain that defines it declares it (an asset another domain only
    reads appears there as an external stub without its owners: the producer's spec wins)."""
    chosen: dict[dg.AssetKey, tuple[bool, dg.AssetSpec, str]] = {}
    for name, defs in domain_definitions(settings).items():
        graph = defs.resolve_asset_graph()
        for spec in defs.resolve_all_asset_specs():
            producing = graph.get(spec.key).is_materializable or graph.get(spec.key).is_observable or bool(spec.owners)
            if spec.key not in chosen or (producing and not chosen[spec.key][0]):
                chosen[spec.key] = (producing, spec, name)
    return [(spec, name) for _, spec, name in chosen.values()]


def team_of(settings: Settings):
    from data_platform.showback.measured import team_of_owners
    from data_platform.showback.table import UNATTRIBUTED

    teams = teams_by_key(settings)
    own = team_of_owners(["team:data-platform"], None)
    return lambda key: teams.get(key) or (own if key.path[:1] in (["platform"], ["catalog"]) else UNATTRIBUTED)


def build_platform_definitions(settings: Settings | None = None) -> dg.Definitions:
    from data_platform.catalog.assets import JOB as CATALOG_JOB
    from data_platform.catalog.assets import catalog_definitions
    from data_platform.resources import build_resources
    from data_platform.showback.assets import JOB as SHOWBACK_JOB
    from data_platform.showback.assets import showback_assets

    settings = settings or resolve_settings()
    showback, showback_job, showback_schedule = showback_assets(settings, team_of=lambda: team_of(settings))
    catalog, catalog_job, catalog_sensor = catalog_definitions(settings, frozenset({MAIN_JOB, SHOWBACK_JOB, CATALOG_JOB}))
    main = dg.define_asset_job(MAIN_JOB, selection=dg.AssetSelection.all(), description="Cost per team, then the catalog.")
    resources = build_resources(settings)
    return dg.Definitions(
        assets=[showback, catalog],
        jobs=[main, showback_job, catalog_job],
        schedules=[showback_schedule],
        sensors=[catalog_sensor],
        resources={"warehouse": resources["warehouse"], "alerts": resources["alerts"]},
    )


@dg.definitions
def defs() -> dg.Definitions:
    return build_platform_definitions()
