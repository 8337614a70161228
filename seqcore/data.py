"""Data for the playground: generated token tasks and series, uploaded CSV columns, and text.

`build_data` turns a validated `DataConfig` into train / validation / test arrays ready for
Keras. Everything is drawn from `np.random.default_rng(config.seed)`, so the same settings
always give the same arrays. Arrays handed to the model are float32.

Which generator makes a task's sequences, and what kind of task it is, is `seqcore.tasks`' registry.
Token tasks are many-to-many: one one-hot target per step. Marked regressions (adding) and the
series are many-to-one regressions. Series are split in time order and windowed per part, so no
window mixes training and held-out values.

Bad input raises `DataError`, which names the setting (or 'csv'), the value and what is allowed,
in the same shape as `config.ConfigError`.
"""

from __future__ import annotations

import csv
import io
import math
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from seqcore import splits
from seqcore.generators import MarkedSequences, TokenSequences
from seqcore.tasks import MARKED, SERIES, TEXT, TOKENS, Task, task_named
from seqcore.transforms import TREND_R2, Scaler, SeriesTransform, trend_share

if TYPE_CHECKING:  # pandas is imported where a CSV is read: generated data never needs it (0.45 s at start-up)
    import pandas as pd

    from seqcore.config import DataConfig
    from seqcore.text import TextSplit, Vocabulary

MAX_MODEL_VALUES = 50_000_000  # floats in x (200 MB); y, copies and Keras need several times that
MIN_CSV_VALUES = 20
MAX_CSV_MAGNITUDE = 1e100  # squares of larger values overflow float64 when the scaler is fitted
# A series is one column; a sheet of a few hundred is plausible. Parsing 200,001 columns took 33 s of CPU.
MAX_CSV_COLUMNS = 1_000

_CSV_DELIMITERS = ",;\t|"
_SNIFF_CHARS = 64_000  # enough lines to sniff the delimiter without scanning a 50 MB file
_TYPE_SAMPLE_ROWS = 10_000  # evenly spaced rows that decide whether a text column is mostly numbers


class DataError(ValueError):
    """Bad data input. `field`, `value` and `allowed` say which setting, what it was and what is allowed."""

    def __init__(self, field: str, value, allowed: str):
        self.field, self.value, self.allowed = field, value, allowed
        super().__init__(f"{field}: {_clip(value)!r} {allowed}")

    def __reduce__(self):  # the default pickling passes only the message and would break __init__
        return (type(self), (self.field, self.value, self.allowed))


def _clip(value, limit: int = 60):
    """Keep messages readable when the offending value is a long string."""
    return value if not isinstance(value, str) or len(value) <= limit else value[:limit] + "…"


def _short(number: float) -> str:
    """6400000000 -> '6.4e9', as people write it, not Python's '6.4e+09'."""
    mantissa, _, exponent = f"{number:.2g}".partition("e")
    return f"{mantissa}e{int(exponent)}" if exponent else mantissa


