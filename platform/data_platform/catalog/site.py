"""The catalog as plain files: open ``index.html`` in a browser, no server. One page per data
product, KPI and team, a cost page, and a search over names, columns and glossary terms (the
index is embedded in the page, so it also works from ``file://``)."""

from __future__ import annotations

import collections
import html
import json
import re
import shutil
from pathlib import Path

from data_platform.catalog.collect import Catalog, Kpi, Product
from data_platform.catalog.lineage_svg import lineage_svg
from data_platform.showback.chart import stacked_svg

GROUP_COLOURS = {
    "source_systems": "#fde2c8",
    "exposures": "#f9d0e0",
    "staging": "#dbe9f6",
    "trusted": "#cfe8d5",
    "marts": "#fff2b3",
    "presentation": "#e6dcf5",
}
CSS = """
body{font-family:system-ui,sans-serif;margin:0;color:#222}header{background:#1f3b57;color:#fff;padding:10px 24px}
header a{color:#fff;margin-right:18px;text-decoration:none}main{padding:16px 24px;max-width:1200px}
table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f3f3f3}.tag{display:inline-block;background:#eef;border-radius:4px;padding:1px 6px;margin:1px;font-size:12px}
.bad{color:#b00020;font-weight:bold}.ok{color:#0a7d32}.pii{background:#fde0e0}pre{background:#f6f8fa;padding:8px;overflow:auto}
#search{font-size:16px;padding:6px;width:420px}#results li{margin:3px 0}.lineage{max-width:100%;height:auto;border:1px solid #eee}
"""
SEARCH_JS = """
const box = document.getElementById('search'), list = document.getElementById('results');
function show(q) {
  q = q.trim().toLowerCase(); list.innerHTML = '';
  if (!q) return;
  const hits = INDEX.filter(e => e.text.includes(q)).sort((a, b) => (a.name.toLowerCase().startsWith(q) ? 0 : 1) - (b.name.toLowerCase().startsWith(q) ? 0 : 1)).slice(0, 40);
  for (const e of hits) {
    const li = document.createElement('li'), a = document.createElement('a');
    a.href = e.href; a.textContent = e.name; li.appendChild(a);
    li.appendChild(document.createTextNode(' — ' + e.kind + (e.detail ? ': ' + e.detail : '')));
    list.appendChild(li);
  }
  if (!hits.length) list.innerHTML = '<li>nothing matches</li>';
}
box.addEventListener('input', () => show(box.value));
const q = new URLSearchParams(location.search).get('q'); if (q) { box.value = q; show(q); }
"""


MARKER = ".data-platform-catalog"
"""In a folder the catalog wrote: only such a folder (or an empty one) is replaced at the next build."""


class CatalogError(ValueError):
    """Where the catalog would be written is not the catalog's to replace."""


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "x"


def product_href(key: str, depth: int = 1) -> str:
    return "../" * depth + f"products/{slug(key)}.html"


def team_href(team: str, depth: int = 1) -> str:
    return "../" * depth + f"teams/{slug(team)}.html"


def kpi_href(name: str, depth: int = 1) -> str:
    return "../" * depth + f"kpis/{slug(name)}.html"


def e(text: object) -> str:
    return html.escape(str(text))


def _page(title: str, body: str, depth: int) -> str:
    up = "../" * depth
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{e(title)} · data catalog</title>'
        f"<style>{CSS}</style></head><body><header><a href='{up}index.html'><b>Data catalog</b></a>"
        f"<a href='{up}index.html#glossary'>Glossary</a><a href='{up}cost.html'>Cost per team</a></header>"
        f"<main><h1>{e(title)}</h1>{body}</main></body></html>"
    )


def _team_costs(catalog: Catalog, days: int = 30) -> dict[str, tuple[float, float]]:
    if not catalog.cost:
        return {}
    last = max(d for d, *_ in catalog.cost)
    totals: dict[str, tuple[float, float]] = collections.defaultdict(lambda: (0.0, 0.0))
    for day, team, cost, credits in catalog.cost:
        if (last - day).days < days:
            c, k = totals[team]
            totals[team] = (c + cost, k + credits)
    return dict(totals)


