"""What the catalog shows, gathered from the code and the instance, never typed twice.

- products: every asset of every domain's code location (its spec: key, owners, description,
  group, kinds, columns, upstream), the stream's data contract (columns' PII classification,
  latency SLA, file), and from the Dagster instance its latest materialization and checks (a
  failed check of ERROR severity is a block: its descendants are held);
- glossary: each dbt metric (``metrics:``/``semantic_models:`` of every domain's project) with
  the SQL that computes it, linked to the marts that declare it (``meta.kpis``) and to the Spanish
  columns of the presentation layer that show those marts' columns;
- cost: the showback table (cost per team per day), when it has been built.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import dagster as dg

from data_platform.settings import Settings

logger = logging.getLogger(__name__)


@dataclasses.dataclass
class Column:
    name: str
    type: str
    description: str
    pii: str = ""
    spanish: str = ""


@dataclasses.dataclass
class Check:
    name: str
    passed: bool | None
    severity: str
    description: str


@dataclasses.dataclass
class Product:
    key: str
    domain: str
    group: str
    kinds: list[str]
    owners: list[str]
    team: str
    description: str
    columns: list[Column]
    upstream: list[str]
    downstream: list[str] = dataclasses.field(default_factory=list)
    contract: dict[str, Any] | None = None
    last_materialized: str | None = None
    checks: list[Check] = dataclasses.field(default_factory=list)
    kpis: list[str] = dataclasses.field(default_factory=list)
    url: str | None = None

    @property
    def blocked(self) -> list[str]:
        return [c.name for c in self.checks if c.passed is False and c.severity == "ERROR"]


@dataclasses.dataclass
class Kpi:
    name: str
    label: str
    description: str
    type: str
    domain: str
    sql: str
    marts: list[str]
    columns: list[str]
    spanish: list[str]


@dataclasses.dataclass
class Catalog:
    products: dict[str, Product]
    glossary: list[Kpi]
    cost: list[tuple[dt.date, str, float, float]]
    currency: str
    built_at: str
    skipped: list[str]


def collect(settings: Settings, instance: dg.DagsterInstance | None = None, warehouse: Any = None) -> Catalog:
    from data_platform.platform_location import domain_definitions, owned_specs, team_of

    billed_to = team_of(settings)
    definitions = domain_definitions(settings)
    products: dict[str, Product] = {}
    for spec, domain in owned_specs(settings):
        name = spec.key.to_user_string()
        schema = spec.metadata.get("dagster/column_schema")
        columns = [Column(c.name, c.type, c.description or "") for c in (schema.columns if schema else [])]
        products[name] = Product(
            key=name,
            domain=spec.tags.get("domain") or domain,
            group=spec.group_name or "default",
            kinds=sorted(spec.kinds),
            owners=list(spec.owners),
            team=billed_to(spec.key),
            description=(spec.description or "").strip(),
            columns=columns,
            upstream=sorted(d.asset_key.to_user_string() for d in spec.deps),
            url=str(spec.metadata["url"].value) if "url" in spec.metadata else None,
        )
    for product in products.values():
        for parent in product.upstream:
            if parent in products:
                products[parent].downstream.append(product.key)
    _contracts(settings, products)
    glossary = _glossary(settings, products)
    if instance is not None:
        _health(instance, definitions, products)
    cost = _cost(settings, warehouse) if warehouse is not None else []
    from data_platform.platform_location import skipped_domains

    return Catalog(
        products=dict(sorted(products.items())),
        glossary=glossary,
        cost=cost,
        currency=settings.showback.currency,
        built_at=dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        skipped=skipped_domains(settings),
    )


def _contracts(settings: Settings, products: Mapping[str, Product]) -> None:
    from data_platform.domains import domain_folders, load_domain
    from data_platform.ingestion.keys import stream_key

    for folder in domain_folders(settings):
        try:
            domain = load_domain(folder, settings)
        except Exception:
            continue
        for connection in domain.connections:
            for stream in connection.streams:
                product = products.get(stream_key(connection, stream.name).to_user_string())
                if product is None:
                    continue
                contract = stream.contract
                pii = {c.name: c.classification or "" for c in contract.columns}
                for column in product.columns:
                    column.pii = pii.get(column.name, column.pii)
                product.contract = {
                    "file": str(contract.path.relative_to(settings.domains_dir.parent))
                    if contract.path.is_relative_to(settings.domains_dir.parent)
                    else str(contract.path),
                    "id": contract.id,
                    "version": contract.version,
                    "primary_key": list(contract.primary_key),
                    "latency": f"newest {contract.freshness_column or 'sync'} at most {contract.freshness_error_minutes} min old "
                    f"(warning after {contract.freshness_warn_minutes})",
                    "quarantine_tolerance": f"{contract.quarantine_tolerance_percent:g} %",
                    "alerts": contract.slack_channel or contract.email or "",
                }


_ALIAS = re.compile(r"\b(\w+)\.(\w+)\s+as\s+(\w+)", re.IGNORECASE)
_REF_CTE = re.compile(r"(\w+)\s+as\s*\(\s*select\s+\*\s+from\s+\{\{\s*ref\('(\w+)'\)\s*\}\}", re.IGNORECASE)


def _manifests(settings: Settings) -> Iterable[tuple[str, dict]]:
    from data_platform.domains import domain_folders
    from data_platform.transformation.project import manifest_document, prepared_manifest

    for folder in domain_folders(settings):
        project = settings.dbt_dir / folder.name
        if (project / "dbt_project.yml").exists():
            try:
                yield folder.name, manifest_document(prepared_manifest(project, settings))
            except Exception:
                continue


def _glossary(settings: Settings, products: Mapping[str, Product]) -> list[Kpi]:
    kpis: list[Kpi] = []
    for domain, manifest in _manifests(settings):
        nodes = manifest.get("nodes", {})
        models = {n["name"]: n for n in nodes.values() if n.get("resource_type") == "model"}
        key_of = {name: f"{n['config'].get('schema') or n['schema']}/{name}" for name, n in models.items()}
        spanish = _spanish_columns(models)  # (mart, column) -> ["presentation/x.col", ...]
        for name, node in models.items():
            product = products.get(key_of[name])
            for column, info in (node.get("columns") or {}).items():
                meta = info.get("meta") or {}
                if product and (meta.get("classification") or "pii" in (info.get("tags") or [])):
                    for c in product.columns:
                        if c.name == column:
                            c.pii = meta.get("classification") or "pii"
            if product:
                product.kpis = list((node.get("config", {}).get("meta") or {}).get("kpis") or [])
                for c in product.columns:
                    c.spanish = ", ".join(spanish.get((name, c.name), []))
        measures, measure_model = {}, {}
        for semantic in manifest.get("semantic_models", {}).values():
            model = re.sub(r"ref\('(\w+)'\)", r"\1", semantic.get("model") or "").strip()
            for measure in semantic.get("measures") or []:
                measures[measure["name"]] = measure
                measure_model[measure["name"]] = model
        metrics = {m["name"]: m for m in manifest.get("metrics", {}).values()}

        for metric in sorted(metrics.values(), key=lambda m: m["name"]):
            declared = {p.key for p in products.values() if metric["name"] in p.kpis}
            computed_from = {key_of.get(m, m) for m in _models_of(metric, metrics, measure_model)}
            marts = sorted(declared | {k for k in computed_from if k in products})
            columns = sorted(
                f"{p.key}.{c.name}" for p in products.values() if p.key in marts for c in p.columns if c.name.startswith(metric["name"])
            )
            spanish_cols = sorted(
                {
                    s
                    for p in products.values()
                    if p.key in marts
                    for c in p.columns
                    if c.spanish and (c.name.startswith(metric["name"]) or c.name.startswith(metric["name"].split("_")[0]))
                    for s in c.spanish.split(", ")
                }
            )
            kpis.append(
                Kpi(
                    name=metric["name"],
                    label=metric.get("label") or metric["name"],
                    description=metric.get("description") or _described_by_measure(metric, measures, measure_model, key_of, products),
                    type=metric.get("type") or "",
                    domain=domain,
                    sql=_outer(_sql_of(metric, metrics, measures, measure_model, key_of)),
                    marts=marts,
                    columns=columns,
                    spanish=spanish_cols,
                )
            )
    return kpis


def _sql_of(
    metric: dict, metrics: Mapping[str, dict], measures: Mapping[str, dict], measure_model: Mapping[str, str], key_of: Mapping[str, str]
) -> str:
    """The SQL computing ``metric`` from its semantic model's table (a ratio: of its two metrics)."""
    params = metric.get("type_params") or {}
    if metric.get("type") == "ratio":
        numerator, denominator = (_name(params.get(side)) for side in ("numerator", "denominator"))
        top, bottom = (_inner(_sql_of(metrics[m], metrics, measures, measure_model, key_of)) for m in (numerator, denominator))
        return f"{top} / nullif({bottom}, 0)"
    measure_name = _name(params.get("measure"))
    measure = measures.get(measure_name)
    if not measure:
        return f"-- measure {measure_name} is not in a semantic model"
    model = measure_model[measure_name]
    relation = key_of.get(model, model).replace("/", ".")
    return f"select {measure.get('agg', 'sum')}({measure.get('expr') or measure_name}) from {relation}"


