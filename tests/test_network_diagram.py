"""The Train page's network diagram (issue #18): `diagram.network_diagram_svg` draws the model that the settings
describe (input, recurrent layers with their loops, the head, parameter counts) as an SVG picture, and the page
redraws it as the settings change."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import replace

from seqcore import diagram as plots
from seqcore.cells import CELLS
from seqcore.config import Experiment
from seqcore.models import parameter_counts
from tests.test_app import _exceptions, _local_limits, _navigation_as_on_a_server, open_app  # noqa: F401

SVG = "{http://www.w3.org/2000/svg}"


def diagram(values: dict | None = None, sizes: tuple[int, int] | None = None) -> tuple[ET.Element, list]:
    experiment = Experiment().with_values(**(values or {}))
    counts = parameter_counts(experiment, sizes)
    return ET.fromstring(plots.network_diagram_svg(experiment, counts, CELLS[experiment.model.cell], sizes)), counts


def _line(el: ET.Element) -> str:
    """A label as our light markup again: bold and subscript runs as <b> and <sub>."""
    out = [el.text or ""]
    for run in el:
        inner = _line(run)
        kind = run.get("class")
        out.append(f"<b>{inner}</b>" if kind == "b" else f"<sub>{inner}</sub>" if kind == "sub" else inner)
        out.append(run.tail or "")
    return "".join(out)


def texts(fig: ET.Element) -> str:
    """Every label the picture draws, one per line."""
    return "\n".join(_line(t) for t in fig.iter(f"{SVG}text"))


def of_class(fig: ET.Element, name: str) -> list[ET.Element]:
    return [el for el in fig.iter() if name in (el.get("class") or "").split()]


def loops(fig: ET.Element) -> list:
    return of_class(fig, "loop")


def units(fig: ET.Element) -> list:
    return of_class(fig, "unit")


def hover(fig: ET.Element) -> str:
    """The tooltips (each part's <title>)."""
    return "\n".join(t.text for t in fig.iter(f"{SVG}title"))


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
    experiment = Experiment().with_values(**{"model.units": 1024, "model.layers": 2})
    markup = plots.network_diagram_svg(experiment, parameter_counts(experiment), CELLS["LSTM"])
    fig = ET.fromstring(markup)
    assert len(units(fig)) == 2 * plots.DIAGRAM_MAX_CIRCLES
    assert len(of_class(fig, "box")) == 4 and len(loops(fig)) == 2  # a box and a loop per layer, input, head
    assert len(list(fig.iter(f"{SVG}text"))) <= 40
    shown = texts(fig)
    assert shown.count("1,024 units") == 2 and shown.count("…") == 2  # '… 1,024 units': the rest are not drawn
    assert len(markup.encode()) < 20_000


def boxes(fig: ET.Element) -> list:
    return of_class(fig, "box")


def test_three_or_more_layers_are_one_stacked_box_as_wide_as_one_layer():
    # Four layers were six columns, 768 px, that a 390 px phone shrank until their labels overlapped by 20 px.
    one, _ = diagram()
    for layers in (3, 4):
        fig, counts = diagram({"model.layers": layers, "model.units": 1024})
        assert fig.get("width") == one.get("width") and len(boxes(fig)) == 3, layers
        assert len(of_class(fig, "stack")) == 2
        assert len(loops(fig)) == 1
        shown = texts(fig)
        assert f"<b>{layers} LSTM layers</b>" in shown and shown.count("1,024 units each") == 1
        assert "LSTM 1</b>" not in shown
        assert f"{sum(row.params for row in counts[:-1]):,} params" in shown
        assert f"<b>{sum(row.params for row in counts):,} params</b>" in shown
        assert len(units(fig)) == plots.DIAGRAM_MAX_CIRCLES
        # Each layer's own count, the first reading the input and the others the layer below, in the hover.
        for row in counts:
            assert f"{row.name}: {row.formula} = {row.substituted} = {row.params:,} parameters" in hover(fig)
    assert len(boxes(diagram({"model.layers": 2})[0])) == 4


def test_a_small_layer_draws_each_of_its_units():
    fig, _ = diagram({"model.units": 3})
    assert len(units(fig)) == 3
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
    assert "k = 3, linear" in shown and "m = 1\n" in shown and f"{counts[-1].params:,} params" in shown
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
    markup = plots.network_diagram_svg(experiment, counts, CELLS[experiment.model.cell])
    fig = ET.fromstring(markup)  # well-formed: the name is text in it, not an element
    assert not list(fig.iter(f"{SVG}a")) and not list(fig.iter("a")) and "<a href" not in markup
    assert "<a href='x'>LSTM</a>" in texts(fig) and "<a href='x'>LSTM</a>: " in hover(fig)


def test_the_diagram_is_short_has_its_own_width_and_shrinks_to_fit():
    """Its natural width is DIAGRAM_COLUMN_PX a column (a wide page does not stretch the boxes), and its viewBox
    lets a phone shrink it; a deep network keeps a shallow one's width."""
    for layers in (1, 2, 3, 4):
        fig, _ = diagram({"model.layers": layers, "model.dropout": 0.2})
        # the input, the layers (from DIAGRAM_STACK_FROM on one stacked box), the head
        columns = (1 if layers >= plots.DIAGRAM_STACK_FROM else layers) + 2
        width, height = int(fig.get("width")), int(fig.get("height"))
        assert width == round(plots.DIAGRAM_COLUMN_PX * (columns + 0.4)) and 120 <= height <= 220, layers
        assert fig.get("viewBox") == f"0 0 {width} {height}" and "max-width:100%" in fig.get("style")
        assert len(boxes(fig)) == columns
        assert all(float(b.get("width")) >= 0.85 * plots.DIAGRAM_COLUMN_PX for b in boxes(fig))  # room for text
    experiment = Experiment()
    markup = plots.network_diagram_svg(experiment, parameter_counts(experiment), CELLS["LSTM"])
    first, rest = markup.split("\n", 1)  # a CommonMark HTML block: the opening tag alone on its line, no blank line
    assert first.startswith("<svg ") and first.endswith(">") and all(line.strip() for line in rest.split("\n"))
    label = diagram()[0].get("aria-label")  # what a screen reader says: every part, and the total
    assert label.startswith("input x_t m = 10, one-hot T = 9 steps; LSTM 1 50 units") and label.endswith(
        "; 12,710 parameters in all")


# --- the Train page ---

def network_picture(at) -> str:
    pictures = [m.value for m in at.markdown if m.value.startswith("<svg") and "network-diagram" in m.value]
    assert len(pictures) == 1, [m.value[:40] for m in at.markdown]
    return pictures[0]


def test_the_train_page_shows_the_diagram_and_redraws_it_as_units_change():
    at = open_app("pages/train.py")
    before = network_picture(at)
    assert at.get("plotly_chart") == []  # the picture and the empty loss chart are no Plotly charts
    assert "50 units" in before and "12,710 params" in before

    at.number_input(key="w.model.units").set_value(8).run()

    assert not at.exception, _exceptions(at)
    after = network_picture(at)
    assert after != before
    total = sum(row.params for row in parameter_counts(Experiment().with_values(**{"model.units": 8})))
    assert "8 units" in after and "50 units" not in after and f"{total:,} params" in after
