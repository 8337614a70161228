"""An experiment = data + model + training settings, validated once at the edge.

Every field carries its default, bounds and a one-line help text in its
dataclass metadata, so the UI, the command line and the URL parser all read
the same rules. Bad values raise `ConfigError`, naming the field, the value
and what is allowed.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import math
import sys
import types
import typing
from dataclasses import dataclass, field, fields, replace
from typing import Any
from urllib.parse import parse_qsl, urlencode

from seqcore.cells import CELL_NAMES
from seqcore.tasks import TASK_NAMES, Task, task_named

ACTIVATIONS = ("tanh", "relu", "sigmoid")
OPTIMIZERS = ("adam", "rmsprop", "sgd")
BACKENDS = ("tensorflow", "jax")
RECURRENT_INITS = ("orthogonal", "identity")
XLA_MODES = ("auto", "on", "off")
# The version of experiment.json's layout. 1: the first files (no "schema" key); 2: the key, and data.copy_len;
# 3: data.fresh_data; 4: the initialisation levers (model.forget_bias, model.chrono_t_max, model.recurrent_init)
# and train.xla; 5: the text task's data.text_source, data.max_vocab and data.stride; 6: a person's own series'
# data.time_column, data.missing, data.log, data.difference, data.season and train.early_stopping, train.patience.
SCHEMA_VERSION = 6
TEXT_SOURCES = ("builtin", "own")
MISSING_POLICIES = ("refuse", "drop", "interpolate")
DIFFERENCES = ("auto", "none", "lag1", "season")
EARLY_STOPPING = ("auto", "on", "off")

SECTION_KEYS = {"data": "d", "model": "m", "train": "t"}  # short URL prefixes


class ConfigError(ValueError):
    """A setting is invalid. `problems` holds one (field, value, allowed) per fault."""

    def __init__(self, problems: list[tuple[str, Any, str]]):
        self.problems = problems
        super().__init__("; ".join(_describe(*problem) for problem in problems))


def setting(default, help: str, *, low=None, high=None, choices=None):
    """A dataclass field whose metadata says what is allowed."""
    return field(default=default, metadata={"help": help, "low": low, "high": high, "choices": choices})


def _check_value(name: str, kind: type, value, meta: dict) -> list[tuple[str, Any, str]]:
    if kind is bool and not isinstance(value, bool):
        return [(name, value, "is not true or false")]
    if kind is int and (isinstance(value, bool) or not isinstance(value, int)):
        return [(name, value, "is not a whole number")]
    if kind is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return [(name, value, "is not a number")]
        if abs(value) > sys.float_info.max or not math.isfinite(value):  # a huge int would overflow isfinite
            return [(name, value, "is not a finite number")]
    if kind is str and not isinstance(value, str):
        return [(name, value, "is not text")]
    if meta["choices"] is not None and value not in meta["choices"]:
        return [(name, value, f"is not one of {', '.join(meta['choices'])}")]
    if meta["low"] is not None and value < meta["low"]:
        return [(name, value, f"is below the minimum {meta['low']}")]
    if meta["high"] is not None and value > meta["high"]:
        return [(name, value, f"is above the maximum {meta['high']}")]
    return []


_SUPPORTED_KINDS = (bool, int, float, str)


@functools.cache
def _field_kinds(cls: type) -> dict[str, tuple[type, bool]]:
    """Each field's (type, whether None is allowed), from the resolved annotations: `int`, `bool`, `int | None`.

    Resolved with typing.get_type_hints, so a new field of any supported type validates without a table of
    type names; an unsupported annotation fails here, at import, naming the field."""
    kinds = {}
    for name, hint in typing.get_type_hints(cls).items():
        if name.isupper():  # SECTION, a class constant
            continue
        args = typing.get_args(hint) if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union \
            else (hint,)
        optional = type(None) in args
        concrete = [a for a in args if a is not type(None)]
        if len(concrete) != 1 or concrete[0] not in _SUPPORTED_KINDS:
            raise TypeError(f"{cls.__name__}.{name}: type {hint} is not one of bool, int, float, str (or X | None)")
        kinds[name] = (concrete[0], optional)
    return kinds


class _Section:
    """Validation and parsing shared by the three settings sections."""

    SECTION = ""

    def __post_init__(self):
        problems = []
        kinds = _field_kinds(type(self))
        for f in fields(self):
            kind, optional = kinds[f.name]
            value = getattr(self, f.name)
            if not (optional and value is None):
                problems += _check_value(f"{self.SECTION}.{f.name}", kind, value, f.metadata)
        problems += self._cross_checks() if not problems else []
        if problems:
            raise ConfigError(problems)

    def _cross_checks(self) -> list[tuple[str, Any, str]]:
        return []

    @classmethod
    def spec(cls, name: str) -> dict:
        """Default, bounds, choices, help, type and whether None is allowed of one field, for widgets."""
        f = {f.name: f for f in fields(cls)}[name]
        kind, optional = _field_kinds(cls)[name]
        return {"default": f.default, "type": kind, "optional": optional, **f.metadata}

    @classmethod
    def field_names(cls) -> list[str]:
        return [f.name for f in fields(cls)]

    @classmethod
    def parse(cls, name: str, text: str):
        """Turn the text of one field (from a URL or the command line) into its type."""
        spec = cls.spec(name)
        kind, full = spec["type"], f"{cls.SECTION}.{name}"
        if spec["optional"] and text.strip().lower() in ("", "none"):
            return None
        if kind is str:
            return text
        if kind is bool:
            lowered = text.strip().lower()
            if lowered in ("true", "1", "yes", "on"):
                return True
            if lowered in ("false", "0", "no", "off"):
                return False
            raise ConfigError([(full, text, "is not true or false")])
        try:
            number = float(text)
        except ValueError:
            raise ConfigError([(full, text, "is not a number")]) from None
        if kind is int:
            if not number.is_integer():
                raise ConfigError([(full, text, "is not a whole number")])
            return int(number)
        return number

    @classmethod
    def from_dict(cls, values: dict):
        known = set(cls.field_names())
        unknown = sorted(set(values) - known)
        if unknown:
            raise ConfigError([(f"{cls.SECTION}.{k}", values[k], "is not a known setting") for k in unknown])
        # JSON writes 1.0 as 1.0 but hand-written JSON may say 1 for a float: accept that.
        # An int too big for a float stays an int, so the check reports it rather than float() raising.
        fixed = {k: float(v) if cls.spec(k)["type"] is float and type(v) is int and abs(v) <= sys.float_info.max
                 else v for k, v in values.items()}
        return cls(**fixed)


@dataclass(frozen=True)
class DataConfig(_Section):
    SECTION = "data"
    generator: str = setting("random_digits", "What kind of sequences to learn.", choices=TASK_NAMES)
    n_sequences: int = setting(100, "How many sequences to generate (token tasks and adding).", low=10, high=100_000)
    seq_len: int = setting(10, "Steps per sequence; for series and text, the input window length; for copy memory, "
                                "the gap of blanks between the symbols and the marker.", low=2, high=1000)
    vocab_size: int = setting(10, "How many distinct tokens (digits) there are.", low=2, high=64)
    noise: float = setting(
        0.0, "Token tasks: chance a token is replaced at random. Series: noise std relative to amplitude.",
        low=0.0, high=1.0)
    pattern: str = setting("motif", "Patterned digits: a repeating motif, or counting up.", choices=("motif", "count"))
    motif_len: int = setting(4, "Patterned digits: length of the repeating motif.", low=2, high=20)
    lag: int = setting(5, "Delay task: the target is the token seen this many steps ago.", low=1, high=500)
    copy_len: int = setting(10, "Copy memory: how many symbols to remember and write out after the marker.",
                            low=1, high=50)
    n_points: int = setting(1000, "Series: how many time steps the series has.", low=50, high=200_000)
    frequency: float = setting(0.05, "Sine: cycles per time step.", low=0.001, high=0.5)
    amplitude: float = setting(1.0, "Sine: height of the wave.", low=0.01, high=1000.0)
    phase: float = setting(0.0, "Sine: shift of the wave, in radians.", low=-6.3, high=6.3)
    n_components: int = setting(3, "Sum of sines: how many waves are added.", low=1, high=8)
    ar_order: int = setting(2, "AR(p): how many past values each value depends on.", low=1, high=10)
    mg_tau: int = setting(17, "Mackey-Glass: the delay; 17 or more makes it chaotic, below about 5 it settles flat.",
                          low=1, high=100)
    csv_column: str = setting("", "CSV: the name of the numeric column to learn.")
    time_column: str = setting(
        "", "CSV: the column of dates or times, for the x axis of every chart, the frequency and the season; "
            "empty: the rows are numbered.")
    missing: str = setting(
        "refuse", "CSV: what to do with empty cells in the value column: refuse the file (naming the first), drop "
                  "those rows, or interpolate them linearly from their neighbours.", choices=MISSING_POLICIES)
    log: bool = setting(
        False, "Series: learn the logarithm of the values (a series that grows by a percentage, or whose swings "
               "grow with its level); every value must be above 0. Forecasts are turned back into the values.")
    difference: str = setting(
        "auto", "Series: learn the change from one step to the next (lag1) or from the same step a season before "
                "(season), instead of the level, so a trend the network never saw in training does not throw it "
                "off; forecasts are added back onto the last known values. auto: lag1 for a CSV series whose "
                "training part has a trend, none otherwise.", choices=DIFFERENCES)
    season: int = setting(
        0, "Series: steps in one season (12 for monthly data, 7 for daily, 52 for weekly), for the seasonal naive "
           "forecast and seasonal differencing; 0: from the dates' frequency, or none.", low=0, high=10_000)
    text_source: str = setting(
        "builtin", "Text: builtin is the help texts of Python's own documentation (about 197,000 characters, "
                   "PSF licence); own is text you paste or upload on the Data page.", choices=TEXT_SOURCES)
    max_vocab: int = setting(
        100, "Text: the most symbols the network reads and predicts, the unknown symbol included. The most "
             "frequent characters of the training part are kept; the rest read as unknown (a Chinese text has "
             "thousands of distinct characters).", low=2, high=1000)
    stride: int = setting(
        0, "Text: characters between the starts of two windows; 0 means the window length, so windows do not "
           "overlap and every character is a target once per epoch. A smaller stride gives a short text more, "
           "overlapping, windows.", low=0, high=1000)
    horizon: int = setting(1, "Series: how many future values to predict at once.", low=1, high=50)
    val_fraction: float = setting(0.2, "Share of the data held out for validation (in time order).", low=0.05, high=0.5)
    test_fraction: float = setting(0.1, "Share of the data held out for the final test (the latest part).",
                                   low=0.0, high=0.5)
    seed: int = setting(42, "Random seed of the data: the same seed gives the same data.", low=0, high=2**31 - 1)
    fresh_data: bool = setting(
        False, "Draw new training sequences every epoch (from the seed, so a run repeats exactly); validation and "
               "test stay fixed. How the papers train, and what keeps a big network from memorising a small "
               "training set.")

    @property
    def task(self) -> Task:
        """This generator's entry in the task registry (seqcore.tasks)."""
        return task_named(self.generator)

    @property
    def upload_kind(self) -> str | None:
        """What a run of this data takes besides its settings: 'csv' (a column's values), 'text' (a person's own
        text) or None (generated data, or the built-in corpus)."""
        if self.task.needs_upload:
            return "csv"
        if self.generator == "text" and self.text_source == "own":
            return "text"
        return None

    def _cross_checks(self):
        problems = []
        if self.val_fraction + self.test_fraction > 0.7:
            problems.append(("data.test_fraction", self.test_fraction,
                             f"leaves too little to train on: validation + test must be at most 0.7 "
                             f"(validation is {self.val_fraction})"))
        if self.fresh_data and not self.task.fresh_draws:
            problems.append(("data.fresh_data", True,
                             f"applies only to tasks whose sequences are independent draws (random digits, delay, "
                             f"copy memory, adding); {self.task.label.lower()} cannot be drawn afresh"))
        return problems + self.task.checks(self)


