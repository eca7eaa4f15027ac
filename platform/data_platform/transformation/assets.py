"""A domain's dbt models as Dagster multi-assets, dbt tests as asset checks, exposures as downstream assets.

Each domain's dbt steps build only that domain's project, so one domain's failure never stops another's."""

import dataclasses
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import dbt_assets

from data_platform.quality.blast_radius import (
    blocked_descendants,
    blocked_upstream,
    descendants,
    failed_blocking_checks,
    full_graph,
    observation,
)
from data_platform.settings import Settings
from data_platform.transformation.dbt_cli import partition_window_environment
from data_platform.transformation.partitions import daily_partitions, refuse_reversed_range
from data_platform.transformation.project import dbt_cli, dbt_project, manifest_document, prune_invocation_targets, share_partial_parse
from data_platform.transformation.translator import DAILY_TAG, PlatformDbtTranslator

EXPOSURE_KINDS = {"dashboard": "metabase", "application": "googlesheets", "ml": "sagemaker", "analysis": "notebook"}


class DbtBuildConfig(dg.Config):
    """Run configuration of the dbt steps."""

    full_refresh: bool = False
    """Rebuild incremental models from scratch (dbt --full-refresh). On the partitioned step
    this rebuilds every day, not only the selected partitions."""


def dbt_build_args(config: DbtBuildConfig, excludes: list[str] | None = None) -> list[str]:
    args = ["build"]
    if config.full_refresh:
        args.append("--full-refresh")
    if excludes:
        args += ["--exclude", " ".join(excludes)]
    return args


@dataclasses.dataclass(frozen=True)
class DbtSources:
    """A domain's dbt sources, read from its manifest in one pass."""

    selectors: dict[dg.AssetKey, str]
    """Asset key (its Airbyte stream's, or another domain's model's) -> dbt's selector, ``source:<source>.<table>``."""
    keys_by_id: dict[str, dg.AssetKey]
    """dbt unique id -> asset key (exposures may read sources)."""
    publishers: dict[dg.AssetKey, str]
    """Keys of the sources another domain publishes (``meta.domain``) -> that domain."""


def dbt_sources(manifest: Path, translator: PlatformDbtTranslator, project) -> DbtSources:
    document = manifest_document(manifest)
    selectors, keys_by_id, publishers = {}, {}, {}
    for unique_id, source in document.get("sources", {}).items():
        key = translator.get_asset_spec(document, unique_id, project).key
        selectors[key] = f"source:{source['source_name']}.{source['name']}"
        keys_by_id[unique_id] = key
        if domain := (source.get("config", {}).get("meta") or source.get("meta") or {}).get("domain"):
            publishers[key] = domain
    return DbtSources(selectors, keys_by_id, publishers)


BLOCKED_TAG = "platform/blocked"
"""Run tag: how many selected assets the run left out because a blocking check upstream failed."""
NEEDS_PARTITION_TAG = "platform/needs_partition"
"""Run tag: how many selected daily models (and their descendants) a run without a partition left out."""


def leave_out_blocked(
    context: dg.AssetExecutionContext,
    sources: dict[dg.AssetKey, str],
    gates: Mapping[dg.AssetKey, Sequence[dg.AssetCheckKey]],
    foreign: Sequence[dg.AssetKey] = (),
    waivers: Sequence = (),
) -> tuple[list[str], list[dg.AssetObservation]]:
    """dbt ``--exclude`` arguments for the descendants of sources whose blocking checks failed,
    or of another domain's models left out of their own last run by such a block (``foreign``),
    and an observation for each selected asset left out (see ``quality/blast_radius.py``)."""
    blocks = failed_blocking_checks(context.instance, {k: v for k, v in gates.items() if k in sources}, waivers)
    blocks.update(blocked_upstream(context.instance, [k for k in foreign if k in sources and k not in blocks]))
    if not blocks:
        return [], []
    graph = full_graph(context.job_def)
    stopped = blocked_descendants(graph, blocks)
    selected = context.selected_asset_keys
    mine = {k for k in selected if k in stopped}
    # a Python consumer downstream is reported once, by the step holding its first parent
    in_run = context.run.asset_selection
    consumers = {
        k
        for k in stopped
        if (in_run is None or k in in_run)
        and "dbt" not in (graph.get(k).kinds or ())  # each dbt step reports its own models
        and graph.get(k).is_materializable
        and not graph.get(k).is_external
        and min(graph.get(k).parent_keys, key=lambda p: p.to_user_string()) in selected
    }
    for key, key_blocks in sorted(blocks.items(), key=lambda kv: kv[0].to_user_string()):
        context.log.warning(
            f"{key.to_user_string()} is blocked by {', '.join(b.label for b in key_blocks)}: its descendants are left out of this "
            f"step ({len(mine)} selected here); every other model is built"
        )
    left_out = sorted(mine | consumers, key=lambda k: k.to_user_string())
    count_in_run_tag(context, BLOCKED_TAG, len(left_out))
    excludes = [f"{sources[key]}+" for key in sorted(blocks, key=lambda k: k.to_user_string())]
    return excludes, [observation(k, stopped[k], context.run_id) for k in left_out]


