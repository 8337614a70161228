"""App tests of the dashboard with Streamlit's AppTest: every page renders, widgets change the experiment
and the URL, bad input shows an error, and bad links open with a warning and valid defaults.

No browser and no training here (the Train button is only pressed where it refuses to start): the live
panel, real training and the share link in a browser are in tests/e2e/.

AppTest notes: `switch_page` needs the page's file; `run_every` fragments do not fire by themselves; the
default timeout of 3 s is too short for a first run that imports pandas and plotly, hence 30 s.

The page files live in a folder named `pages/`, which puts Streamlit in its old pages-folder mode until
app.py first calls st.navigation. A server leaves that mode for good on its first run; AppTest re-enters it
before every run, and would then run a page file alone, without app.py (no sidebar, no URL sync). The
autouse fixture below leaves it the way the server does, so every run goes through app.py.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from types import SimpleNamespace

import pytest
from streamlit.runtime.pages_manager import PagesManager
from streamlit.testing.v1 import AppTest

from pages.ui import refresh, session, theory_text
from seqcore.config import Experiment, differences, preset
from seqcore.data import build_data
from seqcore.models import parameter_counts
from seqcore.plots import TOKEN_COLOURS

APP = str(Path(__file__).resolve().parents[1] / "app.py")
TIMEOUT = 30
PAGES = {  # file -> title
    "pages/data.py": "Data",
    "pages/train.py": "Model & training",
    "pages/inspect_run.py": "Inspect",
    "pages/theory.py": "Theory",
    "pages/runs.py": "Runs",
    "pages/board.py": "Class board",
}


@pytest.fixture(autouse=True)
def _navigation_as_on_a_server(monkeypatch):
    """Every AppTest run goes through app.py's st.navigation, as on a server (see the module's docstring)."""
    original = PagesManager.__init__

    def init(self, *args, **kwargs):
        original(self, *args, **kwargs)
        PagesManager.uses_pages_directory = False  # what app.py's st.navigation sets on a server's first run

    monkeypatch.setattr(PagesManager, "__init__", init)


@pytest.fixture(autouse=True)
def _local_limits(monkeypatch):
    """The tests use values above the hosted demo's limits: run them under the local ones."""
    monkeypatch.delenv("SEQCORE_HOSTED", raising=False)


def open_app(page: str | None = None, **query: str) -> AppTest:
    """Run the app once, as a browser opening `/?query` does, then switch to `page` if given."""
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    for key, value in query.items():
        at.query_params[key] = value
    at.run()
    assert not at.exception, _exceptions(at)
    if page is not None:
        at.switch_page(page)
        at.run()
        assert not at.exception, _exceptions(at)
    return at


def _exceptions(at: AppTest) -> str:
    return "\n\n".join(f"{e.message}\n{''.join(e.stack_trace)}" for e in at.exception)


def experiment_of(at: AppTest) -> Experiment:
    return at.session_state["experiment"]


def query_of(at: AppTest) -> dict[str, str]:
    return {key: at.query_params[key][0] if isinstance(at.query_params[key], list) else at.query_params[key]
            for key in at.query_params}


def share_link(at: AppTest) -> str:
    return at.sidebar.code[0].value


def token_preview(at: AppTest) -> list[list[tuple[int, str]]]:
    """The Data page's token table: per row, (token, background colour) of every cell."""
    tables = [h.proto.body for h in at.get("html") if "<table" in h.proto.body]
    assert len(tables) == 1, tables
    cell = re.compile(r'<td style="[^"]*background:(#\w+)[^"]*">(\d+)</td>')
    body = tables[0].split("<tbody>")[1]
    rows = [row for row in body.split("</tr>") if "<td" in row]
    return [[(int(token), colour) for colour, token in cell.findall(row)] for row in rows]


def parameters_shown(at: AppTest) -> int:
    lines = [m.value for m in at.markdown if m.value.startswith("**Parameters:")]
    assert len(lines) == 1, [m.value for m in at.markdown]
    return int(lines[0].removeprefix("**Parameters:").strip(" *").replace(",", ""))