@dataclass(frozen=True)
class ModelConfig(_Section):
    SECTION = "model"
    cell: str = setting("LSTM", "The recurrent cell.", choices=CELL_NAMES)
    layers: int = setting(1, "How many recurrent layers are stacked.", low=1, high=4)
    units: int = setting(50, "Hidden units (size of h_t) in each recurrent layer.", low=1, high=1024)
    activation: str = setting("tanh", "SimpleRNN only: the activation of h_t.", choices=ACTIVATIONS)
    dropout: float = setting(0.0, "Share of inputs dropped at each step while training.", low=0.0, high=0.9)
    recurrent_dropout: float = setting(0.0, "Share of h_(t-1) dropped at each step while training.",
                                       low=0.0, high=0.9)
    l1: float = setting(0.0, "L1 penalty on the kernels (pushes weights to exactly zero).", low=0.0, high=1.0)
    l2: float = setting(0.0, "L2 penalty on the kernels (weight decay).", low=0.0, high=1.0)
    forget_bias: float = setting(
        1.0, "LSTM only: the forget gate's starting bias. Keras starts it at 1 (unit_forget_bias), so each cell "
             "keeps about 73 % of its state a step; at 0 it keeps half, and what it holds fades within a few steps.",
        low=-10.0, high=10.0)
    chrono_t_max: int = setting(
        0, "LSTM only: chrono initialisation (Tallec & Ollivier 2018) for dependencies up to this many steps; "
           "0 turns it off. Each unit's forget-gate bias starts at log(u), u uniform in [1, T − 1], and its input "
           "gate's at −log(u), so the units start remembering over 1 to T steps. Set it near the longest lag to "
           "carry, e.g. the sequence length; it replaces the forget-gate bias.", low=0, high=100_000)
    recurrent_init: str = setting(
        "orthogonal", "SimpleRNN only: the starting recurrent matrix U. Keras starts it orthogonal; identity "
                      "with the ReLU activation is the IRNN of Le, Jaitly & Hinton 2015, which starts by "
                      "carrying h_(t−1) over unchanged.", choices=RECURRENT_INITS)

    def _cross_checks(self):
        if self.chrono_t_max == 1:
            return [("model.chrono_t_max", 1, "must be 0 (off) or at least 2: log(u) needs u in [1, T − 1]")]
        return []


