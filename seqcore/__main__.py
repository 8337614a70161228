"""The command line: the dashboard's experiments, headless, and the runs it recorded.

    python -m seqcore presets
    python -m seqcore train --preset seed [--config FILE.json] [--set model.units=32 ...] [--out DIR] [--store DIR]
    python -m seqcore train --preset text [--text FILE.txt] [--set train.epochs=5 ...]
    python -m seqcore sample --run ID_OR_DIR --prompt "def " [--temperature 0.8] [--length 300] [--top-k K]
                             [--seed S] [--epoch E] [--store DIR]
    python -m seqcore code --preset delay > delay.py
    python -m seqcore runs list [--json] [--store DIR]
    python -m seqcore runs show ID [--store DIR]
    python -m seqcore runs compare ID ID [ID ...] [--store DIR]
    python -m seqcore runs export ID --out DIR [--store DIR]
    python -m seqcore runs delete ID [--force] [--store DIR]

`train` records the run in the run store as it goes (every epoch, then its test metrics and artifacts), where
the app's Runs page and `runs` find it. `--store` is a folder or an SQLAlchemy URL; by default the app's own
store (`SEQCORE_STORE_URL`, else the folder `SEQCORE_STORE`, else runs/ beside the app).

A text run (data.generator=text) learns the built-in corpus, or with `--text FILE` the file's own text (UTF-8);
it reports bits per character against the n-gram baselines and ends with a sample. `sample` continues a prompt
from a text run's weights: a stored run's snapshot, or the model in a folder `train --out` or `runs export`
wrote. It runs the NumPy sampler (seqcore.text.sample); only a folder's model.keras needs Keras to be read.

Exit status: 0 success, 2 invalid input (the message names the field), 1 training failed, 130 training
interrupted by Ctrl-C (the run is recorded as stopped, with the epochs it trained).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import math
import os
import secrets
import signal
import sys
import time
from pathlib import Path

from seqcore.config import PRESETS, ConfigError, Experiment, preset

HISTORY_SHOWN = 20  # `runs show`: the last epochs of a longer history


class InputError(ValueError):
    """Bad input outside an experiment's settings (a run id, a store); the message names the argument."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m seqcore", description="Sequence Playground, headless.")
    commands = parser.add_subparsers(dest="command", required=True)
    store = argparse.ArgumentParser(add_help=False)
    store.add_argument("--store", metavar="DIR", help="the run store: a folder or an SQLAlchemy URL (default: "
                                                      "$SEQCORE_STORE_URL, else $SEQCORE_STORE, else runs/ beside "
                                                      "the app)")
    commands.add_parser("presets", help="list the presets")
    for name, text in (("train", "train an experiment, record it in the run store and write its artifacts"),
                       ("code", "print the experiment as a standalone Keras script")):
        command = commands.add_parser(name, help=text, parents=[store] if name == "train" else [])
        command.add_argument("--preset", default="seed", help=f"one of: {', '.join(PRESETS)} (default seed)")
        command.add_argument("--config", help="an experiment JSON file (as downloaded from the app)")
        command.add_argument("--set", action="append", default=[], metavar="SECTION.FIELD=VALUE",
                             help="change one setting, e.g. --set model.cell=GRU (repeatable)")
        if name == "train":
            command.add_argument("--csv", help="data.generator=csv: the CSV file whose data.csv_column is learnt "
                                               "(at the dates of data.time_column, if set)")
            command.add_argument("--text", metavar="FILE", help="data.generator=text: learn this file's text (UTF-8) "
                                                                "instead of the built-in corpus (sets "
                                                                "data.text_source=own)")
            command.add_argument("--out", default="runs/latest", help="folder for model.keras, history.csv, "
                                                                      "experiment.json and a text run's "
                                                                      "vocabulary.json (default runs/latest)")
            command.add_argument("--quiet", action="store_true", help="no progress bar")
    runs = commands.add_parser("runs", help="the recorded runs: list, show, compare, export, delete")
    actions = runs.add_subparsers(dest="action", required=True)
    listing = actions.add_parser("list", parents=[store], help="every run in the store, newest first")
    listing.add_argument("--json", action="store_true", help="a JSON list of objects instead of a table")
    actions.add_parser("show", parents=[store], help="one run: summary, settings, history, metrics, artifacts"
                       ).add_argument("id", metavar="ID")
    actions.add_parser("compare", parents=[store], help="the settings that differ between runs, and their metrics"
                       ).add_argument("ids", nargs="+", metavar="ID")
    export = actions.add_parser("export", parents=[store], help="write a run's files (model.keras if it has one, "
                                                                "history.csv, experiment.json, and a text run's "
                                                                "vocabulary.json) into a folder")
    export.add_argument("id", metavar="ID")
    export.add_argument("--out", required=True, metavar="DIR", help="the folder to write into")
    delete = actions.add_parser("delete", parents=[store], help="delete a run and all it holds")
    delete.add_argument("id", metavar="ID")
    delete.add_argument("--force", action="store_true", help="also a run that has not ended (its server is gone)")
    sampler = commands.add_parser("sample", parents=[store], help="continue a prompt with a text run's network; the "
                                                                  "text alone on stdout")
    sampler.add_argument("--run", required=True, metavar="ID_OR_DIR",
                         help="a text run's id in the store, or a folder holding model.keras, experiment.json and "
                              "vocabulary.json (as train --out and runs export write)")
    sampler.add_argument("--prompt", required=True, help="the text the network reads first and then continues")
    sampler.add_argument("--temperature", type=float, default=0.8,
                         help="below 1 safer, above 1 wilder; 0 takes the most probable character (default 0.8)")
    sampler.add_argument("--length", type=int, default=300, help="characters to generate (default 300)")
    sampler.add_argument("--top-k", type=int, default=None, metavar="K",
                         help="draw only among the K most probable characters (default: all)")
    sampler.add_argument("--seed", type=int, default=0, help="the random seed: the same seed, the same text "
                                                             "(default 0)")
    sampler.add_argument("--epoch", type=int, default=None,
                         help="a stored run: the snapshot of this epoch (default: the latest)")
    return parser


