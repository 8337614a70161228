"""Class board: the runs of a class on the same data, ranked by test score, each under a name its browser chose.

A row shows a run's name, settings and test score, nothing more: nobody opens another person's run from here.
With `?board=KEY` the app shows this page alone (no sidebar, no other page): the teacher's projector link.
"""

import hashlib
import random

import pandas as pd
import streamlit as st

from pages.ui import runs, session, state
from pages.ui.safe import md
from seqcore import panels, plots
from seqcore.config import ConfigError, nearest_preset
from seqcore.data import DataError
from seqcore.tasks import task_named

ADJECTIVES = ("Quiet", "Bold", "Curious", "Swift", "Patient", "Bright", "Gentle", "Clever", "Steady", "Eager",
              "Calm", "Lively", "Keen", "Brave", "Merry", "Wise")
ANIMALS = ("Heron", "Otter", "Fox", "Lynx", "Badger", "Falcon", "Hare", "Owl", "Seal", "Wren", "Ibex", "Marten",
           "Crane", "Gecko", "Puffin", "Koala")
BOARD_REFRESH_S = 10.0  # runs end every few seconds in a lesson; the projector need not be quicker


def board_key() -> str:
    """The data key of the board to show: the projector link's, or the session's current data."""
    from seqcore.store import data_key

    named = st.query_params.get(session.BOARD_PARAM)
    if named:
        return named
    try:
        values, _ = state.uploaded()
    except DataError:  # the file's columns cannot be used: the board of these settings without a file
        values = None
    digest = hashlib.sha256(values.tobytes()).hexdigest() if values is not None else None
    return data_key(state.experiment(), digest)


def my_name(store) -> str:
    rng = random.Random(runs.browser())  # the same proposal for a browser every time
    return store.board_name(runs.browser(), f"{rng.choice(ADJECTIVES)} {rng.choice(ANIMALS)}")


def rows(board, mine: str) -> pd.DataFrame:
    table = []
    for rank, (name, r) in enumerate(board, start=1):
        model, train = r.experiment.model, r.experiment.train
        preset, changed = nearest_preset(r.experiment)
        table.append({"Rank": rank, "Name": name + (" (you)" if r.owner == mine else ""),
                      "Settings": preset if not changed else f"{preset} with {', '.join(changed[:3])}"
                      + (" …" if len(changed) > 3 else ""),
                      "Cell": model.cell, "Layers × units": f"{model.layers} × {model.units}",
                      "Epochs": r.epochs_done, "Learning rate": train.learning_rate, "Dropout": model.dropout,
                      f"Test {r.metric}": r.test_metric()})
    return pd.DataFrame(table)


def best_baseline(board) -> tuple[str, float] | None:
    metric = board[0][1].metric
    if metric != "accuracy":
        return None  # series scores are MAE; their baselines are losses (drawn on each run's loss chart)
    found = panels.metric_baselines(board[0][1].baselines)
    if not found:
        return None
    name = max(found, key=found.get)
    return name, found[name]


def draw(key: str, *, projector: bool) -> None:
    store = runs.store()
    if store is None:
        st.error(f"The run store cannot be opened, so there is no board: {md(runs.store_access().error)}")
        return
    board = store.board(key)
    if not board:
        st.info("No finished runs on these data yet. When someone's run ends, it appears here, ranked by its "
                "test score." + ("" if projector else " Train one on *Model & training*."))
        return
    metric = board[0][1].metric
    mine = runs.browser()
    figure = plots.board_figure([name for name, _ in board], [r.test_metric() for _, r in board], metric=metric,
                                baseline=best_baseline(board), highlight=[r.owner == mine for _, r in board])
    st.plotly_chart(figure, key="board_chart")
    st.dataframe(rows(board, mine), hide_index=True, width="stretch", key="board_table",
                 column_config={f"Test {metric}": st.column_config.NumberColumn(format="%.4f")})
    better = "higher" if metric == "accuracy" else "lower"
    st.caption(f"{len(board)} finished run(s), ranked by test {metric} ({better} is better). The dashed line is "
               "the best model without a network.")


state.ensure_widgets()
projector = bool(st.query_params.get(session.BOARD_PARAM))
st.title("Class board")
key = board_key()
store = runs.store()
first = next(iter(store.runs(data=key, any_owner=True, limit=1)), None) if store is not None else None
experiment = first.experiment if first is not None else state.experiment()
st.markdown(f"**{task_named(experiment.data.generator).label}**: every finished run on the same data settings "
            f"(generator, sizes and seed), whoever trained it.")
if projector:
    st.fragment(draw, run_every=BOARD_REFRESH_S)(key, projector=True)
    st.stop()

state.show_notices()
if store is not None:
    name = my_name(store)
    left, right = st.columns([3, 2])
    left.markdown(f"You appear on the board as **{md(name)}**. Only your runs' rows are shown to others: name, "
                  "settings and test score.")
    with right.popover("Change your name", icon=":material/edit:"):
        new = st.text_input("Name on the board (1 to 40 characters)", name, max_chars=40, key="board_name")
        if st.button("Save", key="board_rename"):
            try:
                store.rename(runs.browser(), new)
                st.rerun()
            except ConfigError as err:
                st.error(md(err))
draw(key, projector=False)
base = (st.context.url or "").rstrip("/")
if base.endswith("/board"):
    base = base[: -len("/board")]
with st.popover("Link for the projector", icon=":material/cast:"):
    st.code(f"{base}/?{session.BOARD_PARAM}={key}", language=None, wrap_lines=True)
    st.caption("Opens this board alone (no settings, no runs), redrawn every 10 seconds as runs finish.")
