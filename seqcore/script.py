"""The standalone Keras script of an experiment, and the files it reads and writes beside itself.

`keras_script(experiment)` writes a Python program that needs only Keras (on TensorFlow), NumPy and, for a CSV,
pandas: no seqcore. It makes the app's data itself (a generator, the built-in corpus, or the CSV or text beside
it), builds the app's network from the same seed and shuffles the batches the same way, so its first epoch's
training loss is the one the app reported. Its data section is the engine's own code, copied from the modules
here (`engine_source`: each function or class with what it calls, found by reading the modules' syntax trees), so
the script cannot drift from the app; tests/test_script.py checks its data against `build_data` for every task.

A series script saves `preprocessing.json` beside the model (`preprocessing_json` writes the same file for the
app's artifacts): what turns raw values into what the network reads and its outputs back, so `forecast` in the
script takes raw values and returns raw values.
"""

from __future__ import annotations

import ast
import csv
import functools
import importlib
import io
import json
import re
import sys
import textwrap
from dataclasses import dataclass
from typing import TYPE_CHECKING

from seqcore.tasks import MARKED, SERIES, TEXT, TOKENS

if TYPE_CHECKING:
    import numpy as np

    from seqcore.config import Experiment
    from seqcore.data import SequenceData

DATA_FILE = "data.csv"  # a CSV run's values (and times), read from beside the script
TEXT_FILE = "text.txt"  # an own-text run's text (UTF-8), read from beside the script
PREPROCESSING_FILE = "preprocessing.json"  # a series run's log, lag, scaler and window, written beside the model
FIRST_EPOCH_TAG = "FIRST_EPOCH_LOSS="  # the line the script prints after training, for people and tests


# --------------------------------------------------------------------------- the series' preprocessing


def series_preprocessing(transform, seq_len: int, horizon: int, season: int | None) -> dict:
    """What preprocessing.json holds: how raw values become what the network reads, and its outputs values again.

    log: the network reads the logarithm of the values; lag: 0, or the network learns the change over `lag` steps
    (differencing); mean, std: the training part's mean and standard deviation after log and differencing, which
    standardise what the network reads ((z - mean) / std, a std of 0 counting as 1); seq_len: the values one
    forecast reads; horizon: the values it predicts after them; season: steps in one season, or None."""
    return {"log": bool(transform.log), "lag": int(transform.lag), "mean": float(transform.scaler.mean),
            "std": float(transform.scaler.std), "seq_len": int(seq_len), "horizon": int(horizon),
            "season": None if season is None else int(season)}


def preprocessing_text(preprocessing: dict) -> str:
    """preprocessing.json's text: one key a line, floats written exactly (JSON's repr)."""
    return json.dumps(preprocessing, indent=1) + "\n"


def preprocessing_json(experiment: Experiment, data: SequenceData) -> bytes | None:
    """A series run's preprocessing.json (the keys of `series_preprocessing`), as the script writes it; None for the
    other tasks, whose networks read their data as it is."""
    if data.task.kind is not SERIES or data.transform is None:
        return None
    values = series_preprocessing(data.transform, experiment.data.seq_len, experiment.data.horizon, data.season)
    return preprocessing_text(values).encode()


def data_csv(experiment: Experiment, uploaded: np.ndarray | None) -> bytes | None:
    """The CSV a CSV run's script reads as data.csv: the run's values as the app read them from the upload (empty
    cells where they were missing, oldest first), under the value column's name, after the time column (ISO dates)
    when the run has one. None for the runs that read no CSV."""
    if experiment.data.upload_kind != "csv" or uploaded is None:
        return None
    import numpy as np

    from seqcore.csvseries import unpack

    values, times = unpack(uploaded)
    config = experiment.data
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    if times is None:
        writer.writerow([config.csv_column])
        writer.writerows([[_number(v)] for v in values.tolist()])
    else:
        writer.writerow([config.time_column or "time", config.csv_column])
        times = _iso_times(np.asarray(times, dtype="datetime64[s]"))
        writer.writerows(zip(times, map(_number, values.tolist()), strict=True))
    return out.getvalue().encode()


def input_files(experiment: Experiment, uploaded: np.ndarray | None) -> dict[str, bytes]:
    """The files a run's script reads from beside itself, by name, for the Downloads: DATA_FILE for a CSV run
    (`data_csv`), TEXT_FILE for an own-text run (the text's UTF-8 bytes as the run carries them), none otherwise."""
    kind = experiment.data.upload_kind
    if uploaded is None or kind is None:
        return {}
    if kind == "csv":
        return {DATA_FILE: data_csv(experiment, uploaded)}
    import numpy as np

    return {TEXT_FILE: np.asarray(uploaded, dtype=np.uint8).tobytes()}