def _experiment(args) -> Experiment:
    if args.config:
        try:
            text = Path(args.config).read_text()
        except OSError as err:
            raise ConfigError([("--config", args.config, f"cannot be read ({err.strerror})")]) from None
        experiment = Experiment.from_json(text)
    else:
        experiment = preset(args.preset)
    return experiment.apply_overrides(args.set)


def _file_problem(option: str, path: str, reason: str) -> ConfigError:
    """A ConfigError about a file an option names, with the whole path (a setting's message clips long values)."""
    error = ConfigError([(option, path, reason)])
    error.args = (f"{option} {path}: {reason}",)
    return error


def _uploaded(args, experiment: Experiment):
    """(the experiment, the values it trains on besides its settings): a CSV column, a text file's UTF-8 bytes
    (which make data.text_source own), or None."""
    text_file = getattr(args, "text", None)
    if experiment.data.generator == "text":
        return _own_text(text_file, experiment)
    if text_file is not None:
        raise _file_problem("--text", text_file, f"applies only when data.generator is text (this experiment's "
                                                 f"data.generator is {experiment.data.generator})")
    if experiment.data.generator != "csv":
        return experiment, None
    from seqcore.csvseries import column_series
    from seqcore.data import load_csv

    if not args.csv:
        raise ConfigError([("--csv", None, "is required when data.generator is csv")])
    try:
        raw = Path(args.csv).read_bytes()
    except OSError as err:
        raise _file_problem("--csv", args.csv, f"cannot be read ({err.strerror})") from None
    return experiment, column_series(load_csv(raw), experiment.data.csv_column, experiment.data.time_column)


def _own_text(path: str | None, experiment: Experiment):
    from seqcore.text import TextError, decode_text, text_bytes

    if path is None:
        if experiment.data.text_source == "own":
            raise ConfigError([("--text", None, "is required when data.text_source is own: pass --text FILE, the "
                                                "text to learn (UTF-8)")])
        return experiment, None
    try:
        raw = Path(path).read_bytes()
    except OSError as err:
        raise _file_problem("--text", path, f"cannot be read ({err.strerror})") from None
    try:
        text = decode_text(raw)
    except TextError as err:
        raise _file_problem("--text", path, f"cannot be learnt: {err}") from None
    return experiment.with_values(**{"data.text_source": "own"}), text_bytes(text)


# --- the run store ---
def _store_name(location: str) -> str:
    """The store as people know it: its folder, or its URL without a password."""
    if "://" not in location:
        return location
    from seqcore.store import redacted

    return redacted(location)


def _open_store(location: str | None, *, create: bool = True):
    """(RunStore or None, its name): None when `create` is False and the folder holds no store yet (nothing to
    read: no empty store is made at a mistyped path). InputError when it cannot be opened."""
    import sqlalchemy as sa

    from seqcore.store import RunStore, StoreError, default_location

    location = str(location or default_location())
    name = _store_name(location)
    if "://" not in location:
        folder = Path(location)
        if folder.is_file():
            raise InputError(f"--store {location}: is a file; give the folder that holds store.sqlite, or an "
                             f"SQLAlchemy URL (sqlite:///{location})")
        if not create and not (folder / "store.sqlite").is_file():
            return None, name
    try:
        return RunStore(location), name
    except StoreError as err:
        raise InputError(str(err)) from None
    except (OSError, ImportError, sa.exc.SQLAlchemyError) as err:
        cause = getattr(err, "orig", None) or err  # a database error's own words, without SQLAlchemy's SQL
        detail = str(cause).strip().splitlines()[0] if str(cause).strip() else type(cause).__name__
        raise InputError(f"--store {name}: cannot be opened ({detail})") from None