def _described_by_measure(
    metric: dict, measures: Mapping[str, dict], measure_model: Mapping[str, str], key_of: Mapping[str, str], products: Mapping[str, Product]
) -> str:
    """A metric without a description of its own: its measure's, else that of the column the
    measure sums (the fact is written once, on the model's column)."""
    name = _name((metric.get("type_params") or {}).get("measure"))
    measure = measures.get(name) or {}
    if measure.get("description"):
        return measure["description"]
    column = measure.get("expr") or name
    product = products.get(key_of.get(measure_model.get(name, ""), ""))
    found = next((c.description for c in (product.columns if product else []) if c.name == column and c.description), "")
    return f"{measure.get('agg', 'sum')} of {column}: {found}" if found else ""


def _models_of(metric: dict, metrics: Mapping[str, dict], measure_model: Mapping[str, str]) -> set[str]:
    params = metric.get("type_params") or {}
    if metric.get("type") == "ratio":
        sides = (_name(params.get(side)) for side in ("numerator", "denominator"))
        return set().union(*(_models_of(metrics[m], metrics, measure_model) for m in sides if m in metrics))
    model = measure_model.get(_name(params.get("measure")))
    return {model} if model else set()


def _name(value: Any) -> str:
    return value.get("name") if isinstance(value, dict) else str(value)


