"""A/B in one click: the current settings and one changed setting trained side by side, on the same data and seed.

`controls` is the Train page's "Compare with…"; `pair_button` starts a pair (of presets) from the Theory
page; `panel` draws a running or ended pair: both loss curves on one chart, two heatmaps side by side.
"""

from __future__ import annotations

import streamlit as st

from pages.ui import refresh, runs, session, state
from pages.ui.safe import md
from seqcore import limits as run_limits
from seqcore import panels
from seqcore.backend import JobView, QueueFull
from seqcore.backends import BackendUnavailable
from seqcore.config import SECTIONS, ConfigError, Experiment, differences, preset
from seqcore.data import DataError

# What B may change: the network and how it learns. The data and the seed stay A's, so the two runs see the
# same sequences in the same order and only the one setting differs.
NOT_COMPARED = {"seed", "backend", "snapshot_every", "time_limit_s"}
COMPARABLE = [f"{section}.{f}" for section in ("model", "train")
              for f in SECTIONS[section].__dataclass_fields__ if f not in NOT_COMPARED]


def suggestion(experiment: Experiment, key: str) -> str:
    """A value for B that makes a telling comparison (the other cell, twice the units, some dropout…)."""
    section, name = key.split(".")
    value = getattr(getattr(experiment, section), name)
    choices = SECTIONS[section].__dataclass_fields__[name].metadata.get("choices")
    if choices:
        others = [c for c in choices if c != value]
        if name == "cell" and value != "SimpleRNN":
            return "SimpleRNN"
        return str(others[0]) if others else str(value)
    if isinstance(value, bool):
        return str(not value)
    if name in ("dropout", "recurrent_dropout"):
        return "0.2" if value == 0 else "0.0"
    if name in ("l1", "l2"):
        return "0.001" if value == 0 else "0.0"
    if name == "learning_rate":
        return f"{value / 10:g}"
    if name == "clipnorm":
        return "1.0" if value == 0 else "0.0"  # 0 means no clipping
    if name == "forget_bias":
        return "0.0" if value == 1.0 else "1.0"  # against Keras' start, the Theory page's lesson
    if name == "chrono_t_max":  # 0 is off; on, spans up to the sequence length (the help text's advice)
        return str(max(2, experiment.data.seq_len)) if value == 0 else "0"
    if isinstance(value, int):
        return str(value * 2)
    if isinstance(value, float):
        return f"{value * 2:g}"
    return str(value)


def labels(first: Experiment, second: Experiment) -> tuple[str, str]:
    """'A · model.cell LSTM' and 'B · model.cell SimpleRNN': what tells the two runs apart."""
    changed = differences(first, second)
    def describe(experiment):
        parts = [f"{key.split('.')[1]} {experiment.value(key)}" for key in changed[:3]]
        return ", ".join(parts) + (" …" if len(changed) > 3 else "") if parts else "same settings"
    return f"A · {describe(first)}", f"B · {describe(second)}"


def submit(first: Experiment, second: Experiment):
    """Queue the pair: its two jobs, or a (kind, message) saying why not."""
    try:
        values, _ = state.uploaded()
        if state.missing_upload():
            return "error", state.missing_upload()
        runs.session_data()
        return runs.start_pair(first, second, values)
    except (ConfigError, DataError) as err:
        return "error", f"Cannot train on these settings: {md(err)}"
    except QueueFull as err:
        return "warning", md(err)
    except BackendUnavailable as err:
        return "error", f"This server cannot train now: {md(err)}"


def start(first: Experiment, second: Experiment):
    """Queue the pair and return its two jobs; on refusal say why on the page and return None."""
    result = submit(first, second)
    if isinstance(result[0], str):
        getattr(st, result[0])(result[1])
        return None
    return result


def controls(disabled: bool) -> None:
    """The Train page's "Compare with…": pick one setting and B's value, train A and B side by side."""
    with st.popover("Compare with…", icon=":material/compare_arrows:", disabled=disabled, width="stretch",
                    help="Train these settings (A) and the same with one setting changed (B) side by side: "
                         "same data, same seed, curves on one chart."):
        experiment = state.experiment()
        key = st.selectbox("Setting to change for run B", COMPARABLE, index=COMPARABLE.index("model.cell"),
                           key="compare_setting")
        value = st.text_input(f"B's {key} (A keeps {experiment.value(key)})", suggestion(experiment, key),
                              key=f"compare_value.{key}")
        if st.button("Train A and B", type="primary", key="compare_train", width="stretch"):
            try:
                second = experiment.apply_overrides([f"{key}={value.strip()}"])
            except ConfigError as err:
                st.error(md(err))
                return
            if second == experiment:
                st.error(f"{key}: B's value {md(value)} is A's own; choose another value to compare.")
                return
            pair = start(experiment, second)
            if pair is not None:
                refresh.follow(pair[0].view(), None, live_panel=True)  # a full rerun starts the live timer