@dataclass(frozen=True)
class TrainConfig(_Section):
    SECTION = "train"
    optimizer: str = setting("adam", "How the weights are updated from the gradients.", choices=OPTIMIZERS)
    learning_rate: float = setting(0.001, "Size of each update step.", low=1e-6, high=1.0)
    clipnorm: float = setting(0.0, "Clip each gradient to this norm; 0 turns clipping off.", low=0.0, high=100.0)
    batch_size: int = setting(10, "Sequences per gradient step.", low=1, high=4096)
    epochs: int = setting(100, "Passes over the training data.", low=1, high=10_000)
    seed: int = setting(42, "Random seed of the weights and the shuffling.", low=0, high=2**31 - 1)
    snapshot_every: int = setting(5, "Record weights, hidden states and predictions every this many epochs.",
                                  low=1, high=1000)
    time_limit_s: float = setting(600.0, "Stop the run after this many seconds of wall-clock time.",
                                  low=1.0, high=86_400.0)
    early_stopping: str = setting(
        "auto", "Stop when the validation loss has not improved for `patience` epochs, and keep the weights of the "
                "epoch with the lowest validation loss (the model the Theory page says to keep). auto: on for a "
                "CSV series, off for the lessons' tasks, whose curves are the point.", choices=EARLY_STOPPING)
    patience: int = setting(10, "Early stopping: epochs without a better validation loss before training stops.",
                            low=1, high=1000)
    backend: str = setting("tensorflow", "The Keras backend that trains the model.", choices=BACKENDS)
    xla: str = setting(
        "auto", "Compile the network's steps with XLA (jit_compile): 5-11 s more compiling on a network this worker "
                "has not trained, then steps 1.3-6 times faster on sequences longer than 10 steps (measured here). "
                "auto turns it on where the run is long enough to win that back twice, and for a network this "
                "worker has compiled with XLA already; never for 10 steps or fewer, where it does not pay. The JAX "
                "backend always compiles with XLA.",
        choices=XLA_MODES)


