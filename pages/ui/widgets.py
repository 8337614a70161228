"""Widgets drawn from the config's own metadata: bounds, choices and help come from seqcore.config."""

from __future__ import annotations

import streamlit as st

from pages.ui import session, state
from pages.ui.safe import md
from seqcore import limits as run_limits
from seqcore.config import SECTIONS
from seqcore.tasks import TASKS

LABELS = {
    "n_sequences": "Sequences", "seq_len": "Sequence length (steps)", "vocab_size": "Vocabulary (tokens)",
    "noise": "Noise", "pattern": "Pattern", "motif_len": "Motif length", "lag": "Lag L (steps)",
    "n_points": "Series length (points)", "frequency": "Frequency (cycles/step)", "amplitude": "Amplitude",
    "phase": "Phase (rad)", "n_components": "Waves", "ar_order": "AR order p", "mg_tau": "Delay τ",
    "copy_len": "Symbols to copy", "fresh_data": "Fresh data every epoch",
    "csv_column": "Column", "horizon": "Horizon H (steps ahead)",
    "val_fraction": "Validation share", "test_fraction": "Test share", "seed": "Seed", "generator": "Generator",
    "cell": "Cell", "layers": "Layers", "units": "Units per layer", "activation": "Activation",
    "dropout": "Dropout", "recurrent_dropout": "Recurrent dropout", "l1": "L1 penalty", "l2": "L2 penalty",
    "optimizer": "Optimizer", "learning_rate": "Learning rate", "clipnorm": "Gradient clipping (norm)",
    "batch_size": "Batch size", "epochs": "Epochs", "snapshot_every": "Snapshot every (epochs)",
    "time_limit_s": "Time limit (s)", "backend": "Keras backend", "xla": "XLA compilation",
    "forget_bias": "Forget-gate bias", "chrono_t_max": "Chrono init T (0 = off)", "recurrent_init": "Recurrent init U",
    "text_source": "Text", "max_vocab": "Vocabulary cap (symbols)", "stride": "Stride (characters, 0 = T)",
    "time_column": "Date / time column", "missing": "Missing values", "log": "Learn the logarithm",
    "difference": "Differencing", "season": "Season (steps, 0 = from the dates)", "early_stopping": "Early stopping",
    "patience": "Patience (epochs)",
}
CHOICE_LABELS = {
    "text_source": {"builtin": "Built-in: Python's documentation", "own": "My own text (paste or upload)"},
    "time_column": {"": "(none: number the rows)"},
    "missing": {"refuse": "Refuse the file", "drop": "Drop those rows", "interpolate": "Interpolate"},
    "difference": {"auto": "auto (difference a trend)", "none": "none: learn the levels",
                   "lag1": "change from the step before", "season": "change from a season before"},
    "early_stopping": {"auto": "auto (on for a CSV series)", "on": "on", "off": "off"},
}
FLOAT_STEPS = {"learning_rate": 0.0005, "l1": 0.0001, "l2": 0.0001, "frequency": 0.005, "clipnorm": 0.5,
               "time_limit_s": 30.0, "amplitude": 0.5, "phase": 0.1}


def _help(spec: dict) -> str:
    text = spec["help"]
    if spec["low"] is not None and spec["high"] is not None:
        text += f" Allowed: {spec['low']:g} to {spec['high']:g}."
    return text


def field(section: str, name: str, *, options: list[str] | None = None, disabled: bool = False,
          label: str | None = None) -> None:
    """One setting's widget, with its error (if the last value was refused) right under it."""
    spec = dict(SECTIONS[section].spec(name))
    cap = run_limits.limit_for(f"{section}.{name}", state.limits())
    if cap is not None and cap < spec["high"]:
        spec["high"] = type(spec["default"])(cap)
        spec["help"] += f" This server allows at most {cap:g}."
    key = session.widget_key(section, name)
    kwargs = {"key": key, "help": _help(spec), "disabled": disabled,
              "on_change": state.on_widget_change, "args": (section, name)}
    if label is None and section == "data":  # a task may give a shared setting its own meaning
        label = state.experiment().data.task.labels.get(name)
    label = label or LABELS.get(name, name)
    choices = options if options is not None else spec["choices"]
    if choices is not None:
        if st.session_state.get(key) not in choices:
            st.session_state[key] = choices[0] if choices else None
        shown = CHOICE_LABELS.get(name, {})
        format_func = (lambda g: TASKS[g].label) if name == "generator" else (lambda v: shown.get(v, str(v)))
        st.selectbox(label, list(choices), format_func=format_func, **kwargs)
    # No min_value / max_value: with them the box kept a value out of range beside a tiny icon and Train used the
    # old one. Every value reaches the config's check, which refuses it under the box, naming the range.
    elif spec["type"] is bool:
        st.toggle(label, **kwargs)
    elif spec["type"] is int:
        st.number_input(label, step=1.0, format="%.10g", **kwargs)
    elif spec["type"] is float:
        st.number_input(label, step=FLOAT_STEPS.get(name, 0.05), format="%g", **kwargs)
    else:
        st.text_input(label, **kwargs)
    error = state.error_for(section, name)
    if error:
        st.error(f"{md(error)}. The last valid value is still in use.", icon=":material/warning:")


def fields(section: str, names, *, columns: int = 2, disabled: bool = False) -> None:
    if columns == 1:  # one under the other, no column blocks for the browser to lay out
        for name in names:
            field(section, name, disabled=disabled)
        return
    cols = st.columns(columns)
    for i, name in enumerate(names):
        with cols[i % columns]:
            field(section, name, disabled=disabled)
