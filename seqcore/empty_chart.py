"""An empty chart's frame as a small SVG picture: the Train page's loss chart before a run has a first point.

The page draws this instead of an empty Plotly figure so that its first paint does not wait for Plotly's own
JavaScript (4.7 MB; docs/performance-notes.md), which the page has the browser load in its idle time after the
page is drawn, ready for the first point. It copies the look of `seqcore.plots`' charts (title top left, the plot
inside the same margins, the same height), so the real chart takes its place without the page moving.
Pure: settings in, markup out; every piece of text is escaped.
"""

from __future__ import annotations

import math
from html import escape

from seqcore.plots import CHART_HEIGHT_PX as HEIGHT_PX
from seqcore.plots import FONT_PX as _FONT_PX
from seqcore.plots import MARGIN_BOTTOM_PX as BOTTOM_PX
from seqcore.plots import MARGIN_LEFT_PX as LEFT_PX
from seqcore.plots import MARGIN_RIGHT_PX as RIGHT_PX
from seqcore.plots import MARGIN_TOP_PX as TOP_PX
from seqcore.plots import TITLE_PX as _TITLE_PX
from seqcore.plots import TITLE_TOP_PX as _TITLE_TOP_PX

# The charts' measures come from seqcore.plots (a one-line title's chart); these are plotly_white's.
_TITLE_X_PX, _Y_LABEL_X_PX = 6, 20  # from the picture's left edge
_TEXT, _GRID, _AXIS = "#2a3f5f", "#ebf0f8", "#c8d4e3"
_TICKS = 5  # about as many x ticks as Plotly draws on a half-width chart


def nice_step(span: float, ticks: int = _TICKS) -> float:
    """A round tick spacing (1, 2, 2.5 or 5 times a power of ten) giving at most about `ticks` steps over `span`."""
    if span <= 0:
        return 1.0
    raw = span / ticks
    power = 10 ** math.floor(math.log10(raw))
    return next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)


def empty_chart_svg(title: str, x_label: str, x_max: float, y_label: str, *, note: str = "") -> str:
    """An empty chart's frame, its x axis from 0 to `x_max` with round ticks, no y ticks (nothing to scale them
    by yet), `note` written in the middle of the plot. The picture stretches to its container's width: every
    horizontal place is a percentage of it, every vertical one a pixel, so its letters never stretch.

    Its first line is the whole opening tag and no line is blank, so Markdown takes it as one HTML block and never
    reads its text as Markdown."""
    step = nice_step(x_max)
    ticks = [i * step for i in range(int(x_max / step + 1e-9) + 1)]
    bottom, top, middle = HEIGHT_PX - BOTTOM_PX, TOP_PX, (TOP_PX + HEIGHT_PX - BOTTOM_PX) / 2

    def x_at(value: float) -> str:  # a place on the x axis, as a share of the plot's width
        return f"{100 * value / x_max:.3f}%" if x_max > 0 else "0%"

    # The picture's padding is the charts' margins, so that a percentage of its width is a place on the x axis;
    # the title and the y axis' label sit in the padding (left of 0), drawn since nothing overflows hidden.
    parts = [
        f'<svg class="empty-chart" role="img" aria-label="{escape(title)}: no points yet" width="100%" '
        f'height="{HEIGHT_PX}" font-family="sans-serif" font-size="{_FONT_PX}" fill="{_TEXT}" '
        f'style="padding:0 {RIGHT_PX}px 0 {LEFT_PX}px;box-sizing:border-box;overflow:visible" '
        'xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
        f'<text x="{_TITLE_X_PX - LEFT_PX}" y="{_TITLE_TOP_PX + _TITLE_PX}" font-size="{_TITLE_PX}">'
        f"{escape(title)}</text>",
        f'<text transform="translate({_Y_LABEL_X_PX - LEFT_PX} {middle}) rotate(-90)" text-anchor="middle">'
        f"{escape(y_label)}</text>",
    ]
    for tick in ticks:
        parts.append(f'<line x1="{x_at(tick)}" x2="{x_at(tick)}" y1="{top}" y2="{bottom}" stroke="{_GRID}"/>')
        parts.append(f'<text x="{x_at(tick)}" y="{bottom + 18}" text-anchor="middle">{tick:g}</text>')
    parts += [
        f'<line x1="0" x2="0" y1="{top}" y2="{bottom}" stroke="{_AXIS}"/>',
        f'<line x1="0" x2="100%" y1="{bottom}" y2="{bottom}" stroke="{_AXIS}"/>',
        f'<text x="50%" y="{HEIGHT_PX - 8}" text-anchor="middle">{escape(x_label)}</text>',
    ]
    if note:
        parts.append(f'<text x="50%" y="{middle}" text-anchor="middle" opacity="0.7">{escape(note)}</text>')
    parts.append("</svg>")
    return "\n".join(parts)
