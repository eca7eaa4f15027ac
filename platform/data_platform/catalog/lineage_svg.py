"""A product's lineage as a picture: its ancestors (back to the source system) and descendants
(to the dashboards, sheets and ML), left to right by depth, each box a link to its page."""

from __future__ import annotations

import collections
import html
from collections.abc import Callable, Mapping, Sequence

BOX_W, BOX_H, GAP_X, GAP_Y, PAD = 190, 30, 50, 14, 10


def _reach(start: str, edges: Mapping[str, Sequence[str]]) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        for nxt in edges.get(todo.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def lineage_svg(focus: str, upstream: Mapping[str, Sequence[str]], href: Callable[[str], str], fill: Callable[[str], str]) -> str:
    downstream: dict[str, list[str]] = collections.defaultdict(list)
    for child, parents in upstream.items():
        for parent in parents:
            downstream[parent].append(child)
    nodes = {focus} | _reach(focus, upstream) | _reach(focus, downstream)
    depth: dict[str, int] = {}

    def depth_of(node: str, trail: frozenset = frozenset()) -> int:
        if node not in depth:
            parents = [p for p in upstream.get(node, ()) if p in nodes and p not in trail]
            depth[node] = 1 + max((depth_of(p, trail | {node}) for p in parents), default=-1)
        return depth[node]

    columns: dict[int, list[str]] = collections.defaultdict(list)
    for node in sorted(nodes):
        columns[depth_of(node)].append(node)
    where = {}
    for d, members in columns.items():
        for i, node in enumerate(members):
            where[node] = (PAD + d * (BOX_W + GAP_X), PAD + i * (BOX_H + GAP_Y))
    width = PAD * 2 + (max(columns, default=0) + 1) * (BOX_W + GAP_X) - GAP_X
    height = PAD * 2 + max((len(m) for m in columns.values()), default=1) * (BOX_H + GAP_Y) - GAP_Y
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="lineage" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11" role="img" aria-label="lineage of {html.escape(focus)}">'
    ]
    for child in sorted(nodes):
        for parent in upstream.get(child, ()):
            if parent in nodes:
                (x1, y1), (x2, y2) = where[parent], where[child]
                x1, y1, y2 = x1 + BOX_W, y1 + BOX_H / 2, y2 + BOX_H / 2
                mid = (x1 + x2) / 2
                out.append(f'<path d="M{x1},{y1} C{mid},{y1} {mid},{y2} {x2},{y2}" fill="none" stroke="#888"/>')
    for node in sorted(nodes):
        x, y = where[node]
        label = node if len(node) <= 30 else node[:28] + "…"
        stroke = ' stroke="#222" stroke-width="2.5"' if node == focus else ' stroke="#999"'
        out.append(
            f'<a href="{html.escape(href(node))}"><rect x="{x}" y="{y}" width="{BOX_W}" height="{BOX_H}" rx="6" fill="{fill(node)}"{stroke}/>'
            f'<text x="{x + 8}" y="{y + 19}">{html.escape(label)}</text><title>{html.escape(node)}</title></a>'
        )
    out.append("</svg>")
    return "\n".join(out)