def _inner(sql: str) -> str:
    return sql.removeprefix("select ") if sql.startswith("select ") and " from " not in sql else f"({sql})"


def _outer(sql: str) -> str:
    return sql if sql.startswith("select ") else f"select {sql}"


def _spanish_columns(models: Mapping[str, dict]) -> dict[tuple[str, str], list[str]]:
    """(model, column) -> the presentation columns that show it, read from each presentation
    model's SQL (``alias.column as nombre`` where ``alias`` is a CTE selecting from ``ref('model')``)."""
    shown: dict[tuple[str, str], list[str]] = {}
    for name, node in models.items():
        if (node.get("config", {}).get("schema") or node.get("schema")) != "presentation":
            continue
        sql = node.get("raw_code") or ""
        ctes = {alias.lower(): model for alias, model in _REF_CTE.findall(sql)}
        for alias, column, spanish in _ALIAS.findall(sql):
            model = ctes.get(alias.lower())
            if model:
                shown.setdefault((model, column), []).append(f"presentation/{name}.{spanish}")
    return shown


def _health(instance: dg.DagsterInstance, definitions: Mapping[str, dg.Definitions], products: Mapping[str, Product]) -> None:
    from data_platform.alerting.check_records import latest_evaluation

    for product in products.values():
        key = dg.AssetKey.from_user_string(product.key)
        records = instance.fetch_materializations(key, limit=1).records
        if records:
            product.last_materialized = dt.datetime.fromtimestamp(records[0].timestamp, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    seen = set()
    for defs in definitions.values():
        for check_key in sorted(defs.resolve_asset_graph().asset_check_keys, key=lambda k: (k.asset_key.to_user_string(), k.name)):
            product = products.get(check_key.asset_key.to_user_string())
            if product is None or check_key in seen:
                continue
            seen.add(check_key)
            latest = latest_evaluation(instance, check_key)
            if latest is None:
                product.checks.append(Check(check_key.name, None, "", "not run yet"))
            else:
                evaluation = latest[1]
                product.checks.append(
                    Check(check_key.name, evaluation.passed, evaluation.severity.value, (evaluation.description or "")[:300])
                )


def _cost(settings: Settings, warehouse: Any) -> list[tuple[dt.date, str, float, float]]:
    from data_platform.showback.assets import qualified_table
    from data_platform.warehouse.sql import fetch_all

    if settings.warehouse.duckdb_path is not None and not settings.warehouse.duckdb_path.exists():
        return []  # nothing ran here yet (DuckDB's resource would retry connecting for minutes)
    try:
        rows = fetch_all(warehouse, f"select usage_date, team, cost, credits from {qualified_table(settings)} order by usage_date, team")
    except Exception:
        return []
    return [(dt.date.fromisoformat(str(d)[:10]), t, float(c), float(k)) for d, t, c, k in rows]


def site_path(settings: Settings) -> Path:
    return settings.data_dir / "catalog"