SECTIONS = {"data": DataConfig, "model": ModelConfig, "train": TrainConfig}


@dataclass(frozen=True)
class Experiment:
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)

    # --- dictionaries and JSON ---
    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> Experiment:
        """From `to_dict()`'s shape; a "schema" key (as experiment.json files carry) is checked and dropped. A file
        older than schema 6 (a file without the key is schema 1, see from_json) had no differencing and no early
        stopping: it reads with both off."""
        if not isinstance(values, dict):
            raise ConfigError([("experiment", values, "must be an object with data, model and train sections")])
        if "schema" in values:
            values = dict(values)
            version = values.pop("schema")
            _check_schema(version)
            if version < 6:  # trained before a series could be differenced or stop early: rebuild it as it ran
                values["data"] = {"difference": "none", **(values.get("data") or {})}
                values["train"] = {"early_stopping": "off", **(values.get("train") or {})}
        unknown = sorted(set(values) - set(SECTIONS))
        problems = [(k, values[k], "is not a known section (data, model, train)") for k in unknown]
        sections = {}
        for name, section in SECTIONS.items():
            part = values.get(name, {})
            if not isinstance(part, dict):
                problems.append((name, part, "must be an object of settings"))
                continue
            try:
                sections[name] = section.from_dict(part)
            except ConfigError as err:
                problems += err.problems
        if problems:
            raise ConfigError(problems)
        return cls(**sections)

    def to_json(self) -> str:
        """experiment.json: the settings with the schema version they were written in."""
        return json.dumps({"schema": SCHEMA_VERSION, **self.to_dict()}, indent=2)

    @classmethod
    def from_json(cls, text: str) -> Experiment:
        try:
            values = json.loads(text)
        except json.JSONDecodeError as err:
            problem = f"is not valid JSON ({err.msg} at line {err.lineno})"
            raise ConfigError([("experiment", _clip(text), problem)]) from None
        except ValueError as err:  # e.g. an integer with more digits than Python will convert
            raise ConfigError([("experiment", _clip(text), f"is not valid JSON ({err})")]) from None
        except RecursionError:  # thousands of nested brackets: no experiment looks like that
            raise ConfigError([("experiment", _clip(text), "is nested too deeply to be an experiment")]) from None
        if isinstance(values, dict) and "schema" not in values:  # the first files carried no version
            values = {"schema": 1, **values}
        return cls.from_dict(values)

    # --- URL query strings (only what differs from the defaults, so links stay short) ---
    def to_query_params(self) -> dict[str, str]:
        params = {}
        for name, section in SECTIONS.items():
            current, default = getattr(self, name), section()
            for f in fields(section):
                value = getattr(current, f.name)
                if value != getattr(default, f.name):
                    params[f"{SECTION_KEYS[name]}.{f.name}"] = repr(value) if isinstance(value, float) else str(value)
        return params

    def to_query(self) -> str:
        return urlencode(self.to_query_params())

    @classmethod
    def from_query(cls, query: str | dict) -> Experiment:
        """Strict: any unknown, repeated or bad parameter raises ConfigError."""
        pairs = parse_qsl(query, keep_blank_values=True) if isinstance(query, str) else list(query.items())
        values, problems, seen = {n: {} for n in SECTIONS}, [], set()
        prefixes = {v: k for k, v in SECTION_KEYS.items()}
        for key, text in pairs:
            if isinstance(text, list):  # st.query_params.to_dict() keeps one; a raw dict may hold many
                if len(text) != 1:
                    problems.append((key, text, "is given more than once"))
                    continue
                text = text[0]
            prefix, _, name = key.partition(".")
            section = SECTIONS.get(prefixes.get(prefix, ""))
            if section is None or name not in section.field_names():
                problems.append((key, _clip(text), "is not a known setting"))
                continue
            if key in seen:
                problems.append((key, _clip(text), "is given more than once"))
                continue
            seen.add(key)
            try:
                values[prefixes[prefix]][name] = section.parse(name, text)
            except ConfigError as err:
                problems += [(key, _clip(text), a) for _, _, a in err.problems]
        if problems:
            raise ConfigError(problems)
        return cls.from_dict(values)

    @classmethod
    def from_query_lenient(cls, query: str | dict) -> tuple[Experiment, list[str]]:
        """For share links: keep every valid setting, drop the rest, and say what was dropped."""
        try:
            return cls.from_query(query), []
        except ConfigError as err:
            bad = {name for name, _, _ in err.problems}
            # Range and cross-field problems name the section in full ('model.units'); the query says 'm.units'.
            bad |= {f"{SECTION_KEYS[section]}.{rest}" for section, _, rest in (n.partition(".") for n in bad)
                    if section in SECTION_KEYS}
            messages = [_describe(*problem) for problem in err.problems]
        pairs = parse_qsl(query, keep_blank_values=True) if isinstance(query, str) else list(query.items())
        kept = {}
        for key, text in pairs:
            if key not in bad and not isinstance(text, list):
                kept[key] = text
        try:
            return cls.from_query(kept), messages
        except ConfigError as err:  # settings valid alone but not together (e.g. a lag longer than the sequence)
            return cls(), messages + [str(err), "Using the default experiment instead."]

    def value(self, key: str):
        """One setting's value by its 'section.field' name, e.g. value('model.cell')."""
        section, _, name = key.partition(".")
        return getattr(getattr(self, section), name)

    def with_values(self, **changes: Any) -> Experiment:
        """Copy with 'section.field' values changed, e.g. with_values(**{'model.units': 8})."""
        values = self.to_dict()
        for key, value in changes.items():
            section, _, name = key.partition(".")
            if section not in values:
                raise ConfigError([(key, value, "is not a known setting")])
            values[section][name] = value
        return Experiment.from_dict(values)

    def apply_overrides(self, assignments: list[str]) -> Experiment:
        """Command-line `section.field=value` strings, parsed as the URL parser does."""
        changes = {}
        for text in assignments:
            key, sep, raw = text.partition("=")
            section_name, _, name = key.partition(".")
            section = SECTIONS.get(section_name)
            if not sep or section is None or name not in section.field_names():
                raise ConfigError([(key, raw, "is not a known setting (use section.field=value, e.g. model.units=32)")])
            changes[key] = section.parse(name, raw)
        return self.with_values(**changes)