def leave_out_daily_without_partition(context: dg.AssetExecutionContext) -> tuple[list[str], list[dg.AssetObservation]]:
    """A run with no partition (a job launched with its defaults, ``dagster job execute``) cannot
    record a daily model's materialization: Dagster needs the day. Such a run builds everything
    else; the daily models and their descendants are left out, each with an observation saying
    how to build them, and the run is tagged with their number."""
    if context.has_partition_key or context.has_partition_key_range:
        return [], []
    specs = context.assets_def.specs_by_key
    daily = {k for k in context.selected_asset_keys if specs[k].partitions_def is not None}
    if not daily:
        return [], []
    graph = full_graph(context.job_def)
    left_out = sorted((daily | descendants(graph, daily)) & set(context.selected_asset_keys), key=lambda k: k.to_user_string())
    context.log.warning(
        f"this run has no partition: its {len(daily)} daily model(s) and their descendants ({len(left_out)} in all) are left out; "
        "build them with a partition or a range (the launchpad's partition picker, the daily schedule, a backfill, "
        "`dagster asset materialize --partition-range`, or `data-platform run`)"
    )
    count_in_run_tag(context, NEEDS_PARTITION_TAG, len(left_out))
    return [f"tag:{DAILY_TAG}+"], [
        dg.AssetObservation(
            asset_key=key,
            description=f"not materialized in run {context.run_id}: the run had no partition, and this is a daily model or reads one",
            metadata={"platform/not_materialized_in_run": context.run_id, NEEDS_PARTITION_TAG: True},
        )
        for key in left_out
    ]


def count_in_run_tag(context: dg.AssetExecutionContext, tag: str, count: int) -> None:
    """Add ``count`` to the run's ``tag``, so the runs list shows what a run left out."""
    if not count:
        return
    run = context.instance.get_run_by_id(context.run_id)
    before = int((run.tags if run else {}).get(tag) or 0)
    context.instance.add_run_tags(context.run_id, {tag: str(before + count)})


UNIT_TEST_TEAMS = "DBT_PLATFORM_UNIT_TEST_TEAMS"
"""Each unit test's team, model and layer for its Snowflake query tag (``dbt/macros/query_tag.sql``):
a unit test's dbt context has no graph to read its model's owners from."""


def unit_tests_billed_to(document: Mapping[str, Any], translator: PlatformDbtTranslator, project) -> dict[str, dict[str, str]]:
    """unit test id and name -> the team owning the model it tests (as Dagster shows its owners), the model, its layer."""
    from data_platform.showback.measured import team_of_owners

    billed: dict[str, dict[str, str]] = {}
    for unique_id, unit_test in (document.get("unit_tests") or {}).items():
        models = [n for n in (unit_test.get("depends_on") or {}).get("nodes") or [] if n in document.get("nodes", {})]
        if not models:
            continue
        node = document["nodes"][models[0]]
        spec = translator.get_asset_spec(document, models[0], project)
        entry = {"team": team_of_owners(spec.owners, translator.domain), "model": node["name"], "layer": node["config"].get("schema") or ""}
        billed[unique_id] = billed[unit_test["name"]] = entry
    return billed


