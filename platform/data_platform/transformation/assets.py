"""dbt models as one Dagster multi-asset, dbt tests as asset checks, exposures as downstream assets."""

import json
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DbtCliResource, dbt_assets

from data_platform.environment import Settings
from data_platform.ingestion.assets import WAREHOUSE_POOL
from data_platform.transformation.project import dbt_project, dbt_target
from data_platform.transformation.translator import PlatformDbtTranslator

EXPOSURE_KINDS = {"dashboard": "metabase", "application": "googlesheets", "ml": "sagemaker", "analysis": "notebook"}


class DbtBuildConfig(dg.Config):
    """Run configuration of the dbt step."""

    full_refresh: bool = False
    """Rebuild incremental models from scratch (dbt --full-refresh)."""
    min_date: str = ""
    """Only process this date window of incremental models: first day (YYYY-MM-DD)..."""
    max_date: str = ""
    """...and the day after the last one. Empty: changes since the last run (with a lookback)."""


def build_dbt_assets(manifest: Path, settings: Settings) -> dg.AssetsDefinition:
    translator = PlatformDbtTranslator(settings.warehouse_kind)

    @dbt_assets(
        manifest=manifest,
        project=dbt_project(dbt_target(settings)),
        dagster_dbt_translator=translator,
        name="marketplace_dbt",
        pool=WAREHOUSE_POOL,
    )
    def marketplace_dbt(context: dg.AssetExecutionContext, dbt: DbtCliResource, config: DbtBuildConfig):
        dbt_vars: dict[str, Any] = {}
        if config.min_date and config.max_date:
            dbt_vars = {"min_date": config.min_date, "max_date": config.max_date}
        args = ["build"]
        if dbt_vars:
            args += ["--vars", json.dumps(dbt_vars)]
        if config.full_refresh:
            args.append("--full-refresh")
        yield from dbt.cli(args, context=context).stream()

    return marketplace_dbt


def build_exposure_specs(manifest: Path, dbt_assets_def: dg.AssetsDefinition, settings: Settings) -> list[dg.AssetSpec]:
    """dbt exposures (dashboards, sheets, ML features) as assets downstream of the models they read."""
    document = json.loads(manifest.read_text())
    key_by_node = {spec.metadata.get("dagster_dbt/unique_id"): spec.key for spec in dbt_assets_def.specs}
    specs = []
    for unique_id, exposure in sorted(document.get("exposures", {}).items()):
        deps = [key_by_node[node] for node in exposure["depends_on"]["nodes"]]
        owner = exposure.get("owner") or {}
        specs.append(
            dg.AssetSpec(
                key=dg.AssetKey(["exposures", exposure["name"]]),
                description=f"{exposure.get('label') or exposure['name']}: {exposure.get('description', '').strip()}",
                deps=deps,
                kinds={EXPOSURE_KINDS.get(exposure["type"], exposure["type"])},
                owners=[owner["email"]] if owner.get("email") else [],
                group_name="exposures",
                metadata={
                    k: v
                    for k, v in {
                        "url": dg.MetadataValue.url(exposure["url"]) if exposure.get("url") else None,
                        "exposure_type": exposure["type"],
                        "maturity": exposure.get("maturity"),
                        "dbt/unique_id": unique_id,
                    }.items()
                    if v is not None
                },
            )
        )
    return specs