def _new_run_id(store) -> str:
    """cli-<time><random>: unique across processes and restarts, like the server's job ids."""
    while True:
        run_id = f"cli-{int(time.time()):x}{secrets.token_hex(3)}"
        if not store.exists(run_id):
            return run_id


class _Progress:
    """The data and baselines, then Keras' own progress bar over the epochs, on stderr (stdout keeps the results).

    A text run's bar also shows the losses in bits per character (nats / ln 2), the unit of its baselines: as two
    more values of the same bar, so a log keeps one line an epoch and a terminal one bar, where a line of its own
    would break the bar's line in a terminal.
    """

    def __init__(self, quiet: bool, metric: str, text: bool = False):
        self.quiet, self.metric, self.text, self.bar = quiet, metric, text, None

    def __call__(self, event) -> None:
        from seqcore.events import EpochEvent, StartEvent

        if self.quiet:
            return
        if isinstance(event, StartEvent):
            print(f"data: {event.n_train} train / {event.n_val} validation / {event.n_test} test sequences; "
                  f"{event.steps_per_epoch} steps an epoch; XLA {'on' if event.xla else 'off'}", file=sys.stderr)
            for name, value in event.baselines.items():
                print(f"baseline {name}: {value:.4f}", file=sys.stderr)
        elif isinstance(event, EpochEvent):
            import keras

            names = ["loss", "val_loss", self.metric, f"val_{self.metric}"]
            numbers = [event.loss, event.val_loss, event.metric, event.val_metric]
            if self.text:
                names[2:2] = ["bits/char", "val_bits/char"]
                numbers[2:2] = [event.loss / math.log(2), event.val_loss / math.log(2)]
            if self.bar is None:
                self.bar = keras.utils.Progbar(event.epochs, unit_name="epoch", stateful_metrics=names,
                                               verbose=1 if sys.stderr.isatty() else 2)  # a log: one line
            values = zip(names, numbers, strict=True)
            with contextlib.redirect_stdout(sys.stderr):  # Keras prints to stdout
                self.bar.update(event.epoch, values=list(values), finalize=event.epoch == event.epochs)


# TensorFlow's start-up notices (absl writes them before its logging is set up, whatever TF_CPP_MIN_LOG_LEVEL says).
_TENSORFLOW_NOTICES = ("oneDNN custom operations", "absl::InitializeLog", "cpu_feature_guard",
                       "rebuild TensorFlow with the appropriate compiler flags", "Unable to register cu",
                       "computation placer already registered", "could not open file to read NUMA node")