def _check_schema(version) -> None:
    """Files without the key are schema 1, which this version reads as they are (every later field has a
    default); a newer file may hold settings this version would silently drop."""
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ConfigError([("schema", version, f"is not a schema version (a whole number from 1 to {SCHEMA_VERSION})")])
    if version > SCHEMA_VERSION:
        raise ConfigError([("schema", version, f"is newer than this version of Sequence Playground reads (schema "
                                               f"{SCHEMA_VERSION} or older): update the app to open this file")])


def _clip(text, limit: int = 40):
    """Keep error messages short when someone pastes a very long value."""
    return text if not isinstance(text, str) or len(text) <= limit else text[:limit] + "…"


def _describe(name, value, allowed: str) -> str:
    """One problem in words, e.g. "model.units: 0 is below the minimum 1", with long names and values clipped."""
    shown = repr(_clip(value))
    return f"{_clip(name)}: {shown if len(shown) <= 60 else _clip(shown)} {allowed}"


def _sections(**values) -> Experiment:
    return Experiment(**{name: replace(SECTIONS[name](), **values.get(name, {})) for name in SECTIONS})


# The long-memory lesson's data and training, shared by its LSTM and SimpleRNN presets: only the cell differs.
_ADDING_100 = {"data": {"generator": "adding", "seq_len": 100, "n_sequences": 3000},
               "train": {"epochs": 30, "batch_size": 32, "learning_rate": 0.005, "snapshot_every": 2}}

