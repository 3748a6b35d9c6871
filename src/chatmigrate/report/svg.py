"""The report's charts, as plain inline SVG text: no library, no script, no request.

Owns: a stacked horizontal bar (one row kind from source to outcome) and a column chart
(messages per month). Every label passes through ``html.escape``; sizes are computed
here, so the page needs no JavaScript and renders the same from ``file://``.

Does not own: what the figures are (``report.facts``), the page around them (``report.page``).
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

MIGRATED, FAILED = "#2f9e44", "#e03131"
SKIP_COLOURS = ("#f08c00", "#fab005", "#ae3ec9", "#1c7ed6", "#868e96", "#d6336c", "#0c8599", "#5c940d")


def _n(value: int) -> str:
    return f"{value:,}"


def stacked_bar(label: str, parts: Sequence[tuple[str, int, str]], width: int = 760) -> str:
    """One bar split into ``parts`` (name, count, colour), with a legend of the counts below."""
    total = sum(n for _, n, _ in parts) or 1
    x, rects, legend = 0.0, [], []
    bar_w = width - 2
    for i, (name, n, colour) in enumerate(parts):
        w = bar_w * n / total
        if n:
            rects.append(f'<rect x="{x + 1:.2f}" y="1" width="{max(w, 1.0):.2f}" height="28" fill="{colour}">'
                         f'<title>{escape(name)}: {_n(n)}</title></rect>')
        x += w
        y = 48 + 20 * i
        legend.append(f'<rect x="1" y="{y - 11}" width="12" height="12" fill="{colour}"/>'
                      f'<text x="20" y="{y}">{escape(name)}</text>'
                      f'<text x="{width - 2}" y="{y}" text-anchor="end">{_n(n)} '
                      f'({100.0 * n / total:.1f}%)</text>')
    height = 48 + 20 * len(parts)
    return (f'<svg role="img" aria-label="{escape(label)}" width="{width}" '
            f'height="{height}" viewBox="0 0 {width} {height}" font-size="13" font-family="sans-serif">'
            f'<rect x="0.5" y="0.5" width="{width - 1}" height="29" fill="#f1f3f5" stroke="#adb5bd"/>'
            + "".join(rects) + "".join(legend) + "</svg>")


def columns(label: str, series: Sequence[tuple[str, int]], width: int = 760, height: int = 220) -> str:
    """A column chart of (label, count), e.g. messages per month; every label shown at most ~12 times."""
    if not series:
        return ""
    top = max(n for _, n in series) or 1
    left, plot_h = 56, height - 36 - 10
    step = (width - left - 4) / len(series)
    every = max(1, -(-len(series) // 12))
    parts = [f'<line x1="{left}" y1="{10 + plot_h}" x2="{width - 2}" y2="{10 + plot_h}" stroke="#495057"/>',
             f'<text x="{left - 6}" y="16" text-anchor="end">{_n(top)}</text>',
             f'<text x="{left - 6}" y="{10 + plot_h}" text-anchor="end">0</text>']
    for i, (name, n) in enumerate(series):
        h = plot_h * n / top
        x = left + i * step
        parts.append(f'<rect x="{x + step * 0.1:.2f}" y="{10 + plot_h - h:.2f}" width="{max(step * 0.8, 1.0):.2f}" '
                     f'height="{h:.2f}" fill="{MIGRATED}"><title>{escape(name)}: {_n(n)}</title></rect>')
        if i % every == 0:
            parts.append(f'<text x="{x + step / 2:.2f}" y="{height - 14}" text-anchor="middle">{escape(name)}</text>')
    return (f'<svg role="img" aria-label="{escape(label)}" width="{width}" '
            f'height="{height}" viewBox="0 0 {width} {height}" font-size="12" font-family="sans-serif">'
            + "".join(parts) + "</svg>")