def _import_keras_quietly(backend: str) -> None:
    """Import Keras (and TensorFlow) with the native start-up notices kept off stderr, which carries only what the
    person asked for; any other native line written meanwhile is passed on."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("KERAS_BACKEND", backend)
    import tempfile

    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as caught:
        os.dup2(caught.fileno(), 2)
        try:
            import keras  # noqa: F401
            if os.environ["KERAS_BACKEND"] == "tensorflow":
                import tensorflow  # noqa: F401
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            caught.seek(0)
            lines = caught.read().decode("utf-8", "replace").splitlines()
    for line in lines:
        if not any(notice in line for notice in _TENSORFLOW_NOTICES):
            print(line, file=sys.stderr)


def _train(args) -> int:
    experiment, uploaded = _uploaded(args, _experiment(args))
    store, store_name = _open_store(args.store)  # after the settings: invalid input records nothing
    _import_keras_quietly(experiment.train.backend)
    from seqcore.backend import JobRecord
    from seqcore.events import EndEvent, EpochEvent, SnapshotEvent, StartEvent
    from seqcore.tasks import SERIES, TEXT
    from seqcore.training import StopFlag, early_stopping_on, train, write_artifacts

    history: list[EpochEvent] = []
    seen: dict[str, object] = {}  # the StartEvent and the latest SnapshotEvent: a text run's report reads them
    metric = experiment.data.task.kind.metric
    is_text = experiment.data.task.kind is TEXT
    progress = _Progress(args.quiet, metric, text=is_text)
    record = JobRecord(_new_run_id(store), experiment, uploaded, owner="cli", recorder=store)
    record.mark_started()

    control = StopFlag(experiment.train.time_limit_s)  # its own time limit, as without a control

    def interrupted(done: int) -> str:
        return f"Interrupted (Ctrl-C) after {done} of {experiment.train.epochs} epochs."

    def ctrl_c(signum, frame) -> None:
        control.requested = True
        signal.signal(signal.SIGINT, signal.default_int_handler)  # a second Ctrl-C: KeyboardInterrupt, at once

    def emit(event):
        if isinstance(event, EpochEvent):
            history.append(event)
        elif isinstance(event, StartEvent):
            seen["start"] = event
        elif isinstance(event, SnapshotEvent):
            seen["snapshot"] = event
        if isinstance(event, EndEvent) and control.requested and event.status == "stopped":
            event = dataclasses.replace(event, reason=interrupted(len(history)))
        record.apply(event)  # the EndEvent too: it ends the record, with the artifacts
        progress(event)

    def recorded() -> None:
        if record.record_error is None:
            print(f"recorded as run {record.id} in {store_name}")
        else:
            print(f"warning: run {record.id} is not fully recorded in {store_name}: {record.record_error}",
                  file=sys.stderr)

    # The first Ctrl-C asks the run to stop at its next step, as the app's Stop does: raised as KeyboardInterrupt
    # anywhere (inside the run store's transaction or a lock), it could leave the process hanging. A second
    # Ctrl-C interrupts at once.
    previous_handler = signal.signal(signal.SIGINT, ctrl_c)
    try:
        end = train(experiment, emit, control, uploaded=uploaded)
    except KeyboardInterrupt:
        done = len(history)
        record.finish(EndEvent(status="stopped", reason=interrupted(done), epochs_done=done))
        print(file=sys.stderr)
        print(f"stopped: {interrupted(done)}")
        recorded()
        return 130
    except BaseException as err:  # the record must not stay 'running': the run ended here
        reason = str(err) if isinstance(err, ValueError) else f"{type(err).__name__}: {err}"
        record.finish(EndEvent(status="failed", reason=reason, epochs_done=len(history)))
        raise
    finally:
        signal.signal(signal.SIGINT, previous_handler)
    if control.requested and end.status == "stopped":
        end = dataclasses.replace(end, reason=interrupted(len(history)))
    record.finish(end)  # already ended by the EndEvent train emitted; a no-op then
    if history:
        last = history[-1]
        if early_stopping_on(experiment) and any(math.isfinite(e.val_loss) for e in history):
            # the model kept is the epoch with the lowest validation loss: its scores, as the test's are
            last = min((e for e in history if math.isfinite(e.val_loss)), key=lambda e: e.val_loss)
            print(f"kept: epoch {last.epoch} of {len(history)} (the lowest validation loss)")
        print(f"train: loss {last.loss:.4f}, {metric} {last.metric:.4f}")
        print(f"validation: loss {last.val_loss:.4f}, {metric} {last.val_metric:.4f}")
    for name, value in end.test_metrics.items():
        print(f"test {name}: {value:.4f}")
    if is_text and history:
        _text_report(experiment, uploaded, history[-1], end, seen.get("start"), seen.get("snapshot"))
    if experiment.data.task.kind is SERIES and seen.get("snapshot") is not None and end.test_metrics:
        _series_report(experiment, uploaded, seen["snapshot"])
    print(f"{end.status}: {end.reason}")
    for name, path in write_artifacts(end.artifacts, args.out).items():
        print(f"{name}: {path}")
    recorded()
    if control.requested:
        return 130
    return 0 if end.status in ("finished", "stopped", "timed_out") else 1


def _series_report(experiment: Experiment, uploaded, snapshot) -> None:
    """A series run's test forecasts in the series' own units beside the naive ones, and the verdict, as the
    Train page ends a run."""
    from seqcore import panels
    from seqcore.data import build_data

    found = panels.series_evaluation(snapshot, build_data(experiment.data, uploaded), cell=experiment.model.cell,
                                     activation=experiment.model.activation)
    if found is None:
        return
    for name, rmse, mae, mape, best in panels.evaluation_rows(found):
        print(f"test forecast {name}: RMSE {rmse}, MAE {mae}, MAPE {mape}{' (best)' if best else ''}")
    print(found.verdict()[1])


SAMPLE_LENGTH, SAMPLE_TEMPERATURE, SAMPLE_SEED = 300, 0.8, 0  # the sample at the end of a text run


def _bits_and_perplexity(part: str, nats: float) -> str:
    from seqcore.text import nats_to_bits, perplexity

    return f"{part} {nats_to_bits(nats):.4f} (perplexity {perplexity(nats):.2f})"


def _text_report(experiment: Experiment, uploaded, last, end, start, snapshot) -> None:
    """A text run's scores in bits per character and perplexity against the n-gram baselines, and a sample of
    the final weights (the last snapshot), continuing the start of the validation text."""
    from seqcore.data import build_data
    from seqcore.text import nats_to_bits, sample

    scores = [_bits_and_perplexity("validation", last.val_loss)]
    if "loss" in end.test_metrics:
        scores.append(_bits_and_perplexity("test", end.test_metrics["loss"]))
    print(f"bits/char: {', '.join(scores)}")
    baselines = {name.removesuffix(" bits/char"): value for name, value in (start.baselines if start else {}).items()
                 if name.endswith(" bits/char")}
    if baselines:
        val_bits = nats_to_bits(last.val_loss)
        shown = ", ".join(f"{name} {value:.4f}" for name, value in baselines.items())
        print(f"baselines, validation bits/char: {shown}")
        beaten = [name for name, value in baselines.items() if val_bits < value]
        if len(beaten) == len(baselines):
            print(f"beats all {len(baselines)} baselines on validation")
        elif not beaten:
            print("beats none of the baselines on validation")
        else:
            others = [name for name in baselines if name not in beaten]
            print(f"beats the {' and '.join(beaten)} baseline{'s' if len(beaten) > 1 else ''} on validation, "
                  f"not the {' and '.join(others)}")
    if snapshot is None:
        print("sample: none (no snapshot of the weights was recorded)")
        return
    try:  # a report that fails must not cost the run its artifacts, written after it
        data = build_data(experiment.data, uploaded)  # as train built it: the vocabulary and the validation text
        prompt = data.text.prompt()  # the start of a validation line, as the live samples take it
        drawn = sample(snapshot.weights, data.vocabulary, prompt, SAMPLE_LENGTH, cell=experiment.model.cell,
                       temperature=SAMPLE_TEMPERATURE, seed=SAMPLE_SEED, activation=experiment.model.activation)
    except ValueError as err:  # DataError and TextError among them
        print(f"sample: none ({err})")
        return
    print(f"sample of epoch {snapshot.epoch}, temperature {SAMPLE_TEMPERATURE:g}, seed {SAMPLE_SEED}: "
          f"{SAMPLE_LENGTH} characters after the prompt {prompt!r} (from the validation text):")
    print(prompt + drawn.text)


# --- runs: reading the store (no TensorFlow, no Keras) ---
def _number(value) -> float | None:
    """A float for JSON and tables: None where missing or not finite (JSON has no NaN)."""
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _fmt(value, digits: int = 4) -> str:
    value = _number(value)
    return "-" if value is None else f"{value:.{digits}f}"


def _when(timestamp: float | None) -> str:
    return "-" if timestamp is None else time.strftime("%Y-%m-%d %H:%M", time.localtime(timestamp))


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    return f"{minutes // 60}h{minutes % 60:02d}m"


def _preset_label(experiment: Experiment) -> tuple[str, str, list[str]]:
    """(what the list shows, the nearest preset, the settings changed from it)."""
    from seqcore.config import nearest_preset

    name, changed = nearest_preset(experiment)
    if not changed:
        return name, name, changed
    return f"custom ({name} + {len(changed)} change{'s' if len(changed) > 1 else ''})", name, changed


def _metric(summary) -> str:
    """The run's metric: the one it reported, else the one its task reports (a run that never started)."""
    return summary.metric or summary.experiment.data.task.kind.metric


