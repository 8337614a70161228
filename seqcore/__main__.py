"""The command line: the dashboard's experiments, headless.

    python -m seqcore presets
    python -m seqcore train --preset seed [--config FILE.json] [--set model.units=32 ...] [--out DIR]
    python -m seqcore code --preset delay > delay.py

Exit status: 0 success, 2 invalid input (the message names the field), 1 training failed.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from pathlib import Path

from seqcore.config import PRESETS, ConfigError, Experiment, preset


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m seqcore", description="Sequence Playground, headless.")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("presets", help="list the presets")
    for name, text in (("train", "train an experiment and write its artifacts"),
                       ("code", "print the experiment as a standalone Keras script")):
        command = commands.add_parser(name, help=text)
        command.add_argument("--preset", default="seed", help=f"one of: {', '.join(PRESETS)} (default seed)")
        command.add_argument("--config", help="an experiment JSON file (as downloaded from the app)")
        command.add_argument("--set", action="append", default=[], metavar="SECTION.FIELD=VALUE",
                             help="change one setting, e.g. --set model.cell=GRU (repeatable)")
        if name == "train":
            command.add_argument("--csv", help="data.generator=csv: the CSV file whose data.csv_column is learnt")
            command.add_argument("--out", default="runs/latest", help="folder for model.keras, history.csv and "
                                                                      "experiment.json (default runs/latest)")
            command.add_argument("--quiet", action="store_true", help="no progress bar")
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


def _csv_values(args, experiment: Experiment):
    if experiment.data.generator != "csv":
        return None
    from seqcore.data import csv_column_values, load_csv

    if not args.csv:
        raise ConfigError([("--csv", None, "is required when data.generator is csv")])
    try:
        raw = Path(args.csv).read_bytes()
    except OSError as err:
        raise ConfigError([("--csv", args.csv, f"cannot be read ({err.strerror})")]) from None
    return csv_column_values(load_csv(raw), experiment.data.csv_column)


class _Progress:
    """The data and baselines, then Keras' own progress bar over the epochs, on stderr (stdout keeps the results)."""

    def __init__(self, quiet: bool, metric: str):
        self.quiet, self.metric, self.bar = quiet, metric, None

    def __call__(self, event) -> None:
        from seqcore.events import EpochEvent, StartEvent

        if self.quiet:
            return
        if isinstance(event, StartEvent):
            print(f"data: {event.n_train} train / {event.n_val} validation / {event.n_test} test sequences; "
                  f"{event.steps_per_epoch} steps an epoch", file=sys.stderr)
            for name, value in event.baselines.items():
                print(f"baseline {name}: {value:.4f}", file=sys.stderr)
        elif isinstance(event, EpochEvent):
            import keras

            names = ["loss", "val_loss", self.metric, f"val_{self.metric}"]
            if self.bar is None:
                self.bar = keras.utils.Progbar(event.epochs, unit_name="epoch", stateful_metrics=names,
                                               verbose=1 if sys.stderr.isatty() else 2)  # a log: one line
            values = zip(names, (event.loss, event.val_loss, event.metric, event.val_metric), strict=True)
            with contextlib.redirect_stdout(sys.stderr):  # Keras prints to stdout
                self.bar.update(event.epoch, values=list(values), finalize=event.epoch == event.epochs)


def _train(args) -> int:
    experiment = _experiment(args)
    csv_values = _csv_values(args, experiment)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("KERAS_BACKEND", experiment.train.backend)
    from seqcore.events import EpochEvent
    from seqcore.training import train, write_artifacts

    history: list[EpochEvent] = []
    metric = experiment.data.task.kind.metric
    progress = _Progress(args.quiet, metric)

    def emit(event):
        if isinstance(event, EpochEvent):
            history.append(event)
        progress(event)

    end = train(experiment, emit, csv_values=csv_values)
    if history:
        last = history[-1]
        print(f"train: loss {last.loss:.4f}, {metric} {last.metric:.4f}")
        print(f"validation: loss {last.val_loss:.4f}, {metric} {last.val_metric:.4f}")
    for name, value in end.test_metrics.items():
        print(f"test {name}: {value:.4f}")
    print(f"{end.status}: {end.reason}")
    for name, path in write_artifacts(end.artifacts, args.out).items():
        print(f"{name}: {path}")
    return 0 if end.status in ("finished", "stopped", "timed_out") else 1


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
        return _train(args)
    except (ConfigError, DataError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
