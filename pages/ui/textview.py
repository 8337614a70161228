"""The text task's parts of the pages: a person's own text in, the text and its vocabulary shown, live samples.

Text from a person is shown with `st.code` (monospace, every character as typed), never as Markdown or HTML.
Sampling runs the NumPy reference on a snapshot's weights (`seqcore.text.sample`), so no TensorFlow here.
"""

from __future__ import annotations

import streamlit as st

from pages.ui import state
from pages.ui.dataview import markdown_table
from pages.ui.safe import md
from seqcore import panels, plots
from seqcore import units as units_module
from seqcore.data import SequenceData
from seqcore.text import (
    PARTS,
    TextError,
    Vocabulary,
    decode_text,
    describe_vocabulary,
    normalise_line_ends,
    sample,
    trained_vocabulary,
)

PASTE_KEY = "own_text_paste"
UPLOAD_KEY = "own_text_upload"
ERROR_KEY = "own_text_error"
SAMPLE_LENGTH = 200  # characters of each live sample: two or three lines, enough to see words form
PREVIEW_CHARS = 600
SAMPLES_HEIGHT_PX = 460  # about three samples in view; the rest scroll


def _use(name: str, text: str) -> None:
    """Keep `text` as the session's own text, or say why not (and keep the one before)."""
    cap = state.limits().text_chars
    if not text.strip():
        st.session_state[ERROR_KEY] = f"text: {name} is empty or only whitespace; the text before it is kept."
    elif len(text) > cap:
        st.session_state[ERROR_KEY] = (f"text: {name} has {len(text):,} characters, above this server's limit of "
                                       f"{cap:,}; the text before it is kept.")
    else:
        st.session_state.pop(ERROR_KEY, None)
        state.store_text(name, normalise_line_ends(text))


def _pasted() -> None:
    _use("the pasted text", st.session_state.get(PASTE_KEY) or "")


def _uploaded_file() -> None:
    upload = st.session_state.get(UPLOAD_KEY)
    if upload is None:
        return
    try:
        text = decode_text(upload.getvalue())
    except TextError as err:
        st.session_state[ERROR_KEY] = (f"text: the file {upload.name!r} cannot be used: {err}. The text before it "
                                       "is kept.")
        return
    _use(f"the file {upload.name!r}", text)


def own_text_input() -> None:
    """A box to paste text into and a .txt upload; whichever changed last is the text the network learns."""
    limits = state.limits()
    stored = state.own_text()
    if PASTE_KEY not in st.session_state and stored is not None and stored["name"] == "the pasted text":
        st.session_state[PASTE_KEY] = bytes(stored["bytes"]).decode("utf-8")
    st.text_area("Paste your text", key=PASTE_KEY, height=160, max_chars=limits.text_chars, on_change=_pasted,
                 help="Any language or script; press Ctrl+Enter or click outside the box to use it.")
    st.file_uploader(f"…or upload a .txt file (UTF-8, up to {limits.upload_mb} MB)", type=["txt"], key=UPLOAD_KEY,
                     max_upload_size=limits.upload_mb, on_change=_uploaded_file)
    error = st.session_state.get(ERROR_KEY)
    if error:
        st.error(md(error))
    if stored is not None:
        st.caption(f"Learning {md(stored['name'])}: {stored['chars']:,} characters.")
    else:
        st.info("Paste a text or upload a .txt file for the network to learn. Links never carry text, so after "
                "opening a shared link give the text again.")


def preview(data: SequenceData) -> None:
    """The start of the training text, the vocabulary and the parts."""
    split = data.text
    st.markdown(f"**The start of the training text** (first {PREVIEW_CHARS} of {len(split.part_text('train')):,} "
                "characters)")
    st.code(split.part_text("train")[:PREVIEW_CHARS], language=None, wrap_lines=True)
    st.caption(md(describe_vocabulary(data.vocabulary)))
    rows = []
    for part in PARTS:
        start, stop = split.bounds[part]
        rows.append([part, f"{stop - start:,}"])
    st.markdown(markdown_table(["part", "characters"], rows))