def _best_baseline(baselines: dict[str, float], metric: str) -> tuple[str, float] | None:
    """The strongest simple predictor a run had to beat: for accuracy the highest of the accuracy baselines;
    for MAE runs the lowest of the MSE ones (the baselines give no MAE: compare it with the validation loss)."""
    if metric == "accuracy":
        scores = {k: v for k, v in baselines.items() if "accuracy" in k and _number(v) is not None}
        return max(scores.items(), key=lambda item: item[1]) if scores else None
    scores = {k: v for k, v in baselines.items() if "MSE" in k and _number(v) is not None}
    return min(scores.items(), key=lambda item: item[1]) if scores else None


def _row(summary) -> dict:
    """One run as `runs list --json` gives it."""
    experiment, last, metric = summary.experiment, summary.last, _metric(summary)
    label, nearest, changed = _preset_label(experiment)
    baseline = _best_baseline(summary.baselines, metric)
    return {
        "id": summary.id, "owner": summary.owner, "when": _when(summary.submitted_at),
        "submitted_at": summary.submitted_at, "preset": label, "nearest_preset": nearest, "changes": changed,
        "cell": experiment.model.cell, "layers": experiment.model.layers, "units": experiment.model.units,
        "generator": experiment.data.generator, "epochs_done": summary.epochs_done,
        "epochs": experiment.train.epochs, "metric": metric,
        "train_loss": _number(last.loss) if last else None, "train_metric": _number(last.metric) if last else None,
        "val_loss": _number(last.val_loss) if last else None, "val_metric": _number(last.val_metric) if last else None,
        "test_metric": _number(summary.test_metric()),
        "test_metrics": {k: _number(v) for k, v in summary.test_metrics.items()},
        "best_baseline": baseline[0] if baseline else None,
        "best_baseline_value": _number(baseline[1]) if baseline else None,
        "seconds": _number(summary.seconds), "status": summary.status, "reason": summary.reason,
        "pair": summary.pair, "experiment": experiment.to_dict(),
    }


def _table(headers: list[str], rows: list[list[str]], right: set[int] = frozenset()) -> str:
    """Plain aligned columns; the columns in `right` (numbers) aligned right."""
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows, strict=True)]

    def line(cells):
        parts = [str(c).rjust(w) if i in right else str(c).ljust(w)
                 for i, (c, w) in enumerate(zip(cells, widths, strict=True))]
        return "  ".join(parts).rstrip()

    return "\n".join([line(headers), line(["-" * w for w in widths]), *map(line, rows)])


