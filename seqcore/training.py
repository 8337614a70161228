"""One training run: build data and model, fit with one callback, report events.

Runs wherever it is called: inside a worker process (seqcore.jobs) or in the
command line's own process. It knows nothing of either: it reports through
`emit(event)` and asks `control` whether to pause or stop, once per execution
of `steps_per_execution` batches.
"""

from __future__ import annotations

import itertools
import math
import os
import tempfile
import time
import weakref
from collections.abc import Callable
from pathlib import Path

import numpy as np

from seqcore import compat, reference
from seqcore.baselines import baselines
from seqcore.cells import CELLS
from seqcore.config import Experiment
from seqcore.data import DataError, SequenceData, build_data, fresh_training_split
from seqcore.events import EndEvent, EpochEvent, SnapshotEvent, StartEvent
from seqcore.models import UNROLL_MAX_STEPS, build_model, metric_name, without_levers
from seqcore.tasks import SERIES, TEXT

PROBE_SIZE = 4  # sequences whose hidden states are recorded
GRADIENT_SEQUENCES = 32  # validation sequences whose gradients through time are averaged at each snapshot
MAX_VAL_PREDICTIONS = 400  # validation windows predicted in each snapshot
EVAL_CHUNK = 512  # validation rows per evaluation call, to bound memory
FLOPS_PER_EXECUTION = 2e8  # batches are grouped until an execution costs about this much (tens of ms)


class Control:
    """Stop / pause / deadline, asked once before training begins and once per execution. This base one only
    knows the deadline."""

    def __init__(self, deadline_s: float | None = None):
        self.started = time.monotonic()
        self.deadline_s = deadline_s

    def poll(self) -> str | None:
        """What the person asked for since the last poll, without waiting: 'stop', 'pause' or None."""
        return None

    def wait_while_paused(self) -> str | None:
        """Block until resumed ('resume'), stopped ('stop') or past the deadline (None)."""
        return "resume"

    def timed_out(self) -> bool:
        return self.deadline_s is not None and time.monotonic() - self.started > self.deadline_s


class StopFlag(Control):
    """A Control that stops the run once `requested` is set (by a signal handler, say), at the next execution."""

    def __init__(self, deadline_s: float | None = None):
        super().__init__(deadline_s)
        self.requested = False

    def poll(self) -> str | None:
        return "stop" if self.requested else None

    def wait_while_paused(self) -> str | None:
        return "stop" if self.requested else "resume"