@st.cache_data(max_entries=256, show_spinner=False)
def _sample(run_id: str, epoch: int, temperature: float, _weights, _vocabulary, prompt: str, cell: str,
            activation: str) -> str:
    """One snapshot's sample at one temperature, drawn once (0.1 s for an LSTM(128)) and kept."""
    return sample(_weights, _vocabulary, prompt, SAMPLE_LENGTH, cell=cell, temperature=temperature, seed=epoch,
                  activation=activation).text


def _vocabulary(view, data: SequenceData) -> Vocabulary:
    return trained_vocabulary(view.start.vocabulary if view.start else None, data.vocabulary)


def live_samples(job, view, data: SequenceData) -> None:
    """A sample at each snapshot, newest first, at the temperature the slider sets: the text improving."""
    model = view.experiment.model
    vocabulary = _vocabulary(view, data)
    prompt = data.text.prompt()
    head = st.columns([2, 3])
    temperature = head[0].slider("Sampling temperature", 0.0, 1.5, 0.8, 0.05, key="sample_temperature",
                                 help="Below 1 the network's favourite characters win more often (0: always the "
                                      "most likely); above 1 its choices grow wilder.")
    head[1].caption(f"Each snapshot's network continues the start of a validation line for {SAMPLE_LENGTH} "
                    "characters (seeded by the epoch, so a sample stays the same while you watch).")
    st.code(prompt, language=None)
    epochs = list(reversed(view.snapshot_epochs))[:12]
    scores = {e.epoch: e.val_loss for e in view.history}
    box = st.container(height=SAMPLES_HEIGHT_PX)  # scrolls: twelve samples would push the charts off the screen
    for epoch in epochs:
        snapshot = view.latest_snapshot if view.latest_snapshot and view.latest_snapshot.epoch == epoch \
            else job.snapshot(epoch)
        if snapshot is None:
            continue
        try:
            text = _sample(view.id, epoch, float(temperature), snapshot.weights, vocabulary, prompt, model.cell,
                           model.activation)
        except TextError as err:  # a snapshot whose weights diverged
            text = f"(no sample: {err})"
        box.caption(f"Epoch {epoch} · validation {panels.text_scores(scores.get(epoch, float('nan')))}")
        box.code(text, language=None, wrap_lines=True)
    if len(view.snapshot_epochs) > len(epochs):
        st.caption(f"The {len(view.snapshot_epochs) - len(epochs)} earlier samples are on the Inspect page "
                   "(pick their epoch).")


MAX_CONTINUATION = 1000
MAX_PASSAGE = 1500  # characters whose hidden states are ranked and drawn: a second of stepping at most
OWN_PATTERN = "my own regular expression"
DEFAULT_PATTERN = "start of a word"


def _continuation(snapshot, data: SequenceData, vocabulary: Vocabulary, cell: str, activation: str,
                  run_epoch: tuple):
    """Inspect's prompt box: a continuation from this snapshot, coloured by the probability of each character."""
    cols = st.columns([3, 1, 1, 1, 1])
    prompt = cols[0].text_input("Prompt", data.text.prompt(), key="text_prompt", max_chars=500)
    temperature = cols[1].number_input("Temperature", 0.0, 3.0, 0.8, 0.05, key="text_temperature",
                                       help="0 always takes the most likely character.")
    top_k = cols[2].number_input("Top-k (0 = all)", 0, vocabulary.size, 0, 1, key="text_top_k",
                                 help="Draw only among the k most likely characters.")
    length = cols[3].number_input("Length", 1, MAX_CONTINUATION, 300, 50, key="text_length")
    seed = cols[4].number_input("Seed", 0, 2**31 - 1, 0, 1, key="text_seed")
    try:
        result = _continue(snapshot.weights, vocabulary, prompt, int(length), cell, float(temperature),
                           int(top_k) or None, int(seed), activation, run_epoch)
    except TextError as err:
        st.error(md(err))
        return None
    if result.prompt_unknown:
        st.caption(f"{result.prompt_unknown} character(s) of the prompt are not in the vocabulary and were read as "
                   "unknown.")
    st.code(prompt + result.text, language=None, wrap_lines=True)
    chars = list(result.text)
    st.plotly_chart(plots.text_heatmap_figure(
        chars, result.probabilities, hover=[f"p = {p:.3f}" for p in result.probabilities], diverging=False,
        value_label="probability", title=f"The continuation, each character coloured by the probability the network "
                                         f"gave it (epoch {snapshot.epoch})"), key="text_continuation")
    return prompt + result.text