def _start_pair(name: str, first: Experiment, second: Experiment) -> None:
    """A Theory page pair button, as a callback: loading the preset (`first` is it or a variant of it) sets the
    sidebar's picker, which a script run can no longer change once the sidebar is drawn."""
    state.load_preset(name, first)
    a, _ = run_limits.clamp(first, state.limits())
    b, _ = run_limits.clamp(second, state.limits())
    result = submit(a, b)
    if isinstance(result[0], str):
        state.notice(*result)
    else:
        st.session_state[session.PAIR_STARTED] = True


def pair_button(question: str, label: str, name: str, first: Experiment, second: Experiment, *,
                help: str | None = None) -> None:
    """Theory page: load `first` (preset `name` or a variant of it), then train it against `second` side by
    side on the Train page."""
    st.button(label, key=f"theory.pair.{question}", type="primary", icon=":material/compare_arrows:",
              on_click=_start_pair, args=(name, first, second),
              help=help or "Trains both side by side on the same data and opens Model & training.")
    if st.session_state.pop(session.PAIR_STARTED, False):
        st.switch_page("pages/train.py", query_params=st.query_params.to_dict())  # the settings and the run


def preset_pair_button(question: str, first: str, second: str, label: str) -> None:
    """Theory page: train preset `first` against preset `second` side by side."""
    pair_button(question, label, first, preset(first), preset(second),
                help=f"Trains the {first} and {second} presets side by side and opens Model & training.")


def _line(label: str, view: JobView) -> str:
    epochs = view.experiment.train.epochs
    if view.status == "queued":
        return f"**{label}**: queued, number {view.queue_position} in line"
    if view.status in ("finished", "stopped", "timed_out") and view.end:
        test = ", ".join(f"{k} {v:.4f}" for k, v in view.end.test_metrics.items())
        return f"**{label}**: {view.status}, {view.epoch} of {epochs} epochs" + (f"; test {test}" if test else "")
    if view.status == "failed":
        return f"**{label}**: failed: {md(view.reason)}"
    return f"**{label}**: {view.status}, epoch {view.epoch} of {epochs}"


def _stop_both(now: session.RunNow) -> None:
    for job in (now.job, now.partner):
        if job is not None:
            job.stop()
    refresh.redraw_all()


def panel(now: session.RunNow, train_button) -> None:
    """A pair of runs: status of each, both curves on one chart, their hidden states side by side."""
    view, other = now.view, now.partner_view
    label_a, label_b = labels(view.experiment, other.experiment)
    cols = st.columns([2, 2, 3])
    with cols[0]:
        train_button()
    cols[1].button("⏹ Stop both", disabled=not now.active, key="stop_pair", width="stretch", on_click=_stop_both,
                   args=(now,))
    st.markdown(f"{_line(label_a, view)}  \n{_line(label_b, other)}")
    options = st.columns(3)
    log_y = options[0].toggle("Log scale", key="pair_log_y")
    smoothing = options[1].slider("Smoothing", 0.0, 0.95, 0.0, 0.05, key="pair_smoothing")
    options[2].toggle("Freeze view", key=session.FREEZE, help="Stop redrawing (training goes on).")
    start = view.start or other.start
    if view.history or other.history:
        metric = start.metric if start else "metric"
        figures = panels.compare_panels([(label_a, view.history), (label_b, other.history)], metric,
                                        baselines=start.baselines if start else {}, log_y=log_y,
                                        smoothing=smoothing)
        top = st.columns(2)
        top[0].plotly_chart(figures["loss"], key="fig_pair_loss")
        top[1].plotly_chart(figures["metric"], key="fig_pair_metric")
    heatmaps = st.columns(2)
    for column, label, job, v in ((heatmaps[0], label_a, now.job, view), (heatmaps[1], label_b, now.partner, other)):
        with column:
            if v.latest_snapshot is not None and v.start is not None:
                figure = panels.hidden_panel(v.latest_snapshot, v.start, runs.data_for(job), layer=0, probe=0)
                figure.update_layout(title_text=f"{label}: hidden state, epoch {v.latest_snapshot.epoch}")
                st.plotly_chart(figure, key=f"fig_pair_hidden_{label[0]}")
            elif not v.done:
                st.caption(f"{label}: the hidden-state heatmap appears after its first snapshot.")
    if (view.start or other.start) is not None and runs.data_for(now.job).task.long_memory:
        gradients = panels.gradient_panel([(label_a, view.latest_snapshot), (label_b, other.latest_snapshot)])
        if gradients is not None:
            st.plotly_chart(gradients, key="fig_pair_gradients")
            st.caption(panels.GRADIENTS_CAPTION)
    if not now.active:
        st.page_link("pages/runs.py", label="Both runs are on the Runs page: overlay, compare settings, download",
                     icon=":material/table_view:")