def _runs_list(args) -> int:
    store, name = _open_store(args.store, create=False)
    summaries = store.runs(any_owner=True) if store is not None else []
    if args.json:
        print(json.dumps([_row(s) for s in summaries], indent=2))
        return 0
    if not summaries:
        print(f"no runs in {name}", file=sys.stderr)
        return 0
    headers = ["id", "when", "preset", "cell", "size", "data", "epochs", "metric", "train", "val", "test",
               "best baseline", "time", "status"]
    rows = []
    for summary in summaries:
        row = _row(summary)
        baseline = (f"{row['best_baseline']} {_fmt(row['best_baseline_value'])}" if row["best_baseline"] else "-")
        rows.append([row["id"], row["when"], row["preset"], row["cell"], f"{row['layers']}×{row['units']}",
                     row["generator"], f"{row['epochs_done']}/{row['epochs']}", row["metric"],
                     _fmt(row["train_metric"]), _fmt(row["val_metric"]), _fmt(row["test_metric"]), baseline,
                     _duration(row["seconds"]), row["status"]])
    print(_table(headers, rows, right={6, 8, 9, 10, 12}))
    return 0


def _found(args, run_ids: list[str]):
    """The store and the summaries of these runs, in order; InputError naming the first unknown id."""
    store, name = _open_store(args.store, create=False)
    summaries = []
    for run_id in run_ids:
        summary = store.run(run_id) if store is not None else None
        if summary is None:
            raise InputError(f"run {run_id}: no such run in {name}")
        summaries.append(summary)
    return store, name, summaries


def _history_table(history, metric: str) -> str:
    headers = ["epoch", "loss", metric, "val_loss", f"val_{metric}", "seconds", "elapsed"]
    rows = [[str(e.epoch), _fmt(e.loss), _fmt(e.metric), _fmt(e.val_loss), _fmt(e.val_metric), _fmt(e.seconds, 2),
             _fmt(e.elapsed, 1)] for e in history]
    return _table(headers, rows, right=set(range(len(headers))))


def _runs_show(args) -> int:
    store, _, (summary,) = _found(args, [args.id])
    row, metric = _row(summary), _metric(summary)
    experiment = summary.experiment
    changes = f": {', '.join(row['changes'])}" if row["changes"] else ""
    lines = [f"run {summary.id}",
             f"  submitted   {_when(summary.submitted_at)} by {summary.owner or 'anonymous'}",
             f"  status      {summary.status}" + (f": {summary.reason}" if summary.reason else ""),
             f"  preset      {row['preset']}{changes}",
             f"  model       {experiment.model.cell}, {experiment.model.layers}×{experiment.model.units} units",
             f"  data        {experiment.data.generator}",
             f"  epochs      {summary.epochs_done} of {experiment.train.epochs}",
             f"  time        {_duration(summary.seconds)}"]
    if summary.last:
        lines += [f"  train       loss {_fmt(row['train_loss'])}, {metric} {_fmt(row['train_metric'])}",
                  f"  validation  loss {_fmt(row['val_loss'])}, {metric} {_fmt(row['val_metric'])}"]
    if summary.test_metrics:
        lines.append("  test        " + ", ".join(f"{k} {_fmt(v)}" for k, v in summary.test_metrics.items()))
    elif summary.done:
        lines.append("  test        none (the run ended before a test)")
    print("\n".join(lines))
    print("\nsettings (experiment.json):")
    print(experiment.to_json())
    history = store.history(summary.id)
    print(f"\nhistory ({len(history)} epochs):" if history else "\nhistory: no epoch recorded")
    if history:
        if len(history) > HISTORY_SHOWN:
            print(f"(the last {HISTORY_SHOWN}; `runs export` writes them all to history.csv)")
        print(_history_table(history[-HISTORY_SHOWN:], metric))
    if summary.baselines:
        print("\nbaselines (validation):")
        print(_table(["baseline", "score"], [[k, _fmt(v)] for k, v in summary.baselines.items()], right={1}))
    sizes = store.artifact_sizes(summary.id)
    print("\nartifacts:" if sizes else "\nartifacts: none")
    if sizes:
        print(_table(["file", "bytes"], [[k, f"{n:,}"] for k, n in sorted(sizes.items())], right={1}))
    return 0


def _setting_value(value) -> str:
    return repr(value) if value == "" else str(value)