def script_zip(experiment: Experiment, inputs: dict[str, bytes]) -> bytes:
    """train_model.py with the files it reads from beside itself (`input_files`), as one zip to unpack anywhere."""
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("train_model.py", keras_script(experiment))
        for name, body in inputs.items():
            archive.writestr(name, body)
    return buffer.getvalue()


def _number(value: float) -> str:
    return "" if value != value else repr(value)  # NaN: an empty cell, as the upload had


def _iso_times(times) -> list[str]:
    """Dates as 2024-01-31 when every time is a midnight, else to the second or, where needed, the nanosecond."""
    import numpy as np

    times = np.asarray(times, dtype="datetime64[s]")
    unit = "D" if np.all(times.astype(np.int64) % 86_400 == 0) else "s"
    return np.datetime_as_string(times, unit=unit).tolist()


# --------------------------------------------------------------------------- the engine's own code


@dataclass(frozen=True)
class _Module:
    path: str  # seqcore/generators.py, for the script's comments
    lines: list[str]
    defined: dict[str, ast.stmt]  # top-level name -> its def, class or assignment
    imported: dict[str, tuple]  # top-level name -> how it is imported


@functools.cache
def _module(name: str) -> _Module:
    module = importlib.import_module(name)
    with open(module.__file__, encoding="utf-8") as handle:
        text = handle.read()
    defined, imported = {}, {}
    for node in ast.parse(text).body:
        if isinstance(node, ast.FunctionDef | ast.ClassDef):
            defined[node.name] = node
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                for leaf in ast.walk(target):
                    if isinstance(leaf, ast.Name):
                        defined[leaf.id] = node
        elif isinstance(node, ast.Import):
            for alias in node.names:
                imported[alias.asname or alias.name.split(".")[0]] = ("import", alias.name, alias.asname)
        elif isinstance(node, ast.ImportFrom) and node.module != "__future__":
            for alias in node.names:
                imported[alias.asname or alias.name] = ("from", node.module, alias.name, alias.asname)
    return _Module(path=name.replace(".", "/") + ".py", lines=text.splitlines(), defined=defined, imported=imported)


class _Uses(ast.NodeVisitor):
    """The names a definition reads, and its `module.name` references, leaving annotations out: the script starts
    with `from __future__ import annotations`, so they are never evaluated."""

    def __init__(self):
        self.names: set[str] = set()
        self.attributes: list[ast.Attribute] = []

    def visit_Name(self, node):
        if isinstance(node.ctx, ast.Load):
            self.names.add(node.id)

    def visit_Attribute(self, node):
        if isinstance(node.value, ast.Name):
            self.attributes.append(node)
        self.generic_visit(node)

    def visit_arg(self, node):
        pass

    def visit_FunctionDef(self, node):
        for child in [*node.decorator_list, node.args, *node.body]:
            self.visit(child)

    def visit_AnnAssign(self, node):
        if node.value is not None:
            self.visit(node.value)


def _resolve(module: str, name: str) -> tuple | None:
    """('def', module, name) for a definition of seqcore, ('module', name) for a seqcore module, ('import', line) for
    anything else imported, None for builtins and local names."""
    info = _module(module)
    if name in info.defined:
        return ("def", module, name)
    entry = info.imported.get(name)
    if entry is None:
        return None
    if entry[0] == "import":
        _, target, alias = entry
        if target.startswith("seqcore"):
            return ("module", target)
        return ("import", f"import {target}" + (f" as {alias}" if alias else ""))
    _, source, original, alias = entry
    if source == "seqcore":
        return ("module", f"seqcore.{original}")
    if source.startswith("seqcore"):
        if alias:
            raise NotImplementedError(f"{module}: 'from {source} import {original} as {alias}' cannot be copied")
        return _resolve(source, original)
    return ("import", f"from {source} import {original}" + (f" as {alias}" if alias else ""))


@dataclass(frozen=True)
class _Copied:
    module: str
    name: str
    source: str


def engine_source(*targets) -> tuple[list[str], str]:
    """The import lines and the code of these engine definitions (functions, classes or (module, name) pairs of
    constants), each with the definitions it uses, dependencies first, grouped under a comment naming their module.
    `module.name` references to other seqcore modules are written as plain names."""
    seen: set[tuple[str, str]] = set()
    parts: list[_Copied] = []  # dependencies first
    imports: set[str] = set()

    def visit(module: str, name: str) -> None:
        if (module, name) in seen:  # copied, or being copied: a cycle stops here
            return
        seen.add((module, name))
        info = _module(module)
        node = info.defined[name]
        uses = _Uses()
        uses.visit(node)
        for used in sorted(uses.names):
            found = _resolve(module, used)
            if found and found[0] == "def":
                visit(found[1], found[2])
            elif found and found[0] == "import":
                imports.add(found[1])
        cuts = []
        for attribute in uses.attributes:
            found = _resolve(module, attribute.value.id)
            if found and found[0] == "module":
                target = _resolve(found[1], attribute.attr)
                if not target or target[0] != "def":
                    raise NotImplementedError(f"{module}.{name}: {found[1]}.{attribute.attr} is not a definition")
                visit(target[1], target[2])
                cuts.append(attribute.value)
        parts.append(_Copied(module, name, _segment(info, node, cuts)))

    for target in targets:
        module, name = target if isinstance(target, tuple) else (target.__module__, target.__name__)
        visit(module, name)
    names: dict[str, str] = {}
    for part in parts:
        if names.setdefault(part.name, part.module) != part.module:
            raise NotImplementedError(f"{part.name} is defined in both {names[part.name]} and {part.module}")
    return _merged(imports), _grouped(parts)