# Each preset is a complete experiment that teaches one thing.
PRESETS: dict[str, tuple[str, Experiment]] = {
    "seed": ("The seed tutorial's program made correct: an LSTM(50) predicts the next of 10 random digits; "
             "held-out accuracy stays at chance (10 %) because random digits cannot be predicted.",
             _sections()),
    "patterned": ("Digits that repeat a motif of 4 with 5 % noise: unlike random digits, the next digit can be "
                  "predicted, and held-out accuracy climbs far above chance.",
                  _sections(data={"generator": "patterned_digits", "seq_len": 20, "noise": 0.05, "n_sequences": 200},
                            model={"units": 32}, train={"epochs": 40, "batch_size": 16})),
    "sine": ("Predict the next value of a noisy sine wave from the last 20 values: the hello-world of "
             "sequence regression.",
             _sections(data={"generator": "sine", "seq_len": 20, "n_points": 1000, "noise": 0.05},
                       model={"cell": "GRU", "units": 16},
                       train={"epochs": 30, "batch_size": 32, "learning_rate": 0.01})),
    "delay": ("Copy the token seen 20 steps ago with an LSTM: a first-order Markov model stays at chance (25 %), "
              "the LSTM has to carry 20 tokens in its state; compare it with delay_simplernn.",
              _sections(data={"generator": "delay", "seq_len": 30, "lag": 20, "vocab_size": 4, "n_sequences": 2000},
                        model={"cell": "LSTM", "units": 32},
                        train={"epochs": 30, "batch_size": 32, "learning_rate": 0.01, "snapshot_every": 2})),
    "delay_simplernn": ("The delay task with a SimpleRNN of the same size. Keras starts its recurrent matrix "
                        "orthogonal, so on this shift task the SimpleRNN learns fast; past a lag of about 50 "
                        "(set data.lag) its gradients fade and it stays at chance.",
                        _sections(data={"generator": "delay", "seq_len": 30, "lag": 20, "vocab_size": 4,
                                        "n_sequences": 2000},
                                  model={"cell": "SimpleRNN", "units": 32},
                                  train={"epochs": 30, "batch_size": 32, "learning_rate": 0.01, "snapshot_every": 2})),
    "adding": ("The Hochreiter-Schmidhuber adding problem: add the two numbers marked in a sequence of 50; "
               "a model that ignores the marks scores a mean squared error of about 0.16.",
               _sections(data={"generator": "adding", "seq_len": 50, "n_sequences": 3000},
                         model={"cell": "LSTM", "units": 32},
                         train={"epochs": 30, "batch_size": 32, "learning_rate": 0.005, "snapshot_every": 2})),
    "adding_lstm": ("The adding problem over 100 steps with an LSTM(64): the textbook case of long memory. "
                    "Measured here: validation MSE below 0.01 from epoch 19, test MSE 0.0009 after 30 epochs "
                    "(the mean baseline: 0.161); compare it with adding_simplernn.",
                    _sections(**_ADDING_100, model={"cell": "LSTM", "units": 64})),
    "adding_simplernn": ("The same adding problem over 100 steps with a SimpleRNN(64): measured here, its test "
                         "MSE stays at 0.176 after 30 epochs, no better than always guessing the mean (0.161).",
                         _sections(**_ADDING_100, model={"cell": "SimpleRNN", "units": 64})),
    "copy_memory": ("Copy memory: repeat 5 symbols (of 8) after a gap of 20 blanks. A model without memory writes "
                    "blanks and guesses at the end (accuracy 0.854, cross-entropy 0.347 nats: the dashed lines); "
                    "measured here a GRU(64) climbs past it to 0.94 in 30 epochs, a SimpleRNN stays on it.",
                    _sections(data={"generator": "copy_memory", "seq_len": 20, "copy_len": 5, "vocab_size": 8,
                                    "n_sequences": 3000},
                              model={"cell": "GRU", "units": 64},
                              train={"epochs": 30, "batch_size": 32, "learning_rate": 0.005, "snapshot_every": 2})),
    "text": ("A character-level language model: an LSTM(128) reads 100 characters of Python's documentation at a "
             "time and predicts the next character at every step. Its bits per character fall past the unigram, "
             "bigram and trigram baselines (the dashed lines), and its samples turn from noise into words as it "
             "trains.",
             _sections(data={"generator": "text", "seq_len": 100, "val_fraction": 0.1, "test_fraction": 0.1},
                       model={"cell": "LSTM", "units": 128},
                       train={"epochs": 20, "batch_size": 32, "learning_rate": 0.005, "snapshot_every": 1})),
    "overfit": ("A big LSTM on only 60 short noisy sine windows and no regularisation: training loss keeps "
                "falling while validation loss turns up, which is overfitting.",
                _sections(data={"generator": "sine", "n_points": 120, "seq_len": 10, "noise": 0.4,
                                "val_fraction": 0.3},
                          model={"cell": "LSTM", "units": 128, "layers": 2},
                          train={"epochs": 150, "batch_size": 8, "learning_rate": 0.003})),
    "overfit_cured": ("The overfitting example with its cures: a smaller network, dropout and an L2 penalty keep "
                      "validation loss close to training loss.",
                      _sections(data={"generator": "sine", "n_points": 120, "seq_len": 10, "noise": 0.4,
                                      "val_fraction": 0.3},
                                model={"cell": "LSTM", "units": 16, "dropout": 0.2, "l2": 0.001},
                                train={"epochs": 150, "batch_size": 8, "learning_rate": 0.003})),
    "mackey_glass": ("Forecast the chaotic Mackey-Glass series 5 steps ahead: a classic benchmark where a "
                     "recurrent network beats straight-line extrapolation.",
                     _sections(data={"generator": "mackey_glass", "n_points": 2000, "seq_len": 30, "horizon": 5},
                               model={"cell": "LSTM", "units": 32},
                               train={"epochs": 30, "batch_size": 32, "learning_rate": 0.005})),
}


