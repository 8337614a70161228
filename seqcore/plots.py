"""Figures for the lab: pure functions, NumPy arrays in, `plotly.graph_objects.Figure` out.

The app re-sends each figure to the browser about once a second while a model
trains, so every function here keeps the payload small: values go to plotly
as float32 NumPy arrays (plotly serialises them as compact base64 typed
arrays), heatmaps are thinned to at most `max_cells` cells (the title says
how), and long curves are thinned to at most `MAX_POINTS` points per trace,
keeping the first and the last. Each figure kind sets a constant `uirevision`
so a live update keeps the user's zoom.

Colours are colourblind-safe: train / actual / right in blue, validation /
prediction / wrong in orange (wrong also differs in hatching and a ✗ mark),
test in bluish green, and grey for what is not scored.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
from plotly.subplots import make_subplots

__all__ = [
    "MAX_POINTS",
    "MAX_TEXT_CHARS",
    "adding_data_figure",
    "board_figure",
    "compare_figure",
    "figure_size_bytes",
    "gate_heatmaps",
    "gradient_time_figure",
    "hidden_state_heatmap",
    "loss_figure",
    "series_data_figure",
    "series_prediction_figure",
    "text_heatmap_figure",
    "token_prediction_figure",
    "unit_activation_figure",
    "weights_histogram",
]

MAX_POINTS = 2_000  # most points drawn per curve

BLUE, ORANGE, GREEN, PINK, GREY = "#1f77b4", "#ff7f0e", "#009E73", "#CC79A7", "#9e9e9e"
PALETTE = (BLUE, ORANGE, GREEN, PINK, "#56B4E9", "#D55E00", "#E69F00", "#000000")  # Okabe-Ito based
TOKEN_COLOURS = (  # light, distinct colours (ColorBrewer Set3) so the dark token text stays readable
    "#8dd3c7", "#ffffb3", "#bebada", "#fb8072", "#80b1d3", "#fdb462",
    "#b3de69", "#fccde5", "#d9d9d9", "#bc80bd", "#ccebc5", "#ffed6f",
)
# plotly_white without the parts no figure here uses (polar, ternary, 3-D, geo, default colour scales):
# the same look, ~5 kB less JSON per figure and quicker to build. Note: st.plotly_chart's default
# theme='streamlit' restyles figures; pass theme=None to show this template.
_WHITE = pio.templates["plotly_white"].to_plotly_json()
TEMPLATE = {
    "layout": {k: v for k, v in _WHITE["layout"].items()
               if k not in ("polar", "ternary", "scene", "geo", "colorscale", "shapedefaults")},
    "data": {k: _WHITE["data"][k] for k in ("bar", "scatter")} | {"heatmap": [{"colorbar": {"outlinewidth": 0}}]},
}
CANDIDATE_NAMES = ("c", "g", "h", "cand", "candidate", "cell", "c~", "h~", "c_tilde", "h_tilde")


# ---------------------------------------------------------------- helpers


TITLE_CHARS = 34  # about what one title line of a half-width chart shows on a 1280 px projector (270 px)
PHONE_TITLE_CHARS = 44  # and of a full-width chart on a 390 px phone (358 px), left of the mode bar
TITLE_PX, TITLE_TOP_PX, _TITLE_LINE_PX = 16, 6, 22  # the title's size (Streamlit's theme draws 16 px too), where
# it starts, and the height of one of its lines
# A chart's height, margins (the top one at least; a long title pushes it down) and text size, unless it says
# otherwise; seqcore.empty_chart draws its frame to the same measures.
CHART_HEIGHT_PX, MARGIN_LEFT_PX, MARGIN_RIGHT_PX, MARGIN_TOP_PX, MARGIN_BOTTOM_PX, FONT_PX = 340, 60, 30, 80, 50, 14


def _untagged(text: str) -> str:
    """`text` without its HTML tags (<b>, </sub>, <br>): what a chart shows of it. A '<' that starts no tag stays."""
    shown, i = [], 0
    while i < len(text):
        end = text.find(">", i)
        if text[i] == "<" and end > i and (text[i + 1:i + 2].isalpha() or text[i + 1:i + 2] == "/"):
            i = end + 1
            continue
        shown.append(text[i])
        i += 1
    return "".join(shown)


def _wrap_title(title: str, limit: int = TITLE_CHARS) -> str:
    """A title longer than `limit` characters (tags aside) on two lines: broken after the last ', ' or ': ', or
    before the last ' (', that leaves the first line within `limit` (a half-width chart cut a long title at its
    edge, under the mode bar). Only a <br> is added, so the title without its tags reads as before."""
    if not title or "<br>" in title or len(_untagged(title)) <= limit:
        return title
    ends = [i + 2 for i in range(len(title) - 1) if title[i:i + 2] in (", ", ": ")]
    ends += [i + 1 for i in range(len(title) - 1) if title[i:i + 2] == " ("]
    fits = [end for end in ends if len(_untagged(title[:end]).rstrip()) <= limit]
    if not fits:
        return title
    cut = max(fits)
    return f"{title[:cut]}<br>{title[cut:]}"


def _style(fig: go.Figure, *, kind: str, title: str, x_title: str | None = None, y_title: str | None = None,
           height: int = CHART_HEIGHT_PX, hovermode: str | bool = "closest", wrap_title: bool = True) -> go.Figure:
    """The shared look: trimmed plotly_white, left title (on two lines when long), the legend across the top
    under it, modest height, fixed uirevision.

    The legend hangs from a fixed distance below the title (measured on the whole figure), and Plotly moves the
    plot down as far as its rows need: above the plot, as before, a legend that wrapped onto three rows in a
    narrow chart grew up into the title. The right margin keeps the plot, and so the legend, clear of the mode
    bar down the right edge. `wrap_title=False` keeps a long title on one line, in smaller letters where it
    would not fit a phone's full-width chart (PHONE_TITLE_CHARS)."""
    fig.layout.template = TEMPLATE  # assigned, not merged into the default template by update_layout
    axis_titles = {f"{ax}axis_title_text": text for ax, text in (("x", x_title), ("y", y_title)) if text is not None}
    title_px = TITLE_PX
    if wrap_title:
        title = _wrap_title(title)
    elif title and len(_untagged(title)) > PHONE_TITLE_CHARS:
        title_px = max(11, int(TITLE_PX * PHONE_TITLE_CHARS / len(_untagged(title))))
    lines = title.count("<br>") + 1 if title else 0
    title_bottom = TITLE_TOP_PX + _TITLE_LINE_PX * lines
    # Plotly drops a top-anchored title's 0.7 em shift down once it has two lines (the first line's baseline went to
    # y, and its top off the figure): put it back.
    title_y = TITLE_TOP_PX + (0.7 * TITLE_PX if lines > 1 else 0)
    fig.update_layout(
        title=dict(text=title, font=dict(size=title_px), x=0.01, xanchor="left", y=1 - title_y / height,
                   yanchor="top"),
        height=height,
        margin=dict(l=MARGIN_LEFT_PX, r=MARGIN_RIGHT_PX, t=max(MARGIN_TOP_PX, title_bottom + 50),
                    b=MARGIN_BOTTOM_PX),
        font=dict(size=FONT_PX),
        legend=dict(orientation="h", yref="container", yanchor="top", y=1 - (title_bottom + 4) / height,
                    xanchor="right", x=1, title_text=""),
        modebar=dict(orientation="v"),  # down the right edge: across the top it covered the title on a phone
        hovermode=hovermode,
        uirevision=kind,
        **axis_titles,
    )
    return fig


