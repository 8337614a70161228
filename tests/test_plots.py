"""Fast tests of seqcore.plots: figures built from small arrays, no Keras, no browser."""

from __future__ import annotations

import ast
import functools
import json
import math
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import pytest

from seqcore import plots

RNG = np.random.default_rng(0)


@functools.cache
def _all_figures() -> dict[str, go.Figure]:
    epochs = np.arange(1, 21)
    markers = np.zeros((5, 12))
    markers[:, [2, 7]] = 1
    return {
        "loss": plots.loss_figure(epochs, 1 / epochs, 1.2 / epochs),
        "hidden": plots.hidden_state_heatmap(np.tanh(RNG.normal(size=(10, 4)))),
        "gates": plots.gate_heatmaps({"i": RNG.random((10, 4)), "c": np.tanh(RNG.normal(size=(10, 4)))}),
        "series_pred": plots.series_prediction_figure(np.arange(10), np.arange(10.0), np.arange(1, 10), np.arange(9.0)),
        "token_pred": plots.token_prediction_figure([1, 2, 3], [2, 3, 4], [2, 0, 4], [0.9, 0.2, 0.7]),
        "series_data": plots.series_data_figure(np.sin(np.arange(100) / 5), (70, 90)),
        "adding": plots.adding_data_figure(RNG.random((5, 12)), markers),
        "unit": plots.unit_activation_figure(RNG.random(10), RNG.integers(0, 5, 10), unit=2),
        "weights": plots.weights_histogram({"kernel": RNG.normal(size=(3, 8)), "bias": np.zeros(8)}),
    }


def _plotted(fig: go.Figure, name: str) -> list[go.Scatter]:
    return [t for t in fig.data if t.name == name]


# ---------------------------------------------------------------- shared look and module rules


def test_module_imports_only_numpy_and_plotly():
    tree = ast.parse(Path(plots.__file__).read_text(encoding="utf-8"))
    roots = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            roots.add(node.module.split(".")[0])
    assert roots <= {"__future__", "collections", "html", "math", "numpy", "plotly"}, roots


@pytest.mark.parametrize("name", list(_all_figures()))
def test_every_figure_has_the_shared_look(name):
    fig = _all_figures()[name]
    assert isinstance(fig, go.Figure)
    assert fig.data, "no traces"
    assert fig.layout.title.text
    assert isinstance(fig.layout.uirevision, str) and fig.layout.uirevision
    assert fig.layout.legend.orientation == "h"
    assert 300 <= fig.layout.height <= 600
    assert fig.layout.template.layout.plot_bgcolor == "white"  # plotly_white's look
    template = json.loads(fig.to_json())["layout"]["template"]
    assert "geo" not in template["layout"] and "scene" not in template["layout"]  # trimmed, not merged into default


@pytest.mark.parametrize(("title", "wrapped"), [
    ("Loss (train and validation)", "Loss (train and validation)"),  # short: one line
    ("Hidden state h_t, layer 1, seq. 1 (epoch 3)", "Hidden state h_t, layer 1, seq. 1 <br>(epoch 3)"),
    ("Bits per character (solid: train, dotted: validation)",
     "Bits per character (solid: train, <br>dotted: validation)"),
    ("Gradients through time: ‖∂L/∂xₜ‖ (epoch 3)", "Gradients through time: ‖∂L/∂xₜ‖ <br>(epoch 3)"),
    ("x<sub>t</sub> is a long title with tags, all of it (one)",
     "x<sub>t</sub> is a long title with tags, <br>all of it (one)"),
    ("A" * 50, "A" * 50),  # nowhere to break: left as it is
])
def test_a_long_title_goes_on_two_lines_broken_between_words_and_reads_the_same_without_its_tags(title, wrapped):
    fig = plots.loss_figure([1, 2], [1.0, 0.5], title=title)
    assert fig.layout.title.text == wrapped
    assert fig.layout.title.text.replace("<br>", "") == title  # a search for part of a title still finds it
    first = wrapped.split("<br>")[0].replace("<sub>", "").replace("</sub>", "").rstrip()
    assert len(first) <= plots.TITLE_CHARS or "<br>" not in wrapped