def build_dbt_assets(
    domain, manifest: Path, settings: Settings, gates: Mapping[dg.AssetKey, Sequence[dg.AssetCheckKey]] | None = None
) -> tuple[list[dg.AssetsDefinition], DbtSources]:
    """One multi-asset over the domain's dbt project, and its sources. The models tagged ``daily``
    are partitioned by day, the others not; a run builds whatever it selects of both in one
    ``dbt build`` (dbt orders them), with the run's partition window as dbt vars when it selects a
    daily model. ``gates``: the blocking checks of the dbt sources' assets, whose failures leave out
    their descendants."""
    gates = gates or {}
    warehouse = settings.warehouse
    project = dbt_project(domain.dbt_project_dir, warehouse.dbt_target)
    translator = PlatformDbtTranslator(
        project, domain.name, domain.owners, daily_partitions(settings, domain.partitions_start), settings.code_url
    )
    dbt = dbt_cli(project, settings)
    sources = dbt_sources(manifest, translator, project)
    document = manifest_document(manifest)
    if not any(n.get("resource_type") in ("model", "seed", "snapshot") for n in document.get("nodes", {}).values()):
        return [], sources

    readers = exposures_by_input(document, translator, project)
    unit_test_teams = {UNIT_TEST_TEAMS: json.dumps(unit_tests_billed_to(document, translator, project), sort_keys=True)}

    @dbt_assets(
        manifest=document,
        project=project,
        dagster_dbt_translator=translator,
        name=f"{domain.name}_dbt_models",
        backfill_policy=dg.BackfillPolicy.single_run(),
        pool=warehouse.pool,
    )
    def models(context: dg.AssetExecutionContext, config: DbtBuildConfig):
        refuse_reversed_range(context.run.tags)
        warehouse.ensure_local_folder()
        window = None if config.full_refresh else partition_window(context)
        if window:
            context.log.info(f"dbt build for {window[0]} <= day < {window[1]}")
        excludes, blocked = leave_out_blocked(context, sources.selectors, gates, list(sources.publishers), domain.waivers)
        unpartitioned, needs_partition = leave_out_daily_without_partition(context)
        yield from blocked
        yield from needs_partition
        excludes += unpartitioned
        invocation = dbt.cli(
            dbt_build_args(config, excludes),
            environment={**unit_test_teams, **(partition_window_environment(*window) if window else {})},
            context=context,
        )
        built: set[dg.AssetKey] = set()
        for event in invocation.stream():
            if isinstance(event, dg.Output):
                built.add(context.asset_key_for_output(event.output_name))
            elif isinstance(event, dg.AssetMaterialization):
                built.add(event.asset_key)
            yield event
        yield from exposure_observations(readers, built, context.run_id)
        share_partial_parse(domain.dbt_project_dir, invocation.target_path)
        prune_invocation_targets(domain.dbt_project_dir, context.op_execution_context.op.name)

    return [models], sources


def partition_window(context: dg.AssetExecutionContext) -> tuple[str, str] | None:
    """The run's partition window ``[start, end)`` as ISO dates (one day or a range), when the
    step builds a daily model in a partitioned run; else None."""
    specs = context.assets_def.specs_by_key
    partitioned_run = context.has_partition_key or context.has_partition_key_range
    if not partitioned_run or not any(specs[k].partitions_def is not None for k in context.selected_asset_keys):
        return None
    window = context.partition_time_window
    return window.start.strftime("%Y-%m-%d"), window.end.strftime("%Y-%m-%d")


@dataclasses.dataclass(frozen=True)
class ExposureReader:
    key: dg.AssetKey
    url: str | None


def exposure_key(exposure: Mapping) -> dg.AssetKey:
    return dg.AssetKey(["exposures", exposure["name"]])


def exposures_by_input(document: Mapping, translator: PlatformDbtTranslator, project) -> dict[dg.AssetKey, list[ExposureReader]]:
    """Model asset key -> the exposures (dashboards, sheets, ML features) that read it."""
    readers: dict[dg.AssetKey, list[ExposureReader]] = {}
    nodes = document.get("nodes", {})
    for exposure in document.get("exposures", {}).values():
        for node in exposure["depends_on"]["nodes"]:
            if node in nodes and nodes[node].get("resource_type") == "model":
                key = translator.get_asset_spec(document, node, project).key
                readers.setdefault(key, []).append(ExposureReader(exposure_key(exposure), exposure.get("url")))
    return readers