def expected_parameters(experiment: Experiment) -> int:
    return sum(row.params for row in parameter_counts(experiment))


def figure_titles(at: AppTest) -> list[str]:
    """Titles of the Plotly charts (AppTest has no Plotly element: each is an unknown one holding the JSON)."""
    specs = [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]
    return [spec["layout"].get("title", {}).get("text", "") for spec in specs]


def shown(markdown: str) -> str:
    """What a person reads: Markdown's backslash escapes (pages/ui/safe.py) and zero-width spaces removed."""
    return re.sub(r"\\(.)", r"\1", markdown).replace("\u200b", "")


def warnings_of(at: AppTest) -> list[str]:
    return [shown(w.value) for w in at.warning]


# --- every page ---

@pytest.mark.parametrize("page", list(PAGES))
def test_every_page_renders_with_its_title_and_the_sidebar(page):
    at = open_app(page)
    assert at.title[0].value == PAGES[page]
    assert at.sidebar.selectbox(key="preset_choice").value == "seed"
    assert at.sidebar.button(key="load_preset").label == "Load preset"
    assert share_link(at).endswith("/")  # the default experiment: a link with no settings
    assert not warnings_of(at)


def test_the_app_opens_on_the_data_page_with_the_sidebar():
    at = open_app()
    assert [t.value for t in at.title] == ["Data"]
    assert at.sidebar.selectbox(key="preset_choice").value == "seed"
    assert at.sidebar.button(key="load_preset").label == "Load preset"
    assert "No run yet" in at.sidebar.caption[0].value
    assert share_link(at).endswith("/")  # the default experiment: a link with no settings
    # The seed preset's first digits as a coloured table: the first page draws no chart and no dataframe grid.
    rows = token_preview(at)
    assert len(rows) == 8 and all(len(row) == 10 for row in rows)
    data = build_data(Experiment().data)
    assert [[token for token, _ in row] for row in rows] == data.tokens[:8].tolist()
    assert all(colour == TOKEN_COLOURS[token] for row in rows for token, colour in row)
    assert figure_titles(at) == [] and not at.dataframe
    # No HTML inside Markdown: it would make the browser load a 190 kB HTML parser before drawing the page.
    assert not [m.value for m in at.markdown if m.proto.allow_html]
    # Shapes and baselines as small tables.
    assert any("| train | 70 | 70\u202f×\u202f9\u202f×\u202f10 |" in m.value for m in at.markdown)
    assert any("| chance accuracy | 0.1000 |" in m.value for m in at.markdown)
    assert not warnings_of(at) and not at.error


def test_a_run_of_every_page_in_turn_keeps_the_experiment():
    at = open_app()
    at.number_input(key="w.data.seq_len").set_value(12).run()
    for page in ["pages/train.py", "pages/inspect_run.py", "pages/theory.py", "pages/data.py"]:
        at.switch_page(page).run()
        assert not at.exception, _exceptions(at)
        assert experiment_of(at).data.seq_len == 12
        assert query_of(at) == {"d.seq_len": "12"}
    assert at.number_input(key="w.data.seq_len").value == 12


# --- widgets change the experiment ---

def test_units_change_the_parameter_count_and_the_url():
    at = open_app("pages/train.py")
    assert parameters_shown(at) == expected_parameters(Experiment()) == 12_710
    assert query_of(at) == {}

    at.number_input(key="w.model.units").set_value(8).run()

    assert not at.exception, _exceptions(at)
    assert experiment_of(at).model.units == 8
    assert parameters_shown(at) == expected_parameters(Experiment().with_values(**{"model.units": 8})) != 12_710
    assert query_of(at) == {"m.units": "8"}
    at.switch_page("pages/data.py").run()
    assert share_link(at).endswith("/?m.units=8")


