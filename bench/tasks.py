"""Benchmark work that needs a clean process: `python bench/tasks.py TASK ARGS_JSON`.

bench/run.py starts one of these per measurement. The child imports what it
needs and does its untimed preparation, prints `READY`, waits for a line on
stdin, then does the timed part and prints `RESULT {json}`. Preparing before
the signal lets the parent prepare several children at once and then time
them one after another on a quiet machine. Progress and TensorFlow's logs go
to stderr; stdout carries only the protocol lines.
"""

from __future__ import annotations

import json
import math
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def _say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def _median_epoch_ms(epoch_ends: list[float], skip: int = 10) -> float:
    """Median time between consecutive epoch ends, after the first `skip` epochs."""
    durations = [b - a for a, b in zip(epoch_ends, epoch_ends[1:], strict=False)]
    steady = durations[skip:] or durations
    return 1000 * statistics.median(steady) if steady else float("nan")


# ------------------------------------------------------------------ row 1: the seed tutorial's plain fit


def prepare_plain_fit(args: dict):
    """The tutorial's program: 100 one-hot sequences of 10 digits, LSTM(50), Dense softmax, fit 100 epochs."""
    import keras

    from seqcore.config import preset
    from seqcore.data import build_data, one_hot

    config = preset("seed").data
    tokens = build_data(config).tokens  # all 100 sequences, as the tutorial fits them
    x = one_hot(tokens[:, :-1], config.vocab_size)
    y = one_hot(tokens[:, 1:], config.vocab_size)
    epochs = int(args.get("epochs", 100))

    class EpochClock(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.ends: list[float] = []

        def on_epoch_end(self, epoch, logs=None):
            self.ends.append(time.perf_counter())

    def timed():
        t0 = time.perf_counter()
        inputs = keras.Input((x.shape[1], x.shape[2]))
        h = keras.layers.LSTM(50, return_sequences=True)(inputs)
        outputs = keras.layers.Dense(config.vocab_size, activation="softmax")(h)
        model = keras.Model(inputs, outputs)
        model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
        clock = EpochClock()
        model.fit(x, y, epochs=epochs, batch_size=10, verbose=0, callbacks=[clock])
        total = time.perf_counter() - t0
        return {"total_s": total, "steady_epoch_ms": _median_epoch_ms([t0, *clock.ends]),
                "first_epoch_s": clock.ends[0] - t0, "epochs": epochs, "rows": len(x),
                "backend": keras.backend.backend()}

    return timed


# ------------------------------------------------------------------ row 2: bare fit of the larger workload


def prepare_bare_fit(args: dict):
    """The same model and data as the job, `model.fit` on NumPy arrays with no callbacks, in a process that
    has done the worker's warm-up (so it is the same kind of process as a warm worker)."""
    import keras  # noqa: F401  (imported before READY: the worker has it imported too)

    from seqcore.config import Experiment
    from seqcore.data import build_data
    from seqcore.models import build_model
    from seqcore.worker import warm_up

    experiment = Experiment.from_dict(args["experiment"])
    warm_up()
    data = build_data(experiment.data)

    def timed():
        t0 = time.perf_counter()
        model = build_model(experiment)
        model.fit(data.x_train, data.y_train, batch_size=experiment.train.batch_size,
                  epochs=experiment.train.epochs, verbose=0)
        total = time.perf_counter() - t0
        return {"total_s": total, "epochs": experiment.train.epochs, "rows": len(data.x_train)}

    return timed


# ------------------------------------------------------------------ row 5: bytes of one live update


def _live_update_sizes(experiment, label: str) -> dict:
    from seqcore import panels, plots
    from seqcore.data import build_data
    from seqcore.events import EpochEvent, SnapshotEvent, StartEvent
    from seqcore.training import train

    data = build_data(experiment.data)
    events = {"start": None, "history": [], "snapshot": None}

    def emit(event):
        if isinstance(event, StartEvent):
            events["start"] = event
        elif isinstance(event, EpochEvent):
            events["history"].append(event)
        elif isinstance(event, SnapshotEvent):
            events["snapshot"] = event

    t0 = time.perf_counter()
    end = train(experiment, emit, data=data)
    train_s = time.perf_counter() - t0
    if end.status != "finished":
        raise RuntimeError(f"{label}: the run ended {end.status}: {end.reason}")
    figures = panels.live_figures(tuple(events["history"]), events["start"], events["snapshot"], data)
    sizes = {name: plots.figure_size_bytes(fig) for name, fig in figures.items()}
    return {"label": label, "total_bytes": sum(sizes.values()), "figures": sizes, "train_s": train_s,
            "epochs": len(events["history"])}


def prepare_update_bytes(args: dict):
    """Measured during preparation (nothing here is timed): the result is handed over on the signal."""
    from seqcore.config import preset

    seed = preset("seed")
    big_sine = preset("sine").with_values(**{
        "data.seq_len": 500, "data.n_points": 1100, "data.val_fraction": 0.5, "data.test_fraction": 0.0,
        "model.cell": "LSTM", "model.units": 256, "train.epochs": 1})
    big_digits = seed.with_values(**{"data.n_sequences": 10, "data.seq_len": 501, "model.units": 256,
                                     "train.epochs": 1})
    cases = [_live_update_sizes(seed, "seed preset (100 epochs)"),
             _live_update_sizes(big_sine, "sine, LSTM(256), 500 steps, 50 windows, 1 epoch"),
             _live_update_sizes(big_digits, "digits, LSTM(256), 500 steps, 10 sequences, 1 epoch")]
    return lambda: {"cases": cases}


def runs_page_constants() -> dict[str, int]:
    """POINTS_PER_OVERLAY and MAX_OVERLAID as pages/runs.py sets them, read from its source (importing the page
    would run it)."""
    import ast

    tree = ast.parse((ROOT / "pages" / "runs.py").read_text())
    wanted = {"POINTS_PER_OVERLAY", "MAX_OVERLAID"}
    found = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and getattr(node.targets[0], "id", None) in wanted:
            found[node.targets[0].id] = int(ast.literal_eval(node.value))
    missing = wanted - set(found)
    if missing:
        raise RuntimeError(f"pages/runs.py no longer sets {', '.join(sorted(missing))}")
    return found


def overlay_points(n_runs: int, points_per_overlay: int) -> int:
    """The points per run the Runs page asks the store for when it overlays `n_runs` runs (pages/runs.py)."""
    return max(100, points_per_overlay // max(1, n_runs))


def prepare_overlay_bytes(args: dict):
    """Row 5's overlay: `runs` stored runs of `epochs` epochs each (a sweep of widths on the seed data, recorded
    into a RunStore in `folder` through JobRecords) overlaid as the Runs page overlays them; measured during
    preparation, like update_bytes. No TensorFlow."""
    import numpy as np

    from bench import synthetic
    from seqcore import panels, plots
    from seqcore.config import preset
    from seqcore.data import build_data
    from seqcore.store import RunStore

    runs, epochs = int(args.get("runs", 10)), int(args.get("epochs", 1000))
    constants = runs_page_constants()
    store = RunStore(args["folder"])
    rng = np.random.default_rng(0)
    base = preset("seed").with_values(**{"train.epochs": epochs})
    data = build_data(base.data)
    t0 = time.perf_counter()
    for i in range(runs):
        experiment = base.with_values(**{"model.units": 16 + 8 * i})
        events = synthetic.run_events(experiment, rng, data=data, snapshots=False, artifacts=False)
        synthetic.record_run(store, f"overlay-{i}", experiment, events, owner="bench")
    write_s = time.perf_counter() - t0
    summaries = store.runs("bench")
    points = overlay_points(len(summaries), constants["POINTS_PER_OVERLAY"])

    def sizes(max_points):
        # The page's labels: '#<row> <cell> <units>' (pages/runs.py label(), live.run_label()).
        curves = [(f"#{i + 1} {s.experiment.model.cell} {s.experiment.model.units}",
                   store.history(s.id, max_points=max_points)) for i, s in enumerate(summaries)]
        figures = panels.compare_panels(curves, summaries[0].metric, baselines=summaries[0].baselines)
        return {name: plots.figure_size_bytes(fig) for name, fig in figures.items()}, sum(len(h) for _, h in curves)

    thinned, thinned_points = sizes(points)
    full, full_points = sizes(None)
    store.close()
    result = {"runs": len(summaries), "epochs": epochs, "points_per_run": points, "constants": constants,
              "figures": thinned, "total_bytes": sum(thinned.values()), "points": thinned_points,
              "unthinned_figures": full, "unthinned_bytes": sum(full.values()), "unthinned_points": full_points,
              "write_s": write_s}
    return lambda: result


# ------------------------------------------------------------------ row 8: a real run's events


def prepare_seed_events(args: dict):
    """The seed preset trained once (`seqcore.training.train`, as a worker trains it), every event it emitted
    pickled to `out` for the parent to replay into job records; measured during preparation."""
    import pickle

    from seqcore.config import preset
    from seqcore.events import EpochEvent, SnapshotEvent
    from seqcore.training import train

    experiment = preset("seed").with_values(**args.get("changes", {}))
    events: list = []
    t0 = time.perf_counter()
    end = train(experiment, events.append)
    train_s = time.perf_counter() - t0
    if end.status != "finished":
        raise RuntimeError(f"the seed run ended {end.status}: {end.reason}")
    Path(args["out"]).write_bytes(pickle.dumps({"experiment": experiment.to_dict(), "events": events}))
    counts = {"epoch": sum(isinstance(e, EpochEvent) for e in events),
              "snapshot": sum(isinstance(e, SnapshotEvent) for e in events), "all": len(events)}
    return lambda: {"path": args["out"], "train_s": train_s, "counts": counts}


# ------------------------------------------------------------------ row 7: NumPy reference vs Keras predict


def prepare_reference(args: dict):
    """A 2-layer LSTM regression model from seqcore's builder; `keras: false` times only the NumPy side
    (for a run under another BLAS thread setting)."""
    import numpy as np

    from seqcore import reference
    from seqcore.config import preset

    steps, units = int(args.get("steps", 500)), int(args.get("units", 128))
    repeats, budget_s = int(args.get("repeats", 5)), float(args.get("budget_s", 10.0))
    with_keras = bool(args.get("keras", True))
    experiment = preset("sine").with_values(**{
        "data.seq_len": steps, "data.n_points": 20 * steps, "model.cell": "LSTM", "model.layers": 2,
        "model.units": units})
    if with_keras:
        from seqcore.models import build_model

        model = build_model(experiment)
        weights = [np.asarray(w, dtype=np.float32) for w in model.get_weights()]
    else:  # the same shapes (Keras layout), random values
        rng = np.random.default_rng(1)
        shapes = [(1, 4 * units), (units, 4 * units), (4 * units,), (units, 4 * units), (units, 4 * units),
                  (4 * units,), (units, 1), (1,)]
        weights = [rng.normal(0, 0.1, shape).astype(np.float32) for shape in shapes]
    rng = np.random.default_rng(0)
    inputs = {batch: rng.normal(size=(batch, steps, 1)).astype(np.float32) for batch in (1, 32)}

    def time_calls(function, x, first_call: bool) -> tuple[float, float, int, object]:
        """With `first_call`, one untimed-for-the-median call first (Keras traces its predict function there);
        then the median of up to `repeats` calls within about `budget_s`."""
        first = math.nan
        if first_call:
            t0 = time.perf_counter()
            function(x)
            first = time.perf_counter() - t0
        times = []
        while len(times) < repeats and (not times or sum(times) < budget_s):
            t0 = time.perf_counter()
            out = function(x)
            times.append(time.perf_counter() - t0)
        return first, statistics.median(times), len(times), out

    def timed():
        results = {}
        for batch, x in inputs.items():
            _, ref_s, ref_n, ref_out = time_calls(
                lambda x: reference.forward(weights, x, cell="LSTM", head="regression").output, x, False)
            results[str(batch)] = {"reference_ms": 1000 * ref_s, "reference_n": ref_n}
            if with_keras:
                keras_first, keras_s, keras_n, keras_out = time_calls(
                    lambda x: model.predict(x, batch_size=len(x), verbose=0), x, True)
                results[str(batch)].update(
                    predict_ms=1000 * keras_s, predict_first_ms=1000 * keras_first, predict_n=keras_n,
                    max_abs_diff=float(np.max(np.abs(np.asarray(keras_out) - ref_out))))
        return {"steps": steps, "units": units, "batches": results}

    return timed


# ------------------------------------------------------------------ bench/xla.py: XLA's compile cost and gain


def _warm_worker_process(args: dict) -> None:
    """A process set up as a seqcore worker: its CPU priority (`nice`), TensorFlow's threads per op, the warm-up."""
    os.nice(int(args.get("nice", 0)))
    import tensorflow as tf

    tf.get_logger().setLevel("ERROR")
    tf.config.threading.set_intra_op_parallelism_threads(int(args.get("intra_op_threads", 1)))
    from seqcore.worker import warm_up

    warm_up()


def xla_experiment(cell: str, units: int, batch: int, seq_len: int, steps: int, epochs: int, xla: str,
                   partial: bool = True):
    """The adding problem at `seq_len` steps with `steps` training batches an epoch, the last one half full (as
    most runs' last batch is partial: XLA compiles that shape too) unless not `partial`, 5 % validation and 5 %
    test, one snapshot at the start and one at the end."""
    from seqcore import splits
    from seqcore.config import preset

    n_train = steps * batch - (batch // 2 if partial else 0)
    start = math.floor(n_train / 0.9) - 5
    n = next(n for n in range(start, start + 50) if splits.sequence_rows(n, 0.05, 0.05)[0] == n_train)
    return preset("adding_lstm").with_values(**{
        "data.seq_len": seq_len, "data.n_sequences": n, "data.val_fraction": 0.05, "data.test_fraction": 0.05,
        "model.cell": cell, "model.units": units, "train.batch_size": batch, "train.epochs": epochs,
        "train.snapshot_every": 1000, "train.xla": xla})


def _timed_run(experiment, models=None) -> dict:
    """One `training.train` run as a worker runs it (artifacts not saved): its first epoch, its steady epochs
    (the median after the first), its whole time, and what its StartEvent said."""
    from seqcore.events import EpochEvent, StartEvent
    from seqcore.training import train

    events: list = []
    t0 = time.perf_counter()
    end = train(experiment, events.append, save_artifacts=False, models=models)
    total = time.perf_counter() - t0
    if end.status != "finished":
        raise RuntimeError(f"the run ended {end.status}: {end.reason}")
    start = next(e for e in events if isinstance(e, StartEvent))
    epochs = [e for e in events if isinstance(e, EpochEvent)]
    steady = statistics.median(e.seconds for e in epochs[1:])
    return {"first_epoch_s": epochs[0].seconds, "steady_epoch_s": steady, "total_s": total,
            "steps_per_epoch": start.steps_per_epoch, "steps_per_execution": start.steps_per_execution,
            "xla": start.xla, "epochs": len(epochs), "final_loss": epochs[-1].loss,
            "final_val_loss": epochs[-1].val_loss}


def prepare_xla(args: dict):
    """XLA on against off through the app's own training path, for one cell: each (units, batch, seq_len) of the
    grid trained both ways (alternating which goes first), the same with every batch full, a second run of one
    network through a ModelCache (what a warm worker pays for an architecture it has compiled), and the
    gradients-through-time pass with and without jit."""
    import numpy as np

    _warm_worker_process(args)
    from seqcore import training
    from seqcore.data import build_data
    from seqcore.models import build_model

    cell, epochs = args["cell"], int(args.get("epochs", 4))
    grid = [(int(u), int(b)) for u, b in args["sizes"]]
    seq_lens = [int(t) for t in args["seq_lens"]]
    steps_for = lambda t: max(8, int(args.get("timesteps_per_epoch", 1600)) // t)  # noqa: E731

    def timed():
        cases, index = [], 0
        for units, batch in grid:
            for seq_len in seq_lens:
                runs = {}
                for mode in ("off", "on") if index % 2 == 0 else ("on", "off"):
                    experiment = xla_experiment(cell, units, batch, seq_len, steps_for(seq_len), epochs, mode)
                    runs[mode] = _timed_run(experiment)
                    print(f"xla {cell}({units}) batch {batch} T={seq_len} {mode}: {runs[mode]}", file=sys.stderr)
                index += 1
                cases.append({"cell": cell, "units": units, "batch": batch, "seq_len": seq_len, **runs})
        units, batch = grid[0]
        full_batches = []  # no partial last batch: XLA compiles the training step for one shape only
        for seq_len in args.get("full_batch_seq_lens", []):
            runs = {}
            for mode in ("off", "on"):
                experiment = xla_experiment(cell, units, batch, seq_len, steps_for(seq_len), epochs, mode, False)
                runs[mode] = _timed_run(experiment)
            full_batches.append({"cell": cell, "units": units, "batch": batch, "seq_len": seq_len, **runs})
        seq_len = int(args.get("cached_seq_len", 100))
        steps = steps_for(seq_len)
        cached = {}
        for mode in ("on", "off"):
            models = training.ModelCache()
            experiment = xla_experiment(cell, units, batch, seq_len, steps, 3, mode)
            first = _timed_run(experiment, models)
            again = _timed_run(experiment.with_values(**{"train.seed": 7}), models)
            cached[mode] = {"first": first, "again": again, "hits": models.hits}
        gradients = {}
        for seq_len in args.get("gradient_seq_lens", []):
            experiment = xla_experiment(cell, units, batch, seq_len, 4, 1, "off")
            data = build_data(experiment.data)
            model = build_model(experiment)
            n = training.GRADIENT_SEQUENCES
            x, y = data.x_val[:n], data.y_val[:n]
            for jit in (False, True):
                t0 = time.perf_counter()
                first = training.input_gradient_norms(model, x, y, None, jit_compile=jit)
                first_s = time.perf_counter() - t0
                times = []
                for _ in range(7):
                    t0 = time.perf_counter()
                    out = training.input_gradient_norms(model, x, y, None, jit_compile=jit)
                    times.append(time.perf_counter() - t0)
                gradients.setdefault(str(seq_len), {})[str(jit).lower()] = {
                    "first_s": first_s, "steady_ms": 1000 * statistics.median(times), "norms": out.tolist()}
            on, off = (np.asarray(gradients[str(seq_len)][k]["norms"]) for k in ("true", "false"))
            gradients[str(seq_len)]["max_rel_diff"] = float(np.max(np.abs(on - off) / np.maximum(np.abs(off), 1e-12)))
        return {"cell": cell, "cases": cases, "full_batches": full_batches, "cached": cached,
                "gradients": gradients, "epochs": epochs}

    return timed


# ------------------------------------------------------------------ rows 10-11: the adding problem, plain Keras


def adding_batch(rng, rows: int, seq_len: int):
    """A person's own adding-problem draw (the rule of seqcore.generators.adding): values in [0, 1) and a marker
    channel with one mark in each half; the target is the sum of the two marked values."""
    import numpy as np

    values = rng.random((rows, seq_len), dtype=np.float32)
    half = seq_len // 2
    first, second = rng.integers(0, half, size=rows), rng.integers(half, seq_len, size=rows)
    index = np.arange(rows)
    markers = np.zeros((rows, seq_len), dtype=np.float32)
    markers[index, first] = markers[index, second] = 1.0
    return np.stack([values, markers], axis=-1), (values[index, first] + values[index, second])[:, None]


def prepare_plain_adding(args: dict):
    """The plain tuned Keras loop: fresh adding sequences every step (`train_on_batch`), Adam with gradient
    clipping, XLA, `cell(units)` -> Dense(1). `until_mse`: train until the MSE on `n_val` fixed held-out
    sequences, checked every `eval_every` steps, is below it (row 10); else, for each of `cases` (a cell and a
    sequence length each), a new model's `steps` steady steps after `warm_steps` (row 11). TensorFlow's default
    threads, as a person's script has them; `nice`: the CPU priority of a seqcore worker, so that on a shared
    machine both sides compete alike with its other load."""
    os.nice(int(args.get("nice", 0)))
    import keras
    import numpy as np

    cell, units, seq_len = args.get("cell", "LSTM"), int(args.get("units", 64)), int(args.get("seq_len", 100))
    batch, seed = int(args.get("batch", 64)), int(args.get("seed", 0))
    rate, clipnorm = float(args.get("learning_rate", 2e-3)), float(args.get("clipnorm", 1.0))
    jit = bool(args.get("jit_compile", True))
    until = args.get("until_mse")

    def build(cell: str, seq_len: int):
        keras.utils.set_random_seed(seed)
        model = keras.Sequential([keras.Input((seq_len, 2)), getattr(keras.layers, cell)(units),
                                  keras.layers.Dense(1)])
        model.compile(optimizer=keras.optimizers.Adam(rate, clipnorm=clipnorm), loss="mse", jit_compile=jit)
        return model

    def to_threshold():
        t0 = time.perf_counter()
        model = build(cell, seq_len)
        rng = np.random.default_rng(seed)
        x_val, y_val = adding_batch(rng, int(args.get("n_val", 1000)), seq_len)
        every, max_steps, max_s = int(args.get("eval_every", 50)), int(args.get("max_steps", 20_000)), \
            float(args.get("max_s", 600.0))
        evals, step, first_step_s, mse = [], 0, math.nan, math.inf
        while step < max_steps and time.perf_counter() - t0 < max_s:
            x, y = adding_batch(rng, batch, seq_len)
            model.train_on_batch(x, y)
            step += 1
            if step == 1:
                first_step_s = time.perf_counter() - t0
            if step % every == 0:
                mse = float(model.test_on_batch(x_val, y_val))
                evals.append((step, time.perf_counter() - t0, mse))
                if mse < until:
                    break
        reached = mse < until
        return {"reached": reached, "time_s": evals[-1][1] if reached else math.nan, "steps": step,
                "first_step_s": first_step_s, "final_mse": mse, "evals": evals[-5:],
                "ms_per_step": 1000 * (evals[-1][1] - first_step_s) / max(1, step - 1) if evals else math.nan}

    def steady(case: dict) -> dict:
        seq_len = int(case["seq_len"])
        model = build(case["cell"], seq_len)
        rng = np.random.default_rng(seed)
        t0 = time.perf_counter()
        for _ in range(int(case.get("warm_steps", 5))):
            model.train_on_batch(*adding_batch(rng, batch, seq_len))
        warm_s = time.perf_counter() - t0
        times = []
        for _ in range(int(case.get("steps", 60))):
            t1 = time.perf_counter()
            model.train_on_batch(*adding_batch(rng, batch, seq_len))
            times.append(time.perf_counter() - t1)
        return {**case, "warm_s": warm_s, "ms_per_step": 1000 * statistics.median(times),
                "mean_ms_per_step": 1000 * statistics.fmean(times), "steps": len(times)}

    if until is not None:
        return to_threshold
    return lambda: {"cases": [steady(case) for case in args["cases"]]}


# ------------------------------------------------------------------ row 12: the gradients-through-time snapshot


def prepare_snapshot_cost(args: dict):
    """The adding lesson (`preset`, with `changes`) trained by `training.train` in a process set up as a warm
    worker (`warm`: false skips that, for a test), with its snapshots and their gradient pass timed: the seconds
    spent in `make_snapshot` and in `input_gradient_norms`, against the run's whole time."""
    if args.get("warm", True):
        _warm_worker_process(args)
    from seqcore import training
    from seqcore.config import preset

    experiment = preset(args.get("preset", "adding_lstm")).with_values(**args.get("changes", {}))
    spent = {"snapshot": [], "gradients": []}

    def timed_wrapper(function, name):
        def wrapper(*a, **k):
            t0 = time.perf_counter()
            try:
                return function(*a, **k)
            finally:
                spent[name].append(time.perf_counter() - t0)
        return wrapper

    def timed():
        from seqcore.events import EpochEvent, StartEvent

        originals = training.make_snapshot, training.input_gradient_norms
        training.make_snapshot = timed_wrapper(originals[0], "snapshot")  # train() looks both up when it calls them
        training.input_gradient_norms = timed_wrapper(originals[1], "gradients")
        events: list = []
        try:
            t0 = time.perf_counter()
            end = training.train(experiment, events.append)
            total = time.perf_counter() - t0
        finally:
            training.make_snapshot, training.input_gradient_norms = originals
        if end.status != "finished":
            raise RuntimeError(f"the run ended {end.status}: {end.reason}")
        start = next(e for e in events if isinstance(e, StartEvent))
        history = [e for e in events if isinstance(e, EpochEvent)]
        return {"total_s": total, "epochs": len(history), "snapshots": len(spent["snapshot"]),
                "snapshot_s": spent["snapshot"], "gradient_s": spent["gradients"], "xla": start.xla,
                "snapshot_every": experiment.train.snapshot_every, "final_val_loss": history[-1].val_loss,
                "epoch_s": statistics.median(e.seconds for e in history[1:]) if len(history) > 1 else math.nan}

    return timed


# ------------------------------------------------------------------ row 13: the text preset's network, plain Keras


def prepare_plain_text(args: dict):
    """Row 13's plain loop: the `text` preset's network written out in plain Keras (character ids in, one-hot in a
    CategoryEncoding layer, LSTM(units) over every step, Dense(V) softmax, sparse cross-entropy, Adam) and
    `model.fit` for `epochs` epochs on the same int windows as a job's (seqcore.data.build_data of the preset's
    data), each epoch followed by a pass over the validation windows as a job's is; `jit_compile` as the job got
    it. TensorFlow's default threads, at the workers' `nice`, as row 11's plain loop runs; `intra_op_threads`: the
    threads one op is split over instead (a seqcore worker's setting)."""
    os.nice(int(args.get("nice", 0)))
    if args.get("intra_op_threads"):
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(int(args["intra_op_threads"]))
    import keras
    import numpy as np

    from seqcore.config import preset
    from seqcore.data import build_data

    experiment = preset(args.get("preset", "text"))
    data = build_data(experiment.data)
    x, y, x_val, y_val = data.x_train, data.y_train, data.x_val, data.y_val
    seq_len, symbols = x.shape[1], data.vocabulary.size
    units = int(args.get("units", experiment.model.units))
    batch = int(args.get("batch", experiment.train.batch_size))
    rate = float(args.get("learning_rate", experiment.train.learning_rate))
    epochs, jit = int(args.get("epochs", 5)), bool(args.get("jit_compile", True))
    validation = bool(args.get("validation", True))

    class EpochClock(keras.callbacks.Callback):
        """Each epoch's end (after its validation pass) and its first batch's seconds (where a compile shows)."""

        def __init__(self):
            super().__init__()
            self.ends: list[float] = []
            self.first_batches: list[float] = []
            self.began = 0.0

        def on_epoch_begin(self, epoch, logs=None):
            self.began = time.perf_counter()

        def on_train_batch_end(self, batch, logs=None):
            if batch == 0:
                self.first_batches.append(time.perf_counter() - self.began)

        def on_epoch_end(self, epoch, logs=None):
            self.ends.append(time.perf_counter())

    def timed():
        keras.utils.set_random_seed(int(args.get("seed", 42)))
        t0 = time.perf_counter()
        inputs = keras.Input((seq_len,), dtype="int32")
        h = keras.layers.CategoryEncoding(num_tokens=symbols, output_mode="one_hot")(inputs)
        h = keras.layers.LSTM(units, return_sequences=True)(h)
        outputs = keras.layers.Dense(symbols, activation="softmax")(h)
        model = keras.Model(inputs, outputs)
        model.compile(optimizer=keras.optimizers.Adam(rate), loss=keras.losses.SparseCategoricalCrossentropy(),
                      metrics=["accuracy"], jit_compile=jit)
        clock = EpochClock()
        history = model.fit(x, y, batch_size=batch, epochs=epochs, verbose=0, callbacks=[clock],
                            validation_data=(x_val, y_val) if validation else None)
        durations = np.diff([t0, *clock.ends]).tolist()
        steady = statistics.median(durations[1:]) if len(durations) > 1 else math.nan
        return {"windows": len(x), "val_windows": len(x_val), "seq_len": seq_len, "vocabulary": symbols,
                "units": units, "batch": batch, "learning_rate": rate, "epochs": epochs, "jit_compile": jit,
                "intra_op_threads": args.get("intra_op_threads"),
                "validation": validation, "epoch_s": durations, "first_epoch_s": durations[0],
                "first_batch_s": clock.first_batches,
                "steady_epoch_s": steady, "chars_per_s": len(x) * seq_len / steady,
                "final_loss": float(history.history["loss"][-1]),
                "final_val_loss": float(history.history["val_loss"][-1]) if validation else math.nan}

    return timed


TASKS = {"plain_fit": prepare_plain_fit, "bare_fit": prepare_bare_fit, "update_bytes": prepare_update_bytes,
         "overlay_bytes": prepare_overlay_bytes, "seed_events": prepare_seed_events, "reference": prepare_reference,
         "xla": prepare_xla, "plain_adding": prepare_plain_adding, "snapshot_cost": prepare_snapshot_cost,
         "plain_text": prepare_plain_text}


def main(argv: list[str]) -> int:
    task, args = argv[1], json.loads(argv[2]) if len(argv) > 2 else {}
    try:
        timed = TASKS[task](args)
        _say("READY")
        if not sys.stdin.readline():  # the parent went away
            return 1
        result = timed()
    except Exception as err:  # reported to the parent, which shows it in the table
        import traceback

        traceback.print_exc()
        _say("ERROR " + json.dumps(f"{type(err).__name__}: {err}"))
        return 1
    _say("RESULT " + json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