def _segment(info: _Module, node: ast.stmt, cuts: list[ast.Name]) -> str:
    """The definition's lines with the comments right above it, less the `module.` of each cut name."""
    first = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
    while first > 1 and info.lines[first - 2].lstrip().startswith("#"):
        first -= 1
    lines = [line.encode("utf-8") for line in info.lines[first - 1:node.end_lineno]]
    for cut in sorted(cuts, key=lambda n: (n.lineno, n.col_offset), reverse=True):  # col offsets count UTF-8 bytes
        row = cut.lineno - first
        lines[row] = lines[row][:cut.col_offset] + lines[row][cut.end_col_offset + 1:]  # the name and its dot
    return "\n".join(line.decode("utf-8") for line in lines)


def _grouped(parts: list[_Copied]) -> str:
    chunks, module = [], None
    for part in parts:
        header = ""
        if part.module != module:
            module = part.module
            header = f"# --- from {_module(module).path}\n"
        is_constant = not part.source.lstrip().startswith(("def ", "class ", "@")) and "\ndef " not in part.source
        chunks.append((header, part.source, is_constant))
    out = []
    for i, (header, source, is_constant) in enumerate(chunks):
        if i:
            previous_constant = chunks[i - 1][2]
            out.append("\n" if previous_constant and is_constant and not header else "\n\n\n")
        out.append(header + source)
    return "".join(out) + "\n"


def _merged(imports: set[str]) -> list[str]:
    plain = sorted(line for line in imports if line.startswith("import "))
    froms: dict[str, set[str]] = {}
    for line in imports:
        if line.startswith("from "):
            module, _, names = line[len("from "):].partition(" import ")
            froms.setdefault(module, set()).add(names)
    return plain + [f"from {module} import {', '.join(sorted(names))}" for module, names in sorted(froms.items())]


# --------------------------------------------------------------------------- the script


def keras_script(experiment: Experiment) -> str:
    """A standalone Python script that makes this experiment's data and trains its network with plain Keras.

    It runs from any folder with Keras (TensorFlow backend), NumPy and, for a CSV, pandas: its data code is the
    engine's own (`engine_source`), so its data equal the app's (same generator, seed and split) and its first
    epoch's training loss the app's (same starting weights, same batches in the same order). A CSV run reads
    `DATA_FILE` beside the script (`data_csv` writes it), an own-text run `TEXT_FILE`. It saves model.keras beside
    itself; a series run also preprocessing.json (`series_preprocessing`) and shows `forecast`: raw values in, raw
    values out; a text run vocabulary.json."""
    config = experiment.data
    kind = config.task.kind
    builders = {TOKENS: _sequence_data, MARKED: _sequence_data, SERIES: _series_data, TEXT: _text_data}
    if kind not in builders:
        raise ValueError(f"task {config.generator!r} has a kind ({kind.name}) that keras_script does not know")
    targets, data_code, needs = builders[kind](experiment)
    if kind is SERIES:
        targets += [series_preprocessing, preprocessing_text, ("seqcore.transforms", "SeriesTransform")]
    if kind is TEXT:
        targets += [("seqcore.text", "vocabulary_json")]
    bias = _model_code(experiment)
    if "lstm_bias(" in bias:
        targets += [("seqcore.models", "lstm_bias")]
    copied_imports, copied = engine_source(*targets)
    own = ["import json", "import math", "import sys", "from pathlib import Path", "from types import SimpleNamespace"]
    if experiment.data.fresh_data:
        own.append("import itertools")
    imports = _import_block(own + copied_imports + needs, experiment.train.backend)
    sections = [
        "\n".join([_docstring(experiment), "from __future__ import annotations\n", imports,
                   _settings(experiment, copied)]),
        "\n# ---------------------------------------------------------------------------- the app's data code\n"
        "# Copied from the app's engine (seqcore), function by function, so these data are the app's.\n\n" + copied,
        "\n# ---------------------------------------------------------------------------- this experiment's data\n\n"
        + data_code,
        "\n# ---------------------------------------------------------------------------- the network\n\n" + bias,
        _batches_code(experiment),
    ]
    if kind is SERIES:
        sections.append(_FORECAST)
    sections.append(_main(experiment))
    script = "\n\n".join(section.strip("\n") + "\n" for section in sections)
    script = re.sub(r"\n{4,}", "\n\n\n", script)
    script = re.sub(r"\n+(?=\n\n(def |class |@|if __name__))", "\n", script)  # two blank lines before each
    _check_names(script)
    return script


