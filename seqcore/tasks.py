"""The one registry of tasks: what each data generator is, and everything that differs between them.

A task is a generator of sequences plus what the rest of the app needs to know about it: its kind (token
classification at every step, a series to forecast, or a regression on marked inputs), the settings it reads,
its label, its input and output sizes, what its target is called, its baselines and how it is described.
Pages, panels, baselines, the model builder and the command line read this table, so adding a task is one
entry here, its generator function (`seqcore.generators`) and its tests.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from seqcore import baselines, generators
from seqcore.splits import window_problem

if TYPE_CHECKING:
    from seqcore.config import DataConfig
    from seqcore.data import SequenceData

Problem = tuple[str, Any, str]  # (field, value, what is allowed), as config.ConfigError holds them


@dataclass(frozen=True)
class Kind:
    """What tasks of one kind share: the model's head, its metric, and how the pages draw them."""

    name: str  # 'tokens', 'text', 'series' or 'marked'
    head: str  # 'tokens': a softmax at every step; 'regression': a linear output from the last step
    metric: str  # the Keras metric reported besides the loss
    probe: str | None  # what a person can type on Inspect: 'tokens', 'values', or nothing


TOKENS = Kind("tokens", head="tokens", metric="accuracy", probe="tokens")
# Characters: the next character at every step like a token task, read as ids (the model one-hots them) because
# a text's one-hot windows would be characters × vocabulary floats (80 MB for the built-in corpus, each of x and y).
TEXT = Kind("text", head="tokens", metric="accuracy", probe="text")
SERIES = Kind("series", head="regression", metric="mae", probe="values")
MARKED = Kind("marked", head="regression", metric="mae", probe=None)


@dataclass(frozen=True)
class Task:
    name: str  # the value of data.generator
    label: str  # for people, in the generator picker: short enough for a select box in a 250 px column
    kind: Kind
    fields: tuple[str, ...]  # the data settings this task reads, in display order (the split's are shared)
    target: str  # what the network predicts, e.g. "next token"
    generate: Callable[[DataConfig, Any], Any] | None  # (config, rng) -> generators.TokenSequences / ...
    sizes: Callable[[DataConfig], tuple[int, int]]  # (features per step, outputs per prediction)
    steps: Callable[[DataConfig], int]  # time steps the model reads
    baselines: Callable[[SequenceData], dict[str, float]]
    about: str  # one sentence under the data preview: what x and y hold
    checks: Callable[[DataConfig], list[Problem]] = lambda config: []
    labels: dict[str, str] = field(default_factory=dict)  # widget labels that mean something else here
    needs_upload: bool = False
    long_memory: bool = False  # a lesson in memory over many steps: the live panel shows gradients through time
    # Its sequences are independent draws under a fixed rule, so a new draw each epoch is the same task (patterned
    # digits draw their motif, a series is one realisation in time order: neither qualifies).
    fresh_draws: bool = False


def _token_sizes(config: DataConfig) -> tuple[int, int]:
    return config.vocab_size, config.vocab_size


def _shorter_than_sequence(name: str) -> Callable[[DataConfig], list[Problem]]:
    def check(config: DataConfig) -> list[Problem]:
        value = getattr(config, name)
        if value >= config.seq_len:
            return [(f"data.{name}", value, f"must be shorter than data.seq_len ({config.seq_len})")]
        return []
    return check


def _window_fits(config: DataConfig) -> list[Problem]:
    problem = window_problem(config.n_points, config.seq_len, config.horizon, config.val_fraction,
                             config.test_fraction)
    return [("data.seq_len", config.seq_len, problem)] if problem else []


def _column_named(config: DataConfig) -> list[Problem]:
    if not config.csv_column:
        return [("data.csv_column", config.csv_column, "must name a column of the uploaded CSV")]
    return []


_SERIES_FIELDS = ("n_points", "seq_len", "horizon")
_TRANSFORM_FIELDS = ("log", "difference", "season")
_SERIES_ABOUT = ("Windows of {steps} values predict the next {outputs}; no window crosses from one part into the "
                 "next.")


def _series(name: str, label: str, extra: tuple[str, ...], generate) -> Task:
    return Task(name, label, SERIES, _SERIES_FIELDS + extra + _TRANSFORM_FIELDS, "next value", generate,
                sizes=lambda config: (1, config.horizon), steps=lambda config: config.seq_len,
                baselines=baselines.series_baselines, about=_SERIES_ABOUT, checks=_window_fits)


def _text_sizes(config: DataConfig) -> tuple[int, int]:
    """The built-in corpus's vocabulary, or for a person's own text the cap: its real size is known once the
    text is read (SequenceData.n_features), and the model is built from the data."""
    from seqcore import text

    size = text.builtin_vocabulary_size(config.val_fraction, config.test_fraction, config.max_vocab) \
        if config.text_source == "builtin" else config.max_vocab
    return size, size


