"""Limits on what one run may ask for: generous locally, tight on a shared hosted demo.

The config's own bounds say what makes sense; these say what a server can
afford for one person when thirty share two cores. Turn hosted limits on
with the environment variable SEQCORE_HOSTED=1 (or `hosted = true` in
.streamlit/secrets.toml, read by the app).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace

import numpy as np

from seqcore.cells import CELLS
from seqcore.config import SECTIONS, ConfigError, Experiment
from seqcore.tasks import SERIES, TEXT, TOKENS

MB = 2**20
# What a worker's memory is made of, fitted to peak RSS measured here (docs/performance-notes.md): a warm worker
# with TensorFlow imported, about 900 MB; each float32 value of the data three times (NumPy, tf.data, one-hot
# source); and the activations a training step keeps for backpropagation, about 1.5 times batch × steps × units
# × layers × (gate blocks + 2) float32 values.
WORKER_BASE_MB = 900.0
DATA_COPIES = 3
ACTIVATION_FACTOR = 1.5
MEMORY_MARGIN = 0.85  # accept what is estimated to use at most this share of the worker's ceiling


@dataclass(frozen=True)
class Limits:
    name: str
    units: int
    layers: int
    seq_len: int
    n_sequences: int
    n_points: int
    epochs: int
    batch_size: int
    time_limit_s: float
    upload_mb: int
    text_chars: int  # characters of a person's own text (the built-in corpus is about 197,000)
    max_vocab: int  # a text's symbols: the softmax and its one-hot input grow with it at every step
    slots: int | None  # concurrent training jobs; None: one per core
    max_queued: int | None  # runs that may wait for a slot; None: no bound
    max_pair_queue: int | None  # an A/B comparison (two runs) is refused while this many wait; None: never
    max_values: int  # values in a run's input array (sequences × steps × features): what one link may build
    worker_memory_mb: float  # a worker over this is stopped; runs estimated near it are refused beforehand
    # Whether the Train page has an idle worker compile the network as its settings change, before Train: one
    # person's machine has the idle time; a hosted server's cores are the class's, so it waits for Train.
    compile_ahead: bool = False


# Where each limit applies in the experiment.
LIMITED_FIELDS = {
    "units": "model.units", "layers": "model.layers", "seq_len": "data.seq_len",
    "n_sequences": "data.n_sequences", "n_points": "data.n_points", "epochs": "train.epochs",
    "batch_size": "train.batch_size", "time_limit_s": "train.time_limit_s", "max_vocab": "data.max_vocab",
}

LOCAL = Limits(name="local", units=1024, layers=4, seq_len=1000, n_sequences=100_000, n_points=200_000,
               epochs=10_000, batch_size=4096, time_limit_s=86_400.0, upload_mb=200, text_chars=10_000_000,
               max_vocab=1000, slots=None, max_queued=None, max_pair_queue=None, max_values=50_000_000,
               worker_memory_mb=8000.0, compile_ahead=True)
HOSTED = Limits(name="hosted", units=128, layers=2, seq_len=200, n_sequences=5_000, n_points=20_000,
                epochs=300, batch_size=512, time_limit_s=120.0, upload_mb=5, text_chars=300_000, max_vocab=300,
                slots=None, max_queued=60, max_pair_queue=10, max_values=5_000_000, worker_memory_mb=3000.0)


def hosted_from_env() -> bool:
    return os.environ.get("SEQCORE_HOSTED", "").strip().lower() in ("1", "true", "yes", "on")


def active_limits(hosted: bool | None = None) -> Limits:
    """HOSTED or LOCAL; SEQCORE_SLOTS overrides the number of training slots in either."""
    limits = HOSTED if (hosted_from_env() if hosted is None else hosted) else LOCAL
    slots = os.environ.get("SEQCORE_SLOTS", "").strip()
    return replace(limits, slots=int(slots)) if slots.isdigit() and int(slots) > 0 else limits


def limit_for(key: str, limits: Limits) -> float | None:
    """The limit on one 'section.field', or None."""
    for name, target in LIMITED_FIELDS.items():
        if target == key:
            return getattr(limits, name)
    return None


def _text_chars(experiment: Experiment, n_points: int | None) -> int:
    """Characters of the text a text experiment reads: the built-in corpus's, or `n_points`, a person's own
    text's (`points`)."""
    if experiment.data.text_source == "builtin":
        from seqcore.text import builtin_corpus

        return len(builtin_corpus())
    return n_points or 0


def points(experiment: Experiment, uploaded: np.ndarray | None) -> int | None:
    """How long what was uploaded is, in the unit the limits count: a CSV column's values, or a text's characters
    (its UTF-8 bytes are one to four a character). None when nothing was uploaded."""
    if uploaded is None:
        return None
    if experiment.data.upload_kind != "text":
        return len(uploaded)
    from seqcore.text import TextError, decode_text

    try:
        return len(decode_text(uploaded))
    except TextError:  # building the data says what is wrong with the text; until then, count its bytes
        return len(uploaded)


def data_values(experiment: Experiment, n_points: int | None = None) -> tuple[int, int]:
    """(values of the input array, values of the target array) the experiment's data holds; `n_points`: what
    `points` counts of the upload (a CSV's values, or the characters of a person's own text)."""
    data = experiment.data
    task = data.task
    features, outputs = task.sizes(data)
    steps = task.steps(data)
    if task.kind is TEXT:  # character ids in and out: one value a step
        windows = max(0, _text_chars(experiment, n_points) - steps) // (data.stride or steps)
        return windows * steps, windows * steps
    if task.kind is SERIES:
        rows = max(0, (n_points if n_points is not None else data.n_points) - steps - data.horizon + 1)
    else:
        rows = data.n_sequences
    return rows * steps * features, rows * outputs * (steps if task.kind is TOKENS else 1)


