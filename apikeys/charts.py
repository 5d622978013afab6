"""Inline SVG charts of API usage per hour (no JavaScript, no CDN), as pricing/charts.py draws prices.

Pure functions of numbers and names: no Django import, every name escaped.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from html import escape

# requests, 4xx, 5xx, throttled: the four counters of an hourly usage row
SERIES = (
    ("requests", "requests", "#1f4e79"),
    ("errors_4xx", "4xx", "#ff7f0e"),
    ("errors_5xx", "5xx", "#d62728"),
    ("throttled", "throttled", "#9467bd"),
)


def hours_between(start: datetime, end: datetime) -> list[datetime]:
    """Every whole hour from ``start`` to ``end`` (both truncated to the hour), oldest first."""
    first = start.replace(minute=0, second=0, microsecond=0)
    last = end.replace(minute=0, second=0, microsecond=0)
    count = int((last - first).total_seconds() // 3600) + 1
    return [first + timedelta(hours=i) for i in range(max(count, 0))]


def _nice_max(value: int) -> int:
    """The smallest 1, 2 or 5 times a power of ten at or above ``value`` (at least 1): round axis labels."""
    step = 1
    while True:
        for factor in (1, 2, 5):
            if step * factor >= value:
                return max(step * factor, 1)
        step *= 10


def usage_chart_svg(hours: list[datetime], counts: dict[str, list[int]], *, width: int = 900, height: int = 240) -> str:
    """One line per counter over ``hours`` (``counts[field][i]`` is the count in ``hours[i]``).

    Missing hours are zeros, so every line spans the same time axis; the y axis starts at 0.
    """
    if not hours:
        return "<p>No hours to chart.</p>"
    left, right, top, bottom = 48, 16, 12, 28
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = _nice_max(max((max(values, default=0) for values in counts.values()), default=0))
    n = len(hours)

    def x(i: int) -> float:
        return left + (i / (n - 1) * plot_w if n > 1 else plot_w / 2)

    def y(v: int) -> float:
        return top + (1 - v / peak) * plot_h

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="API requests per hour" style="font:11px sans-serif;background:#fff">',
    ]
    for value in (0, peak / 2, peak):
        parts.append(f'<line x1="{left}" y1="{y(value):.1f}" x2="{left + plot_w}" y2="{y(value):.1f}" stroke="#eee"/>')
        parts.append(f'<text x="{left - 6}" y="{y(value) + 4:.1f}" text-anchor="end">{value:g}</text>')
    # a tick at each midnight (UTC) when the window spans days, else at the ends only
    for i, hour in enumerate(hours):
        if hour.hour == 0 and 0 < i < n - 1:
            parts.append(f'<line x1="{x(i):.1f}" y1="{top}" x2="{x(i):.1f}" y2="{top + plot_h}" stroke="#f3f3f3"/>')
            # a day label, unless the window is long or it would run into the start or end label
            if n <= 24 * 8 and left + 110 < x(i) < left + plot_w - 140:
                parts.append(f'<text x="{x(i):.1f}" y="{height - 8}" text-anchor="middle">{hour:%b %d}</text>')
    parts.append(f'<text x="{left}" y="{height - 8}">{hours[0]:%Y-%m-%d %H:00}</text>')
    parts.append(f'<text x="{left + plot_w}" y="{height - 8}" text-anchor="end">{hours[-1]:%Y-%m-%d %H:00} UTC</text>')
    parts.append(f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + plot_h}" stroke="#999"/>')
    parts.append(f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" stroke="#999"/>')
    for field, label, color in SERIES:
        values = counts.get(field) or [0] * n
        if n == 1:
            parts.append(f'<circle cx="{x(0):.1f}" cy="{y(values[0]):.1f}" r="3" fill="{color}"/>')
            continue
        points = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(values))
        width_px = 2 if field == "requests" else 1.5
        parts.append(
            f'<polyline fill="none" stroke="{color}" stroke-width="{width_px}" points="{points}">'
            f"<title>{escape(label)}</title></polyline>"
        )
    parts.append("</svg>")
    return "".join(parts)


def sparkline_svg(values: list[int], *, width: int = 160, height: int = 28, color: str = "#1f4e79") -> str:
    """A key's requests per hour as a small line; a flat line at the bottom when it had none."""
    if not values:
        return ""
    peak = max(max(values), 1)
    n = len(values)

    def x(i: int) -> float:
        return 1 + (i / (n - 1) * (width - 2) if n > 1 else (width - 2) / 2)

    def y(v: int) -> float:
        return 2 + (1 - v / peak) * (height - 4)

    points = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(values))
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
        f'aria-label="requests per hour, peak {peak}"><polyline fill="none" stroke="{color}" stroke-width="1.5" '
        f'points="{points}"/></svg>'
    )