@pytest.mark.parametrize("hosted", [False, True])
def test_the_train_page_has_an_idle_worker_compile_each_new_network_before_train_but_not_when_hosted(
        monkeypatch, request, hosted):
    """Locally, each change of settings on the Train page sends its network to be compiled in idle time, so the
    Train pressed next shows a first point without the compile; a rerun that changes nothing sends nothing. A hosted
    server's cores are the class's: it compiles only what someone trains."""
    from pages.ui.state import limits
    from seqcore.jobs import JobManager

    asked = []
    monkeypatch.setattr(JobManager, "compile_ahead", lambda self, experiment, **kw: asked.append(experiment) or True)
    if hosted:
        monkeypatch.setenv("SEQCORE_HOSTED", "1")
    limits.clear()  # the server's limits are read once per process: read them again under this setting
    request.addfinalizer(limits.clear)
    at = open_app("pages/train.py")
    at.number_input(key="w.model.units").set_value(8).run()
    at.run()
    at.selectbox(key="w.model.cell").set_value("GRU").run()
    assert not at.exception, _exceptions(at)
    if hosted:
        assert asked == []
    else:
        assert [(e.model.cell, e.model.units) for e in asked] == [("LSTM", 50), ("LSTM", 8), ("GRU", 8)]
        assert asked[-1] == experiment_of(at)


def test_cell_and_layers_change_the_parameter_table():
    at = open_app("pages/train.py")
    at.selectbox(key="w.model.cell").set_value("GRU").run()
    at.number_input(key="w.model.layers").set_value(2).run()

    expected = Experiment().with_values(**{"model.cell": "GRU", "model.layers": 2})
    assert experiment_of(at) == expected
    assert parameters_shown(at) == expected_parameters(expected)
    # One line per layer (two GRU layers and the dense head), each with its formula, numbers and count.
    lines = next(m.value for m in at.markdown if m.value.startswith("- GRU 1:")).split("\n")
    assert lines == [f"- {r.name}: {r.formula} = {r.substituted} = **{r.params:,}**"
                     for r in parameter_counts(expected)]
    assert len(lines) == 3 and lines[-1].startswith("- Dense head:")
    assert query_of(at) == {"m.cell": "GRU", "m.layers": "2"}


def test_simplernn_shows_its_activation_and_other_cells_do_not():
    at = open_app("pages/train.py")
    assert "w.model.activation" not in [s.key for s in at.selectbox]
    at.selectbox(key="w.model.cell").set_value("SimpleRNN").run()
    at.selectbox(key="w.model.activation").set_value("relu").run()
    assert experiment_of(at).model.activation == "relu"
    assert query_of(at) == {"m.cell": "SimpleRNN", "m.activation": "relu"}


def test_generator_change_shows_its_own_settings():
    at = open_app()
    assert "w.data.frequency" not in [n.key for n in at.number_input]
    at.selectbox(key="w.data.generator").set_value("sine").run()
    assert not at.exception, _exceptions(at)
    assert experiment_of(at).data.generator == "sine"
    assert {"w.data.frequency", "w.data.n_points", "w.data.horizon"} <= {n.key for n in at.number_input}
    assert query_of(at) == {"d.generator": "sine"}
    assert not at.error
    assert figure_titles(at) == ["The series and its split"]


def test_loading_a_preset_sets_every_widget_and_the_url():
    at = open_app()
    at.sidebar.selectbox(key="preset_choice").set_value("sine").run()
    at.sidebar.button(key="load_preset").click().run()

    assert not at.exception, _exceptions(at)
    assert experiment_of(at) == preset("sine")
    assert any("sine" in s.value for s in at.success)
    assert query_of(at) == preset("sine").to_query_params()
    assert share_link(at).endswith("/?" + preset("sine").to_query())
    at.switch_page("pages/train.py").run()
    assert at.selectbox(key="w.model.cell").value == "GRU"
    assert at.number_input(key="w.model.units").value == 16
    assert at.number_input(key="w.train.epochs").value == 30


# --- errors for bad input ---