def _f32(a) -> np.ndarray:
    """A flat, contiguous float32 copy of `a` (what plotly sends as a compact typed array)."""
    return np.ascontiguousarray(np.asarray(a, dtype=np.float32).reshape(-1))


def _axis(a) -> np.ndarray:
    """x values: dates as they are, int32 when they are whole numbers (steps, epochs), float32 otherwise."""
    a = np.asarray(a).reshape(-1)
    if a.dtype.kind == "M":
        return a.astype("datetime64[ms]")
    return a.astype(np.int32) if a.dtype.kind in "iub" else a.astype(np.float32)


def _x_point(value):
    """One x value as Plotly takes it in a shape: a date as ISO text (a datetime64's .item() can be an int)."""
    if isinstance(value, np.datetime64):
        return str(np.datetime_as_string(value, unit="ms"))
    return value.item() if isinstance(value, np.generic) else value


def _time_title(x) -> str:
    return "date" if np.asarray(x).dtype.kind == "M" else "time step"


def _thin(n: int, max_points: int = MAX_POINTS) -> np.ndarray:
    """At most `max_points` evenly spread indices into range(n), always keeping the first and the last."""
    if n <= max_points:
        return np.arange(n)
    return np.unique(np.linspace(0, n - 1, max(max_points, 2)).round().astype(np.int64))


def _ordinal(k: int) -> str:
    suffix = "th" if 10 <= k % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(k % 10, "th")
    return f"{k}{suffix}"


def _strides(n_t: int, n_u: int, max_cells: int) -> tuple[int, int]:
    """Strides over time and units that leave at most `max_cells` cells, thinning the longer side first."""
    if max_cells < 1:
        raise ValueError(f"max_cells must be at least 1, got {max_cells}")
    ts = us = 1
    while math.ceil(n_t / ts) * math.ceil(n_u / us) > max_cells:
        if math.ceil(n_t / ts) >= math.ceil(n_u / us):
            ts += 1
        else:
            us += 1
    return ts, us


def _stride_note(ts: int, us: int) -> str:
    parts = ([f"every {_ordinal(ts)} step"] if ts > 1 else []) + ([f"every {_ordinal(us)} unit"] if us > 1 else [])
    return f" ({', '.join(parts)})" if parts else ""