def test_a_two_line_title_moves_the_plot_down_and_keeps_its_first_line_inside_the_figure():
    one = plots.loss_figure([1, 2], [1.0, 0.5], title="Loss")
    two = plots.loss_figure([1, 2], [1.0, 0.5], title="Hidden state h_t, layer 1, seq. 1 (epoch 3)")
    assert two.layout.margin.t > one.layout.margin.t
    # Plotly puts a top-anchored title's first baseline at y once it has two lines: y is lower by hand.
    assert two.layout.title.y < one.layout.title.y < 1
    assert two.layout.legend.y < one.layout.legend.y  # the legend hangs below the title's lines


def test_the_legend_hangs_below_the_title_so_that_plotly_moves_the_plot_down_for_its_rows():
    for name, fig in _all_figures().items():
        legend, height = fig.layout.legend, fig.layout.height
        assert (legend.yref, legend.yanchor) == ("container", "top"), name
        lines = fig.layout.title.text.count("<br>") + 1
        assert (1 - legend.y) * height >= 6 + 20 * lines, name  # below the title's lines
        assert fig.layout.margin.r >= 30 and fig.layout.modebar.orientation == "v", name  # clear of the mode bar


def test_the_jacobian_figure_keeps_its_legend_clear_of_the_mode_bar():
    fig = plots.jacobian_figure(np.logspace(0, -6, 50), np.ones(50), radius=1.0, lag=20, lag_label="lag")
    assert fig.layout.modebar.orientation == "v" and fig.layout.margin.r >= 30
    assert (fig.layout.legend.yref, fig.layout.legend.yanchor) == ("container", "top")


def test_gate_saturation_shares_one_y_axis_and_one_x_title_and_keeps_its_long_title_on_one_smaller_line():
    from types import SimpleNamespace

    gates = [SimpleNamespace(gate=g, open=RNG.random(5), shut=RNG.random(5)) for g in ("input", "forget", "output")]
    title = "Gate saturation, layer 1, epoch 3 (20 validation sequences)"
    fig = plots.gate_saturation_figure(gates, title=title)
    assert fig.layout.title.text == title
    assert fig.layout.title.font.size * len(title) <= 16 * plots.PHONE_TITLE_CHARS  # fits a phone's chart
    assert plots.gate_saturation_figure(gates, title="Gate saturation").layout.title.font.size == 16
    assert fig.layout.yaxis2.matches == "y" and fig.layout.yaxis2.showticklabels is False  # no "100%" over "0%"
    assert [fig.layout[f"xaxis{i}"].title.text for i in ("", "2", "3")] == [None, "open (> 0.9)", None]


def test_uirevision_is_constant_for_a_figure_kind():
    a = plots.hidden_state_heatmap(RNG.random((10, 4)))
    b = plots.hidden_state_heatmap(RNG.random((600, 300)))  # different data and title note, same kind
    assert a.layout.uirevision == b.layout.uirevision


def test_every_public_function_has_a_docstring():
    for name in plots.__all__:
        obj = getattr(plots, name)
        if callable(obj):
            assert obj.__doc__ and obj.__doc__.strip(), name


# ---------------------------------------------------------------- payload size


def test_trace_arrays_are_float32_and_serialised_as_typed_arrays():
    fig = plots.hidden_state_heatmap(RNG.normal(size=(50, 8)))
    assert fig.data[0].z.dtype == np.float32
    z = json.loads(fig.to_json())["data"][0]["z"]
    assert z["dtype"] == "f4" and "bdata" in z  # plotly 7 sends NumPy arrays as base64 typed arrays
    loss = plots.loss_figure(np.arange(5), np.linspace(1.0, 0.5, 5))
    assert loss.data[0].y.dtype == np.float32
    assert json.loads(loss.to_json())["data"][0]["y"]["dtype"] == "f4"