def test_delay_lag_not_shorter_than_the_sequence_is_refused_inline():
    at = open_app()
    at.selectbox(key="w.data.generator").set_value("delay").run()
    assert experiment_of(at).data.lag == 5 and experiment_of(at).data.seq_len == 10

    at.number_input(key="w.data.lag").set_value(10).run()

    assert not at.exception, _exceptions(at)
    errors = [shown(e.value) for e in at.error]
    assert len(errors) == 1 and "data.lag" in errors[0] and "data.seq_len" in errors[0], errors
    assert experiment_of(at).data.lag == 5  # the previous valid value is kept
    assert at.number_input(key="w.data.lag").value == 10  # and the widget keeps what was typed
    assert query_of(at) == {"d.generator": "delay"}

    # A longer sequence cures the pending lag: both apply.
    at.number_input(key="w.data.seq_len").set_value(20).run()
    assert not at.error
    assert (experiment_of(at).data.lag, experiment_of(at).data.seq_len) == (10, 20)
    assert query_of(at) == {"d.generator": "delay", "d.seq_len": "20", "d.lag": "10"}


def test_a_refused_setting_stays_refused_on_every_page_until_fixed():
    at = open_app()
    at.selectbox(key="w.data.generator").set_value("delay").run()
    at.number_input(key="w.data.lag").set_value(12).run()
    assert len(at.error) == 1

    at.switch_page("pages/train.py").run()
    assert not at.exception, _exceptions(at)
    assert at.button(key="train").disabled
    assert any("data.lag" in shown(c.value) for c in at.caption), "the train page does not say why Train is off"
    at.number_input(key="w.model.units").set_value(8).run()  # another change does not forget it
    assert at.button(key="train").disabled

    at.switch_page("pages/data.py").run()
    assert at.number_input(key="w.data.lag").value == 12  # still the refused value, beside its error
    assert len(at.error) == 1 and "data.lag" in shown(at.error[0].value)
    at.number_input(key="w.data.lag").set_value(3).run()
    assert not at.error
    assert experiment_of(at).data.lag == 3
    at.switch_page("pages/train.py").run()
    assert not at.button(key="train").disabled


def test_widgets_show_the_experiment_after_a_page_round_trip():
    at = open_app()
    at.sidebar.button(key="load_preset").click().run()  # the code sets every widget once
    at.switch_page("pages/train.py").run()
    at.number_input(key="w.train.epochs").set_value(5000).run()
    at.selectbox(key="w.model.cell").set_value("GRU").run()
    for page in ["pages/inspect_run.py", "pages/data.py", "pages/theory.py", "pages/train.py"]:
        at.switch_page(page).run()
        assert not at.exception, _exceptions(at)
    assert at.number_input(key="w.train.epochs").value == 5000
    assert at.selectbox(key="w.model.cell").value == "GRU"
    assert experiment_of(at).train.epochs == 5000
    assert query_of(at) == {"m.cell": "GRU", "t.epochs": "5000"}


def test_series_window_longer_than_its_part_is_refused_inline():
    at = open_app()
    at.selectbox(key="w.data.generator").set_value("sine").run()
    # 1000 points: the test part (10 %) holds 100, too few for a window of 100 plus the horizon.
    at.number_input(key="w.data.seq_len").set_value(100).run()

    errors = [shown(e.value) for e in at.error]
    assert len(errors) == 1 and "data.seq_len" in errors[0], errors
    assert experiment_of(at).data.seq_len == 10
    assert at.number_input(key="w.data.seq_len").value == 100  # the widget keeps what was typed