def _heat_grid(h, ts: int, us: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(z, x, y) for a (T, units) array strided in time and units: z is (units, T) float32, x/y the kept indices."""
    h = np.asarray(h, dtype=np.float32)
    if h.ndim == 1:
        h = h[:, None]
    if h.ndim != 2:
        raise ValueError(f"expected a (time steps, units) array, got shape {h.shape}")
    z = np.ascontiguousarray(h[::ts, ::us].T)
    return z, np.arange(0, h.shape[0], ts, dtype=np.int32), np.arange(0, h.shape[1], us, dtype=np.int32)


def _label_ticks(x: np.ndarray, x_labels, max_ticks: int = 30) -> dict:
    """Tick settings that show per-step labels (e.g. input tokens) at the kept steps, at most `max_ticks` of them."""
    if x_labels is None or len(x) == 0:
        return {}
    shown = x[_thin(len(x), max_ticks)]
    return dict(tickmode="array", tickvals=shown, ticktext=[str(x_labels[i]) for i in shown])


def _ema(y: np.ndarray, weight: float) -> np.ndarray:
    """TensorBoard's debiased exponential moving average of finite values."""
    out, last = np.empty(len(y), dtype=np.float64), 0.0
    for i, v in enumerate(y.astype(np.float64)):
        last = last * weight + (1.0 - weight) * v
        out[i] = last / (1.0 - weight ** (i + 1))
    return out


def _curve(fig: go.Figure, x: np.ndarray, y, *, name: str, colour: str, smoothing: float) -> int | None:
    """Add one curve (raw and, if smoothing, smoothed); return the index of its first non-finite value or None."""
    y = np.asarray(y, dtype=np.float64).reshape(-1)
    finite = np.isfinite(y)
    bad = None if finite.all() else int(np.argmin(finite))
    xs, ys = x[finite], y[finite]
    keep = _thin(len(ys))
    raw = dict(x=xs[keep], y=_f32(ys[keep]), mode="lines", legendgroup=name, line=dict(color=colour, width=2))
    if smoothing > 0:
        fig.add_trace(go.Scatter(**raw, name=f"{name} (raw)", opacity=0.25, showlegend=False, hoverinfo="skip"))
        smooth = _ema(ys, smoothing)[keep]
        fig.add_trace(go.Scatter(x=xs[keep], y=_f32(smooth), name=name, mode="lines", legendgroup=name,
                                 line=dict(color=colour, width=2.5)))
    else:
        fig.add_trace(go.Scatter(**raw, name=name))
    return bad


# ---------------------------------------------------------------- training curves


# Baselines closer than this (a share of the largest one, or decades on a log axis) share a label, or they overlap.
BASELINE_LABEL_GAP, BASELINE_LABEL_GAP_DECADES = 0.04, 0.1


_METRIC_WORDS = (" cross-entropy", " MSE", " accuracy", " bits per character", " bits/char")


def _short_baseline(name: str) -> str:
    """'HMM cross-entropy (K = 10 states)' -> 'HMM (K = 10 states)': in a shared label the axis already says the
    quantity, and the full names ran past a half-width chart's edge."""
    for word in _METRIC_WORDS:
        name = name.replace(word, "")
    return name


def _baseline_lines(fig: go.Figure, baselines: dict[str, float] | None, log_y: bool) -> None:
    """Each baseline as a dashed grey line; its name above it, or one label for baselines whose lines lie too
    close to tell apart (e.g. the bigram and a few-state HMM at chance). None that a log axis cannot show."""
    shown = sorted((value, name) for name, value in (baselines or {}).items()
                   if value is not None and math.isfinite(value) and not (log_y and value <= 0))
    if not shown:
        return
    position = (lambda v: math.log10(v)) if log_y else (lambda v: v)
    gap = BASELINE_LABEL_GAP_DECADES if log_y else BASELINE_LABEL_GAP * max(abs(v) for v, _ in shown)
    groups: list[list[tuple[float, str]]] = []
    for value, name in shown:
        fig.add_hline(y=value, line=dict(color="#555555", dash="dash", width=1.5))
        if groups and position(value) - position(groups[-1][-1][0]) <= gap:
            groups[-1].append((value, name))
        else:
            groups.append([(value, name)])
    for group in groups:
        names = [name for _, name in group] if len(group) == 1 else [_short_baseline(name) for _, name in group]
        fig.add_annotation(text=" · ".join(names), xref="paper", x=0.01, xanchor="left",
                           yanchor="bottom", showarrow=False, y=position(group[-1][0]),
                           font=dict(size=12, color="#555555"))


def loss_figure(epochs, train_loss, val_loss=None, *, log_y: bool = False, smoothing: float = 0.0,
                baselines: dict[str, float] | None = None, title: str = "Loss", y_label: str = "loss",
                previous: tuple[str, Sequence, Sequence, Sequence] | None = None) -> go.Figure:
    """Training (blue) and validation (orange) loss per epoch; also used for metrics such as accuracy or MAE.

    `smoothing` in [0, 1) draws TensorBoard's debiased moving average over a faint raw curve.
    `baselines` (name -> value) are dashed horizontal reference lines, e.g. 'bigram cross-entropy'.
    `previous` (label, epochs, train, validation): the run before, drawn faded underneath for comparison.
    NaN or infinite values are left out of the curves and an annotation says where the first one appeared.
    """
    if not 0.0 <= smoothing < 1.0:
        raise ValueError(f"smoothing must be in [0, 1), got {smoothing}")
    x = _axis(epochs)
    fig = go.Figure()
    if previous is not None:
        label, px, ptrain, pval = previous
        for values, dash, part in ((ptrain, "solid", "train"), (pval, "dot", "validation")):
            y = np.asarray(values, dtype=np.float64)
            keep = _thin(len(y))
            fig.add_trace(go.Scatter(x=_axis(px)[keep], y=_f32(_ema(y, smoothing) if smoothing else y)[keep],
                                     name=f"previous run, {part}", legendgroup="previous", mode="lines",
                                     line=dict(color=GREY, width=1.5, dash=dash), opacity=0.6,
                                     hovertemplate=f"{label} {part}: %{{y:.4g}}<extra></extra>"))
    bads = [_curve(fig, x, train_loss, name="train", colour=BLUE, smoothing=smoothing)]
    if val_loss is not None:
        bads.append(_curve(fig, x, val_loss, name="validation", colour=ORANGE, smoothing=smoothing))
    _baseline_lines(fig, baselines, log_y)
    bad = min((b for b in bads if b is not None), default=None)
    if bad is not None:
        epoch = x[bad].item()
        fig.add_vline(x=epoch, line=dict(color="#555555", dash="dot", width=1))
        fig.add_annotation(text=f"{y_label} became NaN at epoch {epoch:g}", x=epoch, xref="x", y=1, yref="paper",
                           xanchor="right", yanchor="top", showarrow=False, font=dict(color="#b35900"))
    fig.update_yaxes(type="log" if log_y else "linear")
    return _style(fig, kind=f"loss:{y_label}", title=title, x_title="epoch", y_title=y_label, hovermode="x unified")


def compare_figure(runs: Sequence[tuple[str, Sequence, Sequence, Sequence]], *, log_y: bool = False,
                   smoothing: float = 0.0, baselines: dict[str, float] | None = None, title: str = "Loss",
                   y_label: str = "loss") -> go.Figure:
    """Several runs on the same axes, one colour each: `runs` is (label, epochs, train, validation) per run,
    train solid and validation dotted; `baselines` dashed grey. Hover shows every run's exact values."""
    if not 0.0 <= smoothing < 1.0:
        raise ValueError(f"smoothing must be in [0, 1), got {smoothing}")
    fig = go.Figure()
    for i, (label, epochs, train, val) in enumerate(runs):
        colour, x = PALETTE[i % len(PALETTE)], _axis(epochs)
        for values, dash, part in ((train, "solid", "train"), (val, "dot", "validation")):
            y = np.asarray(values, dtype=np.float64).reshape(-1)
            finite = np.isfinite(y)
            xs, ys = x[finite], y[finite]
            keep = _thin(len(ys))
            shown = _ema(ys, smoothing) if smoothing and len(ys) else ys
            fig.add_trace(go.Scatter(x=xs[keep], y=_f32(shown[keep]), name=f"{label}: {part}", legendgroup=label,
                                     mode="lines", line=dict(color=colour, width=2, dash=dash),
                                     hovertemplate=f"{y_label} %{{y:.4f}}<extra>{label} {part}</extra>"))
    _baseline_lines(fig, baselines, log_y)
    fig.update_yaxes(type="log" if log_y else "linear")
    return _style(fig, kind=f"compare:{y_label}", title=title, x_title="epoch", y_title=y_label,
                  hovermode="x unified")


def board_figure(names: Sequence[str], values: Sequence[float], *, metric: str, baseline: tuple[str, float] | None,
                 highlight: Sequence[bool] = ()) -> go.Figure:
    """The class board: one bar per run (best first, as given), the best baseline as a dashed line. `names` are
    people's own words: escaped, since Plotly renders HTML tags (links included) in labels."""
    labels = [f"{i}. {html.escape(name)}" for i, name in enumerate(names, start=1)]
    colours = [ORANGE if mine else BLUE for mine in (list(highlight) + [False] * len(labels))[:len(labels)]]
    fig = go.Figure(go.Bar(x=labels, y=_f32(values), marker_color=colours, text=[f"{v:.3f}" for v in values],
                           textposition="outside", hovertemplate=f"%{{x}}<br>test {metric} %{{y:.4f}}<extra></extra>"))
    if baseline is not None and math.isfinite(baseline[1]):
        fig.add_hline(y=baseline[1], line=dict(color="#555555", dash="dash", width=2))
        fig.add_annotation(text=html.escape(baseline[0]), xref="paper", x=0.99, xanchor="right", yanchor="bottom",
                           y=baseline[1], showarrow=False, font=dict(size=14, color="#555555"))
    return _style(fig, kind="board", title=f"Test {metric}, best first", y_title=f"test {metric}", height=420)


# ---------------------------------------------------------------- inside the network


def hidden_state_heatmap(h, *, title: str = "Hidden state", x_labels=None, max_cells: int = 20_000,
                         zmid: float = 0.0, colorscale: str = "RdBu", zmin: float = -1, zmax: float = 1) -> go.Figure:
    """The hidden state h_t of a layer over one sequence: time steps on x, units on y, value as colour.

    `h` is (T, units); `x_labels` (one per step, e.g. the input tokens) become the tick text. Larger states
    are strided to at most `max_cells` cells, and the title says which steps and units are shown.
    """
    h = np.asarray(h)
    shape = h.shape if h.ndim == 2 else (h.shape[0], 1)
    ts, us = _strides(*shape, max_cells)
    z, x, y = _heat_grid(h, ts, us)
    fig = go.Figure(go.Heatmap(z=z, x=x, y=y, zmin=zmin, zmax=zmax, zmid=zmid, colorscale=colorscale,
                               colorbar=dict(thickness=12, title=dict(text="h")),
                               hovertemplate="step %{x}<br>unit %{y}<br>h = %{z:.3f}<extra></extra>"))
    fig.update_xaxes(**_label_ticks(x, x_labels))
    return _style(fig, kind="hidden_state", title=title + _stride_note(ts, us), x_title="time step", y_title="unit")


def _is_candidate(name: str, g: np.ndarray) -> bool:
    """The candidate (tanh, -1..1) rather than a sigmoid gate (0..1): by its name, or by negative values."""
    return name.strip().lower() in CANDIDATE_NAMES or bool(np.nanmin(g, initial=0.0) < 0)


def gate_heatmaps(gates: dict[str, np.ndarray], *, title: str = "Gates", x_labels=None,
                  max_cells: int = 20_000) -> go.Figure:
    """Each gate of an LSTM/GRU over one sequence, one row per gate (time on a shared x axis, units on y).

    Sigmoid gates are drawn on a 0..1 Viridis scale, the candidate (named e.g. 'c', 'g', 'candidate', or
    holding negative values) on a -1..1 red-blue scale. `max_cells` bounds the cells of all rows together.
    """
    arrays = {name: np.asarray(g, dtype=np.float32) for name, g in gates.items()}
    n = max(len(arrays), 1)
    t_max = max((a.shape[0] for a in arrays.values()), default=1)
    u_max = max((a.shape[1] if a.ndim == 2 else 1 for a in arrays.values()), default=1)
    ts, us = _strides(t_max, u_max, max(max_cells // n, 1))
    fig = make_subplots(rows=n, cols=1, shared_xaxes=True, vertical_spacing=0.06, subplot_titles=list(arrays))
    x = np.zeros(0, dtype=np.int32)
    for row, (name, g) in enumerate(arrays.items(), start=1):
        z, x_row, y = _heat_grid(g, ts, us)
        x = x_row if len(x_row) > len(x) else x
        fig.add_trace(go.Heatmap(z=z, x=x_row, y=y, name=name, coloraxis="coloraxis2" if _is_candidate(name, g)
                                 else "coloraxis", hovertemplate=f"{name}<br>step %{{x}}<br>unit %{{y}}<br>"
                                 "value = %{z:.3f}<extra></extra>"), row=row, col=1)
        fig.update_yaxes(title_text="unit", row=row, col=1)
    bar = dict(thickness=12, len=0.45)
    fig.update_layout(coloraxis=dict(cmin=0, cmax=1, colorscale="Viridis",
                                     colorbar=dict(**bar, y=1, yanchor="top", title=dict(text="gate"))),
                      coloraxis2=dict(cmin=-1, cmax=1, cmid=0, colorscale="RdBu",
                                      colorbar=dict(**bar, y=0, yanchor="bottom", title=dict(text="cand."))))
    fig.update_xaxes(title_text="time step", row=n, col=1, **_label_ticks(x, x_labels))
    return _style(fig, kind="gates", title=title + _stride_note(ts, us), height=min(120 + 110 * n, 600))


def unit_activation_figure(h_unit, inputs, *, unit: int, input_label: str = "input",
                           title: str | None = None) -> go.Figure:
    """One hidden unit's activation over time (bottom row) under the input that drove it (top row)."""
    h_unit = _f32(h_unit)
    inputs = np.asarray(inputs, dtype=np.float32)
    inputs = inputs.reshape(len(inputs), -1)
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.08)
    keep = _thin(len(inputs))
    for j in range(inputs.shape[1]):
        name = input_label if inputs.shape[1] == 1 else f"{input_label} {j}"
        fig.add_trace(go.Scatter(x=keep.astype(np.int32), y=_f32(inputs[keep, j]), name=name, mode="lines+markers",
                                 marker=dict(size=4), line=dict(color=PALETTE[(j + 1) % len(PALETTE)])), row=1, col=1)
    keep = _thin(len(h_unit))
    fig.add_trace(go.Scatter(x=keep.astype(np.int32), y=h_unit[keep], name=f"unit {unit}", mode="lines",
                             line=dict(color=BLUE, width=2.5)), row=2, col=1)
    fig.update_yaxes(title_text=input_label, row=1, col=1)
    fig.update_yaxes(title_text=f"unit {unit}", row=2, col=1)
    fig.update_xaxes(title_text="time step", row=2, col=1)
    return _style(fig, kind="unit_activation", title=title or f"Hidden unit {unit} against the {input_label}",
                  height=380, hovermode="x unified")


def weights_histogram(arrays: dict[str, np.ndarray], *, title: str = "Weights") -> go.Figure:
    """Overlaid histograms of layer weights (kernels, recurrent kernels, biases), as shares of each array.

    The counts are binned here on shared bins, so only ~60 bars per array travel to the browser,
    however many weights the layer has.
    """
    flat = {name: np.asarray(a, dtype=np.float64).reshape(-1) for name, a in arrays.items()}
    flat = {name: a[np.isfinite(a)] for name, a in flat.items()}
    values = [a for a in flat.values() if a.size]
    low, high = (min(a.min() for a in values), max(a.max() for a in values)) if values else (0.0, 1.0)
    edges = np.linspace(low, high if high > low else low + 1.0, 61)
    fig = go.Figure()
    for i, (name, a) in enumerate(flat.items()):
        counts, _ = np.histogram(a, bins=edges)
        share = counts / max(a.size, 1)
        fig.add_trace(go.Bar(x=_f32((edges[:-1] + edges[1:]) / 2), y=_f32(share), width=float(edges[1] - edges[0]),
                             name=f"{name} ({a.size:,})", opacity=0.55, marker=dict(color=PALETTE[i % len(PALETTE)]),
                             hovertemplate="%{x:.3f}: %{y:.1%}<extra>" + name + "</extra>"))
    fig.update_layout(barmode="overlay", bargap=0)
    fig.update_yaxes(tickformat=".0%")
    return _style(fig, kind="weights", title=title, x_title="weight value", y_title="share of weights")


# ---------------------------------------------------------------- predictions


def series_prediction_figure(t_actual, actual, t_pred, predicted, *, t_forecast=None, forecast=None,
                             title: str = "Predictions on validation data", y_label: str = "value") -> go.Figure:
    """The actual series (blue line), the model's one-step-ahead predictions (orange), and optionally a
    free-running forecast (pink, dashed) that feeds its own outputs back, in a shaded region where it starts.
    Trace names are short so that the legend fits one row of a half-width chart (a wrapped one covers the title).
    """
    fig = go.Figure()
    t_actual, actual = _axis(t_actual), _f32(actual)
    keep = _thin(len(actual))
    fig.add_trace(go.Scatter(x=t_actual[keep], y=actual[keep], name="actual", mode="lines",
                             line=dict(color=BLUE, width=2)))
    t_pred, predicted = _axis(t_pred), _f32(predicted)
    keep = _thin(len(predicted))
    fig.add_trace(go.Scatter(x=t_pred[keep], y=predicted[keep], name="one step ahead",
                             mode="lines+markers" if len(keep) <= 200 else "lines",
                             marker=dict(size=5, symbol="circle-open"), line=dict(color=ORANGE, width=1.5)))
    if t_forecast is not None and forecast is not None and len(forecast):
        t_forecast, forecast = _axis(t_forecast), _f32(forecast)
        keep = _thin(len(forecast))
        fig.add_vrect(x0=_x_point(t_forecast[0]), x1=_x_point(t_forecast[-1]), fillcolor=GREY, opacity=0.12,
                      line_width=0, annotation_text="forecast", annotation_position="top left")
        fig.add_trace(go.Scatter(x=t_forecast[keep], y=forecast[keep], name="forecast", mode="lines",
                                 line=dict(color=PINK, width=2.5, dash="dash")))
    return _style(fig, kind="series_prediction", title=title, x_title=_time_title(t_actual), y_title=y_label,
                  hovermode="x unified")


def scatter_prediction_figure(truth, predicted, *, title: str = "Predicted vs true", quantity: str = "value",
                              max_points: int = 2_000) -> go.Figure:
    """Predicted against true values of `quantity` (one point per sequence) with the diagonal a perfect model
    would lie on."""
    truth, predicted = _f32(truth), _f32(predicted)
    keep = _thin(len(truth), max_points)
    fig = go.Figure()
    if len(truth):
        low, high = float(min(truth.min(), predicted.min())), float(max(truth.max(), predicted.max()))
        fig.add_trace(go.Scatter(x=np.array([low, high], dtype=np.float32), y=np.array([low, high], dtype=np.float32),
                                 name="perfect", mode="lines", line=dict(color=GREY, dash="dash")))
    fig.add_trace(go.Scatter(x=truth[keep], y=predicted[keep], name="sequences", mode="markers",
                             marker=dict(color=ORANGE, size=6, opacity=0.7)))
    return _style(fig, kind="scatter_prediction", title=title, x_title=f"true {quantity}",
                  y_title=f"predicted {quantity}")


def token_prediction_figure(input_tokens, target_tokens, predicted_tokens, p_true, *, weights=None,
                            chance: float | None = None, target: str = "next token",
                            title: str = "Predictions on a probe sequence") -> go.Figure:
    """One bar per time step: the probability the model gives the true target (`target` names it: the next
    token, the token L steps back, ...).

    Right predictions are blue and marked ✓, wrong ones orange, hatched and marked ✗ (the mark is followed
    by the predicted token; up to 80 steps); steps with weight 0 are not scored and drawn grey. The tick under
    each bar is the input token there; hover shows input, target, prediction and probability.
    `chance` adds a dashed chance-level line.
    """
    inputs, targets, preds = (np.asarray(a).reshape(-1) for a in (input_tokens, target_tokens, predicted_tokens))
    p = _f32(p_true)
    steps = np.arange(len(p), dtype=np.int32)
    scored = np.ones(len(p), bool) if weights is None else np.asarray(weights).reshape(-1) != 0
    right = preds == targets
    groups = (("right", scored & right, BLUE, "", "✓"), ("wrong", scored & ~right, ORANGE, "/", "✗"),
              ("not scored", ~scored, GREY, "", ""))
    fig = go.Figure()
    for name, mask, colour, hatch, mark in groups:
        idx = steps[mask]
        text = [f"{mark}{preds[i]}" for i in idx] if len(p) <= 80 else None
        hover = [f"step {i}<br>input {inputs[i]}<br>target {targets[i]}<br>predicted {preds[i]}" for i in idx]
        fig.add_trace(go.Bar(x=idx, y=p[idx], name=name, text=text, textposition="outside", hovertext=hover,
                             hovertemplate="%{hovertext}<br>p(target) = %{y:.3f}<extra></extra>",
                             marker=dict(color=colour, pattern=dict(shape=hatch, fgcolor="#ffffff"))))
    if chance is not None:
        fig.add_trace(go.Scatter(x=np.array([-0.5, len(p) - 0.5], np.float32), y=np.full(2, chance, np.float32),
                                 name=f"chance ({chance:.2g})", mode="lines", hoverinfo="skip",
                                 line=dict(color="#555555", dash="dash", width=1.5)))
    fig.update_layout(barmode="overlay", bargap=0.15)
    fig.update_yaxes(range=[0, 1.15], tickvals=[0, 0.25, 0.5, 0.75, 1])
    fig.update_xaxes(**_label_ticks(steps, inputs))
    return _style(fig, kind="token_prediction", title=title, x_title="input token at each step",
                  y_title=f"p(true {target})" if len(target) <= 20 else "p(true target)")


def jacobian_figure(tanh_norms, linear_norms, *, radius: float, lag: int, lag_label: str) -> go.Figure:
    """‖∂h_t/∂h_0‖ against t on a log axis, beside ‖(Uᵀ)ᵗ‖, with a line at `lag` steps (`lag_label` says why)."""
    t = np.arange(1, len(tanh_norms) + 1)
    floor = 1e-30  # a log axis cannot show 0
    traces = [
        go.Scatter(x=t, y=np.maximum(linear_norms, floor), name=f"tanh′ = 1: ‖(Uᵀ)ᵗ‖ ≈ {radius:g}ᵗ",
                   line=dict(color=GREY, dash="dash")),
        go.Scatter(x=t, y=np.maximum(tanh_norms, floor), name="tanh network: ‖∂hₜ/∂h₀‖",
                   line=dict(color=BLUE, width=3)),
    ]
    # Shapes in the layout dict, not add_hline/add_vline: the same lines at a fraction of the cost.
    lines = [dict(type="line", xref="paper", x0=0, x1=1, yref="y", y0=1, y1=1, line=dict(color="#555555", width=1)),
             dict(type="line", xref="x", x0=lag, x1=lag, yref="paper", y0=0, y1=1,
                  line=dict(color=ORANGE, dash="dot"))]
    note = dict(text=f" {lag} steps: {lag_label}", xref="x", x=lag, xanchor="left",
                yref="paper", y=0, yanchor="bottom", showarrow=False, font=dict(color=ORANGE))
    # The legend hangs from the figure's top and Plotly moves the plot down as far as its rows need (two on a
    # phone); the mode bar goes down the right edge, beside the plot, where it covers no legend entry.
    return go.Figure(traces, layout=dict(
        height=380, margin=dict(l=60, r=30, t=30, b=50), hovermode="x unified", shapes=lines, annotations=[note],
        legend=dict(orientation="h", yref="container", yanchor="top", y=1 - 4 / 380, x=0),
        modebar=dict(orientation="v"),
        xaxis=dict(title_text="steps back in time, t", range=[0, len(t) + 1]),
        yaxis=dict(type="log", exponentformat="power", title_text="norm of the Jacobian product")))


def gradient_time_figure(curves: Sequence[tuple[str, np.ndarray]], *, epoch_note: str = "") -> go.Figure:
    """‖∂L/∂x_t‖ of trained networks against the step t, on a log axis: one line per run (label, norms). A
    curve that falls off towards early steps is a network whose loss no longer reaches back to those inputs."""
    floor = 1e-12  # a log axis cannot show 0
    fig = go.Figure()
    for i, (label, norms) in enumerate(curves):
        norms = np.asarray(norms, dtype=np.float64)
        fig.add_trace(go.Scatter(x=np.arange(1, len(norms) + 1), y=_f32(np.maximum(norms, floor)), name=label,
                                 mode="lines", line=dict(color=PALETTE[i % len(PALETTE)], width=2.5),
                                 hovertemplate=f"step %{{x}}: %{{y:.2e}}<extra>{label}</extra>"))
    fig.update_yaxes(type="log", exponentformat="power")
    return _style(fig, kind="gradients", title="Gradients through time: ‖∂L/∂xₜ‖" + epoch_note,
                  x_title="input step t", y_title="‖∂L/∂xₜ‖ (log)", hovermode="x unified")


# ---------------------------------------------------------------- data


def series_data_figure(series, split_points: Sequence[int], *, title: str = "Data",
                       max_points: int = 5_000, times=None) -> go.Figure:
    """The raw series, its train / validation / test parts in blue / orange / green, over `times` (its dates)
    or the step numbers.

    `split_points` are the indices where validation and then test begin (one or two of them). Each part
    is thinned to its share of `max_points`; a part's line starts at the previous part's last point so
    the series reads as one unbroken line. A 2-D series shows its first column.
    """
    y = np.asarray(series, dtype=np.float32)
    y = y.reshape(len(y), -1)[:, 0] if y.ndim > 1 else y
    n = len(y)
    bounds = [0, *sorted(min(max(int(s), 0), n) for s in split_points), n]
    fig = go.Figure()
    for name, colour, start, stop in zip(("train", "validation", "test"), (BLUE, ORANGE, GREEN), bounds, bounds[1:],
                                         strict=False):
        if stop <= start:
            continue
        lo = max(start - 1, 0)
        keep = lo + _thin(stop - lo, max(int(max_points * (stop - lo) / max(n, 1)), 2))
        x = _axis(times)[keep] if times is not None else keep.astype(np.int32)
        fig.add_trace(go.Scatter(x=x, y=y[keep], name=name, mode="lines", line=dict(color=colour, width=1.5)))
    return _style(fig, kind="series_data", title=title, x_title="date" if times is not None else "time step",
                  y_title="value", hovermode="x unified")


def adding_data_figure(values, markers, *, n_rows: int = 4, title: str = "Adding problem") -> go.Figure:
    """The adding problem: a few sequences of values (blue lines), one per row, with the two marked
    positions (whose values the target adds up) highlighted as orange diamonds; each row's title gives that sum.
    """
    values = np.asarray(values, dtype=np.float32).reshape(len(values), -1)[:n_rows]
    markers = np.asarray(markers).reshape(len(markers), -1)[:n_rows] > 0
    n = max(len(values), 1)
    sums = [float(v[m].sum()) for v, m in zip(values, markers, strict=True)]
    fig = make_subplots(rows=n, cols=1, shared_xaxes=True, vertical_spacing=0.1,
                        subplot_titles=[f"sequence {i}: marked sum = {s:.3f}" for i, s in enumerate(sums)])
    for i, (v, m) in enumerate(zip(values, markers, strict=True)):
        steps = np.arange(len(v), dtype=np.int32)
        fig.add_trace(go.Scatter(x=steps, y=v, mode="lines", name="values", legendgroup="values", showlegend=i == 0,
                                 line=dict(color=BLUE, width=1.5)), row=i + 1, col=1)
        fig.add_trace(go.Scatter(x=steps[m], y=v[m], mode="markers", name="marked", legendgroup="marked",
                                 showlegend=i == 0, marker=dict(color=ORANGE, size=12, symbol="diamond",
                                                                line=dict(color="#000000", width=1))),
                      row=i + 1, col=1)
    fig.update_xaxes(title_text="time step", row=n, col=1)
    return _style(fig, kind="adding_data", title=title, height=min(120 + 90 * n, 600))


# ---------------------------------------------------------------- measuring


def figure_size_bytes(fig: go.Figure) -> int:
    """How many bytes the figure's JSON takes (what `st.plotly_chart` sends to the browser)."""
    return len(fig.to_json().encode("utf-8"))


def gate_saturation_figure(saturation, *, title: str = "Gate saturation") -> go.Figure:
    """One scatter per gate, a point per unit: x the share of steps the gate is open (> 0.9), y the share it
    is shut (< 0.1), as in Karpathy, Johnson & Fei-Fei 2015. Points on the diagonal x + y = 1 are always
    saturated, near (0, 0) never. `saturation`: seqcore.saturation.GateSaturation records."""
    # One y axis for all (its labels on the left only) and one x title, in the middle: side by side on a phone, each
    # subplot's "100%" ran into the next one's "0%" and their x titles into each other.
    n = max(len(saturation), 1)
    fig = make_subplots(rows=1, cols=n, subplot_titles=[s.gate for s in saturation], shared_yaxes=True,
                        horizontal_spacing=0.1)
    for col, gate in enumerate(saturation, start=1):
        units = np.arange(len(gate.open), dtype=np.int32)
        marker = dict(size=7, opacity=0.7, color=PALETTE[(col - 1) % len(PALETTE)])
        hover = (f"{gate.gate} gate, unit %{{customdata}}<br>open (> 0.9) %{{x:.0%}} of steps<br>"
                 "shut (< 0.1) %{y:.0%}<extra></extra>")
        fig.add_trace(go.Scatter(x=_f32(gate.open), y=_f32(gate.shut), customdata=units, mode="markers",
                                 name=gate.gate, marker=marker, hovertemplate=hover), row=1, col=col)
        fig.add_trace(go.Scatter(x=[0.0, 1.0], y=[1.0, 0.0], mode="lines", showlegend=False, hoverinfo="skip",
                                 line=dict(color="#999999", dash="dot", width=1)), row=1, col=col)
        fig.update_xaxes(range=[-0.03, 1.03], tickvals=[0, 0.5, 1], tickformat=".0%", row=1, col=col,
                         title_text="open (> 0.9)" if col == (n + 1) // 2 else None)
        fig.update_yaxes(range=[-0.03, 1.03], tickformat=".0%", row=1, col=col,
                         title_text="shut (< 0.1)" if col == 1 else None)
    fig.update_layout(showlegend=False)
    # Its title on one line, whole (as the Runs page's tests read it), in smaller letters where it is long.
    return _style(fig, kind="saturation", title=title, height=340, wrap_title=False)


# ---------------------------------------------------------------- text


MAX_TEXT_CHARS = 4_000  # most characters a text heatmap draws: each is a cell, its text and its hover label
TEXT_ROW_PX, TEXT_MAX_HEIGHT = 20, 900  # a row's height in pixels until the figure reaches its cap
_DRAWN = {"\n": "↵", "\t": "⇥", " ": ""}
_NAMED = {"\n": "line end", "\t": "tab", " ": "space"}


def _text_cell(ch: str) -> tuple[str, str]:
    """What a character's cell shows and how its hover names it. Escaped, since Plotly renders HTML tags, but not
    quotes: Plotly decodes &amp; &lt; &gt; and numeric entities, and would draw &quot; as it is."""
    if ch in _DRAWN:
        return _DRAWN[ch], _NAMED[ch]
    if not ch.isprintable():
        return "·", f"U+{ord(ch[0]):04X}"  # a control character ("" is printable, so ch has one)
    shown = html.escape(ch, quote=False)
    return shown, f'"{shown}"'


def text_heatmap_figure(chars, values, *, hover=None, title: str, colour_range: tuple[float, float] | None = None,
                        diverging: bool = True, line_width: int = 80, value_label: str = "activation") -> go.Figure:
    """A passage as a grid of characters, each cell coloured by its value (a unit's activation, a probability).

    Rows break at each line end (drawn ↵ at the end of its row) and after `line_width` characters; cells past
    a row's end are NaN, so they show no colour. `hover` (plain text, one string per character, e.g.
    "p = 0.43") replaces the value in the hover label. `diverging`: red-blue centred on 0, over `colour_range`
    or ± the largest |value|; otherwise a sequential scale over `colour_range` or 0..1. At most MAX_TEXT_CHARS
    characters are drawn, and the title says when the passage was cut.
    """
    chars = list(chars)
    values = np.asarray(values, dtype=np.float32).reshape(-1)
    if len(values) != len(chars):
        raise ValueError(f"expected one value per character: {len(chars)} characters, {len(values)} values")
    if hover is not None and len(hover) != len(chars):
        raise ValueError(f"expected one hover string per character: {len(chars)} characters, {len(hover)} strings")
    if isinstance(line_width, bool) or not isinstance(line_width, int) or line_width < 1:
        raise ValueError(f"line_width must be a whole number >= 1, got {line_width!r}")
    n = len(chars)
    if n > MAX_TEXT_CHARS:
        title = f"{title} (the first {MAX_TEXT_CHARS:,} of {n:,} characters)"
        chars, values = chars[:MAX_TEXT_CHARS], values[:MAX_TEXT_CHARS]
    label = html.escape(value_label, quote=False)
    places, line, column, row, col = [], 0, 0, 0, 0
    for ch in chars:
        if col >= line_width and ch != "\n":  # a line end stays at the end of its row, one past line_width
            row, col = row + 1, 0
        places.append((row, col, line, column))
        if ch == "\n":
            row, col, line, column = row + 1, 0, line + 1, 0
        else:
            col, column = col + 1, column + 1
    rows = max((r for r, *_ in places), default=0) + 1
    cols = max((c for _, c, *_ in places), default=0) + 1
    z = np.full((rows, cols), np.nan, dtype=np.float32)
    text = [[""] * cols for _ in range(rows)]
    hovertext = [[""] * cols for _ in range(rows)]
    for i, (ch, (r, c, ln, cn)) in enumerate(zip(chars, places, strict=True)):
        z[r, c] = values[i]
        text[r][c], name = _text_cell(ch)
        # ASCII, and the value left to the template: the hover labels are most of the figure's bytes.
        detail = f"<br>{html.escape(str(hover[i]), quote=False)}" if hover is not None else ""
        hovertext[r][c] = f"{name}: character {i}, line {ln + 1}, column {cn + 1}{detail}"
    finite = values[np.isfinite(values)]
    if diverging:
        largest = float(np.abs(finite).max()) if finite.size else 0.0
        low, high = colour_range if colour_range is not None else (-(largest or 1.0), largest or 1.0)
        scale = dict(colorscale="RdBu", zmid=0.0, zmin=low, zmax=high)
    else:
        low, high = colour_range if colour_range is not None else (0.0, 1.0)
        scale = dict(colorscale="Blues", zmin=low, zmax=high)
    shown_rows = max(rows, 5)  # a short passage keeps rows of the usual height, and its colour bar room
    height = min(110 + TEXT_ROW_PX * shown_rows, TEXT_MAX_HEIGHT)
    row_px = (height - 110) / shown_rows
    value = "" if hover is not None else f"<br>{label} = %{{z:.3f}}"
    fig = go.Figure(go.Heatmap(z=z, text=text, texttemplate="%{text}", hovertext=hovertext,
                               hovertemplate=f"%{{hovertext}}{value}<extra></extra>", hoverongaps=False,
                               xgap=1, ygap=1,
                               textfont=dict(size=max(8, min(14, round(row_px * 0.75))), family="monospace"),
                               colorbar=dict(thickness=12, title=dict(text=label)), **scale))
    # Rows keep their height and the columns share the width: a fixed aspect (scaleanchor) would shrink a
    # tall passage's grid to a narrow strip of unreadable cells in the middle of the figure.
    hidden = dict(showticklabels=False, showgrid=False, zeroline=False, ticks="")
    fig.update_xaxes(**hidden, range=[-0.5, max(cols, 20) - 0.5])
    fig.update_yaxes(**hidden, range=[shown_rows - 0.5, -0.5])  # reversed: the first line on top
    _style(fig, kind="text_heatmap", title=title, height=height)
    fig.update_layout(margin=dict(l=10, r=10, t=80, b=20))
    return fig