def test_large_hidden_state_is_downsampled_and_says_so():
    fig = plots.hidden_state_heatmap(np.tanh(RNG.normal(size=(500, 256))))
    z = fig.data[0].z
    assert z.size <= 20_000
    assert z.shape == (len(fig.data[0].y), len(fig.data[0].x))
    assert "every" in fig.layout.title.text and "step" in fig.layout.title.text
    assert fig.data[0].x[0] == 0 and fig.data[0].x[-1] < 500


def test_small_hidden_state_is_untouched():
    h = RNG.normal(size=(12, 5))
    fig = plots.hidden_state_heatmap(h, x_labels=list("abcdefghijkl"))
    np.testing.assert_allclose(fig.data[0].z, h.T.astype(np.float32))
    assert fig.layout.title.text == "Hidden state"
    assert list(fig.layout.xaxis.ticktext) == list("abcdefghijkl")


@pytest.mark.parametrize("max_cells", [1, 100, 5_000])
def test_max_cells_is_respected(max_cells):
    fig = plots.hidden_state_heatmap(RNG.normal(size=(300, 64)), max_cells=max_cells)
    assert fig.data[0].z.size <= max_cells


def test_hidden_state_figure_stays_small():
    fig = plots.hidden_state_heatmap(np.tanh(RNG.normal(size=(500, 256))), x_labels=list(range(500)))
    assert plots.figure_size_bytes(fig) < 300_000


def test_figure_size_bytes_is_the_json_length():
    fig = plots.loss_figure([1, 2], [1.0, 0.5])
    assert plots.figure_size_bytes(fig) == len(fig.to_json().encode("utf-8"))


def test_long_history_is_trimmed_keeping_first_and_last():
    n = 10_000
    fig = plots.loss_figure(np.arange(n), np.linspace(2.0, 0.1, n))
    trace = fig.data[0]
    assert len(trace.y) <= plots.MAX_POINTS
    assert trace.x[0] == 0 and trace.x[-1] == n - 1
    assert trace.y[0] == pytest.approx(2.0) and trace.y[-1] == pytest.approx(0.1)


# ---------------------------------------------------------------- loss curves


def test_loss_figure_train_and_validation():
    fig = plots.loss_figure(np.arange(1, 6), [5, 4, 3, 2, 1], [6, 5, 4, 3, 2])
    assert [t.name for t in fig.data] == ["train", "validation"]
    assert fig.data[0].line.color == "#1f77b4" and fig.data[1].line.color == "#ff7f0e"
    assert fig.layout.xaxis.title.text == "epoch" and fig.layout.yaxis.title.text == "loss"


def test_loss_figure_nan_is_dropped_and_annotated():
    train = np.array([1.0, 0.8, 0.6, np.nan, np.inf, 0.4])
    fig = plots.loss_figure(np.arange(1, 7), train, [1.1, 0.9, 0.7, 0.6, 0.5, np.nan])
    for trace in fig.data:
        assert np.isfinite(np.asarray(trace.y)).all()
    assert len(fig.data[0].y) == 4
    texts = [a.text for a in fig.layout.annotations]
    assert "loss became NaN at epoch 4" in texts
    json.loads(fig.to_json())


def test_loss_figure_without_nan_has_no_annotation():
    fig = plots.loss_figure([1, 2, 3], [1.0, 0.5, 0.2])
    assert not fig.layout.annotations


def test_smoothing_adds_a_smoothed_trace_of_the_same_length():
    y = 1 / np.arange(1, 51) + RNG.normal(0, 0.05, 50)
    fig = plots.loss_figure(np.arange(1, 51), y, smoothing=0.8)
    raw, smooth = _plotted(fig, "train (raw)")[0], _plotted(fig, "train")[0]
    assert len(smooth.y) == len(raw.y) == 50
    assert raw.opacity < 1
    assert smooth.y[0] == pytest.approx(y[0], rel=1e-5)  # debiased: starts at the first value
    assert np.std(np.diff(smooth.y)) < np.std(np.diff(raw.y))