def test_csv_generator_asks_for_a_file_and_takes_a_column_from_it():
    at = open_app()
    at.selectbox(key="w.data.generator").set_value("csv").run()
    assert not at.exception, _exceptions(at)
    assert any("Upload a CSV file" in i.value for i in at.info)
    assert experiment_of(at).data.generator == "random_digits"  # no column yet: the change is pending

    rows = "".join(f"{i};{(i % 17) / 3:.3f};x\n" for i in range(300))
    at.file_uploader(key="csv_upload").upload("temps.csv", f"t;temp;label\n{rows}".encode(), "text/csv").run()

    assert not at.exception, _exceptions(at)
    assert not at.error
    # The numeric columns only, the row number t last: it is not what a person means to learn.
    assert (experiment_of(at).data.generator, experiment_of(at).data.csv_column) == ("csv", "temp")
    assert at.selectbox(key="w.data.csv_column").options == ["temp", "t"]
    assert query_of(at) == {"d.generator": "csv", "d.csv_column": "temp"}
    at.selectbox(key="w.data.csv_column").set_value("t").run()
    assert experiment_of(at).data.csv_column == "t"
    at.switch_page("pages/train.py").run()
    assert not at.button(key="train").disabled


def test_a_csv_link_without_its_file_cannot_train():
    at = open_app(**{"d.generator": "csv", "d.csv_column": "temp"})
    assert experiment_of(at).data.csv_column == "temp"
    assert any("Upload a CSV file" in i.value for i in at.info)
    at.switch_page("pages/train.py").run()
    at.button(key="train").click().run()
    assert not at.exception, _exceptions(at)
    assert any("upload a CSV file" in shown(e.value) for e in at.error), [e.value for e in at.error]
    assert "run" not in query_of(at)


# --- links ---

def test_share_link_opens_with_the_same_settings():
    sine = preset("sine")
    at = open_app(**sine.to_query_params())
    assert experiment_of(at) == sine
    assert not warnings_of(at)
    assert share_link(at).endswith("/?" + sine.to_query())
    assert at.selectbox(key="w.data.generator").value == "sine"
    at.switch_page("pages/train.py").run()
    assert at.selectbox(key="w.model.cell").value == "GRU"
    assert at.number_input(key="w.model.units").value == 16


@pytest.mark.parametrize("query, named", [
    ({"m.units": "abc", "zz": "1", "t.epochs": "-5"}, ["m.units", "zz", "train.epochs"]),
    ({"m.units": "5000"}, ["model.units"]),  # out of range
    ({"t.learning_rate": "fast", "d.generator": "nonsense"}, ["t.learning_rate", "data.generator"]),
    ({"m.units": "12.5"}, ["m.units"]),  # not a whole number
])
def test_garbage_link_opens_with_a_warning_and_valid_defaults(query, named):
    at = open_app(**query)

    warnings = warnings_of(at)
    assert len(warnings) == 1, warnings
    assert "could not be used" in warnings[0]
    for name in named:
        assert name in warnings[0], (name, warnings[0])
    assert experiment_of(at) == Experiment()
    assert query_of(at) == {}  # the address bar no longer carries the bad settings
    at.switch_page("pages/train.py").run()
    assert not at.exception, _exceptions(at)
    assert at.number_input(key="w.model.units").value == 50
    assert at.number_input(key="w.train.epochs").value == 100
    assert not warnings_of(at)  # the warning is shown once


def test_garbage_link_keeps_its_valid_settings():
    at = open_app(**{"m.cell": "GRU", "m.units": "abc", "d.seq_len": "12"})
    assert len(warnings_of(at)) == 1 and "m.units" in warnings_of(at)[0]
    assert experiment_of(at) == Experiment().with_values(**{"model.cell": "GRU", "data.seq_len": 12})
    assert query_of(at) == {"m.cell": "GRU", "d.seq_len": "12"}


def test_a_link_naming_an_unknown_run_opens_its_settings_and_says_the_run_is_gone():
    at = open_app(run="no-such-run", **{"m.units": "8"})
    assert not warnings_of(at)
    assert any("no longer kept" in i.value for i in at.info)
    assert "run" not in query_of(at)
    assert experiment_of(at).model.units == 8
    assert "No run yet" in at.sidebar.caption[0].value
    at.switch_page("pages/train.py").run()
    assert not at.exception, _exceptions(at)
    assert any("Press **Train** to start" in i.value for i in at.info)


