"""The network of an experiment as a small SVG picture (the Train page's, as TensorFlow Playground's network).

An SVG string, not a Plotly figure: a static picture needs no charting library, and Plotly's JavaScript (4.7 MB)
was what kept the Train page's first paint a second over a bare Streamlit page (docs/performance-notes.md). The
browser draws it at once, scales it down to fit a phone (viewBox), and shows each part's formula as its tooltip.
Pure: settings in, markup out; every piece of text is escaped, so a name can never become markup.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from html import escape, unescape

from seqcore.plots import BLUE, GREY, ORANGE  # the charts' colours, so the picture matches them

DIAGRAM_COLUMN_PX = 120  # one column (the input, a layer, the head) of the picture at its natural size
DIAGRAM_STACK_FROM = 3  # layers drawn as one stacked box: four columns of 120 px are what a 390 px phone fits
DIAGRAM_MAX_CIRCLES = 5  # unit circles drawn per layer: more units show as '… n units', never one circle each
INK, ARROW = "#262730", "#555555"  # Streamlit's text colour; the charts' baselines' grey
_BOX_FILL = {"input": "#eef4fb", "layer": "#e8f1fa", "head": "#fff1e3"}
_BOX_LINE = {"input": GREY, "layer": BLUE, "head": ORANGE}
_LINE_PX, _PAD_PX, _CIRCLES_PX, _LOOP_PX = 16, 6, 14, 30  # one text line, a box's padding, the unit row, the loop
_FONT_PX = 13
_SUB_DY_PX = 3  # how far a subscript sits below the line
_BOX_SHARE = 0.88  # of a column: the boxes keep gaps for the arrows between them
# Our own light markup in labels, turned into SVG below: <b>bold</b>, <sub>subscript</sub>; all else is escaped.
_MARKUP = re.compile(r"(</?b>|</?sub>)")


def _gate_count(blocks: Sequence[str]) -> str:
    gates = sum(block != "candidate" for block in blocks)
    return "no gates" if gates == 0 else f"{gates} gate" + ("s" if gates > 1 else "")


def _dropout_note(dropout: float, recurrent: float) -> str:
    if dropout and recurrent:
        return f"drop {dropout:g}, rec. {recurrent:g}"
    return f"dropout {dropout:g}" if dropout else (f"rec. dropout {recurrent:g}" if recurrent else "")


def _tspans(label: str) -> str:
    """A label of escaped text and our <b>/<sub> tags as SVG text runs. A subscript is lowered by dy and the text
    after it raised back (Chromium drew baseline-shift='sub' half a line low)."""
    out, raise_next = [], False
    for piece in _MARKUP.split(label):
        if piece == "<b>":
            out.append('<tspan class="b" font-weight="bold">')
        elif piece == "<sub>":
            out.append(f'<tspan class="sub" font-size="75%" dy="{_SUB_DY_PX}">')
        elif piece == "</sub>":
            out.append("</tspan>")
            raise_next = True
        elif piece == "</b>":
            out.append("</tspan>")
        elif piece:
            out.append(f'<tspan dy="-{_SUB_DY_PX}">{piece}</tspan>' if raise_next else piece)
            raise_next = False
    return "".join(out)


def _plain(label: str) -> str:
    """A label as a tooltip's plain text (a tooltip shows no markup): x<sub>t</sub> reads x_t."""
    label = re.sub(r"<sub>(.*?)</sub>", lambda m: "_" + (m[1] if len(m[1]) == 1 else f"({m[1]})"), label)
    return unescape(re.sub(r"</?b>", "", label)).replace("<br>", "\n")


def _arrowhead(x: float, y: float, dx: float, dy: float, color: str, size: float = 7.0) -> str:
    """A filled triangle with its tip at (x, y), pointing along (dx, dy)."""
    length = (dx * dx + dy * dy) ** 0.5 or 1.0
    ux, uy = dx / length, dy / length
    bx, by = x - ux * size, y - uy * size
    px, py = -uy * size * 0.45, ux * size * 0.45
    return (f'<polygon points="{x:.1f},{y:.1f} {bx + px:.1f},{by + py:.1f} {bx - px:.1f},{by - py:.1f}" '
            f'fill="{color}"/>')


def _arrow(x1: float, x2: float, y: float) -> str:
    """A horizontal arrow from x1 to its tip at x2."""
    return (f'<line x1="{x1:.1f}" y1="{y}" x2="{x2 - 6:.1f}" y2="{y}" stroke="{ARROW}" stroke-width="1.5"/>'
            + _arrowhead(x2, y, 1, 0, ARROW))