def exposures_by_foreign_input(manifest: Path, sources: DbtSources) -> dict[dg.AssetKey, list[ExposureReader]]:
    """Another domain's model (read as a dbt source) -> the exposures of this domain that read it:
    its refreshes happen in the other domain's runs, so a sensor here records them."""
    document = manifest_document(manifest)
    readers: dict[dg.AssetKey, list[ExposureReader]] = {}
    for exposure in document.get("exposures", {}).values():
        for node in exposure["depends_on"]["nodes"]:
            key = sources.keys_by_id.get(node)
            if key is not None and key in sources.publishers:
                readers.setdefault(key, []).append(ExposureReader(exposure_key(exposure), exposure.get("url")))
    return readers


def exposure_inputs_sensor(readers: Mapping[dg.AssetKey, list[ExposureReader]]) -> dg.SensorDefinition:
    """Records on each exposure when an input another domain builds was refreshed (the exposure's
    own domain's inputs are recorded by its dbt step, in the run that refreshed them). Its first
    tick records each input's latest refresh, naming the run that made it: the exposure's status
    from then on."""
    inputs = sorted(readers, key=lambda k: k.to_user_string())

    @dg.sensor(
        name="exposure_inputs_sensor",
        minimum_interval_seconds=60,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Records on each dashboard, sheet or ML exposure when an input built by another domain was refreshed: "
        + ", ".join(k.to_user_string() for k in inputs),
    )
    def _sensor(context: dg.SensorEvaluationContext):
        seen = json.loads(context.cursor) if context.cursor else {}
        refreshed: dict[dg.AssetKey, tuple[int, str]] = {}
        for key in inputs:
            records = context.instance.fetch_materializations(key, limit=1).records
            if records and records[0].storage_id > seen.get(key.to_user_string(), -1):
                refreshed[key] = (records[0].storage_id, records[0].run_id)
        events = []
        for run_id in sorted({run for _, run in refreshed.values()}):
            built = {k for k, (_, run) in refreshed.items() if run == run_id}
            events += exposure_observations({k: readers[k] for k in built}, built, run_id)
        seen.update({k.to_user_string(): storage for k, (storage, _) in refreshed.items()})
        return dg.SensorResult(asset_events=events, cursor=json.dumps(seen))

    return _sensor


def exposure_observations(
    readers: Mapping[dg.AssetKey, list[ExposureReader]], built: set[dg.AssetKey], run_id: str
) -> list[dg.AssetObservation]:
    """An observation on each exposure an input of which this step refreshed: its status in the UI
    is when its data last changed (no dashboard API is asked whether the dashboard itself refreshed)."""
    inputs: dict[ExposureReader, list[str]] = {}
    for key in sorted(built & set(readers), key=lambda k: k.to_user_string()):
        for reader in readers[key]:
            inputs.setdefault(reader, []).append(key.to_user_string())
    return [
        dg.AssetObservation(
            asset_key=reader.key,
            description=f"its input(s) {', '.join(keys)} were refreshed in run {run_id}; it reads them at its next load",
            metadata={
                "platform/inputs_refreshed": dg.MetadataValue.json(keys),
                **({"url": dg.MetadataValue.url(reader.url)} if reader.url else {}),
            },
        )
        for reader, keys in sorted(inputs.items(), key=lambda item: item[0].key.to_user_string())
    ]


def build_exposure_specs(
    manifest: Path, dbt_assets_defs: list[dg.AssetsDefinition], domain: str, source_keys: Mapping[str, dg.AssetKey]
) -> list[dg.AssetSpec]:
    """dbt exposures (dashboards, sheets, ML features) as assets downstream of the models (and sources) they read."""
    document = manifest_document(manifest)
    key_by_node = {spec.metadata.get("dagster_dbt/unique_id"): spec.key for d in dbt_assets_defs for spec in d.specs}
    key_by_node.update(source_keys)
    specs = []
    for unique_id, exposure in sorted(document.get("exposures", {}).items()):
        deps = [key_by_node[node] for node in exposure["depends_on"]["nodes"]]
        owner = exposure.get("owner") or {}
        specs.append(
            dg.AssetSpec(
                key=exposure_key(exposure),
                description=f"{exposure.get('label') or exposure['name']}: {exposure.get('description', '').strip()}",
                deps=deps,
                kinds={EXPOSURE_KINDS.get(exposure["type"], exposure["type"])},
                owners=[owner["email"]] if owner.get("email") else [],
                group_name="exposures",
                tags={"domain": domain},
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
