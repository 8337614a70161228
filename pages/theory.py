"""Theory: the three cells as equations and code, training as maximum likelihood, the seed tutorial's questions."""

import inspect
import json
import math
from pathlib import Path

import pandas as pd
import streamlit as st

from pages.ui import compare, session, state
from pages.ui import theory_text as text
from seqcore import plots, reference
from seqcore.config import LESSON_CELLS, LESSON_STEPS, PRESETS, adding_lesson, preset
from seqcore.jacobians import jacobian_norms

DELAY_LAG = 20  # the lag of the delay presets, marked on the Jacobian chart


def blocks(items) -> None:
    for kind, body in items:
        if kind == "latex":
            st.latex(body)
        elif kind == "text_likelihood":
            st.markdown(text_likelihood())
        else:
            st.markdown(body)


@st.cache_data(show_spinner=False)
def text_likelihood() -> str:
    """The bits-per-character paragraph with the text preset's run from docs/lessons.json (bench/lessons.py)."""
    from seqcore.text import builtin_vocabulary_size

    try:
        runs = json.loads((Path(__file__).resolve().parents[1] / "docs" / "lessons.json").read_text())["runs"]
        run = next(r for r in runs if r["group"] == "text")
        nats, base = run["val_loss"][-1], run["baselines"]
    except (OSError, ValueError, KeyError, StopIteration):
        return text.TEXT_LIKELIHOOD_UNMEASURED
    data = preset("text").data
    return text.TEXT_LIKELIHOOD.format(
        symbols=builtin_vocabulary_size(data.val_fraction, data.test_fraction, data.max_vocab),
        unigram=base["unigram bits/char"], bigram=base["bigram bits/char"], trigram=base["trigram bits/char"],
        epochs=run["epochs"], bits=nats / math.log(2), perplexity=math.exp(nats), command=run["command"])


def preset_buttons(question: str, presets: list[tuple[str, str]]) -> None:
    """One button per preset with its description; after a click, say where to go next."""
    columns = st.columns(len(presets), gap="large")
    for column, (name, label) in zip(columns, presets, strict=True):
        with column:
            if st.button(label, key=f"theory.{question}.{name}", on_click=state.load_preset, args=(name,),
                         icon=":material/download:", help=f"Load the {name} preset"):
                st.success(f"Loaded **{name}**: open *Model & training* and press **Train**.")
                st.page_link("pages/train.py", label="Open Model & training", icon=":material/neurology:")
            st.caption(PRESETS[name][0])


def cells() -> None:
    st.markdown(text.CELLS_INTRO)
    # Lazy too: one cell's equations and code at a time.
    tabs = st.tabs(list(text.CELLS), key=session.THEORY_CELL, on_change="rerun")
    for tab, (cell, about) in zip(tabs, text.CELLS.items(), strict=True):
        if not tab.open:
            continue
        with tab:
            st.markdown(about["intro"])
            st.latex(about["equations"])
            if "note" in about:
                st.caption(about["note"])
            st.markdown(about["terms"])
            formula, example = st.columns([1, 1], gap="large", vertical_alignment="center")
            with formula:
                st.latex(about["params"])
            with example:
                st.markdown(f"**Parameters** per layer, with $n$ units and $m$ inputs per step. {about['example']}")
            step = reference.STEP_FUNCTIONS[cell]
            st.markdown(f"**The code.** `seqcore.reference.{step.__name__}` computes one step; this is its real "
                        "source:")
            st.code(inspect.getsource(step), language="python")
            st.markdown(about["code_links"])
            st.caption(text.BATCH_NOTE)


def training() -> None:
    blocks(text.TRAINING)
    blocks(text.BPTT)