def network_diagram_svg(experiment, counts: Sequence, cell, sizes: tuple[int, int] | None = None) -> str:
    """The network of `experiment` as an SVG picture, left to right: the input per step (m features, or the
    one-hot size of a token or character vocabulary), each recurrent layer as a box with a few unit circles, its
    cell, units, gates, dropout and parameter count, its recurrent loop (a curved arrow back onto itself carrying
    h_(t−1), and c_(t−1) for an LSTM), then the dense head (k outputs, softmax for token and text tasks) and
    whether it reads every step (many-to-many) or only the last (many-to-one); the total on top. Each part's
    tooltip gives its formula. From DIAGRAM_STACK_FROM layers on, the recurrent layers are one box drawn as a
    stack (their count, the units of each, their parameters together; each layer's formula in its tooltip), so a
    deep network keeps the width of a shallow one and fits a phone.

    `counts`: `seqcore.models.parameter_counts(experiment, sizes)` (rows with .name, .formula, .substituted and
    .params, the recurrent layers first, the head last); `cell`: the cell registry's entry for model.cell
    (`seqcore.cells.CELLS`); `sizes`: (features, outputs) of the built data, or None for what the settings say.
    Its natural width is DIAGRAM_COLUMN_PX a column (a wide page does not stretch it); its viewBox lets a narrower
    page (a phone) shrink it to fit. The opening tag stands alone on the first line, so that Markdown (the page
    shows it with st.markdown) reads the picture as a block of HTML and never its text as Markdown."""
    model, data = experiment.model, experiment.data
    m, k = sizes or data.task.sizes(data)
    steps = data.task.steps(data)
    per_step = data.task.kind.head == "tokens"
    *layer_rows, head_row = counts
    state = "h<sub>t−1</sub>, c<sub>t−1</sub>" if cell.has_cell_state else "h<sub>t−1</sub>"
    note = _dropout_note(model.dropout, model.recurrent_dropout)

    columns = [("input", ["<b>input x<sub>t</sub></b>", f"m = {m:,}" + (", one-hot" if per_step else ""),
                          f"T = {steps:,} steps"],
                f"x<sub>t</sub>: {'a one-hot vector of ' if per_step else ''}{m:,} "
                f"{'symbols' if per_step else 'value' + ('s' if m != 1 else '')} per step, {steps:,} steps")]
    gates = _gate_count(cell.blocks) + (f", {escape(model.activation)}" if model.cell == "SimpleRNN" else "")
    blocks = (f"blocks: {escape(', '.join(cell.blocks))}"
              + (f"; activation {escape(model.activation)}" if model.cell == "SimpleRNN" else ""))

    def formula(row) -> str:
        return f"{escape(row.name)}: {escape(row.formula)} = {escape(row.substituted)} = {row.params:,} parameters"

    stacked = len(layer_rows) >= DIAGRAM_STACK_FROM
    for row in [] if stacked else layer_rows:
        lines = [f"<b>{escape(row.name)}</b>", f"{model.units:,} units", gates, f"{row.params:,} params"] \
            + ([note] if note else [])
        columns.append(("layer", lines, f"{formula(row)}<br>{blocks}<br>reads the layer below and its own {state} "
                                        "(the loop)"))
    if stacked:
        lines = [f"<b>{len(layer_rows)} {escape(model.cell)} layers</b>", f"{model.units:,} units each", gates,
                 f"{sum(row.params for row in layer_rows):,} params"] + ([note] if note else [])
        columns.append(("layer", lines, "<br>".join(formula(row) for row in layer_rows)
                        + f"<br>{blocks}<br>each reads the layer below and its own {state} (the loop)"))
    reads = "at every step" if per_step else "after the last step"
    columns.append(("head", ["<b>Dense head</b>", f"k = {k:,}, {'softmax' if per_step else 'linear'}", reads,
                             f"{head_row.params:,} params"],
                    f"{escape(head_row.name)}: {escape(head_row.formula)} = {escape(head_row.substituted)} = "
                    f"{head_row.params:,} parameters<br>"
                    + ("a softmax over the next symbol, at every step (many-to-many)" if per_step else
                       f"{k:,} value{'s' if k != 1 else ''} from h<sub>T</sub>, after the last step (many-to-one)")))

    # Pixels, y down: the total on top, then the loops' room, then the boxes.
    n_lines = max(len(c[1]) for c in columns)
    box_h = 2 * _PAD_PX + 3 + _CIRCLES_PX + _LINE_PX * n_lines
    top = 2 + _LINE_PX + _LOOP_PX - 6  # the boxes' top edge: the state's label, then the loop under it
    bottom = top + box_h
    height = bottom + 6
    col = DIAGRAM_COLUMN_PX
    span = len(columns) + 0.4
    width = round(col * span)
    box_w = _BOX_SHARE * col
    mid = (top + bottom) / 2
    total = sum(row.params for row in counts)
    parts = []
    for i, (part, text, tooltip) in enumerate(columns):
        cx = (i + 0.5) * col
        left_edge = cx - box_w / 2
        group = [f"<title>{escape(_plain(tooltip))}</title>"]
        if part == "layer" and stacked:  # the layers behind, each outline a little up and to the right
            for depth in (2, 1):
                group.append(f'<rect class="stack" x="{left_edge + 3 * depth:.1f}" y="{top - 2.5 * depth:.1f}" '
                             f'width="{box_w:.1f}" height="{box_h}" fill="{_BOX_FILL[part]}" '
                             f'stroke="{_BOX_LINE[part]}" stroke-width="1"/>')
        group.append(f'<rect class="box {part}" x="{left_edge:.1f}" y="{top}" width="{box_w:.1f}" height="{box_h}" '
                     f'fill="{_BOX_FILL[part]}" stroke="{_BOX_LINE[part]}" stroke-width="1.5" rx="2"/>')
        text_top = top + _PAD_PX + (_CIRCLES_PX if part == "layer" else 0)
        baseline = text_top + 12
        for line in text:
            group.append(f'<text class="label" x="{cx:.1f}" y="{baseline}" text-anchor="middle">{_tspans(line)}'
                         "</text>")
            baseline += _LINE_PX + (_SUB_DY_PX if "<sub>" in line else 0)  # room for a subscript's tail
        if i:  # the arrow in from the column before
            group.append(_arrow(cx - col + box_w / 2, left_edge, mid))
        if part == "layer":
            shown = min(model.units, DIAGRAM_MAX_CIRCLES)
            gap = min(0.11 * col, box_w * 0.7 / max(shown, 1))
            more = model.units > shown
            first = cx - gap * (shown - 1 + (1.2 if more else 0)) / 2
            row_y = top + _PAD_PX + _CIRCLES_PX / 2 - 1
            for j in range(shown):
                group.append(f'<circle class="unit" cx="{first + j * gap:.1f}" cy="{row_y}" r="4.5" fill="#ffffff" '
                             f'stroke="{BLUE}" stroke-width="1.5"/>')
            if more:
                group.append(f'<text class="label more" x="{first + (shown - 0.4) * gap:.1f}" y="{row_y + 4}" '
                             f'font-size="12" fill="{BLUE}">…</text>')
            # The loop: out of the box's top right, up and over, back into its top left, carrying the state.
            right, left, rise = cx + box_w * 0.3, cx - box_w * 0.3, _LOOP_PX - 6
            group.append(f'<path class="loop" d="M {right:.1f},{top} C {right + 10:.1f},{top - rise} '
                         f'{left - 10:.1f},{top - rise} {left:.1f},{top - 6}" fill="none" stroke="{BLUE}" '
                         'stroke-width="1.8"/>' + _arrowhead(left, top, -0.15, 1, BLUE))
            group.append(f'<text class="label state" x="{cx:.1f}" y="{top - rise * 0.75 - 4:.1f}" text-anchor="middle" '
                         f'fill="{BLUE}">{_tspans(state)}</text>')
        parts.append(f'<g class="part {part}">{"".join(group)}</g>')
    out_x = (len(columns) + 0.3) * col
    last_right = (len(columns) - 0.5) * col + box_w / 2
    parts.append(_arrow(last_right, out_x - 14, mid))
    parts.append(f'<text class="label" x="{out_x - 12:.1f}" y="{mid + 5}" font-size="14">'
                 f'{_tspans("ŷ<sub>t</sub>" if per_step else "ŷ")}</text>')
    # The total where the input's column has no loop above it: a title would cost the picture a row.
    parts.append(f'<text class="label total" x="{col / 2 - box_w / 2:.1f}" y="18" font-size="14">'
                 f'{_tspans(f"<b>{total:,} params</b>")}</text>')
    summary = "; ".join(_plain(" ".join(c[1])) for c in columns) + f"; {total:,} parameters in all"
    return (f'<svg xmlns="http://www.w3.org/2000/svg" class="network-diagram" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(summary)}" '
            f'style="max-width:100%;height:auto" font-size="{_FONT_PX}" fill="{INK}">\n'  # see below
            + "".join(parts) + "</svg>")  # no blank line: Markdown takes it all as one block of raw HTML