def _runs_compare(args) -> int:
    if len(args.ids) < 2:
        raise InputError(f"ID: compare needs at least two run ids (got {len(args.ids)})")
    from seqcore.config import differences

    _, _, summaries = _found(args, args.ids)
    experiments = [s.experiment for s in summaries]
    differing = set().union(*(differences(experiments[0], other) for other in experiments[1:]))
    values = [e.to_dict() for e in experiments]
    names = [f"{section}.{field}" for section in values[0] for field in values[0][section]]
    headers = ["setting", *(s.id for s in summaries)]
    rows = [[name, *(_setting_value(v[name.split(".")[0]][name.split(".")[1]]) for v in values)]
            for name in names if name in differing]
    if rows:
        print(_table(headers, rows))
    else:
        print(f"no settings differ between {', '.join(args.ids)}")
    summary_rows = [_row(s) for s in summaries]
    metrics = [["metric", *(r["metric"] for r in summary_rows)],
               ["epochs", *(f"{r['epochs_done']}/{r['epochs']}" for r in summary_rows)],
               ["train loss", *(_fmt(r["train_loss"]) for r in summary_rows)],
               ["train metric", *(_fmt(r["train_metric"]) for r in summary_rows)],
               ["val loss", *(_fmt(r["val_loss"]) for r in summary_rows)],
               ["val metric", *(_fmt(r["val_metric"]) for r in summary_rows)],
               ["test metric", *(_fmt(r["test_metric"]) for r in summary_rows)],
               ["time", *(_duration(r["seconds"]) for r in summary_rows)],
               ["status", *(r["status"] for r in summary_rows)]]
    print()
    print(_table(["final", *(s.id for s in summaries)], metrics))
    return 0


def _runs_export(args) -> int:
    from seqcore.training import history_csv, write_artifacts

    store, _, (summary,) = _found(args, [args.id])
    files = store.artifacts(summary.id)
    # Rebuilt from the store whatever the artifacts hold: a run that failed mid-way has its curve too.
    files["history.csv"] = history_csv(list(store.history(summary.id)), _metric(summary)).encode()
    files["experiment.json"] = summary.experiment.to_json().encode()
    try:
        paths = write_artifacts(files, args.out)
    except OSError as err:
        raise InputError(f"--out {args.out}: cannot be written ({err.strerror or err})") from None
    for name, path in paths.items():
        print(f"{name}: {path}")
    return 0


def _runs_delete(args) -> int:
    store, name, (summary,) = _found(args, [args.id])
    if not summary.done and not args.force:
        raise InputError(f"run {summary.id}: has not ended (status {summary.status}); stop it first, or pass "
                         "--force if the server that trained it is gone")
    store.delete(summary.id)
    print(f"deleted run {summary.id} ({summary.status}, {summary.epochs_done} epochs, {summary.nbytes:,} bytes) "
          f"from {name}")
    return 0


# --- sample: a text run's network continues a prompt ---
# The argument each of seqcore.text.sample's complaints is about, by how its message begins.
_SAMPLE_ARGUMENTS = (("the prompt", "--prompt"), ("the length", "--length"), ("the temperature", "--temperature"),
                     ("top_k", "--top-k"))


def _not_text(where: str, experiment: Experiment) -> InputError:
    return InputError(f"--run {where}: is not a text run (its data.generator is {experiment.data.generator}); "
                      "sample continues text with a character-level model (data.generator=text)")


def _stored_network(args, store, store_name: str, summary):
    """(experiment, vocabulary, weights, what they are) of a stored run's snapshot; no TensorFlow."""
    from seqcore.data import DataError, build_data

    run_id, experiment = summary.id, summary.experiment
    if experiment.data.generator != "text":
        raise _not_text(run_id, experiment)
    epochs = store.snapshot_epochs(run_id)
    if not epochs:
        raise InputError(f"--run {run_id}: has no snapshot of its weights in {store_name} (status {summary.status}, "
                         f"{summary.epochs_done} epochs)")
    if args.epoch is not None and args.epoch not in epochs:
        raise InputError(f"--epoch {args.epoch}: run {run_id} has no snapshot of epoch {args.epoch}; it has "
                         f"snapshots of epoch{'s' if len(epochs) > 1 else ''} {', '.join(map(str, epochs))}")
    epoch = epochs[-1] if args.epoch is None else args.epoch
    uploaded = store.uploaded(run_id)[0] if experiment.data.upload_kind else None
    try:
        vocabulary = build_data(experiment.data, uploaded).vocabulary  # the run's own: from its text and settings
    except DataError as err:
        raise InputError(f"--run {run_id}: its text cannot be read back ({err})") from None
    snapshot = store.snapshot(run_id, epoch)
    if snapshot is None or snapshot.epoch != epoch:
        raise InputError(f"--run {run_id}: the snapshot of epoch {epoch} is gone from {store_name}")
    from seqcore.text import trained_vocabulary

    start = store.view(run_id, with_artifacts=False).start
    vocabulary = trained_vocabulary(start.vocabulary if start else None, vocabulary)
    return experiment, vocabulary, snapshot.weights, f"run {run_id}, snapshot of epoch {epoch}"