def estimated_worker_mb(experiment: Experiment, n_points: int | None = None) -> float:
    """About how much memory a worker needs at its peak to train this experiment (see WORKER_BASE_MB)."""
    model, train, data_cfg = experiment.model, experiment.train, experiment.data
    steps = data_cfg.task.steps(data_cfg)
    x_values, y_values = data_values(experiment, n_points)
    activations = (train.batch_size * steps * model.units * model.layers * (CELLS[model.cell].n_blocks + 2)
                   * ACTIVATION_FACTOR)
    if data_cfg.task.kind is TEXT:
        # The one-hot input, the softmax and its gradient of every batch, and of every chunk evaluated (the
        # validation and test windows go EVAL_CHUNK at a time; with a big vocabulary that chunk is the peak).
        from seqcore.training import EVAL_CHUNK

        windows = max(1, round(y_values / max(steps, 1) * (data_cfg.val_fraction + data_cfg.test_fraction)))
        rows = train.batch_size + min(EVAL_CHUNK, windows)
        activations += 3 * rows * steps * data_cfg.task.sizes(data_cfg)[0]
    return WORKER_BASE_MB + (DATA_COPIES * (x_values + y_values) + activations) * 4 / MB


def check(experiment: Experiment, limits: Limits, *, uploaded: np.ndarray | None = None) -> None:
    """Raise ConfigError naming every setting above this server's limits, the data's size and the memory a
    worker would need among them. `uploaded`: what the run learns besides its settings (a CSV column's values, or a
    person's own text as UTF-8 bytes)."""
    problems = []
    for name, key in LIMITED_FIELDS.items():
        section, field = key.split(".")
        value, cap = getattr(getattr(experiment, section), field), getattr(limits, name)
        if value > cap:
            problems.append((key, value, f"is above this server's {limits.name} limit of {cap:g}"))
    data = experiment.data
    steps = data.task.steps(data)
    if not problems and steps > limits.seq_len:  # a task may read more steps than data.seq_len (copy memory)
        problems.append(("data.seq_len", data.seq_len, f"gives {steps} steps for the {data.task.label.lower()}, "
                                                       f"above this server's {limits.name} limit of {limits.seq_len}"))
    n_points = points(experiment, uploaded)
    if not problems and data.upload_kind == "text" and n_points is not None and n_points > limits.text_chars:
        problems.append(("text", f"{n_points:,} characters", f"is above this server's {limits.name} limit of "
                                                              f"{limits.text_chars:,} characters; use a shorter text"))
    if not problems and data.upload_kind == "csv" and n_points is not None and n_points > limits.n_points:
        problems.append(("data.csv_column", data.csv_column, f"has {n_points} values, above this server's "
                                                             f"{limits.name} limit of {limits.n_points} points"))
    if not problems:
        problems += _size_problems(experiment, limits, n_points)
    if problems:
        raise ConfigError(problems)


def check_size(experiment: Experiment, limits: Limits, *, uploaded: np.ndarray | None = None) -> None:
    """Raise ConfigError if the experiment's data is larger than this server builds, or it would not fit a
    worker: before a page builds the data to preview it, as `check` does before a run is queued."""
    problems = _size_problems(experiment, limits, points(experiment, uploaded))
    if problems:
        raise ConfigError(problems)


def _size_problems(experiment: Experiment, limits: Limits, n_points: int | None) -> list:
    data = experiment.data
    x_values, _ = data_values(experiment, n_points)
    if x_values > limits.max_values and data.task.kind is TEXT:
        return [("data.stride", data.stride, f"gives {x_values:,} characters in windows (each character is read "
                                             f"T / stride times), above this server's {limits.name} limit of "
                                             f"{limits.max_values:,}; use a longer stride or a shorter text")]
    if x_values > limits.max_values:
        field = "data.n_points" if data.task.kind is SERIES else "data.n_sequences"
        return [(field, getattr(data, field.split(".")[1]),
                 f"gives {x_values:,} input values ({data.task.label.lower()}: sequences × steps × features), above "
                 f"this server's {limits.name} limit of {limits.max_values:,}; use fewer or shorter sequences"
                 + (" or a smaller vocabulary" if data.task.kind is TOKENS else ""))]
    needed = estimated_worker_mb(experiment, n_points)
    if needed > MEMORY_MARGIN * limits.worker_memory_mb:
        return [("train.batch_size", experiment.train.batch_size,
                 f"with {experiment.model.layers} × {experiment.model.units} units and this data needs about "
                 f"{needed:,.0f} MB to train, more than this server's {limits.name} workers have "
                 f"({MEMORY_MARGIN * limits.worker_memory_mb:,.0f} MB); use a smaller batch, fewer units, or less "
                 "data")]
    return []


def clamp(experiment: Experiment, limits: Limits) -> tuple[Experiment, list[str]]:
    """The experiment with every setting above a limit lowered to it, and what was lowered.

    If lowering breaks a rule between settings (e.g. a lag no longer shorter than the sequence),
    the defaults are used instead, and the message says so.
    """
    changes, messages = {}, []
    for name, key in LIMITED_FIELDS.items():
        section, field = key.split(".")
        value, cap = getattr(getattr(experiment, section), field), getattr(limits, name)
        if value > cap:
            changes[key] = type(value)(cap)
            if value != SECTIONS[section].spec(field)["default"]:  # lowering a default is not news
                messages.append(f"{key}: {value!r} is above this server's {limits.name} limit, so {cap:g} is used")
    if not changes:
        return experiment, []
    try:
        return experiment.with_values(**changes), messages
    except ConfigError as err:
        return Experiment(), [*messages, f"{err}; the default experiment is used instead"]