def steps_per_execution(experiment: Experiment, n_features: int, steps_per_epoch: int) -> int:
    """Group batches into one compiled call while they are cheap: for small models the cost is overhead."""
    model, data = experiment.model, experiment.data
    per_batch = 6 * CELLS[model.cell].n_blocks * experiment.train.batch_size * data.seq_len * model.units * (
        model.units + max(n_features, model.units)) * model.layers
    return int(max(1, min(steps_per_epoch, FLOPS_PER_EXECUTION // max(per_batch, 1))))


# XLA's cost and gain per cell: the medians of bench/xla.py's cases that loop over time (T > UNROLL_MAX_STEPS;
# units 32 and 64, batch 32 and 64, T 30 to 200; the table is in docs/performance-notes.md): the one-off compile
# it adds to a network's first run, and the training time it saves per batch and time step.
XLA_COMPILE_S = {"LSTM": 6.5, "GRU": 7.0, "SimpleRNN": 5.5}
XLA_SAVED_S = {"LSTM": 320e-6, "GRU": 580e-6, "SimpleRNN": 180e-6}
# The compile comes before the first epoch, while a person waits for the first point: a saving that only paid it
# back would move time to where it is felt most, so auto asks for twice.
XLA_MARGIN = 2.0


def use_xla(experiment: Experiment, data: SequenceData, cached: bool) -> bool:
    """Whether this run compiles its steps with XLA (Keras' jit_compile). `cached`: this process keeps a model of
    the run's architecture compiled with XLA (ModelCache.has), so its compile is paid already.

    train.xla "on" and "off" force it. "auto" turns it on for a cached network, and where the time it is expected
    to save over the run, XLA_SAVED_S[cell] x batches x time steps, is at least XLA_MARGIN times the compile it
    adds, XLA_COMPILE_S[cell]. Measured break-even (bench/xla.py): about 20,000 batches x time steps for the LSTM,
    12,000 for the GRU and 31,000 for the SimpleRNN (at T=100: 200, 120 and 310 batches); auto asks for twice that,
    so the adding lesson (2,000 batches of 100 steps) trains with XLA and one epoch of it does not. Short
    sequences that models.UNROLL_MAX_STEPS unrolls stay off: XLA compiles every copy of the cell, 7-14 s more, to
    save at most 0.35 ms a time step, 4,000 to 75,000 batches before it pays, or never. The JAX backend compiles
    with XLA whatever the setting (there jit_compile=False would mean running eagerly)."""
    if experiment.train.backend == "jax":
        return True
    mode = experiment.train.xla
    if mode != "auto":
        return mode == "on"
    if cached:
        return True
    steps = data.x_train.shape[1]
    if steps <= UNROLL_MAX_STEPS:
        return False
    cell = experiment.model.cell
    batches = experiment.train.epochs * math.ceil(len(data.x_train) / experiment.train.batch_size)
    return batches * steps * XLA_SAVED_S[cell] >= XLA_MARGIN * XLA_COMPILE_S[cell]


class ModelCache:
    """Compiled models kept between the runs of one process, by architecture.

    Tracing a new model's train, test and predict graphs is most of its first epoch (cProfile: about 80 %
    of a warm worker's first epoch). A run whose architecture an earlier run here compiled takes that model
    instead, with the initial weights of a fresh build under its own seed (so results match an uncached
    run) and a zeroed optimizer, and starts without tracing. Students retrain one architecture again and
    again (other epochs, learning rate, data, seed), so this is the common case. A model compiled with XLA is kept
    apart from one without (the key holds it) and keeps its XLA executables: its compile is paid once per worker.
    """

    def __init__(self, size: int = 4):
        self.size = size
        self._models: dict[tuple, object] = {}
        self.hits = 0
        self.evicted = 0  # models let go so far (least recently used first)

    @staticmethod
    def key(experiment: Experiment, data: SequenceData, spe: int, xla: bool = False) -> tuple:
        """What a compiled graph depends on: layers, shapes, loss, optimizer kind, clipping, steps per call, XLA.
        Not the initialisation levers: a cached model takes a fresh build's starting weights anyway."""
        train = experiment.train
        # The sizes too: a text's windows are ids, (T,) whatever its vocabulary, and the vocabulary sizes the model.
        return (without_levers(experiment.model), data.head, data.x_train.shape[1:], data.y_train.shape[1:],
                data.n_features, data.n_outputs, data.w_train is None, train.optimizer, train.clipnorm, spe, xla)

    def has(self, experiment: Experiment, data: SequenceData, spe: int, xla: bool) -> bool:
        """Whether a model compiled for this run's architecture (with or without XLA) is kept here."""
        return self.key(experiment, data, spe, xla) in self._models

    def model_for(self, experiment: Experiment, data: SequenceData, spe: int, xla: bool = False):
        fresh = build_model(experiment, steps_per_execution=spe, jit_compile=xla,
                            sizes=(data.n_features, data.n_outputs))
        key = self.key(experiment, data, spe, xla)
        cached = self._models.pop(key, None)
        if cached is None:
            cached = fresh
        else:
            self.hits += 1
            # model.variables holds the weights and the dropout seed generators' state: all of a fresh start.
            for target, source in zip(cached.variables, fresh.variables, strict=True):
                target.assign(source)
            for variable in cached.optimizer.variables:  # step count and moments of every optimizer offered
                variable.assign(np.zeros(variable.shape, dtype=variable.dtype))
            cached.optimizer.learning_rate = experiment.train.learning_rate
        self._models[key] = cached  # most recently used last
        while len(self._models) > self.size:
            self._models.pop(next(iter(self._models)))
            self.evicted += 1
        return cached


def build_state(model, data: SequenceData) -> None:
    """Create the optimizer's and the metrics' variables now. Keras' TensorFlow trainer leaves them to the first
    traced training and test steps, and a tf.function that creates variables while it traces is traced twice:
    a new network's first epoch paid both traces. Keras' own build (what it runs under a distribution strategy
    and on the other backends) from one batch; a no-op for a model already built."""
    w = None if data.w_train is None else data.w_train[:1]
    compat.build_training_state(model, (data.x_train[:1], data.y_train[:1], w))


def _evaluate(model, x, y, w) -> tuple[float, float]:
    """Loss and metric over a whole split, in chunks; weighted by rows like Keras' evaluate."""
    if len(x) == 0:
        return math.nan, math.nan
    totals, rows = np.zeros(2), 0
    for start in range(0, len(x), EVAL_CHUNK):
        end = min(start + EVAL_CHUNK, len(x))
        weights = None if w is None else w[start:end]
        logs = model.test_on_batch(x[start:end], y[start:end], sample_weight=weights, return_dict=True)
        totals += (end - start) * np.array([logs["loss"], logs[_metric_key(logs)]])
        rows += end - start
    return tuple(float(v) for v in totals / rows)


def _metric_key(logs: dict) -> str:
    return next(k for k in logs if k != "loss")


def last_window(data: SequenceData) -> np.ndarray:
    """The last seq_len scaled values of the validation part: where a forecast past its end starts."""
    tail = np.concatenate([data.x_val[-1, :, 0], data.y_val[-1]])  # the last window and its targets
    return tail[-data.x_val.shape[1]:]


def input_gradient_norms(model, x: np.ndarray, y: np.ndarray, w: np.ndarray | None, *,
                         jit_compile: bool = False) -> np.ndarray:
    """||dL/dx_t|| for every step t, each sequence's own loss differentiated, then the mean over sequences:
    one forward and backward pass with the backend's autodiff (TensorFlow's GradientTape), compiled once per
    model (eagerly, a recurrent layer steps through time in Python: about 1 s a snapshot for T = 100).
    `jit_compile`: compile that pass with XLA too (bench/xla.py measures it; snapshots do not)."""
    import tensorflow as tf

    compiled = _GRADIENT_FNS.setdefault(model, {})
    gradient_fn = compiled.get(jit_compile)
    if gradient_fn is None:
        def norms(inputs, targets, weights):
            with tf.GradientTape() as tape:
                tape.watch(inputs)
                predicted = model(inputs, training=False)
                # Summed over the batch: each sequence's gradient is then its own loss's, whatever the batch size.
                loss = model.compute_loss(x=inputs, y=targets, y_pred=predicted, sample_weight=weights)
                loss = loss * tf.cast(tf.shape(inputs)[0], loss.dtype)
            gradient = tape.gradient(loss, inputs)  # (batch, steps, features)
            return tf.reduce_mean(tf.norm(gradient, axis=-1), axis=0)

        gradient_fn = compiled[jit_compile] = tf.function(norms, reduce_retracing=True, jit_compile=jit_compile)
    weights = None if w is None else tf.convert_to_tensor(w, dtype=tf.float32)
    result = gradient_fn(tf.convert_to_tensor(x, dtype=tf.float32), tf.convert_to_tensor(y), weights)
    return np.asarray(result, dtype=np.float32)


_GRADIENT_FNS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # model -> {jit_compile: its gradient pass}


def make_snapshot(epoch: int, model, experiment: Experiment, data: SequenceData, probe_x: np.ndarray) -> SnapshotEvent:
    weights = [np.asarray(w, dtype=np.float32) for w in model.get_weights()]
    cell, head, activation = experiment.model.cell, data.head, experiment.model.activation
    trace = reference.forward(weights, probe_x, cell=cell, head=head, activation=activation)
    val_prediction = forecast = None
    if head == "regression":
        val_prediction = np.asarray(model.predict_on_batch(data.x_val[:MAX_VAL_PREDICTIONS]), dtype=np.float32)
    if data.task.kind is SERIES:  # a forecast past the end needs a series to continue
        steps = int(min(100, max(20, len(data.x_val) // 2)))
        forecast = reference.forecast(weights, last_window(data), steps, cell=cell, activation=activation,
                                      horizon=experiment.data.horizon).astype(np.float32)
    n = GRADIENT_SEQUENCES
    grad_norms = None
    if data.task.kind is not TEXT:  # a text model reads ids: there is no input to differentiate by
        grad_norms = input_gradient_norms(model, data.x_val[:n], data.y_val[:n],
                                          None if data.w_val is None else data.w_val[:n])
    return SnapshotEvent(epoch=epoch, weights=weights, hidden=[layer.h.astype(np.float32) for layer in trace.layers],
                         probe_output=trace.output.astype(np.float32), val_prediction=val_prediction,
                         forecast=forecast, grad_norms=grad_norms)


def early_stopping_on(experiment: Experiment) -> bool:
    """Whether this run stops early and keeps the weights of its best validation epoch. train.early_stopping "on"
    and "off" force it; "auto" turns it on for a person's own series (an uploaded CSV), where the model worth keeping
    is the point, and off for the lessons' tasks, whose whole curves are the point."""
    mode = experiment.train.early_stopping
    if mode != "auto":
        return mode == "on"
    task = experiment.data.task
    return task.needs_upload and task.kind is SERIES


def _early_stopping(experiment: Experiment):
    """Keras' own early stopping on the validation loss, keeping the best weights (train feeds it the loss)."""
    import keras

    return keras.callbacks.EarlyStopping(monitor="val_loss", patience=experiment.train.patience,
                                         restore_best_weights=True)


def _kept_sentence(best: EpochEvent, so_far: bool) -> str:
    return (f"Kept the weights of epoch {best.epoch} (validation loss {best.val_loss:.4g}), the lowest"
            f"{' so far' if so_far else ''}.")


def _make_callback(experiment, data, probe_x, emit, control, state, early=None):
    """`early`: a keras.callbacks.EarlyStopping that this callback drives itself, each epoch once the validation loss
    is known and before the epoch's snapshot is decided, so that a snapshot knows whether its epoch is the last."""
    import keras

    class LiveEvents(keras.callbacks.Callback):
        """The one callback: epoch events, snapshots every k epochs, stop / pause / deadline / divergence, and
        early stopping when it is on."""

        def on_train_begin(self, logs=None):
            if early is not None:
                early.set_model(self.model)
                early.on_train_begin(logs)

        def on_epoch_begin(self, epoch, logs=None):
            state["epoch_started"] = time.monotonic()

        def on_train_batch_end(self, batch, logs=None):
            command = control.poll()
            if command == "pause":
                command = control.wait_while_paused()
            if command == "stop":
                state["status"], state["reason"] = "stopped", "Stopped by the user."
                self.model.stop_training = True
            elif control.timed_out():
                state["status"] = "timed_out"
                state["reason"] = f"The run reached its time limit of {control.deadline_s:g} s."
                self.model.stop_training = True

        def on_epoch_end(self, epoch, logs=None):
            logs = logs or {}
            loss, metric = float(logs.get("loss", math.nan)), float(logs.get(_metric_key(logs), math.nan))
            if not math.isfinite(loss):
                state["status"] = "failed"
                state["reason"] = (f"The loss diverged (became {loss}) in epoch {epoch + 1}. "
                                   "Try a lower learning rate or gradient clipping (train.clipnorm).")
                self.model.stop_training = True
            val_loss, val_metric = _evaluate(self.model, data.x_val, data.y_val, data.w_val)
            if early is not None and math.isfinite(loss) and math.isfinite(val_loss):  # a NaN is never the best
                early.on_epoch_end(epoch, {**logs, "val_loss": val_loss})  # it may set stop_training
            now = time.monotonic()
            seconds = now - state["epoch_started"]
            emit(EpochEvent(epoch=epoch + 1, epochs=experiment.train.epochs, loss=loss, metric=metric,
                            val_loss=val_loss, val_metric=val_metric, seconds=seconds,
                            samples_per_s=len(data.x_train) / max(seconds, 1e-9), elapsed=now - state["t0"]))
            last = epoch + 1 == experiment.train.epochs or self.model.stop_training
            if early is not None and last:  # the run's last snapshot is of the weights it keeps, taken by train
                return
            if math.isfinite(loss) and ((epoch + 1) % experiment.train.snapshot_every == 0 or last or epoch == 0):
                emit(make_snapshot(epoch + 1, self.model, experiment, data, probe_x))

    return LiveEvents()


def fresh_dataset(experiment: Experiment, data: SequenceData, steps_per_epoch: int):
    """Batches of a new training draw every epoch (data.fresh_training_split), the first epoch on the data's own
    training part; each epoch shuffled from the training seed, so a run repeats exactly."""
    import tensorflow as tf

    batch = experiment.train.batch_size

    def batches():
        for epoch in itertools.count():
            if epoch == 0:
                parts = [data.x_train, data.y_train, data.w_train]
            else:
                parts = list(fresh_training_split(experiment.data, epoch))
            parts = [p for p in parts if p is not None]
            order = np.random.default_rng([experiment.train.seed, epoch]).permutation(len(parts[0]))
            for step in range(steps_per_epoch):
                rows = order[step * batch:(step + 1) * batch]
                yield tuple(p[rows] for p in parts)

    arrays = [a for a in (data.x_train, data.y_train, data.w_train) if a is not None]
    signature = tuple(tf.TensorSpec((None, *a.shape[1:]), tf.as_dtype(a.dtype)) for a in arrays)
    return tf.data.Dataset.from_generator(batches, output_signature=signature)


def training_dataset(experiment: Experiment, data: SequenceData, steps_per_epoch: int):
    """A repeated, shuffled dataset: one iterator for the whole run instead of one per epoch. No tf.data
    autotuning: with it, `fit` took 0-5 s to return after the last epoch (tearing down the tuner; 3 of 6 runs
    over 0.4 s, measured), a pause before every run's end; batches of in-memory arrays need no tuning."""
    import tensorflow as tf

    options = tf.data.Options()
    options.autotune.enabled = False
    if experiment.data.fresh_data:
        return fresh_dataset(experiment, data, steps_per_epoch).prefetch(2).with_options(options)
    tensors = (data.x_train, data.y_train) if data.w_train is None else (data.x_train, data.y_train, data.w_train)
    return (tf.data.Dataset.from_tensor_slices(tensors)
            .shuffle(len(data.x_train), seed=experiment.train.seed, reshuffle_each_iteration=True)
            .batch(experiment.train.batch_size).repeat().prefetch(2).with_options(options))


def train(experiment: Experiment, emit: Callable[[object], None], control: Control | None = None, *,
          uploaded: np.ndarray | None = None, save_artifacts: bool = True,
          data: SequenceData | None = None, models: ModelCache | None = None) -> EndEvent:
    """Train one experiment to the end, reporting through `emit`. Returns (and emits) the EndEvent, which
    carries the artifacts (ARTIFACT_NAMES, as bytes) unless `save_artifacts` is False.

    `models`: compiled models kept from earlier runs in this process (a worker's), reused by architecture.
    """
    control = control or Control(experiment.train.time_limit_s)
    t_build = time.monotonic()
    data = data or build_data(experiment.data, uploaded)
    train_cfg = experiment.train
    n_train = len(data.x_train)
    steps_per_epoch = math.ceil(n_train / train_cfg.batch_size)
    spe = steps_per_execution(experiment, data.n_features, steps_per_epoch)
    xla = use_xla(experiment, data, cached=models is not None and models.has(experiment, data, spe, True))
    compiled_before = models is not None and models.has(experiment, data, spe, xla)
    if models:
        model = models.model_for(experiment, data, spe, xla)
    else:
        model = build_model(experiment, steps_per_execution=spe, jit_compile=xla,
                            sizes=(data.n_features, data.n_outputs))
    build_state(model, data)
    probe_x, probe_y, probe_w = data.one_hot_rows("val", PROBE_SIZE)

    dataset = training_dataset(experiment, data, steps_per_epoch)

    emit(StartEvent(n_train=n_train, n_val=len(data.x_val), n_test=len(data.x_test), steps_per_epoch=steps_per_epoch,
                    steps_per_execution=spe, metric=metric_name(experiment), baselines=baselines(data, with_hmm=True),
                    probe_x=probe_x, probe_y=probe_y, probe_w=probe_w,
                    seconds_to_build=time.monotonic() - t_build, xla=xla, compiled_before=compiled_before,
                    vocabulary="".join(data.vocabulary.chars) if data.vocabulary else None))
    state = {"status": "running", "reason": "", "t0": time.monotonic(), "epoch_started": 0.0}
    history = []

    def record(event):
        if isinstance(event, EpochEvent):
            history.append(event)
        emit(event)

    early = _early_stopping(experiment) if early_stopping_on(experiment) else None
    callback = _make_callback(experiment, data, probe_x, record, control, state, early)
    fitted = False
    command = control.poll()
    if command == "pause":  # pressed while the data and the model were built
        command = control.wait_while_paused()
    if command == "stop":  # pressed before training began: do not start tracing
        state["status"], state["reason"] = "stopped", "Stopped by the user."
    else:
        try:
            model.fit(dataset, steps_per_epoch=steps_per_epoch, epochs=train_cfg.epochs, callbacks=[callback],
                      shuffle=False, verbose=0)  # the dataset shuffles itself
            fitted = True
        except MemoryError:
            state["status"] = "failed"
            state["reason"] = "The run ran out of memory: use fewer units, steps or sequences."
    if state["status"] == "running":
        state["status"] = "finished"
        if early is not None and early.stopped_epoch:
            state["reason"] = (f"Stopped early at epoch {len(history)}: the validation loss had not improved for "
                               f"{train_cfg.patience} epochs.")
        else:
            state["reason"] = f"Trained all {train_cfg.epochs} epochs."
    kept = early is not None and early.best_weights is not None
    if kept:
        # Whatever ended the run (early stopping, its last epoch, Stop, the time limit, a diverging loss), it keeps
        # the best validation epoch's weights: the test metrics, the artifacts and the last snapshot are of them.
        model.set_weights(early.best_weights)
        best = history[early.best_epoch]
        state["reason"] += " " + _kept_sentence(best, so_far=state["status"] != "finished")
    if early is not None and fitted and history and (kept or math.isfinite(history[-1].loss)):
        # Labelled with the run's last epoch, not the kept one: the store keys snapshots by epoch and takes the
        # highest as a run's latest (the job record the newest), and the latest must be the model the run kept.
        emit(make_snapshot(len(history), model, experiment, data, probe_x))

    test_metrics = {}
    if len(data.x_test) and state["status"] != "failed" and history:  # no epoch trained: nothing worth a test
        test_loss, test_metric = _evaluate(model, data.x_test, data.y_test, data.w_test)
        test_metrics = {"loss": test_loss, metric_name(experiment): test_metric}
    artifacts = artifact_bytes(experiment, model, history, data) if save_artifacts else {}
    end = EndEvent(status=state["status"], reason=state["reason"], epochs_done=len(history),
                   test_metrics=test_metrics, artifacts=artifacts)
    emit(end)
    return end


def compile_ahead(experiment: Experiment, models: ModelCache, *, uploaded: np.ndarray | None = None,
                  interrupted: Callable[[], bool] = lambda: False) -> bool:
    """Compile this experiment's network into `models` before anyone asks to train it, so that a Train pressed
    later starts without tracing. It traces what a run's first point waits for and nothing else: the training
    step, on one execution of steps of the run's own dataset, and the validation step (a model the cache resets to
    a fresh start when a run takes it). False when the network was compiled already, the settings build no data, or
    `interrupted()` (asked once the data is built) is true: once begun, the compile goes on to its end, a second or
    two, which the run that interrupts it, most often of this very network, would spend anyway."""
    try:
        data = build_data(experiment.data, uploaded)
    except DataError:
        return False  # the pages say what is wrong with these settings; nothing to compile
    steps_per_epoch = math.ceil(len(data.x_train) / experiment.train.batch_size)
    spe = steps_per_execution(experiment, data.n_features, steps_per_epoch)
    xla = use_xla(experiment, data, cached=models.has(experiment, data, spe, True))
    if models.has(experiment, data, spe, xla) or interrupted():
        return False
    model = models.model_for(experiment, data, spe, xla)
    build_state(model, data)
    model.fit(training_dataset(experiment, data, steps_per_epoch), steps_per_epoch=spe, epochs=1, shuffle=False,
              verbose=0)
    _evaluate(model, data.x_val[:EVAL_CHUNK], data.y_val[:EVAL_CHUNK],
              None if data.w_val is None else data.w_val[:EVAL_CHUNK])
    return True


HISTORY_COLUMNS = ("epoch", "loss", "metric", "val_loss", "val_metric", "seconds", "samples_per_s", "elapsed")


def history_csv(history: list[EpochEvent], metric: str = "metric") -> str:
    """The per-epoch history as CSV text, with the metric columns named after the metric."""
    header = [c.replace("metric", metric) for c in HISTORY_COLUMNS]
    lines = [",".join(header)]
    lines += [",".join(repr(getattr(e, c)) for c in HISTORY_COLUMNS) for e in history]
    return "\n".join(lines) + "\n"


# vocabulary.json: text runs; preprocessing.json: series runs.
ARTIFACT_NAMES = ("model.keras", "history.csv", "experiment.json", "vocabulary.json", "preprocessing.json")


def artifact_bytes(experiment: Experiment, model, history: list[EpochEvent],
                   data: SequenceData | None = None) -> dict[str, bytes]:
    """The .keras model, the history CSV and the experiment JSON of a run, by file name; for a text run also its
    vocabulary (the character of each symbol id), without which the model's outputs cannot be read, and for a
    series its preprocessing (log, lag, scaler), without which its inputs and outputs are not the series'."""
    with tempfile.TemporaryDirectory(prefix="seqcore-model-") as folder:
        path = Path(folder) / "model.keras"  # keras.saving wants a path, not a buffer
        model.save(path)
        model_bytes = path.read_bytes()
    files = {"model.keras": model_bytes, "history.csv": history_csv(history, metric_name(experiment)).encode(),
             "experiment.json": experiment.to_json().encode()}
    if data is not None and data.vocabulary is not None:
        from seqcore.text import vocabulary_json

        files["vocabulary.json"] = vocabulary_json(data.vocabulary).encode()
    if data is not None and data.transform is not None:  # raw values in, raw values out (the script's forecast())
        from seqcore.script import PREPROCESSING_FILE, preprocessing_json

        files[PREPROCESSING_FILE] = preprocessing_json(experiment, data)
    return files


def write_artifacts(artifacts: dict[str, bytes], out_dir: str | os.PathLike) -> dict[str, Path]:
    """Write a run's artifacts into a folder; their paths by file name."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {name: out / name for name in artifacts}
    for name, content in artifacts.items():
        paths[name].write_bytes(content)
    return paths