def _copy_steps(config: DataConfig) -> int:
    return config.seq_len + 2 * config.copy_len


TASKS: dict[str, Task] = {task.name: task for task in (
    Task("random_digits", "Random digits (seed)", TOKENS,
         ("n_sequences", "seq_len", "vocab_size", "fresh_data"),
         "next token", generators.random_digits, _token_sizes, steps=lambda config: config.seq_len - 1,
         baselines=baselines.token_baselines,
         about="Each step of x is a one-hot vector of {features} tokens; the target at every step is the next "
               "token.", fresh_draws=True),
    Task("patterned_digits", "Patterned digits", TOKENS,
         ("n_sequences", "seq_len", "vocab_size", "pattern", "motif_len", "noise"),
         "next token", generators.patterned_digits, _token_sizes, steps=lambda config: config.seq_len - 1,
         baselines=baselines.token_baselines, checks=_shorter_than_sequence("motif_len"),
         about="Each step of x is a one-hot vector of {features} tokens; the target at every step is the next "
               "token."),
    Task("delay", "Delay: recall L back", TOKENS,
         ("n_sequences", "seq_len", "vocab_size", "lag", "fresh_data"),
         "token L steps back", generators.delay, _token_sizes, steps=lambda config: config.seq_len,
         baselines=baselines.token_baselines, checks=_shorter_than_sequence("lag"),
         about="Each step of x is a one-hot vector of {features} tokens; the target at every step is the token "
               "seen L steps earlier (the first L steps have none and do not count).", long_memory=True,
         fresh_draws=True),
    Task("copy_memory", "Copy memory (long gap)", TOKENS,
         ("n_sequences", "vocab_size", "copy_len", "seq_len", "fresh_data"),
         "symbol to copy", generators.copy_memory,
         sizes=lambda config: (config.vocab_size + 2, config.vocab_size + 2), steps=_copy_steps,
         baselines=baselines.copy_baselines,
         labels={"seq_len": "Gap T (blank steps)", "vocab_size": "Symbols", "copy_len": "Symbols to copy k"},
         about="x: k symbols (1 to {symbols}), a gap of blanks (0), the marker ({marker}), then blanks; "
               "{steps} steps, one-hot over {features}. The target is blank until the marker, then the k "
               "symbols in order.", long_memory=True, fresh_draws=True),
    Task("text", "Text (next character)", TEXT, ("text_source", "seq_len", "stride", "max_vocab"),
         "next character", None, _text_sizes, steps=lambda config: config.seq_len,
         baselines=baselines.text_baselines, labels={"seq_len": "Window T (characters)"},
         about="Windows of {steps} characters, each read as one of {features} symbols; the target at every step "
               "is the next character. The text is split by position (train, validation, test), the vocabulary "
               "is built from the training part, and no window crosses from one part into the next."),
    Task("adding", "Adding problem", MARKED, ("n_sequences", "seq_len", "fresh_data"),
         "sum of the two marked numbers", generators.adding, sizes=lambda config: (2, 1),
         steps=lambda config: config.seq_len, baselines=baselines.adding_baselines,
         about="Two input channels per step: a value in [0, 1) and its marker. The target is the sum of the two "
               "marked values.", long_memory=True, fresh_draws=True),
    _series("sine", "Sine wave", ("frequency", "amplitude", "phase", "noise"), generators.sine),
    _series("sum_of_sines", "Sum of sines", ("n_components", "amplitude", "noise"), generators.sum_of_sines),
    _series("ar", "AR(p) process", ("ar_order", "noise"), generators.ar),
    _series("random_walk", "Random walk", ("noise",), generators.random_walk),
    _series("mackey_glass", "Mackey-Glass (chaotic)", ("mg_tau", "noise"), generators.mackey_glass),
    Task("csv", "My CSV file", SERIES, ("csv_column", "time_column", "missing", "seq_len", "horizon")
         + _TRANSFORM_FIELDS, "next value", None,
         sizes=lambda config: (1, config.horizon), steps=lambda config: config.seq_len,
         baselines=baselines.series_baselines, about=_SERIES_ABOUT, checks=_column_named, needs_upload=True),
)}

TASK_NAMES = tuple(TASKS)
SPLIT_FIELDS = ("val_fraction", "test_fraction", "seed")


def task_named(name: str) -> Task:
    if name not in TASKS:
        raise ValueError(f"data.generator {name!r} is not one of {', '.join(TASKS)}")
    return TASKS[name]


def about(data: SequenceData) -> str:
    """The task's sentence under the data preview, with this data's numbers."""
    spec = data.task
    return spec.about.format(steps=data.n_steps, outputs=data.n_outputs, features=data.n_features,
                             symbols=data.n_features - 2, marker=data.n_features - 1)