def _import_block(lines: list[str], backend: str) -> str:
    stdlib, third = set(), set()
    for line in lines:
        root = line.split()[1].split(".")[0]
        (stdlib if root in sys.stdlib_module_names else third).add(line)
    order = lambda line: (line.startswith("from "), line)  # noqa: E731
    block = "\n".join(sorted(stdlib, key=order)) + "\n\n"
    if backend != "tensorflow":  # the app trains this experiment on another backend; tf.data still feeds it
        block = "\n".join(sorted(stdlib | {"import os"}, key=order)) + "\n\n"
        block += f'os.environ.setdefault("KERAS_BACKEND", "{backend}")\n\n'
    third |= {"import keras", "import numpy as np", "import tensorflow as tf", "from keras import layers"}
    return block + "\n".join(sorted(third, key=order)) + "\n"


def _check_names(script: str) -> None:
    """A top-level name of the script's own that shadows a copied one would change the app's code: refuse it."""
    names = []
    for node in ast.parse(script).body:
        if isinstance(node, ast.FunctionDef | ast.ClassDef):
            names.append(node.name)
        elif isinstance(node, ast.Assign):
            names += [leaf.id for target in node.targets for leaf in ast.walk(target) if isinstance(leaf, ast.Name)]
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        raise NotImplementedError(f"the script defines {', '.join(twice)} twice")


def _docstring(experiment: Experiment) -> str:
    config = experiment.data
    kind = config.task.kind
    needs = "Keras (on TensorFlow), NumPy and pandas" if config.upload_kind == "csv" else \
        "Keras (on TensorFlow) and NumPy"
    if config.upload_kind == "csv":
        source = (f"It reads the CSV beside it, {DATA_FILE} (the app's Downloads give it under that name): the values "
                  f"of its column {config.csv_column!r}" + (f", dated by its column {config.time_column!r}"
                                                           if config.time_column else "") +
                  f", missing values handled as the app did ({config.missing}).")
    elif config.upload_kind == "text":
        source = f"It reads the text beside it, {TEXT_FILE} (UTF-8), as the app read yours."
    elif kind is TEXT:
        source = "It reads the built-in corpus (the help texts that ship with Python) as the app does."
    else:
        source = "It generates its data itself, as the app does."
    files = ["    model.keras          written: the trained network"]
    if config.upload_kind == "csv":
        files.insert(0, f"    {DATA_FILE}             read: the CSV the run learnt")
    if config.upload_kind == "text":
        files.insert(0, f"    {TEXT_FILE}             read: the text the run learnt")
    if kind is TEXT:
        files.append("    vocabulary.json      written: the character of each id the network reads and predicts")
    if kind is SERIES:
        files.append(f"    {PREPROCESSING_FILE}   written: what turns raw values into what the network reads, and "
                     "back:\n" + _PREPROCESSING_KEYS)
    forecast = ("\nforecast(model, raw_values) below applies preprocessing.json to the last values of a series, "
                "predicts,\nand turns the network's outputs back into values: raw values in, raw values out.\n"
                if kind is SERIES else "")
    return f'''"""{config.task.label}: a Sequence Playground experiment as a plain Keras script.

Run it from any folder, with only {needs} installed:
    python train_model.py [epochs]

{textwrap.fill(source, 115)}
The data code is the app's own, copied below from its engine: the same generator, seed and time-ordered split.
The network starts from the app's weights (same seed) and sees the batches in the app's order, so the first
epoch's training loss is the one the app reported; the script prints it as {FIRST_EPOCH_TAG}<loss>.

Files beside this script:
{chr(10).join(files)}
{forecast}"""
'''


_PREPROCESSING_KEYS = """\
        log       true: the network reads the logarithm of the values
        lag       0, or the differencing lag: the network learns the change over `lag` steps
        mean, std the training part's mean and standard deviation of those values: the network reads
                  (z - mean) / std (a std of 0 counts as 1), and its outputs are turned back the same way
        seq_len   how many values one forecast reads; horizon: how many values it predicts after them
        season    steps in one season (null: none)"""


def _settings(experiment: Experiment, copied: str) -> str:
    config = experiment.data
    lines = [
        "HERE = Path(__file__).resolve().parent  # the files this script reads and writes lie beside it",
        "",
        "# The experiment's settings as the app saved them (experiment.json); the code below reads them from here.",
        f'EXPERIMENT_JSON = r"""\n{experiment.to_json()}\n"""',
        "SETTINGS = json.loads(EXPERIMENT_JSON)",
        "DATA = SimpleNamespace(**SETTINGS[\"data\"])  # the generators read DATA.seq_len, DATA.seed, ...",
        "TRAIN = SimpleNamespace(**SETTINGS[\"train\"])",
    ]
    if "DataConfig" in copied:
        lines.append("DataConfig = SimpleNamespace  # what the app's functions below call their settings: DATA here")
    if config.upload_kind == "csv":
        lines.append(f"CSV_PATH = HERE / \"{DATA_FILE}\"  # the CSV the run learnt, beside this script")
    if config.upload_kind == "text":
        lines.append(f"TEXT_PATH = HERE / \"{TEXT_FILE}\"  # the text the run learnt (UTF-8), beside this script")
    return "\n".join(lines) + "\n"


