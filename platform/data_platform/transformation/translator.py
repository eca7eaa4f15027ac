"""How dbt nodes become Dagster assets: keys mirror the warehouse location, one group per layer."""

from __future__ import annotations

import datetime as dt
import os
import warnings
from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtProject

from data_platform.settings import REPO_ROOT

LAYERS = ("staging", "trusted", "marts", "presentation")
"""dbt layers, each a schema and a Dagster group (the first element of a model's asset key)."""
MART_FRESHNESS = dg.FreshnessPolicy.time_window(fail_window=dt.timedelta(hours=26), warn_window=dt.timedelta(hours=25))
"""Unpartitioned marts and presentation datasets: rebuilt at least daily."""
EAGER = dg.AutomationCondition.eager()
DAILY_TAG = "daily"
"""dbt models tagged so are partitioned by day (incremental facts and day-grained marts)."""


class PlatformDbtTranslator(DagsterDbtTranslator):
    """dagster-dbt's defaults plus: an eager automation condition (a model refreshes when its
    parents update), the layer as group and tag (a model-level ``meta.dagster``
    replaces the folder's, so the group cannot come from meta), the domain as tag, and model owners
    defaulting to the domain's. Keys are ``[schema, model]`` (each layer is a schema), and
    sources take their Airbyte stream's key from ``meta.dagster.asset_key``."""

    def __init__(
        self,
        warehouse_kind: str,
        domain: str,
        owners: tuple[str, ...] = (),
        daily_partitions: dg.PartitionsDefinition | None = None,
        code_url: str | None = None,
    ):
        super().__init__(
            settings=DagsterDbtTranslatorSettings(
                enable_asset_checks=True,
                # attached by ``_spec`` instead, in the same replacement as the rest (dagster-dbt's
                # resolves each path on disk and rebuilds the spec once more: a third of a
                # 2,500-model project's load)
                enable_code_references=False,
                # dbt source tests stay observations: as checks on the Airbyte assets they would
                # excuse dbt from the Airbyte assets' own blocking checks (see library notes).
                enable_source_tests_as_checks=False,
            )
        )
        self.warehouse_kind = warehouse_kind
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

    def get_asset_spec(self, manifest: Mapping[str, Any], unique_id: str, project: DbtProject | None) -> dg.AssetSpec:
        """Memoised per node: dagster-dbt asks for the same node's spec many times while building."""
        memo = (id(manifest), unique_id)
        if memo not in self._specs:
            self._specs[memo] = self._spec(manifest, unique_id, project)
        return self._specs[memo]

    def _spec(self, manifest: Mapping[str, Any], unique_id: str, project: DbtProject | None) -> dg.AssetSpec:
        spec = super().get_asset_spec(manifest, unique_id, project)
        props = self.get_resource_props(manifest, unique_id)
        code = _code_reference(props, project, self.code_url)
        if props.get("resource_type") != "model":
            return spec.merge_attributes(metadata=code) if code else spec
        layer = props.get("config", {}).get("schema") or "main"
        daily = DAILY_TAG in (props.get("tags") or [])
        freshness = {"freshness_policy": MART_FRESHNESS} if layer in ("marts", "presentation") and not daily else {}
        partitions = {"partitions_def": self.daily_partitions} if daily and self.daily_partitions is not None else {}
        # one replacement (each builds a new AssetSpec, and a large project has thousands)
        return spec.replace_attributes(
            automation_condition=EAGER,
            group_name=layer,
            owners=spec.owners or self.owners,
            tags={**spec.tags, "layer": layer, "domain": self.domain},
            kinds={"dbt", self.warehouse_kind},
            metadata={**spec.metadata, **code, "dbt/materialization": props.get("config", {}).get("materialized")},
            **freshness,  # daily models are judged per partition instead
            **partitions,
        )


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