def _money(amount: float, currency: str) -> str:
    return f"{amount:,.2f} {currency}" if abs(amount) >= 1 else f"{amount:,.4f} {currency}"


def _owner_links(product: Product, depth: int) -> str:
    team = f"<a class='team' href='{team_href(product.team, depth)}'>{e(product.team)}</a>"
    others = ", ".join(e(o) for o in product.owners if o != f"team:{product.team}")
    return team + (f" ({others})" if others else "")


def _product_page(product: Product, catalog: Catalog, upstream: dict[str, list[str]], costs: dict) -> str:
    rows = "".join(
        f"<tr class='{'pii' if c.pii == 'pii' else ''}'><td>{e(c.name)}</td><td>{e(c.type)}</td><td>{e(c.description)}</td>"
        f"<td>{e(c.pii)}</td><td>{e(c.spanish)}</td></tr>"
        for c in product.columns
    )
    columns = (
        f"<h2>Columns</h2><table class='columns'><tr><th>column</th><th>type</th><th>description</th><th>classification</th>"
        f"<th>shown in (Spanish)</th></tr>{rows}</table>"
        if product.columns
        else ""
    )
    contract = ""
    if product.contract:
        items = "".join(
            f"<tr><th>{e(k)}</th><td>{e(', '.join(v) if isinstance(v, list) else v)}</td></tr>" for k, v in product.contract.items()
        )
        contract = f"<h2>Data contract and SLA</h2><table class='contract'>{items}</table>"
    checks = "".join(
        f"<tr><td>{e(c.name)}</td><td class='{'ok' if c.passed else 'bad' if c.passed is False else ''}'>"
        f"{'passed' if c.passed else 'FAILED' if c.passed is False else '-'}</td><td>{e(c.severity)}</td><td>{e(c.description)}</td></tr>"
        for c in product.checks
    )
    blocked = (
        f"<p class='bad blocked'>Blocked: {e(', '.join(product.blocked))} failed at ERROR severity; what is built from it is held until it passes.</p>"
        if product.blocked
        else ""
    )
    kpis = " ".join(f"<a class='tag' href='{kpi_href(k)}'>{e(k)}</a>" for k in product.kpis)
    cost = costs.get(product.team)
    cost_text = (
        f"<a href='../cost.html'>{_money(cost[0], catalog.currency)}</a> over the last 30 days ({cost[1]:,.4f} credits) for team {e(product.team)}"
        if cost
        else "not measured yet"
    )
    fill = {key: GROUP_COLOURS.get(p.group, "#eee") for key, p in catalog.products.items()}
    picture = lineage_svg(product.key, upstream, href=lambda k: product_href(k), fill=lambda k: fill.get(k, "#eee"))
    facts = [
        ("domain", e(product.domain)),
        ("layer / group", e(product.group)),
        ("owners", _owner_links(product, 1)),
        ("kinds", " ".join(f"<span class='tag'>{e(k)}</span>" for k in product.kinds)),
        ("last materialized", e(product.last_materialized or "never")),
        ("team's cost", cost_text),
    ]
    if kpis:
        facts.append(("KPIs", kpis))
    if product.url:
        facts.append(("opens at", f"<a href='{e(product.url)}'>{e(product.url)}</a>"))
    table = "".join(f"<tr><th>{k}</th><td class='{slug(k)}'>{v}</td></tr>" for k, v in facts)
    return _page(
        product.key,
        f"<p class='description'>{e(product.description) or '<i>no description</i>'}</p>{blocked}<table class='facts'>{table}</table>"
        f"<h2>Lineage</h2>{picture}{columns}{contract}"
        + (
            f"<h2>Checks (latest)</h2><table class='checks'><tr><th>check</th><th>result</th><th>severity</th><th>detail</th></tr>{checks}</table>"
            if checks
            else ""
        ),
        1,
    )