def test_the_live_panel_redraws_often_until_the_first_point_then_at_the_usual_rate():
    def timer(status: str, epochs: int = 0, place: int = 0) -> float:
        return refresh.live_timer(SimpleNamespace(status=status, history=[None] * epochs, queue_position=place))

    usual = refresh.REFRESH_S["local"]
    # Pressed Train: the first point shows within a quarter second of its epoch, not a whole refresh later.
    assert timer("starting") == timer("running") == refresh.FIRST_POINT_REFRESH_S < usual
    assert timer("running", epochs=1) == usual
    # A run paused before its first epoch, and a queued one, do not keep a fast timer going.
    assert timer("paused") == usual
    assert timer("queued", place=1) >= usual and timer("queued", place=20) == refresh.QUEUED_REFRESH_FAR_S


def test_user_text_is_escaped_wherever_markdown_would_render_it():
    from pages.ui.safe import md

    crafted = "[Log in](http://x/y) **bold** :red[x] ![i](http://x/i.png) $x$ <b> www.x.org me@x.org"
    escaped = md(crafted)
    assert re.search(r"(?<!\\)[\[\]()*!:$<>]", escaped) is None
    assert "http\u200b" in escaped and "www\u200b" in escaped and "@\u200b" in escaped  # no autolinks
    assert escaped.replace("\\", "").replace("\u200b", "") == crafted  # the same characters, each shown as itself


def test_time_left_and_speed_come_from_steady_epochs_not_the_one_that_compiled():
    from pages.ui import live
    from seqcore.backend import JobView
    from seqcore.events import EpochEvent

    def view(status: str, seconds: list[float], epochs: int = 100):
        history = tuple(EpochEvent(epoch=i + 1, epochs=epochs, loss=1.0, metric=0.0, val_loss=1.0, val_metric=0.0,
                                   seconds=s, samples_per_s=70 / s, elapsed=sum(seconds[:i + 1]))
                        for i, s in enumerate(seconds))
        return JobView(id="j", experiment=Experiment().with_values(**{"train.epochs": epochs}), status=status,
                       reason="", queue_position=0, start=None, history=history, snapshot_epochs=(),
                       latest_snapshot=None, end=None, submitted_at=0.0, waited_s=0.0, estimated_wait_s=0.0)

    # The sine preset showed 5.0 min left after a first epoch of 10.25 s that was mostly compiling.
    assert live._time_left(view("running", [10.25])) == "compiling…"
    assert live._time_left(view("running", [10.25, 0.1, 0.1, 0.1])) == "10 s"  # 96 epochs × 0.1 s
    assert live.steady_epochs(view("running", [10.25, 0.1]))[0].seconds == 0.1
    assert live._time_left(view("paused", [10.25, 0.1])) == "paused"
    assert live._time_left(view("starting", [])) == "compiling…"


def test_the_sidebar_says_custom_for_settings_that_came_from_a_link_and_how_they_differ():
    at = open_app(**{"m.units": "8", "t.epochs": "7"})
    captions = [shown(c.value).replace("**", "") for c in at.sidebar.caption]
    assert any("custom settings (the seed preset with model.units, train.epochs changed)" in c for c in captions)
    at.sidebar.selectbox(key="preset_choice").set_value("sine").run()
    at.sidebar.button(key="load_preset").click().run()
    assert any("Now: the sine preset." in shown(c.value).replace("**", "") for c in at.sidebar.caption)


def test_while_an_unusable_csv_is_loaded_the_data_page_previews_nothing_else():
    at = open_app()
    assert any("<table" in h.proto.body for h in at.get("html"))  # the random digits' table
    at.selectbox(key="w.data.generator").set_value("csv").run()
    at.file_uploader(key="csv_upload").upload("words.csv", b"name,city\nann,rome\nbob,oslo\n", "text/csv").run()
    assert not at.exception, _exceptions(at)
    assert any("This file cannot be used" in shown(e.value) for e in at.error)
    assert not any("<table" in h.proto.body for h in at.get("html"))  # not the previous generator's data
    assert not [m for m in at.markdown if "Simple models to beat" in m.value]
    assert any("No preview" in i.value for i in at.info)


