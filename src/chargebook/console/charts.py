"""Charts drawn on the server as SVG: no JavaScript, nothing fetched, works offline.

Inline SVG under the console's CSP: shapes carry CSS classes (colours live in
``static/console.css``), never ``style`` attributes. Every bar has a ``<title>`` so that a
pointer (or a screen reader) gets the exact figure. All text is escaped.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal

from markupsafe import Markup, escape

WIDTH = 640
HEIGHT = 180
PAD_LEFT = 36
PAD_BOTTOM = 22
PAD_TOP = 8

Number = int | float | Decimal


def _fmt(value: Number) -> str:
    if isinstance(value, Decimal):  # money: always two places
        return f"{value:,.2f}"
    return f"{value:.1f}".rstrip("0").rstrip(".") if isinstance(value, float) else str(value)


def stacked_bars(
    labels: Sequence[str],
    series: Sequence[str],
    values: Mapping[str, Mapping[str, int]],
    *,
    title: str,
    tick_every: int = 5,
) -> Markup:
    """One bar per label (e.g. a day), stacked by series (e.g. booking status). A series ``S``
    is drawn with the CSS class ``s-S``."""
    totals = [sum(values.get(label, {}).get(s, 0) for s in series) for label in labels]
    top = max(totals, default=0) or 1
    plot_w, plot_h = WIDTH - PAD_LEFT - 4, HEIGHT - PAD_BOTTOM - PAD_TOP
    slot = plot_w / max(len(labels), 1)
    bar_w = max(slot * 0.75, 1.0)
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
        f'<line class="axis" x1="{PAD_LEFT}" y1="{PAD_TOP + plot_h}" x2="{WIDTH - 4}" '
        f'y2="{PAD_TOP + plot_h}"/>',
        f'<text class="tick" x="{PAD_LEFT - 4}" y="{PAD_TOP + 8}" text-anchor="end">{top}</text>',
        f'<text class="tick" x="{PAD_LEFT - 4}" y="{PAD_TOP + plot_h}" text-anchor="end">0</text>',
    ]
    for i, label in enumerate(labels):
        x = PAD_LEFT + i * slot + (slot - bar_w) / 2
        y: float = PAD_TOP + plot_h
        for s in series:
            n = values.get(label, {}).get(s, 0)
            if not n:
                continue
            h = plot_h * n / top
            y -= h
            parts.append(
                f'<rect class="s-{escape(s)}" x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" '
                f'height="{h:.1f}"><title>{escape(label)}: {n} {escape(s)}</title></rect>'
            )
        if i % tick_every == 0 or i == len(labels) - 1:
            parts.append(
                f'<text class="tick" x="{x + bar_w / 2:.1f}" y="{HEIGHT - 6}" '
                f'text-anchor="middle">{escape(label)}</text>'
            )
    parts.append("</svg>")
    return Markup("".join(parts))


def meter(value: Number, limit: Number | None, *, label: str, unit: str = "") -> Markup:
    """A horizontal bar: ``value`` against ``limit``. The bar is ``over`` past the limit and
    ``near`` from 80 %; without a limit it shows the value alone."""
    w, h = 400, 22
    suffix = f" {unit}" if unit else ""
    if limit is None or limit <= 0:
        text = f"{label}: {_fmt(value)}{suffix} (no limit)"
        return Markup(
            f'<svg class="meter" viewBox="0 0 {w} {h}" role="img" '
            f'aria-label="{escape(text)}"><title>{escape(text)}</title>'
            f'<rect class="track" x="0" y="0" width="{w}" height="{h}"/>'
            f'<text class="meter-text" x="6" y="15">{escape(_fmt(value))}{escape(suffix)}'
            " · no limit"
            f"</text></svg>"
        )
    share = float(value) / float(limit)
    state = "over" if share > 1 else "near" if share >= 0.8 else "ok"
    fill = min(share, 1.0) * w
    text = f"{label}: {_fmt(value)}{suffix} of {_fmt(limit)}{suffix} ({share:.0%})"
    return Markup(
        f'<svg class="meter" viewBox="0 0 {w} {h}" role="img" aria-label="{escape(text)}">'
        f"<title>{escape(text)}</title>"
        f'<rect class="track" x="0" y="0" width="{w}" height="{h}"/>'
        f'<rect class="fill {state}" x="0" y="0" width="{fill:.1f}" height="{h}"/>'
        f'<text class="meter-text" x="6" y="15">{escape(_fmt(value))} / '
        f"{escape(_fmt(limit))}{escape(suffix)}"
        f" ({share:.0%})</text></svg>"
    )