def _kpi_page(kpi: Kpi, catalog: Catalog, costs: dict) -> str:
    marts = "".join(
        f"<li><a class='mart' href='{product_href(m)}'>{e(m)}</a> — owned by {_owner_links(catalog.products[m], 1)}</li>"
        for m in kpi.marts
        if m in catalog.products
    )
    teams = sorted({catalog.products[m].team for m in kpi.marts if m in catalog.products})
    cost = "".join(f"<li>{e(t)}: {_money(costs[t][0], catalog.currency)} over the last 30 days</li>" for t in teams if t in costs)
    return _page(
        f"{kpi.label} ({kpi.name})",
        f"<p class='definition'>{e(kpi.description)}</p><table class='facts'><tr><th>type</th><td>{e(kpi.type)}</td></tr>"
        f"<tr><th>domain</th><td>{e(kpi.domain)}</td></tr>"
        f"<tr><th>columns</th><td>{e(', '.join(kpi.columns) or '-')}</td></tr>"
        f"<tr><th>Spanish (presentation)</th><td class='spanish'>{e(', '.join(kpi.spanish) or '-')}</td></tr></table>"
        f"<h2>How it is computed</h2><pre class='sql'>{e(kpi.sql)}</pre>"
        f"<p>from the dbt semantic model and metric definitions of {e(kpi.domain)}.</p>"
        f"<h2>Implemented by</h2><ul>{marts or '<li>no mart declares it (meta.kpis)</li>'}</ul>"
        + (f"<h2>Cost of the owning teams</h2><ul class='cost'>{cost}</ul>" if cost else ""),
        1,
    )


def _team_page(team: str, products: list[Product], catalog: Catalog, costs: dict) -> str:
    cost = costs.get(team)
    items = "".join(f"<li><a href='{product_href(p.key)}'>{e(p.key)}</a> <span class='tag'>{e(p.group)}</span></li>" for p in products)
    spent = (
        f"<p class='cost'>{_money(cost[0], catalog.currency)} over the last 30 days ({cost[1]:,.4f} credits). <a href='../cost.html'>per day</a></p>"
        if cost
        else "<p class='cost'>no cost recorded yet</p>"
    )
    return _page(f"Team {team}", f"{spent}<h2>Owns</h2><ul>{items or '<li>nothing</li>'}</ul>", 1)


def _search_index(catalog: Catalog) -> list[dict]:
    index = []
    for p in catalog.products.values():
        text = " ".join(
            [p.key, p.description, p.team, p.domain, *p.owners, *(c.name for c in p.columns), *(c.spanish for c in p.columns), *p.kpis]
        )
        index.append(
            {"kind": "data product", "name": p.key, "detail": p.description[:90], "href": product_href(p.key, 0), "text": text.lower()}
        )
        for c in p.columns:
            index.append(
                {
                    "kind": "column",
                    "name": f"{p.key}.{c.name}",
                    "detail": c.description[:90],
                    "href": product_href(p.key, 0),
                    "text": f"{c.name} {c.description} {c.spanish}".lower(),
                }
            )
    for k in catalog.glossary:
        text = " ".join([k.name, k.label, k.description, *k.marts, *k.spanish])
        index.append(
            {"kind": "KPI", "name": k.label, "detail": k.description[:90], "href": kpi_href(k.name, 0), "text": f"{text} kpi".lower()}
        )
    return index