def _sequence_data(experiment: Experiment) -> tuple[list, str, list[str]]:
    """Token tasks and the adding problem: whole sequences drawn by the task's generator, split in draw order."""
    config = experiment.data
    task = config.task
    targets = [task.generate, ("seqcore.splits", "sequence_rows"), ("seqcore.data", "_split_rows")]
    if task.kind is TOKENS:
        targets.append(("seqcore.data", "one_hot"))
        n_symbols = task.sizes(config)[0]
        make = f'''\
N_SYMBOLS = {n_symbols}  # one-hot width: the symbols a step can hold


def make_sequences(rng):
    """x and y one-hot (N, T, N_SYMBOLS) float32 and the step weights (N, T) or None, of every sequence drawn."""
    sequences = {task.generate.__name__}(DATA, rng)
    x, y = one_hot(sequences.inputs, N_SYMBOLS), one_hot(sequences.targets, N_SYMBOLS)
    w = None if sequences.weights is None else np.ascontiguousarray(sequences.weights)  # 0: a step not scored
    return x, y, w
'''
    else:
        make = f'''\
def make_sequences(rng):
    """x (N, T, channels) float32 and y (N, outputs) float32 of every sequence drawn (no step weights)."""
    sequences = {task.generate.__name__}(DATA, rng)
    return sequences.x, sequences.y, None
'''
    code = make + '''

def load_data():
    """The app's arrays: every sequence drawn from the data seed, split in draw order into train, validation, test."""
    x, y, w = make_sequences(np.random.default_rng(DATA.seed))
    rows = sequence_rows(DATA.n_sequences, DATA.val_fraction, DATA.test_fraction)
    (x_train, x_val, x_test), (y_train, y_val, y_test) = _split_rows(x, rows), _split_rows(y, rows)
    w_train, w_val, w_test = [None] * 3 if w is None else [np.ascontiguousarray(p) for p in _split_rows(w, rows)]
    return SimpleNamespace(x_train=x_train, y_train=y_train, w_train=w_train, x_val=x_val, y_val=y_val, w_val=w_val,
                           x_test=x_test, y_test=y_test, w_test=w_test, n_features=x.shape[-1], n_outputs=y.shape[-1])
'''
    return targets, code, []