LESSON_STEPS = (50, 100, 200)  # the sequence lengths the long-memory lesson offers
LESSON_CELLS = ("LSTM", "GRU")  # the gated cells it sets against a SimpleRNN of the same size


def adding_lesson(cell: str, steps: int = 100) -> tuple[str, Experiment]:
    """The long-memory lesson with one cell at T = `steps`: the adding_lstm preset's data and training with
    that cell and sequence length (and the preset it is closest to)."""
    if cell not in CELL_NAMES:
        raise ConfigError([("model.cell", cell, f"is not one of {', '.join(CELL_NAMES)}")])
    if steps not in LESSON_STEPS:
        raise ConfigError([("data.seq_len", steps, f"is not one of the lesson's {', '.join(map(str, LESSON_STEPS))}")])
    name = "adding_simplernn" if cell == "SimpleRNN" else "adding_lstm"
    return name, preset(name).with_values(**{"model.cell": cell, "data.seq_len": steps})


def preset(name: str) -> Experiment:
    if name not in PRESETS:
        raise ConfigError([("preset", name, f"is not one of {', '.join(PRESETS)}")])
    return PRESETS[name][1]


def differences(a: Experiment, b: Experiment) -> list[str]:
    """The 'section.field' settings in which two experiments differ."""
    left, right = a.to_dict(), b.to_dict()
    return [f"{section}.{name}" for section in left for name in left[section]
            if left[section][name] != right[section][name]]


def nearest_preset(experiment: Experiment) -> tuple[str, list[str]]:
    """The preset closest to `experiment` and the settings in which they differ (none: it is that preset)."""
    nearest = min(PRESETS, key=lambda name: len(differences(experiment, PRESETS[name][1])))
    return nearest, differences(experiment, PRESETS[nearest][1])


@functools.lru_cache(maxsize=4096)
def preset_label(experiment: Experiment) -> str:
    """'delay', or 'custom (delay + 2 changes)': the nearest preset and how far from it. Cached: finding the
    nearest preset takes 2 ms, and a table of hundreds of runs asks for the same few experiments."""
    name, changed = nearest_preset(experiment)
    return name if not changed else f"custom ({name} + {len(changed)} change{'s' if len(changed) > 1 else ''})"
