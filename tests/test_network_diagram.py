"""The Train page's network diagram (issue #18): `plots.network_diagram_figure` draws the model that the settings
describe (input, recurrent layers with their loops, the head, parameter counts), and the page redraws it as the
settings change."""

from __future__ import annotations

import json
from dataclasses import replace

import plotly.graph_objects as go

from seqcore import plots
from seqcore.cells import CELLS
from seqcore.config import Experiment
from seqcore.models import parameter_counts
from tests.test_app import _exceptions, _local_limits, _navigation_as_on_a_server, open_app  # noqa: F401


def diagram(values: dict | None = None, sizes: tuple[int, int] | None = None) -> tuple[go.Figure, list]:
    experiment = Experiment().with_values(**(values or {}))
    counts = parameter_counts(experiment, sizes)
    return plots.network_diagram_figure(experiment, counts, CELLS[experiment.model.cell], sizes), counts


def texts(fig: go.Figure) -> str:
    """Every piece of text the figure draws, one per line."""
    return "\n".join(a.text for a in fig.layout.annotations if a.text)


def loops(fig: go.Figure) -> list:
    return [s for s in fig.layout.shapes if (s.name or "").startswith("loop")]


def hover(fig: go.Figure) -> str:
    return "\n".join(text for trace in fig.data if trace.hovertext is not None for text in trace.hovertext)


def test_a_two_layer_lstm_of_50_units_on_the_default_task():
    fig, counts = diagram({"model.layers": 2})
    shown = texts(fig)
    assert "<b>LSTM 1</b>" in shown and "<b>LSTM 2</b>" in shown and "LSTM 3" not in shown
    assert shown.count("50 units") == 2 and shown.count("3 gates") == 2
    # One loop per layer, carrying h and (an LSTM's) c back to the next step.
    assert len(loops(fig)) == 2
    assert shown.count("h<sub>t−1</sub>, c<sub>t−1</sub>") == 2
    # Each layer's and the head's parameter count as parameter_counts has it, and their total.
    assert [row.name for row in counts] == ["LSTM 1", "LSTM 2", "Dense head"]
    for row in counts:
        assert f"{row.params:,} params" in shown
    assert f"<b>{sum(row.params for row in counts):,} params</b>" in shown
    # The default task reads one-hot digits (10 of them) and predicts one of 10 at every step.
    assert "m = 10, one-hot" in shown and "T = 9 steps" in shown
    assert "k = 10, softmax" in shown and "at every step" in shown and "ŷ<sub>t</sub>" in shown
    # Hovering a layer gives its formula with the numbers in.
    for row in counts:
        assert f"{row.formula} = {row.substituted} = {row.params:,} parameters" in hover(fig)


def test_a_layer_of_1024_units_draws_a_few_circles_not_1024():
    fig, _ = diagram({"model.units": 1024, "model.layers": 2})
    units = next(trace for trace in fig.data if trace.name == "units")
    assert len(units.x) == 2 * plots.DIAGRAM_MAX_CIRCLES
    assert sum(len(trace.x) for trace in fig.data) <= 2 * plots.DIAGRAM_MAX_CIRCLES + 6
    assert len(fig.layout.shapes) <= 2 * 2 + 2  # a box and a loop per layer, the input's and the head's boxes
    assert len(fig.layout.annotations) <= 40
    shown = texts(fig)
    assert shown.count("1,024 units") == 2 and shown.count("…") == 2  # '… 1,024 units': the rest are not drawn
    assert plots.figure_size_bytes(fig) < 20_000


def boxes(fig: go.Figure) -> list:
    return [s for s in fig.layout.shapes if (s.name or "").startswith("box")]


def test_three_or_more_layers_are_one_stacked_box_as_wide_as_one_layer():
    # Four layers were six columns, 768 px, that a 390 px phone shrank until their labels overlapped by 20 px.
    one, _ = diagram()
    for layers in (3, 4):
        fig, counts = diagram({"model.layers": layers, "model.units": 1024})
        assert fig.layout.width == one.layout.width and len(boxes(fig)) == 3, layers
        assert len([s for s in fig.layout.shapes if (s.name or "").startswith("stack")]) == 2
        assert len(loops(fig)) == 1
        shown = texts(fig)
        assert f"<b>{layers} LSTM layers</b>" in shown and shown.count("1,024 units each") == 1
        assert "LSTM 1</b>" not in shown
        assert f"{sum(row.params for row in counts[:-1]):,} params" in shown
        assert f"<b>{sum(row.params for row in counts):,} params</b>" in shown
        assert len(next(trace for trace in fig.data if trace.name == "units").x) == plots.DIAGRAM_MAX_CIRCLES
        # Each layer's own count, the first reading the input and the others the layer below, in the hover.
        for row in counts:
            assert f"{row.name}: {row.formula} = {row.substituted} = {row.params:,} parameters" in hover(fig)
    assert len(boxes(diagram({"model.layers": 2})[0])) == 4