def _series_data(experiment: Experiment) -> tuple[list, str, list[str]]:
    """A series: generated or read from the CSV, log / differenced / standardised as the app does, windowed per part."""
    config = experiment.data
    task = config.task
    targets = [("seqcore.splits", "series_bounds"), ("seqcore.data", "_windows"),
               ("seqcore.transforms", "SeriesTransform")]
    needs = []
    read = ""
    if task.needs_upload:
        needs.append("import pandas as pd")
        targets.append(("seqcore.csvseries", "apply_missing"))
        if config.time_column:
            targets.append(("seqcore.csvseries", "_as_times"))
            timed = '''\
    times = _as_times(frame[DATA.time_column]).to_numpy(dtype="datetime64[s]")  # dates or years, as the app reads
    order = np.argsort(times, kind="stable")  # a file that lists the newest row first is read oldest first
    values, times = values[order], times[order]
'''
        else:
            timed = "    times = None  # no time column: the rows are numbered\n"
        read = f'''\
def read_series():
    """The values of the CSV's column DATA.csv_column (and their times), oldest first, after the app's policy for
    missing values (DATA.missing: refuse, drop or interpolate)."""
    if not CSV_PATH.is_file():
        raise SystemExit(f"{{CSV_PATH}} is missing: put the CSV the run learnt beside this script under that name")
    frame = pd.read_csv(CSV_PATH, skipinitialspace=True, float_precision="round_trip")  # another delimiter: sep=";"
    values = pd.to_numeric(frame[DATA.csv_column]).to_numpy(dtype=np.float64)  # empty cells are NaN: missing
{timed}    file_times = times  # the file's own frequency: dropped rows would hide its season
    raw, times, note = apply_missing(values, times, DATA.missing, DATA.csv_column)
    if note:
        print(note)
    return raw, times, file_times


'''
        source = "    raw, times, file_times = read_series()\n"
    else:
        targets.append(task.generate)
        source = (f"    raw = {task.generate.__name__}(DATA, np.random.default_rng(DATA.seed))  # the series, "
                  "from the data seed\n    times = None\n")
    season = "    season = DATA.season or None  # steps in one season; 0: none\n"
    if task.needs_upload and config.time_column:
        targets.append(("seqcore.evaluation", "seasonal_period"))
        season = ("    season = DATA.season or seasonal_period(file_times)  # one season's steps: as set, else "
                  "the dates' frequency\n")
    if config.difference == "lag1":
        lag = "    lag = 1  # differencing: the network learns the change from one step to the next\n"
    elif config.difference == "season":
        lag = ("    lag = season  # seasonal differencing: the network learns the change from a season before\n"
               "    if not lag:\n"
               "        raise SystemExit(\"data.difference 'season' needs a season: set data.season\")\n")
    elif config.difference == "auto" and task.needs_upload:
        targets += [("seqcore.transforms", "trend_share"), ("seqcore.transforms", "TREND_R2")]
        logged = "np.log(raw[:val_start]) if DATA.log else raw[:val_start]"
        lag = f'''\
    # difference "auto": a straight line through the training part that explains more than TREND_R2 of its variance
    # is a trend, and a network cannot forecast levels it never saw in training, so it learns the changes instead.
    share = trend_share({logged})
    lag = 1 if share > TREND_R2 else 0
    print(f"Differencing {{'on' if lag else 'off'}} (auto): a straight line explains {{share:.0%}} of the training "
          "part's variance.")
'''
    else:
        lag = "    lag = 0  # no differencing: the network learns the values themselves\n"
    code = read + f'''\
def load_data():
    """The app's arrays: windows of DATA.seq_len values and the DATA.horizon values after them, in the network's
    units, cut from each time-ordered part on its own (the latest values are held out; no window crosses parts)."""
{source}    bounds = series_bounds(len(raw), DATA.val_fraction, DATA.test_fraction)
    val_start, test_start = bounds["validation"][0], bounds["test"][0]
{season}{lag}    # log, differencing, then standardised with the training part's mean and standard deviation only
    transform = SeriesTransform.fit(raw, val_start, log=DATA.log, lag=lag)
    modelled = transform.to_model(raw)
    (x_train, y_train), (x_val, y_val), (x_test, y_test) = (
        _windows(modelled[max(start, lag):stop], DATA.seq_len, DATA.horizon) for start, stop in bounds.values())
    return SimpleNamespace(x_train=x_train, y_train=y_train, w_train=None, x_val=x_val, y_val=y_val, w_val=None,
                           x_test=x_test, y_test=y_test, w_test=None, n_features=1, n_outputs=DATA.horizon,
                           raw=raw, times=times, season=season, transform=transform,
                           split_points=(val_start, test_start))
'''
    return targets, code, needs


def _text_data(experiment: Experiment) -> tuple[list, str, list[str]]:
    """Text: split by position, the vocabulary from the training part, windows of ids per part."""
    config = experiment.data
    targets = [("seqcore.text", "_bounds"), ("seqcore.text", "build_vocabulary"), ("seqcore.text", "text_windows")]
    if config.upload_kind == "text":
        targets.append(("seqcore.text", "decode_text"))
        source = ("    if not TEXT_PATH.is_file():\n"
                  "        raise SystemExit(f\"{TEXT_PATH} is missing: put the text the run learnt beside this script "
                  "under that name\")\n"
                  "    text = decode_text(TEXT_PATH.read_bytes())  # UTF-8, line ends as \\n\n")
    else:
        targets.append(("seqcore.text", "builtin_corpus"))
        source = "    text = builtin_corpus()  # Python's own help texts, the same on every run of one Python\n"
    code = f'''\
def load_data():
    """The app's arrays: int32 character ids, windows of DATA.seq_len and the next character at every step, cut
    from each part (train, validation, test by position) on its own, with the training part's vocabulary."""
{source}    bounds = _bounds(len(text), DATA.val_fraction, DATA.test_fraction)
    start, stop = bounds["train"]
    vocabulary = build_vocabulary(text[start:stop], DATA.max_vocab)  # the rest reads as the unknown symbol
    ids = vocabulary.encode(text)
    stride = DATA.stride or DATA.seq_len  # 0: windows side by side
    (x_train, y_train), (x_val, y_val), (x_test, y_test) = (
        text_windows(ids[a:b], DATA.seq_len, stride) for a, b in bounds.values())
    return SimpleNamespace(x_train=x_train, y_train=y_train, w_train=None, x_val=x_val, y_val=y_val, w_val=None,
                           x_test=x_test, y_test=y_test, w_test=None, n_features=vocabulary.size,
                           n_outputs=vocabulary.size, vocabulary=vocabulary)
'''
    return targets, code, []


