"""How dbt nodes become Dagster assets: keys mirror the warehouse location, one group per layer."""

from __future__ import annotations

import datetime as dt
import os
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtProject

from data_platform.settings import REPO_ROOT

LAYERS = ("staging", "trusted", "marts", "presentation")
"""dbt layers, each a schema and a Dagster group (the first element of a model's asset key)."""
MART_FRESHNESS = dg.FreshnessPolicy.time_window(fail_window=dt.timedelta(hours=26), warn_window=dt.timedelta(hours=25))
"""Unpartitioned marts and presentation datasets: rebuilt at least daily."""
DAILY_TAG = "daily"
"""dbt models tagged so are partitioned by day (incremental facts and day-grained marts)."""
EAGER = dg.AutomationCondition.eager()
PAST_DAYS_OF_DAILY_PARENTS = (
    dg.AutomationCondition.any_deps_updated().allow(dg.AssetSelection.tag(DAILY_TAG, "")).since_last_handled()
    & ~dg.AutomationCondition.any_deps_missing()
    & ~dg.AutomationCondition.any_deps_in_progress()
    & ~dg.AutomationCondition.in_progress()
).with_label("a daily parent's same day updated")
DAILY_EAGER = (EAGER | PAST_DAYS_OF_DAILY_PARENTS).with_label("eager, and any day a daily parent re-materialized")
"""A daily model: Dagster's ``eager()`` (which looks at the latest day only), and any past day
whose same day of a daily parent was re-materialized (a backfill, the rolling late-events run),
in any domain. Updates of unpartitioned parents (a staging view) request the latest day only,
never the whole history."""


class PlatformDbtTranslator(DagsterDbtTranslator):
    """dagster-dbt's defaults plus: an eager automation condition (a model refreshes when its
    parents update), the layer as group and tag (a model-level ``meta.dagster``
    replaces the folder's, so the group cannot come from meta), the domain as tag, and model owners
    defaulting to the domain's. Keys are ``[schema, model]`` (each layer is a schema), and
    sources take their Airbyte stream's key from ``meta.dagster.asset_key``."""

    def __init__(
        self,
        project: DbtProject | None,
        domain: str,
        owners: tuple[str, ...] = (),
        daily_partitions: dg.PartitionsDefinition | None = None,
        code_url: str | None = None,
    ):
        super().__init__(
            settings=DagsterDbtTranslatorSettings(
                enable_asset_checks=True,
                # attached by the metadata hook instead (dagster-dbt's resolves each path on disk
                # and rebuilds the spec once more: a third of a 2,500-model project's load)
                enable_code_references=False,
                # dbt source tests stay observations: as checks on the Airbyte assets they would
                # excuse dbt from the Airbyte assets' own blocking checks (see library notes).
                enable_source_tests_as_checks=False,
            )
        )
        self.project = project
        """The domain's dbt project: code references point into it."""
        self.domain = domain
        self.owners = list(owners)
        self.daily_partitions = daily_partitions
        """The partitions of the models tagged ``daily``; the others are unpartitioned."""
        self.code_url = code_url
        """The repository on its web host (``Settings.code_url``): code references open there."""
        self._specs: dict[tuple[int, str], dg.AssetSpec] = {}

    def get_description(self, dbt_resource_props: Mapping[str, Any]) -> str:
        """The node's dbt description, never its SQL (dagster-dbt pastes the raw SQL when the
        description is empty, and appends it otherwise): the SQL is one click away in the code
        reference, and a page a person reads should say what the table is."""
        description = (dbt_resource_props.get("description") or "").strip()
        if description:
            return description
        path = dbt_resource_props.get("original_file_path") or dbt_resource_props.get("name")
        return f"No description yet: document it in the YAML beside {path}."

    # The hooks below are what dagster-dbt's get_asset_spec asks while it builds each spec, so a
    # model's spec is built once with the platform's attributes (replacing attributes afterwards
    # builds a second AssetSpec per model: a tenth of a 2,500-model project's load).

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if not _is_model(dbt_resource_props):
            return super().get_group_name(dbt_resource_props)
        return _layer(dbt_resource_props)

    def get_owners(self, dbt_resource_props: Mapping[str, Any]) -> Sequence[str] | None:
        owners = super().get_owners(dbt_resource_props)
        return owners or (self.owners if _is_model(dbt_resource_props) else owners)

    def get_tags(self, dbt_resource_props: Mapping[str, Any]) -> Mapping[str, str]:
        tags = super().get_tags(dbt_resource_props)
        if not _is_model(dbt_resource_props):
            return tags
        return {**tags, "layer": _layer(dbt_resource_props), "domain": self.domain}

    def get_automation_condition(self, dbt_resource_props: Mapping[str, Any]) -> dg.AutomationCondition | None:
        if not _is_model(dbt_resource_props):
            return super().get_automation_condition(dbt_resource_props)
        return DAILY_EAGER if _is_daily(dbt_resource_props) else EAGER

    def get_partitions_def(self, dbt_resource_props: Mapping[str, Any]) -> dg.PartitionsDefinition | None:
        if _is_model(dbt_resource_props) and _is_daily(dbt_resource_props):
            return self.daily_partitions
        return super().get_partitions_def(dbt_resource_props)

    def get_metadata(self, dbt_resource_props: Mapping[str, Any]) -> Mapping[str, Any]:
        metadata = {**super().get_metadata(dbt_resource_props), **_code_reference(dbt_resource_props, self.project, self.code_url)}
        if _is_model(dbt_resource_props):
            metadata["dbt/materialization"] = dbt_resource_props.get("config", {}).get("materialized")
        return metadata

    def get_asset_spec(self, manifest: Mapping[str, Any], unique_id: str, project: DbtProject | None) -> dg.AssetSpec:
        """dagster-dbt's spec (memoised there), plus the freshness policy of the unpartitioned
        marts and presentation datasets (no hook sets it; daily models are judged per partition)."""
        memo = (id(manifest), unique_id)
        if memo not in self._specs:
            spec = super().get_asset_spec(manifest, unique_id, project)
            props = self.get_resource_props(manifest, unique_id)
            if _is_model(props) and _layer(props) in ("marts", "presentation") and not _is_daily(props):
                spec = spec.replace_attributes(freshness_policy=MART_FRESHNESS)
            self._specs[memo] = spec
        return self._specs[memo]


def _is_model(props: Mapping[str, Any]) -> bool:
    return props.get("resource_type") == "model"


def _layer(props: Mapping[str, Any]) -> str:
    return props.get("config", {}).get("schema") or "main"


def _is_daily(props: Mapping[str, Any]) -> bool:
    return DAILY_TAG in (props.get("tags") or [])


def _code_reference(props: Mapping[str, Any], project: DbtProject | None, code_url: str | None = None) -> dict[str, Any]:
    """The node's file as a code reference, without touching the disk: on the repository's web
    host when ``code_url`` is set and the file is in this repository, else the local file."""
    if project is None or not props.get("original_file_path"):
        return {}
    path = os.path.join(project.project_dir, props["original_file_path"])
    with warnings.catch_warnings():  # the classes are marked beta: one warning per load says nothing to an operator
        warnings.simplefilter("ignore", dg.BetaWarning)
        reference: Any = dg.LocalFileCodeReference(file_path=path)
        if code_url:
            relative = os.path.relpath(path, REPO_ROOT)
            if not relative.startswith(".."):
                reference = dg.UrlCodeReference(url=f"{code_url}/{relative}", label=relative)
        return {"dagster/code_references": dg.CodeReferencesMetadataValue(code_references=[reference])}