def test_smoothing_out_of_range_is_refused():
    with pytest.raises(ValueError):
        plots.loss_figure([1, 2], [1.0, 0.5], smoothing=1.0)


def test_log_y_sets_the_axis_type():
    assert plots.loss_figure([1, 2], [1.0, 0.5], log_y=True).layout.yaxis.type == "log"
    assert plots.loss_figure([1, 2], [1.0, 0.5]).layout.yaxis.type == "linear"


@pytest.mark.parametrize("log_y", [False, True])
def test_baselines_are_dashed_labelled_lines(log_y):
    fig = plots.loss_figure([1, 2, 3], [3.0, 2.5, 2.4], baselines={"bigram cross-entropy": 2.0}, log_y=log_y)
    assert len(fig.layout.shapes) == 1
    shape = fig.layout.shapes[0]
    assert shape.line.dash == "dash" and shape.y0 == shape.y1 == 2.0
    note = [a for a in fig.layout.annotations if a.text == "bigram cross-entropy"][0]
    assert note.y == pytest.approx(math.log10(2.0) if log_y else 2.0)


@pytest.mark.parametrize("log_y", [False, True])
def test_baselines_too_close_to_tell_apart_share_one_label_and_keep_their_lines(log_y):
    # The delay task: a first-order Markov model and a 4-state HMM both sit at chance (ln 4 ≈ 1.386).
    baselines = {"bigram cross-entropy": 1.386, "HMM cross-entropy (K = 4 states)": 1.388, "memoryless": 0.35}
    fig = plots.loss_figure([1, 2, 3], [1.5, 1.0, 0.4], baselines=baselines, log_y=log_y)
    assert sorted(shape.y0 for shape in fig.layout.shapes) == [0.35, 1.386, 1.388]
    labels = sorted(a.text for a in fig.layout.annotations)
    # a shared label leaves out the quantity the axis names, so it fits a half-width chart
    assert labels == ["bigram · HMM (K = 4 states)", "memoryless"]


def test_loss_figure_for_a_metric():
    fig = plots.loss_figure([1, 2], [0.5, 0.7], [0.4, 0.6], title="Accuracy", y_label="accuracy")
    assert fig.layout.title.text == "Accuracy" and fig.layout.yaxis.title.text == "accuracy"


def test_loss_figure_with_no_epochs_yet():
    fig = plots.loss_figure([], [], [])
    assert len(fig.data) == 2 and len(fig.data[0].y) == 0


# ---------------------------------------------------------------- inside the network


def test_gate_heatmaps_rows_and_scales():
    gates = {name: RNG.random((30, 6)) for name in ("i", "f", "o")}
    gates["c"] = np.tanh(RNG.normal(size=(30, 6)))
    fig = plots.gate_heatmaps(gates, x_labels=list(range(30)))
    assert [t.name for t in fig.data] == ["i", "f", "o", "c"]
    assert [t.coloraxis for t in fig.data] == ["coloraxis"] * 3 + ["coloraxis2"]
    assert (fig.layout.coloraxis.cmin, fig.layout.coloraxis.cmax) == (0, 1)
    assert (fig.layout.coloraxis2.cmin, fig.layout.coloraxis2.cmax) == (-1, 1)
    assert all(t.z.dtype == np.float32 for t in fig.data)


def test_gate_heatmaps_share_the_cell_budget():
    gates = {name: RNG.random((500, 256)) for name in ("z", "r", "h")}
    fig = plots.gate_heatmaps(gates, max_cells=20_000)
    assert sum(t.z.size for t in fig.data) <= 20_000
    assert "every" in fig.layout.title.text
    assert fig.data[2].coloraxis == "coloraxis2"  # GRU candidate 'h' by name


def test_unit_activation_figure():
    fig = plots.unit_activation_figure(RNG.random(40), RNG.integers(0, 9, 40), unit=7, input_label="token")
    assert [t.name for t in fig.data] == ["token", "unit 7"]
    assert "7" in fig.layout.title.text
    assert fig.data[0].yaxis != fig.data[1].yaxis