def test_a_small_layer_draws_each_of_its_units():
    fig, _ = diagram({"model.units": 3})
    assert len(next(trace for trace in fig.data if trace.name == "units").x) == 3
    assert "…" not in texts(fig)


def test_token_and_text_tasks_say_softmax_at_every_step():
    for values, sizes in (({"data.generator": "delay"}, None), ({"data.generator": "text"}, (37, 37))):
        fig, _ = diagram(values, sizes)
        shown = texts(fig)
        assert "softmax" in shown and "at every step" in shown and "after the last step" not in shown, values
    # A text's input is its vocabulary one-hot, with the size of the built data.
    assert "m = 37, one-hot" in texts(fig) and "k = 37, softmax" in texts(fig)


def test_a_series_and_the_adding_problem_say_after_the_last_step():
    fig, counts = diagram({"data.generator": "sine", "data.horizon": 3})
    shown = texts(fig)
    assert "after the last step" in shown and "every step" not in shown and "softmax" not in shown
    assert "k = 3, linear" in shown and "m = 1<br>" in shown and f"{counts[-1].params:,} params" in shown
    assert "many-to-one" in hover(fig)
    fig, _ = diagram({"data.generator": "adding"})
    assert "after the last step" in texts(fig) and "m = 2" in texts(fig)


def test_the_cell_sets_the_gates_and_the_state_on_the_loop():
    fig, _ = diagram({"model.cell": "GRU"})
    assert "<b>GRU 1</b>" in texts(fig) and "2 gates" in texts(fig)
    assert "h<sub>t−1</sub>" in texts(fig) and "c<sub>t−1</sub>" not in texts(fig)
    fig, _ = diagram({"model.cell": "SimpleRNN", "model.activation": "relu"})
    assert "no gates, relu" in texts(fig) and "c<sub>t−1</sub>" not in texts(fig)
    assert len(loops(fig)) == 1


def test_dropout_is_noted_on_the_layers_only_when_set():
    assert "dropout" not in texts(diagram()[0])
    assert texts(diagram({"model.dropout": 0.2})[0]).count("dropout 0.2") == 1
    assert "rec. dropout 0.3" in texts(diagram({"model.recurrent_dropout": 0.3})[0])
    assert texts(diagram({"model.layers": 2, "model.dropout": 0.2, "model.recurrent_dropout": 0.1})[0]).count(
        "drop 0.2, rec. 0.1") == 2


def test_text_from_the_counts_is_escaped():
    experiment = Experiment()
    counts = parameter_counts(experiment)
    counts[0] = replace(counts[0], name="<a href='x'>LSTM</a>")
    fig = plots.network_diagram_figure(experiment, counts, CELLS[experiment.model.cell])
    assert "<a href" not in texts(fig) + hover(fig) and "&lt;a href='x'&gt;LSTM&lt;/a&gt;" in texts(fig)


def test_the_diagram_is_short_and_static():
    for values in ({}, {"model.layers": 4, "model.dropout": 0.2}):
        fig, _ = diagram(values)
        assert 120 <= fig.layout.height <= 220, values
        assert fig.layout.xaxis.fixedrange and fig.layout.yaxis.fixedrange and fig.layout.dragmode is False
        assert not fig.layout.xaxis.visible and fig.layout.showlegend is False


# --- the Train page ---

def network_chart(at):
    charts = [chart for chart in at.get("plotly_chart") if chart.key == "fig_network"]
    assert len(charts) == 1, [chart.key for chart in at.get("plotly_chart")]
    return charts[0]


def chart_texts(chart) -> str:
    return "\n".join(a.get("text", "") for a in json.loads(chart.proto.spec)["layout"]["annotations"])


def test_the_train_page_shows_the_diagram_and_redraws_it_as_units_change():
    at = open_app("pages/train.py")
    chart = network_chart(at)
    assert json.loads(chart.proto.config).get("displayModeBar") is False
    before = chart_texts(chart)
    assert "50 units" in before and "<b>12,710 params</b>" in before

    at.number_input(key="w.model.units").set_value(8).run()

    assert not at.exception, _exceptions(at)
    after = chart_texts(network_chart(at))
    assert after != before
    total = sum(row.params for row in parameter_counts(Experiment().with_values(**{"model.units": 8})))
    assert "8 units" in after and "50 units" not in after and f"<b>{total:,} params</b>" in after
