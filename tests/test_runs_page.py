"""The Runs page and stored runs in the app (AppTest): a browser's runs listed, overlaid and diffed; a past run
opened in Inspect and on the Train page after a restart; deleted; never shown to another browser.

The runs are real: two short trainings, recorded into the run store the app reads, owned by the AppTest
session's browser key (AppTest sends no XSRF cookie, so each AppTest is a browser of its own)."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from seqcore.backend import JobRecord
from seqcore.config import preset
from seqcore.store import RunStore
from seqcore.training import train
from tests.test_app import APP, TIMEOUT, _exceptions, _local_limits, _navigation_as_on_a_server, figure_titles  # noqa: F401

SMALL = {"data.n_sequences": 200, "train.epochs": 3, "train.snapshot_every": 1}


def open_page(page: str, **query) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    for key, value in query.items():
        at.query_params[key] = value
    at.run()
    at.switch_page(page)
    at.run()
    assert not at.exception, _exceptions(at)
    return at


def train_into_store(owner: str, run_id: str, preset_name: str) -> None:
    experiment = preset(preset_name).with_values(**SMALL)
    record = JobRecord(run_id, experiment, owner=owner, recorder=RunStore())
    record.mark_started()
    train(experiment, record.apply)
    assert record.view().status == "finished" and record.record_error is None


@pytest.fixture(scope="module")
def browser_with_two_runs():
    """An AppTest browser whose store holds an LSTM and a SimpleRNN run on the delay task."""
    at = open_page("pages/runs.py")
    owner = at.session_state["browser"]
    suffix = owner[-8:]
    train_into_store(owner, f"lstm-{suffix}", "delay")
    train_into_store(owner, f"rnn-{suffix}", "delay_simplernn")
    return at, owner, f"lstm-{suffix}", f"rnn-{suffix}"


def test_the_runs_page_lists_overlays_and_diffs_this_browsers_runs(browser_with_two_runs):
    at, _, lstm, rnn = browser_with_two_runs
    at.run()
    assert not at.exception, _exceptions(at)
    table = at.dataframe[0].value
    assert list(table["Run"]) == [rnn, lstm]  # newest first
    assert list(table["Cell"]) == ["SimpleRNN", "LSTM"] and set(table["Status"]) == {"finished"}
    assert list(table["Settings"]) == ["custom (delay_simplernn + 3 changes)", "custom (delay + 3 changes)"]
    assert table["Test"].notna().all()
    stored = RunStore().run(lstm)
    assert (table["Best baseline loss"] == stored.baselines["bigram cross-entropy"]).all()
    charts = at.get("plotly_chart")
    assert len(charts) == 2  # loss and accuracy, both runs on each
    diff = at.dataframe[1].value
    assert list(diff.index) == ["model.cell"] and list(diff.iloc[0]) == ["SimpleRNN", "LSTM"]


def test_another_browsers_runs_are_not_listed_nor_opened_by_their_address(browser_with_two_runs):
    # AppTests of one process share one session (so one browser): the other browser's run is recorded under
    # another key, as a run from another browser is.
    at, owner, lstm, _ = browser_with_two_runs
    record = JobRecord("someone-elses", preset("delay").with_values(**SMALL), owner="another-browser",
                       recorder=RunStore())
    record.mark_started()
    at.switch_page("pages/runs.py")
    at.run()
    assert "someone-elses" not in list(at.dataframe[0].value["Run"])
    named = AppTest.from_file(APP, default_timeout=TIMEOUT)
    named.query_params["run"] = "someone-elses"
    named.run()  # the first page says why the run is not shown
    assert any("another browser" in info.value for info in named.info)
    named.switch_page("pages/inspect_run.py")
    named.run()
    assert not any(c.value.startswith("Run:") for c in named.caption)


def test_a_past_run_opens_in_inspect_and_on_the_train_page_with_its_downloads(browser_with_two_runs):
    at, _, lstm, _ = browser_with_two_runs
    at.run()
    at.selectbox(key="runs_target").set_value(lstm).run()
    at.button(key="runs_inspect").click().run()
    assert not at.exception, _exceptions(at)
    assert at.query_params["run"] == lstm
    assert any(c.value.startswith("Run: LSTM") for c in at.caption)  # Inspect draws the stored run
    assert at.select_slider(key="inspect_epoch").options == ["1", "2", "3"]
    saturation = [t for t in figure_titles(at) if t.startswith("Gate saturation")]
    assert saturation == ["Gate saturation, layer 1, epoch 3 (40 validation sequences)"]  # the validation split of 200
    at.switch_page("pages/train.py")
    at.run()
    assert not at.exception, _exceptions(at)
    assert any(s.value.startswith("Trained all 3 epochs") and "Test set" in s.value for s in at.success)
    labels = [b.label for b in at.get("download_button")]
    assert "Model (.keras)" in labels and "History (CSV)" in labels


def test_delete_removes_the_run_from_the_store_and_the_table(browser_with_two_runs):
    at, owner, _, rnn = browser_with_two_runs
    at.switch_page("pages/runs.py")
    at.run()
    at.selectbox(key="runs_target").set_value(rnn).run()
    at.button(key="runs_delete").click().run()
    assert not at.exception, _exceptions(at)
    assert [r.id for r in RunStore().runs(owner)] != [] and rnn not in [r.id for r in RunStore().runs(owner)]
    assert rnn not in list(at.dataframe[0].value["Run"])


def finished_run(run_id: str, owner: str, accuracy: float, experiment=None) -> None:
    from seqcore.events import EndEvent
    from tests.test_store import start_event

    record = JobRecord(run_id, experiment or preset("seed"), owner=owner, recorder=RunStore())
    record.mark_started()
    record.apply(start_event(baselines={"chance accuracy": 0.1, "bigram accuracy": 0.12}))
    record.finish(EndEvent("finished", "Trained all 10 epochs.", 10, {"loss": 2.0, "accuracy": accuracy}))


def test_the_class_board_ranks_the_class_runs_on_the_same_data_and_marks_your_own(monkeypatch):
    from seqcore.store import data_key

    monkeypatch.setenv("SEQCORE_HOSTED", "1")
    at = open_page("pages/board.py")
    me = at.session_state["browser"]
    seed = preset("seed").with_values(**{"data.seed": 4242})  # data of this test alone
    state_key = data_key(seed, None)
    finished_run("board-a", "classmate-a", 0.31, seed)
    finished_run("board-b", me, 0.45, seed)
    finished_run("board-c", "classmate-c", 0.9, preset("seed").with_values(**{"data.seed": 4243}))  # other data
    RunStore().board_name("classmate-a", "<b>Loud</b> Name")
    projector = AppTest.from_file(APP, default_timeout=TIMEOUT)
    projector.query_params["board"] = state_key
    projector.run()
    assert not projector.exception, _exceptions(projector)
    assert [t.value for t in projector.title] == ["Class board"] and not projector.sidebar.button
    board = projector.dataframe[0].value
    assert list(board["Rank"]) == [1, 2] and board["Test accuracy"].tolist() == [0.45, 0.31]
    assert board["Name"][0].endswith("(you)") and board["Name"][1] == "<b>Loud</b> Name"  # text, not markup
    assert "board-c" not in str(board)  # no run ids, and nothing from other data


def test_a_board_name_can_be_changed_but_not_to_someone_elses(monkeypatch):
    monkeypatch.setenv("SEQCORE_HOSTED", "1")
    RunStore().board_name("classmate-z", "Taken Name")
    at = open_page("pages/board.py")
    at.text_input(key="board_name").set_value("Taken Name")
    at.button(key="board_rename").click().run()
    assert any("taken by someone else" in e.value for e in at.error)
    at.text_input(key="board_name").set_value("Night Owl")
    at.button(key="board_rename").click().run()
    assert RunStore().board_names({at.session_state["browser"]}) == {at.session_state["browser"]: "Night Owl"}
    assert any("**Night Owl**" in m.value for m in at.markdown)


def test_compare_with_refuses_a_bad_value_for_b_and_names_the_setting():
    at = open_page("pages/train.py")
    at.selectbox(key="compare_setting").set_value("model.units").run()
    at.text_input(key="compare_value.model.units").set_value("lots").run()
    at.button(key="compare_train").click().run()
    assert not at.exception, _exceptions(at)
    shown = [e.value.replace("\\", "") for e in at.error]  # as the browser shows the escaped Markdown
    assert any("model.units" in text and "'lots' is not a number" in text for text in shown)
    at.text_input(key="compare_value.model.units").set_value(str(at.session_state["experiment"].model.units)).run()
    at.button(key="compare_train").click().run()
    assert any("is A's own" in e.value.replace("\\", "") for e in at.error)
    assert "run" not in at.query_params  # nothing was queued


def test_the_b_value_offered_first_makes_a_telling_comparison():
    from pages.ui.compare import COMPARABLE, suggestion

    delay = preset("delay")
    assert suggestion(delay, "model.cell") == "SimpleRNN"
    assert suggestion(preset("delay_simplernn"), "model.cell") == "LSTM"
    assert suggestion(delay, "model.units") == "64" and suggestion(delay, "model.dropout") == "0.2"
    assert suggestion(delay, "train.learning_rate") == "0.001"
    assert suggestion(delay, "model.forget_bias") == "0.0" and suggestion(delay, "model.chrono_t_max") == "30"
    assert "data.seed" not in COMPARABLE and "train.seed" not in COMPARABLE and "model.cell" in COMPARABLE
    for key in COMPARABLE:  # every suggestion is a valid value that differs from A's
        assert delay.apply_overrides([f"{key}={suggestion(delay, key)}"]) != delay, key


def test_play_on_inspect_starts_from_the_first_snapshot_when_pressed_at_the_last(browser_with_two_runs):
    from pages.ui import player

    at, _, lstm, _ = browser_with_two_runs
    at.switch_page("pages/runs.py")
    at.run()
    at.selectbox(key="runs_target").set_value(lstm).run()
    at.button(key="runs_inspect").click().run()
    at.switch_page("pages/inspect_run.py")  # where AppTest reruns the page (a browser stays where it is)
    at.run()
    assert at.select_slider(key="inspect_epoch").value == 3
    at.toggle(key=player.PLAYING).set_value(True).run()
    assert not at.exception, _exceptions(at)
    assert at.select_slider(key="inspect_epoch").value == 1  # a film starts at its beginning
    assert player.next_epoch([1, 2, 3], 1) == 2 and player.next_epoch([1, 2, 3], 3) is None