def test_weights_histogram_bins_in_numpy():
    big = RNG.normal(size=(256, 1024))
    fig = plots.weights_histogram({"kernel": big, "bias": np.zeros(1024)})
    assert len(fig.data) == 2 and fig.layout.barmode == "overlay"
    assert len(fig.data[0].x) <= 100  # bins, not the 262,144 raw weights
    assert float(np.sum(fig.data[0].y)) == pytest.approx(1.0, rel=1e-4)
    assert plots.figure_size_bytes(fig) < 30_000


# ---------------------------------------------------------------- predictions


def test_series_prediction_with_forecast():
    t = np.arange(50)
    fig = plots.series_prediction_figure(t, np.sin(t / 4), t[1:40], np.sin(t[1:40] / 4),
                                         t_forecast=np.arange(40, 50), forecast=np.zeros(10))
    assert [tr.name for tr in fig.data] == ["actual", "one step ahead", "forecast"]
    assert fig.data[2].line.dash == "dash"
    assert len(fig.layout.shapes) == 1 and fig.layout.shapes[0].x0 == 40


def test_series_prediction_without_forecast():
    fig = plots.series_prediction_figure([0, 1, 2], [0.0, 1.0, 0.0], [1, 2], [0.9, 0.1], y_label="temperature")
    assert len(fig.data) == 2 and not fig.layout.shapes
    assert fig.layout.yaxis.title.text == "temperature"


def test_token_prediction_right_wrong_and_unscored():
    fig = plots.token_prediction_figure([5, 1, 2, 3], [1, 2, 3, 4], [1, 9, 3, 4], [0.9, 0.1, 0.8, 0.6],
                                        weights=[1, 1, 1, 0], chance=0.1)
    by_name = {t.name: t for t in fig.data}
    assert list(by_name["right"].x) == [0, 2]
    assert list(by_name["wrong"].x) == [1]
    assert list(by_name["not scored"].x) == [3]
    assert by_name["right"].marker.color != by_name["wrong"].marker.color
    assert by_name["wrong"].marker.pattern.shape != by_name["right"].marker.pattern.shape
    assert by_name["wrong"].text[0].startswith("✗") and by_name["right"].text[0].startswith("✓")
    assert "target 2" in by_name["wrong"].hovertext[0] and "predicted 9" in by_name["wrong"].hovertext[0]
    chance = [t for t in fig.data if t.name.startswith("chance")][0]
    assert chance.line.dash == "dash" and list(chance.y) == [pytest.approx(0.1)] * 2
    assert list(fig.layout.xaxis.ticktext) == ["5", "1", "2", "3"]


# ---------------------------------------------------------------- data


def test_series_data_parts_and_downsampling():
    n = 20_000
    fig = plots.series_data_figure(np.sin(np.arange(n) / 50), (14_000, 18_000), max_points=5_000)
    assert [t.name for t in fig.data] == ["train", "validation", "test"]
    assert len({t.line.color for t in fig.data}) == 3
    assert sum(len(t.x) for t in fig.data) <= 5_000 + 3
    assert fig.data[0].x[0] == 0 and fig.data[2].x[-1] == n - 1
    assert fig.data[1].x[0] == 13_999 and fig.data[2].x[0] == 17_999  # each part joins the one before


def test_series_data_with_one_split():
    fig = plots.series_data_figure(np.arange(10.0), [8])
    assert [t.name for t in fig.data] == ["train", "validation"]


def test_adding_data_marks_two_positions_per_row():
    values = RNG.random((6, 15))
    markers = np.zeros((6, 15))
    markers[:, 3] = markers[:, 11] = 1
    fig = plots.adding_data_figure(values, markers, n_rows=3)
    marked = [t for t in fig.data if t.name == "marked"]
    assert len(marked) == 3 and all(len(t.x) == 2 for t in marked)
    assert f"{values[0, 3] + values[0, 11]:.3f}" in fig.layout.annotations[0].text