def open_theory(section: str | None = None, **tabs: str) -> AppTest:
    """The Theory page with the tab labelled `section` open (and `tabs`: other tab keys and their labels)."""
    at = open_app()
    if section is not None:
        at.session_state[session.THEORY_SECTION] = section
    for key, label in tabs.items():
        at.session_state[key] = label
    at.switch_page("pages/theory.py").run()
    assert not at.exception, _exceptions(at)
    return at


def test_the_theory_page_draws_only_its_open_tab():
    """A first visit draws one cell's equations and code, not the whole page's charts and code (which cost the
    browser seconds); each tab draws its part when opened."""
    at = open_theory()
    assert [s.value for s in at.subheader] == ["Three recurrent cells"]
    assert [c.value.split("(")[0] for c in at.main.code] == ["def simple_rnn_step"]
    assert not at.get("plotly_chart")
    at = open_theory("Cells", **{session.THEORY_CELL: "GRU"})
    assert [c.value.split("(")[0] for c in at.main.code] == ["def gru_step"]
    at = open_theory("Long sequences")
    assert [s.value for s in at.subheader] == ["Why are long sequences hard?"]
    assert len(at.get("plotly_chart")) == 1 and not at.main.code
    for label, heading in theory_text.SECTIONS.values():
        at = open_theory(label)
        assert [s.value for s in at.subheader] == [heading]


def test_the_theory_lesson_offers_lstm_or_gru_against_a_simplernn_at_three_lengths():
    at = open_theory("Long sequences")
    assert at.button(key="theory.pair.long").label == "Adding problem, 100 steps: LSTM and SimpleRNN side by side"
    at.radio(key="theory.lesson_cell").set_value("GRU").run()
    at.select_slider(key="theory.lesson_steps").set_value(200).run()
    assert not at.exception, _exceptions(at)
    assert at.button(key="theory.pair.long").label == "Adding problem, 200 steps: GRU and SimpleRNN side by side"
    assert at.select_slider(key="theory.lesson_steps").options == ["50", "100", "200"]
    # Each initialisation lever has its A/B.
    assert [at.button(key=f"theory.pair.{lever}").label for lever in ("forget", "chrono", "irnn")] == [
        "Forget-gate bias 1 against 0 (LSTM, 100 steps)",
        "Chrono initialisation against Keras' start (LSTM, 200 steps)", "IRNN against a tanh SimpleRNN (100 steps)"]


def test_an_initialisation_ab_button_loads_its_variant_and_queues_the_pair_it_names(monkeypatch):
    from pages.ui import compare

    queued = []
    monkeypatch.setattr(compare, "submit", lambda a, b: queued.append((a, b)) or ("warning", "Not queued: a test."))
    at = open_theory("Long sequences")
    at.button(key="theory.pair.chrono").click().run()
    assert not at.exception, _exceptions(at)
    (a, b), = queued
    assert differences(a, b) == ["model.chrono_t_max"] and (a.model.chrono_t_max, a.data.seq_len) == (200, 200)
    assert experiment_of(at) == a  # A's settings are the page's now, as a loaded preset's would be
    assert at.session_state[session.PRESET_CHOICE] == "adding_lstm"
    notices = [s.value for s in at.success] + [w.value for w in at.warning]
    assert any("Loaded the **adding_lstm** preset with data.seq_len 200, model.chrono_t_max 200" in n for n in notices)
    assert any("Not queued: a test." in n for n in notices)


def test_early_stopping_is_a_setting_on_the_train_page():
    at = open_app()
    at.switch_page("pages/train.py").run()
    box = at.selectbox(key="w.train.early_stopping")
    assert box.options == ["auto (on for a CSV series)", "on", "off"]
    box.set_value("off").run()
    at.number_input(key="w.train.patience").set_value(3).run()
    assert not at.exception, _exceptions(at)
    assert query_of(at)["t.early_stopping"] == "off" and query_of(at)["t.patience"] == "3"