# eq=False: the generated __eq__ would compare arrays element-wise and fail on truth testing.
@dataclass(frozen=True, eq=False)
class SequenceData:
    """Model-ready arrays plus what the UI needs to display them.

    x_*: (N, T, n_features) float32. y_*: (N, T, vocab) one-hot for token tasks, else (N, n_outputs).
    Text: x_* and y_* are (N, T) int32 character ids (the model one-hots its input; the loss reads ids), with
    `vocabulary` and the split `text` they come from.
    w_*: (N, T) float32 step weights where some steps have no target (delay), else None.
    Series x/y are in the network's units (`transform`: log, differencing and the scaling `scaler`); `series`
    keeps the raw values, `times` their dates (a CSV's time column, else None), `season` the steps of one season
    (None: unknown), and `notes` say what was done to a person's data on the way (missing values, the transform).
    """

    generator: str  # the task's name in seqcore.tasks
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    w_train: np.ndarray | None
    w_val: np.ndarray | None
    w_test: np.ndarray | None
    n_features: int
    n_outputs: int
    many_to_many: bool
    scaler: Scaler | None
    series: np.ndarray | None
    split_points: tuple[int, int] | None
    tokens: np.ndarray | None
    vocabulary: Vocabulary | None = None
    text: TextSplit | None = None
    transform: SeriesTransform | None = None
    times: np.ndarray | None = None
    time_step: object | None = None  # the dates' step (a pandas offset or a timedelta), for dates past the end
    season: int | None = None
    notes: tuple[str, ...] = ()

    @property
    def task(self) -> Task:
        """The task these arrays come from (seqcore.tasks)."""
        return task_named(self.generator)

    @property
    def head(self) -> str:
        """'tokens' (a softmax at every step) or 'regression' (outputs from the last step)."""
        return self.task.kind.head

    @property
    def n_steps(self) -> int:
        return self.x_train.shape[1]

    @property
    def n_train(self) -> int:
        return len(self.x_train)

    @property
    def n_val(self) -> int:
        return len(self.x_val)

    @property
    def n_test(self) -> int:
        return len(self.x_test)

    def window_start(self, name: str) -> int:
        """Series: the position in `series` where the part's first window starts. Each part is windowed alone,
        and a differenced series has no change to learn at its first `lag` steps."""
        start = {"train": 0, "val": self.split_points[0], "test": self.split_points[1]}[name]
        return max(start, self.transform.lag if self.transform else 0)

    def part(self, name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """(x, y, w) of 'train', 'val' or 'test'."""
        if name not in ("train", "val", "test"):
            raise ValueError(f"part {name!r} is not one of train, val, test")
        return getattr(self, f"x_{name}"), getattr(self, f"y_{name}"), getattr(self, f"w_{name}")

    def one_hot_rows(self, name: str, rows: int) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """The first `rows` of a part as the NumPy reference and the figures read them: x (and, for tokens, y)
        one-hot float32. Text windows are one-hot encoded here, only the rows asked for."""
        x, y, w = (a if a is None else a[:rows] for a in self.part(name))
        if self.task.kind is TEXT:
            x, y = one_hot(x, self.n_features), one_hot(y, self.n_outputs)
        return x, y, w


def one_hot(tokens: np.ndarray, vocab_size: int) -> np.ndarray:
    """float32 one-hot of integer tokens: shape tokens.shape + (vocab_size,)."""
    tokens = np.asarray(tokens)
    # np.eye indexing would silently wrap negative tokens to the end of the vocabulary.
    if tokens.size and (tokens.min() < 0 or tokens.max() >= vocab_size):
        raise ValueError(f"tokens must lie in [0, {vocab_size}), got {tokens.min()}..{tokens.max()}")
    return np.eye(vocab_size, dtype=np.float32)[tokens]


# --------------------------------------------------------------------------- building


def build_data(config: DataConfig, uploaded: np.ndarray | None = None, *, rng: np.random.Generator | None = None,
               split: bool = True) -> SequenceData:
    """Generate (or take from `uploaded`) the data `config` describes and split it. `uploaded`: a CSV column's
    values (float64), or a person's own text as UTF-8 bytes (uint8, `seqcore.text.text_bytes`). `rng` (default:
    from the data's seed) and `split=False` (every sequence in the training part) are for fresh draws of a
    training set."""
    spec = task_named(config.generator)
    rng = np.random.default_rng(config.seed) if rng is None else rng
    if spec.kind is TEXT:
        return _text_data(config, uploaded)
    if spec.kind is SERIES:
        if spec.needs_upload:
            if uploaded is None:
                raise DataError("data.csv_column", config.csv_column, "needs an uploaded CSV file, and none was given")
            from seqcore import csvseries

            values, times = csvseries.unpack(uploaded)
            values = _checked_csv_values(values, config.csv_column)
            file_times = times  # its frequency and season, which dropped rows would hide from pandas
            raw, times, note = csvseries.apply_missing(values, times, config.missing, config.csv_column)
            return _series_data(config, raw, times=times, notes=(note,) if note else (), file_times=file_times)
        return _series_data(config, spec.generate(config, rng))
    rows = _sequence_rows(config) if split else (config.n_sequences, 0, 0)
    n_features, _ = spec.sizes(config)
    _check_model_size(config.n_sequences, spec.steps(config), n_features,
                      "tokens" if spec.kind is TOKENS else "channels")
    if spec.kind is TOKENS:
        return _token_data(config, spec.generate(config, rng), n_features, rows)
    if spec.kind is MARKED:
        return _marked_data(config, spec.generate(config, rng), rows)
    raise ValueError(f"task {spec.name!r} has a kind ({spec.kind.name}) that build_data does not know")


def fresh_training_split(config: DataConfig, epoch: int) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """A new draw of the training part for `epoch` (1, 2, …; epoch 0 is `build_data`'s own), as many rows as it
    has: the same generator and rule, random numbers from (seed, epoch). Validation and test are not redrawn."""
    spec = task_named(config.generator)
    if not spec.fresh_draws:
        raise DataError("data.fresh_data", True, f"is not available for the {spec.label.lower()}")
    n_train, _, _ = _sequence_rows(config)
    drawn = build_data(config, rng=np.random.default_rng([config.seed, epoch]), split=False)
    w = None if drawn.w_train is None else drawn.w_train[:n_train]
    return drawn.x_train[:n_train], drawn.y_train[:n_train], w


def _sequence_rows(config: DataConfig) -> tuple[int, int, int]:
    """Rows of train, validation and test when whole sequences are split in generation order."""
    n_train, n_val, n_test = splits.sequence_rows(config.n_sequences, config.val_fraction, config.test_fraction)
    if n_train < 1:
        raise DataError("data.n_sequences", config.n_sequences,
                        f"is too few: {n_val} validation and {n_test} test sequences leave none to train on")
    return n_train, n_val, n_test


def _check_model_size(n_rows: int, n_steps: int, n_features: int, unit: str) -> None:
    total = n_rows * n_steps * n_features
    if total > MAX_MODEL_VALUES:
        raise DataError("data.n_sequences", n_rows,
                        f"gives {n_rows} sequences × {n_steps} steps × {n_features} {unit} = {_short(total)} values, "
                        f"above the limit of {_short(MAX_MODEL_VALUES)}; use fewer or shorter sequences")


def _token_data(config: DataConfig, sequences: TokenSequences, n_symbols: int,
                rows: tuple[int, int, int]) -> SequenceData:
    x, y = one_hot(sequences.inputs, n_symbols), one_hot(sequences.targets, n_symbols)
    xs, ys = _split_rows(x, rows), _split_rows(y, rows)
    weights = sequences.weights
    # np.ascontiguousarray turns a broadcast view into real, writable per-part arrays.
    ws = [np.ascontiguousarray(w) for w in _split_rows(weights, rows)] if weights is not None else [None] * 3
    return SequenceData(generator=config.generator, x_train=xs[0], y_train=ys[0], x_val=xs[1], y_val=ys[1],
                        x_test=xs[2], y_test=ys[2], w_train=ws[0], w_val=ws[1], w_test=ws[2],
                        n_features=n_symbols, n_outputs=n_symbols, many_to_many=True, scaler=None, series=None,
                        split_points=None, tokens=sequences.shown)


def _marked_data(config: DataConfig, sequences: MarkedSequences, rows: tuple[int, int, int]) -> SequenceData:
    xs, ys = _split_rows(sequences.x, rows), _split_rows(sequences.y, rows)
    return SequenceData(generator=config.generator, x_train=xs[0], y_train=ys[0], x_val=xs[1], y_val=ys[1],
                        x_test=xs[2], y_test=ys[2], w_train=None, w_val=None, w_test=None,
                        n_features=sequences.x.shape[-1], n_outputs=sequences.y.shape[-1], many_to_many=False,
                        scaler=None, series=None, split_points=None, tokens=None)


def _split_rows(array: np.ndarray, rows: tuple[int, int, int]) -> list[np.ndarray]:
    n_train, n_val, _ = rows
    return [array[:n_train], array[n_train:n_train + n_val], array[n_train + n_val:]]


# --------------------------------------------------------------------------- text


def _text_data(config: DataConfig, uploaded: np.ndarray | None) -> SequenceData:
    from seqcore import text as texts

    try:
        if config.text_source == "builtin":
            source = texts.builtin_corpus()
        elif uploaded is None:
            raise DataError("data.text_source", "own", "needs text pasted or uploaded on the Data page, and none "
                                                       "was given")
        else:
            source = texts.decode_text(uploaded)
        split = texts.split_text(source, seq_len=config.seq_len, val_fraction=config.val_fraction,
                                 test_fraction=config.test_fraction, max_vocab=config.max_vocab)
    except texts.TextError as err:
        message = str(err)
        raise DataError("text", f"{len(source):,} characters" if "source" in locals() else "your text",
                        message.removeprefix("the text ")) from None
    stride = config.stride or config.seq_len
    (x_train, y_train), (x_val, y_val), (x_test, y_test) = (
        texts.text_windows(split.ids[part], config.seq_len, stride) for part in texts.PARTS)
    size = split.vocabulary.size
    return SequenceData(generator=config.generator, x_train=x_train, y_train=y_train, x_val=x_val, y_val=y_val,
                        x_test=x_test, y_test=y_test, w_train=None, w_val=None, w_test=None, n_features=size,
                        n_outputs=size, many_to_many=True, scaler=None, series=None, split_points=None, tokens=None,
                        vocabulary=split.vocabulary, text=split)


# --------------------------------------------------------------------------- series


def _checked_csv_values(values, column: str) -> np.ndarray:
    """The same rules as csv_column_values, for values that did not come through it."""
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 1:
        raise DataError("data.csv_column", column, f"must give one column of numbers, not shape {values.shape}")
    if np.isinf(values).any():
        raise DataError("data.csv_column", column, "holds infinite values")
    if len(values) < MIN_CSV_VALUES:
        raise DataError("data.csv_column", column, f"has only {len(values)} values; at least {MIN_CSV_VALUES} "
                                                   "are needed")
    return values


def _series_data(config: DataConfig, raw: np.ndarray, *, times: np.ndarray | None = None,
                 notes: tuple[str, ...] = (), file_times: np.ndarray | None = None) -> SequenceData:
    n = len(raw)
    seq_len, horizon = config.seq_len, config.horizon
    problem = splits.window_problem(n, seq_len, horizon, config.val_fraction, config.test_fraction)
    if problem:
        raise DataError("data.seq_len", seq_len, problem)
    bounds = splits.series_bounds(n, config.val_fraction, config.test_fraction)
    n_windows = sum(max(0, stop - start - seq_len - horizon + 1) for start, stop in bounds.values())
    if n_windows * seq_len > MAX_MODEL_VALUES:
        raise DataError("data.seq_len", seq_len,
                        f"gives {n_windows} windows × {seq_len} steps = {_short(n_windows * seq_len)} values, "
                        f"above the limit of {_short(MAX_MODEL_VALUES)}; use a shorter window or fewer points")

    val_start, test_start = bounds["validation"][0], bounds["test"][0]
    season, time_step = config.season or None, None
    if times is not None:
        from seqcore.csvseries import step
        from seqcore.evaluation import seasonal_period

        file_times = times if file_times is None else file_times
        season = season or seasonal_period(file_times)
        time_step = step(file_times)
    transform = _series_transform(config, raw, val_start, season)
    if val_start - transform.lag < seq_len + horizon:
        raise DataError("data.difference", config.difference,
                        f"leaves the training part {val_start - transform.lag} changes, fewer than a window and its "
                        f"targets ({seq_len} + {horizon}); use a shorter window, a shorter lag or more data")
    modelled = transform.to_model(raw)
    (x_train, y_train), (x_val, y_val), (x_test, y_test) = (
        _windows(modelled[max(start, transform.lag):stop], seq_len, horizon) for start, stop in bounds.values())
    notes = notes + ((transform.reason,) if transform.reason else ())
    return SequenceData(generator=config.generator, x_train=x_train, y_train=y_train, x_val=x_val, y_val=y_val,
                        x_test=x_test, y_test=y_test, w_train=None, w_val=None, w_test=None, n_features=1,
                        n_outputs=horizon, many_to_many=False, scaler=transform.scaler, series=raw,
                        split_points=(val_start, test_start), tokens=None, transform=transform, times=times,
                        season=season, notes=notes, time_step=time_step)


def _series_transform(config: DataConfig, raw: np.ndarray, train_stop: int, season: int | None) -> SeriesTransform:
    """The transform the settings ask for, with auto resolved on the training part (saying why)."""
    if config.log:
        bad = np.flatnonzero(raw <= 0)
        if len(bad):
            raise DataError("data.log", True, f"needs every value above 0, and the value at step {bad[0] + 1} is "
                                              f"{raw[bad[0]]:.4g}; turn the logarithm off")
    lag, reason = 0, ""
    if config.difference == "lag1":
        lag = 1
    elif config.difference == "season":
        if not season:
            raise DataError("data.difference", "season", "needs a season: set data.season (12 for monthly data, 7 "
                                                        "for daily, 52 for weekly) or choose a time column with a "
                                                        "regular frequency")
        lag = season
    elif config.difference == "auto" and config.task.needs_upload:
        share = trend_share(np.log(raw[:train_stop]) if config.log else raw[:train_stop])
        if share > TREND_R2:
            lag = 1
            reason = (f"Differencing on (auto): a straight line through the training part explains {share:.0%} of "
                      "its variance, a trend, and a network cannot forecast levels it never saw in training, so it "
                      "learns the change from one step to the next. Set Differencing to none to learn the levels.")
        else:
            reason = (f"Differencing off (auto): the training part has no clear trend (a straight line explains "
                      f"{share:.0%} of its variance), so the network learns the values themselves.")
    return SeriesTransform.fit(raw, train_stop, log=config.log, lag=lag, reason=reason)


def _windows(part: np.ndarray, seq_len: int, horizon: int) -> tuple[np.ndarray, np.ndarray]:
    """Every window of one part: x (N, seq_len, 1) and the horizon values after it, y (N, horizon)."""
    if len(part) < seq_len + horizon:  # only an empty, unrequested test part gets here
        return np.zeros((0, seq_len, 1), np.float32), np.zeros((0, horizon), np.float32)
    windows = sliding_window_view(part, seq_len + horizon)
    # astype copies, so the model gets compact arrays rather than views into the whole series.
    return windows[:, :seq_len].astype(np.float32)[:, :, None], windows[:, seq_len:].astype(np.float32)


# --------------------------------------------------------------------------- CSV


def load_csv(source: bytes | str | io.IOBase | os.PathLike, *, max_bytes: int = 50_000_000,
             max_rows: int = 1_000_000, max_columns: int = MAX_CSV_COLUMNS) -> pd.DataFrame:
    """Read an uploaded CSV into a DataFrame, or raise DataError saying what is wrong with it.

    `source`: the file's bytes, its text (a str is CSV text, not a path), a file-like object
    (e.g. Streamlit's UploadedFile) or an os.PathLike path. The delimiter (comma, semicolon, tab,
    pipe) is detected; the text may be UTF-8 (with or without BOM), UTF-16 with BOM, or Latin-1.
    A file whose first row is all numbers is read as having no header; its columns are then
    named 'column 1', 'column 2', ... The numeric columns are found once and kept in
    `frame.attrs["numeric_columns"]` (what `numeric_columns` returns).
    """
    text = _decode(_read_limited(source, max_bytes))
    if not text.strip():
        raise DataError("csv", "empty file", "holds no data; upload a CSV with a header row and numbers below it")
    delimiter = _sniff_delimiter(text)
    _check_width(text, delimiter, max_columns)
    frame = _parse(text, delimiter, max_rows, header=0)
    if len(frame.columns) and all(_is_number(name) for name in frame.columns):
        # The first row was data, not names: read it again as data so no value is lost.
        frame = _parse(text, delimiter, max_rows, header=None)
        frame.columns = [f"column {i + 1}" for i in range(len(frame.columns))]
    if len(frame) > max_rows:
        raise DataError("csv", f"more than {max_rows} rows", f"is too long; the limit is {max_rows} rows")
    if len(frame) == 0:
        raise DataError("csv", "header only", "has a header but no data rows")
    if len(frame) == 1:
        raise DataError("csv", "one data row", "has a single data row; a sequence needs many values")
    frame.attrs["numeric_columns"] = _numeric_columns(frame)
    if not frame.attrs["numeric_columns"]:
        names = ", ".join(map(str, frame.columns[:10])) + (", …" if len(frame.columns) > 10 else "")
        raise DataError("csv", "no numeric column", f"was found: the columns ({names}) hold text, not numbers")
    return frame


def _check_width(text: str, delimiter: str, max_columns: int) -> None:
    """Refuse a file wider than max_columns from its first line, before pandas parses (and types) every column."""
    head = text[:_SNIFF_CHARS * 4]
    lines = head.splitlines(keepends=True)
    first = next((line for line in lines if line.strip()), "")
    try:
        n_columns = len(next(csv.reader([first.rstrip("\r\n")], delimiter=delimiter), []))
    except csv.Error:  # a quote left open, say: pandas' reader says what is wrong
        return
    if n_columns > max_columns:
        cut = not first.endswith(("\n", "\r"))  # the line goes on past what was read
        shown = f"{'more than ' if cut else ''}{n_columns} columns"
        raise DataError("csv", shown, f"is too wide; the limit is {max_columns} columns (a series needs one)")


def _read_limited(source, max_bytes: int) -> bytes | str:
    if isinstance(source, os.PathLike):
        with open(source, "rb") as handle:
            return _read_limited(handle, max_bytes)
    if hasattr(source, "read"):
        if getattr(source, "seekable", lambda: False)():
            source.seek(0)  # an upload may have been read before (e.g. for a preview)
        content = source.read(max_bytes + 1)  # one more than allowed is enough to know it is too big
        size_known = False
    elif isinstance(source, bytes | bytearray | memoryview | str):
        content, size_known = source, True
    else:
        raise DataError("csv", type(source).__name__, "is not bytes, text or a file")
    if isinstance(content, bytearray | memoryview):
        content = bytes(content)
    if len(content) > max_bytes:  # for text this counts characters, close enough for a guard
        shown = _size(len(content)) if size_known else f"more than {_size(max_bytes)}"
        raise DataError("csv", shown, f"is too big; the limit is {_size(max_bytes)}")
    return content


def _size(n_bytes: int) -> str:
    return f"{n_bytes / 1e6:.3g} MB" if n_bytes >= 1_000_000 else f"{n_bytes} bytes"


def _decode(content: bytes | str) -> str:
    if isinstance(content, str):
        text = content
    elif content.startswith((b"\xff\xfe", b"\xfe\xff")):  # Excel's "Unicode text" export
        try:
            text = content.decode("utf-16")
        except UnicodeDecodeError:
            raise DataError("csv", "UTF-16 file", "could not be decoded; save it as UTF-8 CSV") from None
    elif b"\x00" in content:
        raise DataError("csv", "binary file", "is not a CSV text file (it holds NUL bytes); "
                                              "export the sheet as CSV first")
    else:
        try:
            text = content.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = content.decode("latin-1")  # never fails: older Excel exports on Western systems
    sample = text[:_SNIFF_CHARS]
    controls = sum(1 for ch in sample if (ord(ch) < 32 and ch not in "\t\n\r\x0c") or 0x7F <= ord(ch) < 0xA0)
    if "\x00" in sample or controls > 0.1 * len(sample):
        raise DataError("csv", "binary file", "is not a CSV text file; export the sheet as CSV first")
    return text


def _sniff_delimiter(text: str) -> str:
    sample = text[:_SNIFF_CHARS]
    if len(text) > _SNIFF_CHARS and "\n" in sample:
        sample = sample[:sample.rindex("\n")]  # a cut-off last line would skew the counts
    try:
        return csv.Sniffer().sniff(sample, delimiters=_CSV_DELIMITERS).delimiter
    except csv.Error:
        pass
    # The sniffer gives up on one-column files and on ragged samples: take the delimiter that
    # appears on every line, else a comma (a single column has none).
    lines = [line for line in sample.splitlines() if line.strip()][:50]
    for delimiter in _CSV_DELIMITERS:
        if lines and all(delimiter in line for line in lines):
            return delimiter
    return ","


def _parse(text: str, delimiter: str, max_rows: int, header) -> pd.DataFrame:
    import pandas as pd

    try:
        # nrows one past the limit: enough to know the file is too long without reading all of it.
        return pd.read_csv(io.StringIO(text), sep=delimiter, header=header, nrows=max_rows + 1,
                           skipinitialspace=True, low_memory=False)
    except pd.errors.EmptyDataError:
        raise DataError("csv", "no columns", "holds no data; upload a CSV with a header row and numbers below it"
                        ) from None
    except Exception as err:  # any reader failure means the text is not a CSV we can use
        reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise DataError("csv", "file", f"could not be read as CSV ({_clip(reason, 120)})") from None


def _is_number(name) -> bool:
    try:
        return math.isfinite(float(name))
    except (TypeError, ValueError):
        return False


def _parse_numbers(column: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """float64 values (NaN where missing or text) and a mask of the cells that hold text."""
    import pandas as pd

    if pd.api.types.is_bool_dtype(column):  # True/False are not measurements
        return np.full(len(column), np.nan), column.notna().to_numpy()
    if pd.api.types.is_numeric_dtype(column):
        return column.to_numpy(dtype=np.float64, na_value=np.nan), np.zeros(len(column), dtype=bool)
    stripped = column.astype(str).str.strip()
    filled = column.notna().to_numpy() & (stripped != "").to_numpy()  # blank cells count as missing, not text
    numbers = pd.to_numeric(stripped.where(filled), errors="coerce")
    values = numbers.to_numpy(dtype=np.float64, na_value=np.nan)
    return values, filled & np.isnan(values)


def numeric_columns(frame: pd.DataFrame) -> list[str]:
    """Columns that are mostly numbers: numeric ones, and text ones where numbers outnumber words.

    A column with a stray typo is listed, so choosing it gives a precise error (row and value)
    instead of the column silently missing from the list. Found once by `load_csv`.
    """
    known = frame.attrs.get("numeric_columns")
    return list(known) if known is not None else _numeric_columns(frame)


def _numeric_columns(frame: pd.DataFrame) -> list[str]:
    names = []
    for name in frame.columns:
        column = frame[name]
        if len(column) > _TYPE_SAMPLE_ROWS:  # converting a million text cells takes seconds; a sample tells
            column = column.iloc[::-(-len(column) // _TYPE_SAMPLE_ROWS)]
        values, is_text = _parse_numbers(column)
        n_numbers = int(np.count_nonzero(~np.isnan(values)))
        if n_numbers > 0 and n_numbers >= int(is_text.sum()):
            names.append(name)
    return names


def csv_column_values(frame: pd.DataFrame, column: str, *, missing_ok: bool = False) -> np.ndarray:
    """The column as a float64 1-D array, or DataError naming the first problem. Rows count data rows from 1.
    `missing_ok`: empty cells become NaN (a missing-value policy deals with them) instead of an error."""
    if column not in frame.columns:
        available = ", ".join(map(str, numeric_columns(frame))) or "none"
        raise DataError("data.csv_column", column, f"is not a column of the CSV; numeric columns: {available}")
    values, is_text = _parse_numbers(frame[column])
    if is_text.any():
        first = int(np.argmax(is_text))
        raise DataError("data.csv_column", column, f"holds text ({_clip(str(frame[column].iloc[first]), 30)!r} "
                                                   f"in row {first + 1}), not numbers")
    missing = np.isnan(values)
    if missing.any() and not missing_ok:
        raise DataError("data.csv_column", column, f"has {int(missing.sum())} missing values (the first in row "
                                                   f"{int(np.argmax(missing)) + 1}); fill or remove them")
    infinite = np.isinf(values)
    if infinite.any():
        raise DataError("data.csv_column", column, f"holds {int(infinite.sum())} infinite values (the first in row "
                                                   f"{int(np.argmax(infinite)) + 1}); remove them")
    huge = np.abs(values) > MAX_CSV_MAGNITUDE
    if huge.any():
        raise DataError("data.csv_column", column, f"holds values too large to standardise (the first in row "
                                                   f"{int(np.argmax(huge)) + 1}); rescale the column")
    if np.count_nonzero(~missing) < MIN_CSV_VALUES:
        raise DataError("data.csv_column", column, f"has only {np.count_nonzero(~missing)} values; at least "
                                                   f"{MIN_CSV_VALUES} are needed")
    return np.ascontiguousarray(values)