def _unit_view(run_id: str, snapshot, data: SequenceData, vocabulary: Vocabulary, continuation: str | None,
               cell: str, activation: str, layer: int, units: int) -> None:
    """A passage drawn with one unit's activation behind each character; units ranked by a pattern."""
    st.subheader("Cells that mean something")
    st.caption("Each character's background is one hidden unit's activation after reading it (Karpathy, Johnson "
               "& Fei-Fei 2015). Name a pattern and the page ranks the units whose activation follows it most "
               "closely (the correlation, over the passage's characters).")
    cols = st.columns([2, 2, 3])
    sources = ["a validation passage"] + (["the prompt and its continuation"] if continuation else [])
    source = cols[0].radio("Passage", sources, key="text_passage")
    passage = data.text.part_text("validation")[:MAX_PASSAGE] if source == sources[0] else continuation
    names = [*units_module.PATTERNS, OWN_PATTERN]
    # A pattern every text has: quotes or brackets would open Inspect on "matches none" for many a pasted text.
    choice = cols[1].selectbox("Pattern", names, index=names.index(DEFAULT_PATTERN), key="text_pattern",
                               help="; ".join(f"{name}: {about}" for name, (_, about) in units_module.PATTERNS.items()))
    own = cols[2].text_input("Regular expression", r"[A-Z]", key="text_regex", disabled=choice != OWN_PATTERN,
                             max_chars=units_module.MAX_PATTERN_CHARS,
                             help="Python syntax, e.g. [A-Z] for capitals or \\d+ for numbers.")
    trace = _trace_cached((run_id, snapshot.epoch), passage, cell, activation, layer, snapshot.weights, vocabulary)
    ranked = []
    try:
        target = units_module.pattern_mask(passage, own) if choice == OWN_PATTERN else \
            units_module.named_target(passage, choice)
        ranked = units_module.rank_units(trace, target, top=8)
    except TextError as err:
        st.error(md(err))
    if ranked:
        st.markdown(markdown_table(["unit", "correlation"], [[r.unit, f"{r.correlation:+.2f}"] for r in ranked]))
    best = ranked[0].unit if ranked else 0
    unit = st.number_input("Unit", 0, units - 1, best, key=f"text_unit:{choice}:{own}:{source}",
                           help="The best-ranked unit is picked first; choose any other.")
    st.plotly_chart(plots.text_heatmap_figure(
        list(passage), trace[:, unit], title=f"Unit {unit} of layer {layer + 1} (epoch {snapshot.epoch}): blue "
                                             "positive, red negative"), key="text_unit_fig")


@st.cache_data(max_entries=64, show_spinner=False)
def _continue(_weights, _vocabulary, prompt: str, length: int, cell: str, temperature: float, top_k: int | None,
              seed: int, activation: str, run_epoch: tuple):
    """Inspect's continuation, drawn once per (run, epoch, prompt and settings): a click elsewhere on the page
    reruns it, and 1,000 characters take most of a second."""
    return sample(_weights, _vocabulary, prompt, length, cell=cell, temperature=temperature, top_k=top_k, seed=seed,
                  activation=activation)


@st.cache_data(max_entries=32, show_spinner=False)
def _trace_cached(run_epoch: tuple, passage: str, cell: str, activation: str, layer: int, _weights, _vocabulary):
    return units_module.hidden_trace(_weights, _vocabulary, passage, cell=cell, activation=activation, layer=layer)


def inspect(view, snapshot, data: SequenceData, *, layer: int) -> None:
    """Inspect's text section: continue a prompt, then see which units mean something."""
    model = view.experiment.model
    vocabulary = _vocabulary(view, data)
    st.subheader("Continue a prompt")
    continuation = _continuation(snapshot, data, vocabulary, model.cell, model.activation, (view.id, snapshot.epoch))
    _unit_view(view.id, snapshot, data, vocabulary, continuation, model.cell, model.activation, layer, model.units)
