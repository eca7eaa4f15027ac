"""Cost per team per day as a stacked bar chart: an SVG (the catalog inlines it) and the markdown
image the Dagster UI shows in the asset's metadata (a data URI: no file server involved)."""

from __future__ import annotations

import base64
import collections
import datetime as dt
import html
from collections.abc import Iterable

PALETTE = ("#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac")
WIDTH, HEIGHT, LEFT, BOTTOM, TOP, LEGEND = 720, 320, 64, 48, 36, 150


def stacked_svg(rows: Iterable[tuple[dt.date, str, float]], title: str) -> str:
    """``rows``: (day, team, amount). One bar per day, one colour per team, a legend, a scale."""
    by_day: dict[dt.date, dict[str, float]] = collections.defaultdict(dict)
    for day, team, amount in rows:
        by_day[day][team] = by_day[day].get(team, 0.0) + float(amount)
    days = sorted(by_day)
    teams = sorted({t for parts in by_day.values() for t in parts}, key=lambda t: (t == "unattributed", t))
    colour = {team: PALETTE[i % len(PALETTE)] for i, team in enumerate(teams)}
    top = max((sum(parts.values()) for parts in by_day.values()), default=0.0) or 1.0
    plot_w, plot_h = WIDTH - LEFT - LEGEND, HEIGHT - TOP - BOTTOM
    bar = min(plot_w / max(len(days), 1), 64.0)
    decimals = 2 if top >= 10 else 4
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" '
        'font-family="sans-serif" font-size="11" role="img">',
        f"<title>{html.escape(title)}</title>",
        '<rect width="100%" height="100%" fill="white"/>',
        f'<text x="{LEFT}" y="20" font-size="14" font-weight="bold">{html.escape(title)}</text>',
    ]
    for tick in range(5):
        value = top * tick / 4
        y = TOP + plot_h - plot_h * tick / 4
        out.append(f'<line x1="{LEFT}" x2="{LEFT + plot_w}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>')
        out.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{value:,.{decimals}f}</text>')
    for i, day in enumerate(days):
        x, y = LEFT + i * bar + bar * 0.15, TOP + plot_h
        for team in teams:
            amount = by_day[day].get(team, 0.0)
            h = plot_h * amount / top
            if h > 0:
                y -= h
                out.append(
                    f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar * 0.7:.1f}" height="{h:.1f}" fill="{colour[team]}">'
                    f"<title>{html.escape(team)} {day.isoformat()}: {amount:,.4f}</title></rect>"
                )
        if len(days) <= 16 or i % max(len(days) // 8, 1) == 0:
            out.append(f'<text x="{x + bar * 0.35:.1f}" y="{TOP + plot_h + 16}" text-anchor="middle">{day.strftime("%m-%d")}</text>')
    for i, team in enumerate(teams):
        y = TOP + i * 18
        out.append(f'<rect x="{WIDTH - LEGEND + 12}" y="{y}" width="12" height="12" fill="{colour[team]}"/>')
        out.append(f'<text x="{WIDTH - LEGEND + 30}" y="{y + 10}">{html.escape(team)}</text>')
    if not days:
        out.append(f'<text x="{LEFT + plot_w / 2}" y="{TOP + plot_h / 2}" text-anchor="middle">no usage recorded yet</text>')
    out.append("</svg>")
    return "\n".join(out)


def markdown_image(svg: str, alt: str) -> str:
    """The chart as a markdown image the Dagster UI renders in an asset's metadata."""
    return f"![{alt}](data:image/svg+xml;base64,{base64.b64encode(svg.encode()).decode()})"