def initialiser_code(experiment: Experiment, layer: int) -> dict[str, str]:
    """The initialisation levers of one recurrent layer as Keras arguments in code: the text parts of
    `seqcore.models._initialisers`, written without importing Keras (the UI process writes scripts)."""
    from seqcore.models import _custom_bias, _reads

    model = experiment.model
    chosen = {}
    if _custom_bias(model):
        bias = dict(forget_bias=model.forget_bias, chrono_t_max=model.chrono_t_max, seed=experiment.train.seed + layer)
        shown = ", ".join(f"{k}={v!r}" for k, v in bias.items())
        chosen["unit_forget_bias"] = "False"
        chosen["bias_initializer"] = f"keras.initializers.Constant(lstm_bias({model.units}, {shown}))"
    if _reads(model, "recurrent_init") and model.recurrent_init != "orthogonal":
        chosen["recurrent_initializer"] = repr(model.recurrent_init)
    return chosen


def _model_code(experiment: Experiment) -> str:
    """build_model as the app's seqcore.models.build_model: layer by layer in the same order, from the same seed."""
    from seqcore.models import _layer_kwargs

    model_cfg, train = experiment.model, experiment.train
    kind = experiment.data.task.kind
    per_step = kind.head == "tokens"
    lines = []
    if kind is TEXT:  # character ids, one-hot encoded by the model (no weights), and a loss that reads ids
        lines += ['    inputs = keras.Input(shape=data.x_train.shape[1:], dtype="int32")',
                  '    x = layers.CategoryEncoding(num_tokens=data.n_features, output_mode="one_hot")(inputs)']
    else:
        lines += ["    inputs = keras.Input(shape=data.x_train.shape[1:])", "    x = inputs"]
    for i in range(model_cfg.layers):
        last = i == model_cfg.layers - 1
        code = {k: repr(v) for k, v in _layer_kwargs(experiment, return_sequences=per_step or not last).items()}
        if model_cfg.l1 or model_cfg.l2:
            code["kernel_regularizer"] = f"keras.regularizers.L1L2(l1={model_cfg.l1!r}, l2={model_cfg.l2!r})"
        code |= initialiser_code(experiment, i)
        args = ", ".join([str(model_cfg.units)] + [f"{k}={v}" for k, v in code.items()])
        lines.append(f"    x = layers.{model_cfg.cell}({args})(x)")
    lines.append('    outputs = layers.Dense(data.n_outputs, activation="softmax")(x)' if per_step
                 else "    outputs = layers.Dense(data.n_outputs)(x)")
    lines.append("    model = keras.Model(inputs, outputs)")
    clip = f", clipnorm={train.clipnorm!r}" if train.clipnorm else ""
    optimizer = {"adam": "Adam", "rmsprop": "RMSprop", "sgd": "SGD"}[train.optimizer]
    if per_step:
        loss_class = "SparseCategoricalCrossentropy" if kind is TEXT else "CategoricalCrossentropy"
        loss = f'keras.losses.{loss_class}(reduction="mean_with_sample_weight")'
        metric = "accuracy"
    else:
        loss, metric = '"mse"', "mae"
    xla = {"on": ", jit_compile=True", "off": ", jit_compile=False"}.get(train.xla, "")
    bias_note = ("\n    # lstm_bias (copied above) gives the starting bias the app's initialisation settings chose."
                 if any("lstm_bias(" in line for line in lines) else "")
    mean_note = ("    # Averaged over the scored steps only (the step weights), as the app reports it.\n"
                 if kind is TOKENS else "")
    return f'''\
def build_model(data):
    """Input -> recurrent layers -> Dense head, built layer by layer as the app builds it, so that from the same
    seed it starts from the same weights; compiled with the app's loss, metric and optimizer."""
    keras.utils.set_random_seed(TRAIN.seed)  # Python's, NumPy's and TensorFlow's generators, as the app's{bias_note}
{chr(10).join(lines)}
{mean_note}    model.compile(
        optimizer=keras.optimizers.{optimizer}(learning_rate={train.learning_rate!r}{clip}),
        loss={loss},
        weighted_metrics=["{metric}"]{xla},
    )
    return model
'''