def long_sequences() -> None:
    blocks(text.LONG_SEQUENCES)
    st.markdown(text.JACOBIAN_DEMO)
    controls, chart = st.columns([1, 3], gap="large")
    with controls:
        radius = st.slider("Spectral radius ρ of U", 0.5, 1.5, 1.0, 0.05, key="theory.radius",
                           help="The largest |eigenvalue| of the recurrent kernel. Below 1 it shrinks vectors, "
                                "above 1 it stretches them.")
        drive = st.slider("Input strength", 0.0, 1.0, 0.5, 0.05, key="theory.drive",
                          help="How hard the random inputs push the units towards ±1, where tanh saturates.")
        tanh_norms, linear_norms = jacobian_norms(radius, drive)
        st.metric(f"After {DELAY_LAG} steps", f"× {tanh_norms[DELAY_LAG - 1]:.1e}",
                  help="The norm of ∂h_20/∂h_0 in the tanh network: how much of the error signal survives 20 "
                       "steps.")
    with chart:
        st.plotly_chart(plots.jacobian_figure(tanh_norms, linear_norms, radius=radius, lag=DELAY_LAG,
                                              lag_label="the delay presets' lag"), key="theory.jacobians")
    st.caption(text.JACOBIAN_EXPLAIN)
    st.markdown(text.LONG_SEQUENCES_TRY)
    lesson_cell, lesson_steps, _ = st.columns([1, 2, 2], gap="large")
    gated = lesson_cell.radio("Gated cell", LESSON_CELLS, horizontal=True, key="theory.lesson_cell",
                              help="The cell set against a SimpleRNN of the same size (64 units).")
    steps = lesson_steps.select_slider("Sequence length T", LESSON_STEPS, value=100, key="theory.lesson_steps",
                                       help="How many steps the two marked numbers hide among.")
    name, gated_run = adding_lesson(gated, steps)
    compare.pair_button("long", f"Adding problem, {steps} steps: {gated} and SimpleRNN side by side", name,
                        gated_run, adding_lesson("SimpleRNN", steps)[1],
                        help=f"Trains {gated}(64) and SimpleRNN(64) on the adding problem with T = {steps}, same "
                             "data and seed, and opens Model & training.")
    st.caption(text.LESSON_TIMES)
    if steps == 200 and state.limits().time_limit_s < 300:
        st.warning(f"This server stops a run after {state.limits().time_limit_s:g} s; at T = 200 the runs took "
                   "124-160 s on their own here, so this pair may stop before it learns.", icon=":material/timer:")
    compare.preset_pair_button("delay", "delay", "delay_simplernn", "Delay task: LSTM and SimpleRNN side by side")
    preset_buttons("long", [("delay", "LSTM on a 20-step delay"), ("delay_simplernn", "SimpleRNN on the same delay"),
                            ("copy_memory", "GRU on copy memory")])

    st.markdown(text.INIT_LEVERS)
    lstm_100, rnn_clipped = preset("adding_lstm"), preset("adding_simplernn").with_values(**{"train.clipnorm": 1.0})
    lstm_200 = adding_lesson("LSTM", 200)[1]
    compare.pair_button("forget", "Forget-gate bias 1 against 0 (LSTM, 100 steps)", "adding_lstm", lstm_100,
                        lstm_100.with_values(**{"model.forget_bias": 0.0}))
    compare.pair_button("chrono", "Chrono initialisation against Keras' start (LSTM, 200 steps)", "adding_lstm",
                        lstm_200.with_values(**{"model.chrono_t_max": 200}), lstm_200)
    compare.pair_button("irnn", "IRNN against a tanh SimpleRNN (100 steps)", "adding_simplernn",
                        rnn_clipped.with_values(**{"model.activation": "relu", "model.recurrent_init": "identity"}),
                        rnn_clipped)


def overfitting() -> None:
    blocks(text.OVERFITTING)
    st.markdown(text.OVERFITTING_TRY)
    compare.preset_pair_button("overfit", "overfit", "overfit_cured", "Train overfit and cured side by side")
    preset_buttons("overfit", [("overfit", "Overfitting"), ("overfit_cured", "Overfitting cured")])


def hmm_crf() -> None:
    blocks(text.HMM_CRF)
    table = text.HMM_CRF_TABLE
    st.table(pd.DataFrame(list(table["rows"].values()), index=list(table["rows"]), columns=table["columns"]))
    st.markdown(text.HMM_CRF_TIE)
    preset_buttons("markov", [("patterned", "Patterned digits: Markov does well"),
                              ("delay", "Delay: first-order Markov cannot")])


def reading() -> None:
    for column, (title, body) in zip(st.columns(len(text.READING), gap="large"), text.READING.items(),
                                     strict=True):
        with column:
            st.markdown(f"**{title}**")
            st.markdown(body)


DRAW = {"cells": cells, "training": training, "long": long_sequences, "overfitting": overfitting,
        "hmm_crf": hmm_crf, "reading": reading}

state.ensure_widgets()
state.show_notices()
st.title("Theory")
st.markdown(text.INTRO)
st.caption(text.QUESTIONS_INTRO)
tabs = st.tabs([label for label, _ in text.SECTIONS.values()], key=session.THEORY_SECTION, on_change="rerun")
for tab, (key, (_, heading)) in zip(tabs, text.SECTIONS.items(), strict=True):
    if tab.open:
        with tab:
            st.subheader(heading)
            DRAW[key]()