def _folder_network(args, folder: Path):
    """(experiment, vocabulary, weights, what they are) of the model a folder holds: Keras reads model.keras."""
    from seqcore.text import TextError, vocabulary_from_json

    where = str(folder)
    files = {name: folder / name for name in ("model.keras", "experiment.json", "vocabulary.json")}
    if not files["experiment.json"].is_file():
        raise InputError(f"--run {where}: the folder has no experiment.json (a folder from train --out or runs export "
                         "holds model.keras, experiment.json and vocabulary.json)")
    try:
        experiment = Experiment.from_json(files["experiment.json"].read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ConfigError) as err:
        raise InputError(f"--run {where}: experiment.json cannot be read ({err})") from None
    if experiment.data.generator != "text":
        raise _not_text(where, experiment)
    if not files["vocabulary.json"].is_file():
        raise InputError(f"--run {where}: the folder has no vocabulary.json, which reads the model's symbols as "
                         "characters (train --out and runs export write it for a text run)")
    if not files["model.keras"].is_file():
        raise InputError(f"--run {where}: the folder has no model.keras")
    if args.epoch is not None:
        raise InputError(f"--epoch {args.epoch}: a folder holds only the model at the end of its run; pass a run "
                         "id from the store to sample an earlier epoch")
    try:
        vocabulary = vocabulary_from_json(files["vocabulary.json"].read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, TextError) as err:
        raise InputError(f"--run {where}: {err}") from None
    _import_keras_quietly(experiment.train.backend)
    import keras
    import numpy as np

    try:
        model = keras.saving.load_model(files["model.keras"], compile=False)
    except Exception as err:  # a damaged or foreign file: Keras raises many kinds
        raise InputError(f"--run {where}: model.keras cannot be loaded ({type(err).__name__}: {err})") from None
    weights = [np.asarray(w, dtype=np.float32) for w in model.get_weights()]
    return experiment, vocabulary, weights, f"the model in {where} (the end of its run)"


def _sample(args) -> int:
    from seqcore.text import TextError, sample

    if not args.prompt:
        raise InputError("--prompt: is empty; give at least one character for the network to continue")
    if args.length < 0:
        raise InputError(f"--length {args.length}: must be 0 or more characters")
    if not math.isfinite(args.temperature) or args.temperature < 0:
        raise InputError(f"--temperature {args.temperature}: must be a finite number >= 0 (0 takes the most "
                         "probable character every time)")
    folder = Path(args.run)
    if folder.is_dir():
        experiment, vocabulary, weights, source = _folder_network(args, folder)
    else:
        store, store_name = _open_store(args.store, create=False)
        summary = store.run(args.run) if store is not None else None
        if summary is None:
            raise InputError(f"--run {args.run}: no such run in {store_name}, and no such folder")
        experiment, vocabulary, weights, source = _stored_network(args, store, store_name, summary)
    try:
        drawn = sample(weights, vocabulary, args.prompt, args.length, cell=experiment.model.cell,
                       temperature=args.temperature, top_k=args.top_k, seed=args.seed,
                       activation=experiment.model.activation)
    except TextError as err:
        message = str(err)
        argument = next((name for start, name in _SAMPLE_ARGUMENTS if message.startswith(start)), None)
        value = {"--top-k": args.top_k, "--length": args.length, "--temperature": args.temperature}.get(argument)
        raise InputError(f"{argument}{'' if value is None else f' {value}'}: {message}" if argument else
                         f"--run {args.run}: {message}") from None
    except ValueError as err:  # seqcore.reference: arrays that are not this cell's network
        raise InputError(f"--run {args.run}: its weights are not a {experiment.model.cell} network's "
                         f"({err})") from None
    top_k = "all characters" if args.top_k is None else f"top-k {args.top_k}"
    print(f"{source}: prompt {args.prompt!r}, temperature {args.temperature:g}, {top_k}, seed {args.seed}, "
          f"{args.length} characters", file=sys.stderr)
    if drawn.prompt_unknown:
        print(f"note: {drawn.prompt_unknown} character{'s' if drawn.prompt_unknown > 1 else ''} of the prompt "
              f"{'are' if drawn.prompt_unknown > 1 else 'is'} outside the vocabulary and read as unknown",
              file=sys.stderr)
    sys.stdout.write(drawn.text + ("\n" if sys.stdout.isatty() else ""))  # piped: the text alone
    sys.stdout.flush()
    return 0


RUNS = {"list": _runs_list, "show": _runs_show, "compare": _runs_compare, "export": _runs_export,
        "delete": _runs_delete}


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from seqcore.data import DataError

    try:
        if args.command == "presets":
            for name, (text, _) in PRESETS.items():
                print(f"{name:16} {text}")
            return 0
        if args.command == "code":
            from seqcore.models import keras_script

            print(keras_script(_experiment(args)))
            return 0
        if args.command == "runs":
            return RUNS[args.action](args)
        if args.command == "sample":
            return _sample(args)
        return _train(args)
    except (ConfigError, DataError, InputError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