def _batches_code(experiment: Experiment) -> str:
    if experiment.data.fresh_data:
        return '''

def training_batches(data):
    """A new draw of training sequences every epoch, as the app's data.fresh_data: epoch 0 trains on the data's own
    training part, epoch e on the first rows of make_sequences(seeded [data seed, e]); each epoch's order is a
    permutation from NumPy seeded [training seed, epoch]. Validation and test stay fixed."""
    steps, batch, n_train = steps_per_epoch(data), TRAIN.batch_size, len(data.x_train)

    def batches():
        for epoch in itertools.count():
            if epoch == 0:
                parts = [data.x_train, data.y_train, data.w_train]
            else:
                parts = [a if a is None else a[:n_train]
                         for a in make_sequences(np.random.default_rng([DATA.seed, epoch]))]
            parts = [p for p in parts if p is not None]
            order = np.random.default_rng([TRAIN.seed, epoch]).permutation(len(parts[0]))
            for step in range(steps):
                rows = order[step * batch:(step + 1) * batch]
                yield tuple(p[rows] for p in parts)

    arrays = [a for a in (data.x_train, data.y_train, data.w_train) if a is not None]
    signature = tuple(tf.TensorSpec((None, *a.shape[1:]), tf.as_dtype(a.dtype)) for a in arrays)
    return tf.data.Dataset.from_generator(batches, output_signature=signature)


def steps_per_epoch(data):
    return math.ceil(len(data.x_train) / TRAIN.batch_size)
'''
    return '''

def training_batches(data):
    """The training part in shuffled batches, repeated: the app's own tf.data pipeline, seeded with the training
    seed, so the batches come in the app's order (each epoch reshuffled)."""
    tensors = (data.x_train, data.y_train) if data.w_train is None else (data.x_train, data.y_train, data.w_train)
    return (tf.data.Dataset.from_tensor_slices(tensors)
            .shuffle(len(data.x_train), seed=TRAIN.seed, reshuffle_each_iteration=True)
            .batch(TRAIN.batch_size)
            .repeat())


def steps_per_epoch(data):
    return math.ceil(len(data.x_train) / TRAIN.batch_size)  # the last batch of an epoch may be smaller
'''


_FORECAST = '''

def forecast(model, raw_values, preprocessing=None):
    """The next `horizon` values of a series after `raw_values`, in the series' own units: raw values in, raw
    values out. The last seq_len + lag values are read, transformed as in training (preprocessing.json: log,
    differencing, standardisation), predicted, and the outputs turned back into values (changes added onto the
    last known values). `preprocessing`: preprocessing.json's dict; by default the file beside this script."""
    if preprocessing is None:
        preprocessing = json.loads((HERE / "preprocessing.json").read_text())
    p = preprocessing
    transform = SeriesTransform(log=p["log"], lag=p["lag"], scaler=Scaler(p["mean"], p["std"]))
    raw = np.asarray(raw_values, dtype=np.float64)
    needed = p["seq_len"] + p["lag"]
    if len(raw) < needed:
        raise ValueError(f"a forecast reads the last {needed} values; got {len(raw)}")
    window = transform.to_model(raw[-needed:])[p["lag"]:]  # the seq_len values the network reads
    outputs = model.predict(window.astype(np.float32)[None, :, None], verbose=0)[0]
    return transform.invert(outputs, raw, len(raw))
'''


def _main(experiment: Experiment) -> str:
    kind = experiment.data.task.kind
    from seqcore.training import EVAL_CHUNK, early_stopping_on

    early = early_stopping_on(experiment)
    callbacks = ""
    fit_callbacks = ""
    keep = ""
    if early:
        callbacks = ('    # Early stopping on the validation loss, as the app does for this run; the weights of the '
                     'best epoch are kept.\n'
                     '    early = keras.callbacks.EarlyStopping(monitor="val_loss", patience=TRAIN.patience, '
                     'restore_best_weights=True)\n')
        fit_callbacks = "callbacks=[early], "
        keep = ("    if early.best_weights is not None:  # however training ended, as the app keeps them\n"
                "        model.set_weights(early.best_weights)\n")
    extra = ""
    if kind is SERIES:
        extra = f'''
    # preprocessing.json: raw values in, raw values out (see forecast above).
    preprocessing = series_preprocessing(data.transform, DATA.seq_len, DATA.horizon, data.season)
    (HERE / "{PREPROCESSING_FILE}").write_text(preprocessing_text(preprocessing))
    saved = keras.saving.load_model(HERE / "model.keras")  # as anyone would, with the two files
    print(f"the next {{DATA.horizon}} values after the series:", forecast(saved, data.raw, preprocessing))
'''
    elif kind is TEXT:
        extra = ('    (HERE / "vocabulary.json").write_text(vocabulary_json(data.vocabulary), encoding="utf-8")  '
                 '# ids -> characters\n')
    return f'''

if __name__ == "__main__":
    epochs = int(sys.argv[1]) if len(sys.argv) > 1 else TRAIN.epochs
    data = load_data()
    model = build_model(data)
    model.summary()
    validation = (data.x_val, data.y_val) if data.w_val is None else (data.x_val, data.y_val, data.w_val)
{callbacks}    history = model.fit(
        training_batches(data), steps_per_epoch=steps_per_epoch(data), epochs=epochs,
        validation_data=validation, validation_batch_size={EVAL_CHUNK},  # the app evaluates in chunks of {EVAL_CHUNK}
        {fit_callbacks}shuffle=False, verbose=2,  # the dataset shuffles itself
    )
    print(f"{FIRST_EPOCH_TAG}{{history.history['loss'][0]!r}}")  # the app's first epoch's training loss
{keep}    if len(data.x_test):
        print("test:", model.evaluate(data.x_test, data.y_test, sample_weight=data.w_test, verbose=0,
                                      return_dict=True))
    model.save(HERE / "model.keras")
{extra}'''