def test_the_board_shows_peoples_names_as_text_and_the_baseline_as_a_line():
    from seqcore.plots import board_figure

    fig = board_figure(["<a href='https://evil'>x</a>", "Quiet Heron"], [0.9, 0.5], metric="accuracy",
                       baseline=("bigram accuracy", 0.3), highlight=[False, True])
    labels = list(fig.data[0].x)
    assert labels == ["1. &lt;a href=&#x27;https://evil&#x27;&gt;x&lt;/a&gt;", "2. Quiet Heron"]
    assert fig.layout.shapes[0].y0 == 0.3 and fig.data[0].marker.color[1] != fig.data[0].marker.color[0]


def test_compare_figure_draws_each_run_in_its_own_colour_with_train_solid_and_validation_dotted():
    from seqcore.plots import compare_figure

    runs = [("A", [1, 2, 3], [1.0, 0.8, 0.6], [1.1, 0.9, 0.7]), ("B", [1, 2], [1.2, 1.1], [1.3, 1.2])]
    fig = compare_figure(runs, baselines={"chance": 1.38})
    assert [t.name for t in fig.data] == ["A: train", "A: validation", "B: train", "B: validation"]
    assert fig.data[0].line.color == fig.data[1].line.color != fig.data[2].line.color
    assert [t.line.dash for t in fig.data] == ["solid", "dot", "solid", "dot"]
    assert len(fig.layout.shapes) == 1 and "%{y:.4f}" in fig.data[0].hovertemplate


# ---------------------------------------------------------------- text heatmap


def _cells(fig: go.Figure) -> list[list[str]]:
    return [list(row) for row in fig.data[0].text]


def test_text_heatmap_lays_the_text_out_in_rows_with_the_line_end_at_the_end_of_its_row():
    fig = plots.text_heatmap_figure("ab\ncd", [0.1, -0.2, 0.3, 0.4, -0.5], title="Unit 3")
    assert _cells(fig) == [["a", "b", "↵"], ["c", "d", ""]]
    z = fig.data[0].z
    assert z.dtype == np.float32 and z.shape == (2, 3)
    np.testing.assert_allclose(z[0], [0.1, -0.2, 0.3], rtol=1e-6)
    np.testing.assert_allclose(z[1, :2], [0.4, -0.5], rtol=1e-6)
    assert math.isnan(z[1, 2])  # the short row's empty cell has no colour, and no hover label
    assert fig.data[0].hoverongaps is False and fig.data[0].texttemplate == "%{text}"
    assert fig.layout.yaxis.range[0] > fig.layout.yaxis.range[1] and fig.layout.yaxis.showticklabels is False
    assert fig.layout.xaxis.showticklabels is False and fig.layout.uirevision == "text_heatmap"
    assert fig.layout.title.text == "Unit 3"


def test_text_heatmap_wraps_long_lines_and_keeps_a_line_end_on_its_row():
    fig = plots.text_heatmap_figure("abcdefg\nh", np.zeros(9), title="t", line_width=3)
    assert _cells(fig) == [["a", "b", "c"], ["d", "e", "f"], ["g", "↵", ""], ["h", "", ""]]
    fig = plots.text_heatmap_figure("abc\nd", np.zeros(5), title="t", line_width=3)
    assert _cells(fig) == [["a", "b", "c", "↵"], ["d", "", "", ""]]
    with pytest.raises(ValueError, match="line_width"):
        plots.text_heatmap_figure("abc", np.zeros(3), title="t", line_width=0)


def test_text_heatmap_shows_characters_as_text_not_html():
    passage = 'x <b>bold</b> & <a href="https://evil">y</a>\tz '
    fig = plots.text_heatmap_figure(passage, np.linspace(-1, 1, len(passage)), title="t")
    drawn = [cell for row in _cells(fig) for cell in row]
    hovers = [cell for row in fig.data[0].hovertext for cell in row]
    assert "<" not in "".join(drawn) and ">" not in "".join(drawn)
    # Plotly decodes &lt; &gt; &amp; but would draw &quot; literally: quotes stay as they are (no tag without <).
    assert "&lt;" in drawn and "&gt;" in drawn and "&amp;" in drawn and '"' in drawn and "&quot;" not in drawn
    assert "<b>" not in fig.to_json().replace("<br>", "") and "<a " not in fig.to_json()
    assert not any("<" in h.replace("<br>", "") for h in hovers)
    assert "⇥" in drawn and drawn[1] == ""  # a tab is drawn as ⇥, a space as a blank cell
    assert hovers[1].startswith("space:") and hovers[2].startswith('"&lt;": character 2, line 1, column 3')


