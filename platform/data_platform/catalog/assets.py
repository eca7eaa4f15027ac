"""The catalog as an asset (``platform/catalog``): rebuilt after the showback in every platform
run, and after any domain's run succeeds (a run-status sensor watching every code location),
so the site follows the models, their checks and their cost."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dagster as dg

from data_platform.settings import Settings
from data_platform.showback.assets import KEY as SHOWBACK_KEY
from data_platform.showback.assets import OWNER
from data_platform.warehouse.profile import WAREHOUSE_POOL

KEY = dg.AssetKey(["platform", "catalog"])
JOB = "catalog_job"


def build_catalog(settings: Settings, instance: dg.DagsterInstance | None, warehouse: Any, out: Path | None = None) -> tuple[Path, Any]:
    """Collect and write the site; returns its ``index.html`` and what was collected."""
    from data_platform.catalog.collect import collect, site_path
    from data_platform.catalog.site import write_site

    catalog = collect(settings, instance, warehouse)
    return write_site(catalog, out or site_path(settings)), catalog


def catalog_definitions(settings: Settings, own_jobs: frozenset[str]) -> tuple[dg.AssetsDefinition, Any, dg.SensorDefinition]:
    @dg.asset(
        key=KEY,
        deps=[SHOWBACK_KEY],
        group_name="catalog",
        owners=[OWNER],
        kinds={"html"},
        required_resource_keys={"warehouse"},
        pool=WAREHOUSE_POOL,  # it reads the cost table: locally DuckDB has one writer at a time
        description=(
            "The data catalog as a static site (open index.html, no server): every data product with owners, columns "
            "and PII classification, contract and SLA, lineage picture, freshness, checks and blocks, its team's cost; "
            "the KPI glossary with the SQL computing each metric. Also `data-platform catalog`."
        ),
    )
    def catalog(context):
        index, collected = build_catalog(settings, context.instance, context.resources.warehouse)
        exported = {}
        if settings.openlineage:
            from data_platform.catalog.openlineage_export import emit

            exported = {"openlineage_events": emit(collected)}
        return dg.MaterializeResult(
            metadata={
                "index": dg.MetadataValue.path(str(index)),
                "data_products": len(collected.products),
                "kpis": len(collected.glossary),
                "teams_with_cost": len({team for _, team, _, _ in collected.cost}),
                "domains_left_out": dg.MetadataValue.json(collected.skipped),
                **exported,
            }
        )

    job = dg.define_asset_job(JOB, selection=dg.AssetSelection.assets(KEY), description="Rebuild the catalog site.")

    @dg.run_status_sensor(
        name="catalog_after_domain_runs",
        run_status=dg.DagsterRunStatus.SUCCESS,
        monitor_all_code_locations=True,
        request_job=job,
        default_status=dg.DefaultSensorStatus.RUNNING,
        minimum_interval_seconds=60,
        description="Rebuild the catalog after any domain's run succeeds (models, checks or freshness changed).",
    )
    def catalog_after_domain_runs(context: dg.RunStatusSensorContext):
        if context.dagster_run.job_name in own_jobs:
            return dg.SkipReason(f"{context.dagster_run.job_name} is the platform's own run")
        return dg.RunRequest(run_key=f"catalog-after-{context.dagster_run.run_id}")

    return catalog, job, catalog_after_domain_runs
