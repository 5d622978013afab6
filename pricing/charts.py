"""A small inline SVG line chart (no JavaScript, no CDN) of our price against each competitor over time."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from html import escape

PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"]
OURS = "our price"
MARKERS_UP_TO = 40  # a competitor series with at most this many observations shows each as a dot


def price_chart_svg(series: dict[str, list[tuple[datetime, Decimal]]], *, width: int = 760, height: int = 280) -> str:
    """Step lines per series (a price holds until the next point); ``OURS`` is drawn thick and black.

    A series of one point is drawn as a marker; the axes span exactly the points drawn.
    """
    points = [p for values in series.values() for p in values]
    if not points:
        return "<p>No prices recorded yet.</p>"
    left, right, top, bottom = 60, 150, 16, 30
    t0 = min(t for t, _ in points).timestamp()
    t1 = max(t for t, _ in points).timestamp()
    low = min(v for _, v in points)
    high = max(v for _, v in points)
    if high == low:
        high, low = high + 1, max(Decimal(0), low - 1)
    span_t = (t1 - t0) or 1.0
    plot_w, plot_h = width - left - right, height - top - bottom

    def x(t: datetime) -> float:
        return left + (t.timestamp() - t0) / span_t * plot_w

    def y(v: Decimal) -> float:
        return top + float((high - v) / (high - low)) * plot_h

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
        f'aria-label="price history" style="font:11px sans-serif;background:#fff">',
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + plot_h}" stroke="#999"/>',
        f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" stroke="#999"/>',
    ]
    for value in (low, (low + high) / 2, high):
        parts.append(f'<text x="{left - 6}" y="{y(value) + 4:.1f}" text-anchor="end">{value:.2f}</text>')
        parts.append(f'<line x1="{left}" y1="{y(value):.1f}" x2="{left + plot_w}" y2="{y(value):.1f}" stroke="#eee"/>')
    start, end = min(t for t, _ in points), max(t for t, _ in points)
    parts.append(f'<text x="{left}" y="{height - 8}">{start:%Y-%m-%d %H:%M}</text>')
    parts.append(f'<text x="{left + plot_w}" y="{height - 8}" text-anchor="end">{end:%Y-%m-%d %H:%M}</text>')
    names = sorted(series, key=lambda n: (n != OURS, n))
    for index, name in enumerate(names):
        values = sorted(series[name])
        if not values:
            continue
        color = "#000" if name == OURS else PALETTE[index % len(PALETTE)]
        stroke = 2.5 if name == OURS else 1.5
        if len(values) > 1:
            coords = []
            for i, (t, v) in enumerate(values):
                if i:
                    coords.append(f"{x(t):.1f},{y(values[i - 1][1]):.1f}")
                coords.append(f"{x(t):.1f},{y(v):.1f}")
            parts.append(
                f'<polyline fill="none" stroke="{color}" stroke-width="{stroke}" points="{" ".join(coords)}"/>'
            )
        # A lone observation has no line to draw: a marker shows it (the axes already include it). Sparse
        # competitor series get markers too, so each observation can be seen.
        if len(values) == 1 or (name != OURS and len(values) <= MARKERS_UP_TO):
            radius = 4 if len(values) == 1 else 2.5
            for t, v in values:
                parts.append(
                    f'<circle cx="{x(t):.1f}" cy="{y(v):.1f}" r="{radius}" fill="{color}">'
                    f"<title>{escape(name)}: {v:.2f} at {t:%Y-%m-%d %H:%M}</title></circle>"
                )
        legend_y = top + 14 * index + 8
        parts.append(
            f'<rect x="{width - right + 10}" y="{legend_y - 8}" width="10" height="10" fill="{color}"/>'
            f'<text x="{width - right + 26}" y="{legend_y + 1}">{escape(name[:20])}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