def test_text_heatmap_hover_carries_the_given_strings_or_the_value():
    fig = plots.text_heatmap_figure("hi\nyo", [0.5] * 5, hover=[f"p = 0.4{i}" for i in range(5)], title="t",
                                    diverging=False, value_label="p")
    hovers = fig.data[0].hovertext
    assert hovers[0][0] == '"h": character 0, line 1, column 1<br>p = 0.40'
    assert hovers[1][1] == '"o": character 4, line 2, column 2<br>p = 0.44'
    assert hovers[0][2].startswith("line end:") and "%{z" not in fig.data[0].hovertemplate
    plain = plots.text_heatmap_figure("hi", [0.5, 0.25], title="t", value_label="h<sub>t</sub>")
    assert plain.data[0].hovertemplate == "%{hovertext}<br>h&lt;sub&gt;t&lt;/sub&gt; = %{z:.3f}<extra></extra>"
    with pytest.raises(ValueError, match="one hover string per character"):
        plots.text_heatmap_figure("hi", [0.5, 0.25], hover=["x"], title="t")
    with pytest.raises(ValueError, match="one value per character"):
        plots.text_heatmap_figure("hi", [0.5], title="t")


def test_text_heatmap_colour_scales():
    diverging = plots.text_heatmap_figure("abc", [0.2, -0.8, np.nan], title="t").data[0]
    assert (diverging.colorscale[0][1], diverging.zmid) == (go.Heatmap(colorscale="RdBu").colorscale[0][1], 0)
    assert (diverging.zmin, diverging.zmax) == pytest.approx((-0.8, 0.8))  # symmetric, NaN left out
    fixed = plots.text_heatmap_figure("abc", [0.2, -0.8, 0.1], title="t", colour_range=(-1, 1)).data[0]
    assert (fixed.zmin, fixed.zmax) == (-1, 1)
    sequential = plots.text_heatmap_figure("abc", [0.2, 0.8, 0.1], title="t", diverging=False).data[0]
    assert (sequential.zmin, sequential.zmax) == (0, 1) and sequential.zmid is None
    assert sequential.colorscale != diverging.colorscale


def test_text_heatmap_caps_the_characters_and_says_so_and_grows_in_height_up_to_a_cap():
    n = plots.MAX_TEXT_CHARS + 10
    fig = plots.text_heatmap_figure("abcdefghi\n" * (n // 10), np.zeros(n), title="Activation")
    title = f"Activation (the first {plots.MAX_TEXT_CHARS:,} of {n:,} characters)"
    assert fig.layout.title.text.replace("<br>", "") == title  # on two lines: a long title is wrapped
    assert np.isfinite(fig.data[0].z).sum() == plots.MAX_TEXT_CHARS
    assert fig.layout.height == 900
    short, longer = (plots.text_heatmap_figure("ab\n" * k, np.zeros(3 * k), title="t") for k in (1, 10))
    assert short.layout.height < longer.layout.height < 900
    assert longer.layout.yaxis.range[0] == 9.5  # the first line (row 0) on top, the last at the bottom
    assert plots.figure_size_bytes(fig) < 400_000


def test_text_heatmap_draws_control_characters_as_a_dot_and_names_their_code_point():
    fig = plots.text_heatmap_figure("a\x07b", [0.0, 0.5, 1.0], title="t")
    assert _cells(fig) == [["a", "·", "b"]]
    assert fig.data[0].hovertext[0][1].startswith("U+0007: character 1")