def write_site(catalog: Catalog, out: Path) -> Path:
    """Write the site into ``out`` (replaced whole); returns its ``index.html``."""
    if out.exists() and any(out.iterdir()) and not (out / MARKER).exists():
        raise CatalogError(f"{out} holds files that are not a catalog this command wrote: pick an empty or new folder")
    staging = out.with_name(out.name + ".tmp")
    shutil.rmtree(staging, ignore_errors=True)
    for folder in ("products", "kpis", "teams"):
        (staging / folder).mkdir(parents=True)
    costs = _team_costs(catalog)
    upstream = {key: list(p.upstream) for key, p in catalog.products.items()}
    for product in catalog.products.values():
        (staging / "products" / f"{slug(product.key)}.html").write_text(_product_page(product, catalog, upstream, costs))
    for kpi in catalog.glossary:
        (staging / "kpis" / f"{slug(kpi.name)}.html").write_text(_kpi_page(kpi, catalog, costs))
    by_team: dict[str, list[Product]] = collections.defaultdict(list)
    for product in catalog.products.values():
        by_team[product.team].append(product)
    for team in set(by_team) | set(costs):
        (staging / "teams" / f"{slug(team)}.html").write_text(_team_page(team, by_team.get(team, []), catalog, costs))
    chart = stacked_svg(((d, t, c) for d, t, c, _ in catalog.cost), f"Cost per team per day ({catalog.currency})")
    cost_rows = "".join(
        f"<tr><td><a href='{team_href(t, 0)}'>{e(t)}</a></td><td>{c[1]:,.4f}</td><td>{_money(c[0], catalog.currency)}</td></tr>"
        for t, c in sorted(costs.items(), key=lambda i: -i[1][0])
    )
    (staging / "cost.html").write_text(
        _page(
            "Cost per team",
            f"<div class='chart'>{chart}</div><h2>Last 30 days</h2><table class='cost'><tr><th>team</th><th>credits</th><th>cost</th></tr>{cost_rows}</table>"
            "<p>Snowflake: each warehouse-hour's metered credits split over the teams by attributed credits, idle time included; "
            "locally: execution time measured by Dagster, priced per credit-hour. Source: platform/cost_per_team_daily.</p>",
            0,
        )
    )
    (staging / "index.html").write_text(_index(catalog, costs))
    (staging / MARKER).write_text("written by data-platform catalog; the folder is replaced whole at each build\n")
    shutil.rmtree(out, ignore_errors=True)
    staging.rename(out)
    return out / "index.html"


def _index(catalog: Catalog, costs: dict) -> str:
    by_domain: dict[str, list[Product]] = collections.defaultdict(list)
    for p in catalog.products.values():
        by_domain[p.domain].append(p)
    sections = []
    for domain, products in sorted(by_domain.items()):
        rows = "".join(
            f"<tr><td><a href='{product_href(p.key, 0)}'>{e(p.key)}</a></td><td>{e(p.group)}</td>"
            f"<td><a href='{team_href(p.team, 0)}'>{e(p.team)}</a></td><td>{e(p.description[:120])}</td>"
            f"<td class='{'bad' if p.blocked else ''}'>{'blocked' if p.blocked else e(p.last_materialized or 'never')}</td></tr>"
            for p in products
        )
        sections.append(
            f"<h2>Domain {e(domain)}</h2><table><tr><th>data product</th><th>layer</th><th>team</th><th>description</th><th>latest</th></tr>{rows}</table>"
        )
    glossary = "".join(
        f"<tr><td><a class='kpi' href='{kpi_href(k.name, 0)}'>{e(k.label)}</a></td><td>{e(k.description)}</td>"
        f"<td>{' '.join(f'<a href={chr(39)}{product_href(m, 0)}{chr(39)}>{e(m)}</a>' for m in k.marts)}</td><td>{e(', '.join(k.spanish))}</td></tr>"
        for k in catalog.glossary
    )
    skipped = "".join(f"<li class='bad'>{e(s)}</li>" for s in catalog.skipped)
    index = json.dumps(_search_index(catalog)).replace("</", "<\\/")
    body = (
        f"<p>Built {e(catalog.built_at)} from the code and the Dagster instance: {len(catalog.products)} data products, "
        f"{len(catalog.glossary)} KPIs, {len(costs)} teams with cost.</p>"
        + (f"<p>Domains left out (they do not load):</p><ul>{skipped}</ul>" if skipped else "")
        + "<input id='search' type='search' placeholder='Search a data product, column or KPI' autofocus><ul id='results'></ul>"
        f"<h2 id='glossary'>Glossary of KPIs</h2><table><tr><th>KPI</th><th>definition</th><th>marts</th><th>Spanish</th></tr>{glossary}</table>"
        + "".join(sections)
        + f"<script>const INDEX = {index};{SEARCH_JS}</script>"
    )
    return _page("Data catalog", body, 0)
