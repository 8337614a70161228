"""Runs as training reports them, without training: for the benchmark rows that need many stored runs.

Each run is the stream of events a worker would send (StartEvent, an EpochEvent per epoch with snapshots where
`train.snapshot_every` puts them, the EndEvent with test metrics and artifacts), of the shapes the real run of
that experiment has: the StartEvent's probe batch and baselines come from the experiment's own data
(`build_data`); a snapshot holds weights in Keras' layout (random values), the probe batch's hidden states
and outputs from the NumPy reference forward pass of those weights (as `training.make_snapshot` computes them
from the trained weights), and validation predictions, a forecast and gradient norms of their real shapes
(random values: the reference's forecast loop costs 0.2 s a snapshot, too slow for hundreds of runs). One
snapshot is computed per architecture and data and reused at every epoch (bytes are what the store sees). The
curves fall like learning curves do, with noise. NumPy only: no TensorFlow, no Keras.
"""

from __future__ import annotations

import dataclasses
import math
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from seqcore import reference  # noqa: E402
from seqcore.backend import JobRecord  # noqa: E402
from seqcore.cells import CELLS  # noqa: E402
from seqcore.config import Experiment, preset  # noqa: E402
from seqcore.data import SequenceData, build_data  # noqa: E402
from seqcore.events import EndEvent, EpochEvent, SnapshotEvent, StartEvent  # noqa: E402
from seqcore.models import input_output_sizes, metric_name  # noqa: E402
from seqcore.tasks import SERIES  # noqa: E402
from seqcore.training import MAX_VAL_PREDICTIONS, PROBE_SIZE, history_csv  # noqa: E402

# The presets a class trains (all of them but `overfit`, whose 2×128 network makes the biggest snapshots and is
# in the mix through its width below), crossed with the cells and widths people pick.
PRESETS = ("seed", "patterned", "sine", "delay", "delay_simplernn", "adding", "overfit_cured", "mackey_glass")
CELL_CHOICES = ("LSTM", "GRU", "SimpleRNN")
UNIT_CHOICES = (16, 32, 50, 64, 128)


def varied_experiments(n: int, seed: int = 0, *, min_epochs: int = 30, max_epochs: int = 300,
                       snapshots: int = 2) -> list[Experiment]:
    """`n` experiments over the presets, cells and widths, `min_epochs`-`max_epochs` epochs each, with
    `train.snapshot_every` set so that training takes `snapshots` snapshots besides the first epoch's."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        epochs = int(rng.integers(min_epochs, max_epochs + 1))
        out.append(preset(PRESETS[i % len(PRESETS)]).with_values(**{
            "model.cell": CELL_CHOICES[int(rng.integers(len(CELL_CHOICES)))],
            "model.units": int(UNIT_CHOICES[int(rng.integers(len(UNIT_CHOICES)))]),
            "train.epochs": epochs, "train.snapshot_every": max(1, math.ceil(epochs / snapshots))}))
    return out


def random_weights(experiment: Experiment, rng: np.random.Generator) -> list[np.ndarray]:
    """`model.get_weights()` of the experiment's network, in Keras' layout, with random values."""
    model = experiment.model
    spec = CELLS[model.cell]
    inputs, outputs = input_output_sizes(experiment.data)
    weights, width = [], model.units * spec.n_blocks
    for _ in range(model.layers):
        bias = (width,) if spec.bias_rows == 1 else (spec.bias_rows, width)
        weights += [rng.normal(0, 0.3, (inputs, width)), rng.normal(0, 0.3, (model.units, width)),
                    rng.normal(0, 0.05, bias)]
        inputs = model.units
    weights += [rng.normal(0, 0.3, (model.units, outputs)), rng.normal(0, 0.05, (outputs,))]
    return [w.astype(np.float32) for w in weights]


def snapshot_event(epoch: int, experiment: Experiment, data: SequenceData, rng: np.random.Generator) -> SnapshotEvent:
    """What `training.make_snapshot` reports at `epoch`, in shapes and sizes (see the module's docstring)."""
    weights = random_weights(experiment, rng)
    cell, head, activation = experiment.model.cell, data.head, experiment.model.activation
    trace = reference.forward(weights, data.x_val[:PROBE_SIZE], cell=cell, head=head, activation=activation)
    val_prediction = forecast = None
    if head == "regression":
        outputs = input_output_sizes(experiment.data)[1]
        val_prediction = rng.normal(0, 1, (min(MAX_VAL_PREDICTIONS, len(data.x_val)), outputs)).astype(np.float32)
    if data.task.kind is SERIES:
        forecast = rng.normal(0, 1, int(min(100, max(20, len(data.x_val) // 2)))).astype(np.float32)
    extra = {}
    if "grad_norms" in {f.name for f in dataclasses.fields(SnapshotEvent)}:  # ||dL/dx_t||, one per step
        extra["grad_norms"] = np.abs(rng.normal(0, 0.1, data.x_val.shape[1])).astype(np.float32)
    return SnapshotEvent(epoch=epoch, weights=weights, hidden=[layer.h.astype(np.float32) for layer in trace.layers],
                         probe_output=trace.output.astype(np.float32), val_prediction=val_prediction,
                         forecast=forecast, **extra)


def start_event(experiment: Experiment, data: SequenceData) -> StartEvent:
    from seqcore.baselines import baselines

    steps = math.ceil(len(data.x_train) / experiment.train.batch_size)
    return StartEvent(n_train=len(data.x_train), n_val=len(data.x_val), n_test=len(data.x_test),
                      steps_per_epoch=steps, steps_per_execution=steps, metric=metric_name(experiment),
                      baselines=baselines(data), probe_x=data.x_val[:PROBE_SIZE], probe_y=data.y_val[:PROBE_SIZE],
                      probe_w=None if data.w_val is None else data.w_val[:PROBE_SIZE], seconds_to_build=0.05)


def curves(epochs: int, metric: str, rng: np.random.Generator, *, vocab: int = 10) -> dict[str, np.ndarray]:
    """Learning curves: loss falling to a floor with noise, validation a little above (and rising late when it
    overfits); accuracy rising from chance, or MAE falling."""
    t = np.arange(1, epochs + 1, dtype=np.float64)
    tau = rng.uniform(0.1, 0.4) * epochs
    start = math.log(vocab) if metric == "accuracy" else rng.uniform(0.3, 1.2)
    floor = start * rng.uniform(0.05, 0.6)
    loss = floor + (start - floor) * np.exp(-t / tau) * (1 + 0.03 * rng.standard_normal(epochs))
    overfit = rng.uniform(0, 0.3) * floor * np.clip((t - 2 * tau) / epochs, 0, None)
    val_loss = loss * rng.uniform(1.0, 1.15) + overfit + 0.01 * start * rng.standard_normal(epochs)
    if metric == "accuracy":
        top = rng.uniform(0.3, 1.0)
        chance = 1.0 / vocab
        metric_values = chance + (top - chance) * (1 - np.exp(-t / tau))
        val_metric = metric_values * rng.uniform(0.85, 1.0)
    else:
        metric_values = np.sqrt(np.maximum(loss, 1e-9)) * 0.8
        val_metric = np.sqrt(np.maximum(val_loss, 1e-9)) * 0.8
    noise = lambda: 0.01 * rng.standard_normal(epochs)  # noqa: E731
    return {"loss": np.abs(loss), "metric": np.abs(metric_values + noise()), "val_loss": np.abs(val_loss),
            "val_metric": np.abs(val_metric + noise())}


def run_events(experiment: Experiment, rng: np.random.Generator, *, data: SequenceData | None = None,
               epochs_done: int | None = None, status: str = "finished", snapshots: bool = True,
               artifacts: bool = True, cache: dict | None = None) -> list:
    """Every event of one run, in the order a worker sends them; `epochs_done` below the experiment's epochs
    with `status` 'stopped' for a run stopped early. `cache`: snapshots by architecture and data, shared by
    the runs of one fill."""
    data = data if data is not None else build_data(experiment.data)
    cache = {} if cache is None else cache
    key = (experiment.model, experiment.data)
    start = start_event(experiment, data)
    epochs = experiment.train.epochs
    done = epochs if epochs_done is None else epochs_done
    values = curves(epochs, start.metric, rng, vocab=max(2, experiment.data.vocab_size))
    seconds = rng.uniform(0.01, 0.3)
    events, history = [start], []
    for i in range(done):
        epoch = i + 1
        event = EpochEvent(epoch=epoch, epochs=epochs, **{name: float(v[i]) for name, v in values.items()},
                           seconds=seconds, samples_per_s=start.n_train / seconds, elapsed=seconds * epoch)
        events.append(event)
        history.append(event)
        last = epoch == done
        if snapshots and (epoch % experiment.train.snapshot_every == 0 or last or epoch == 1):
            if key not in cache:
                cache[key] = snapshot_event(epoch, experiment, data, rng)
            events.append(dataclasses.replace(cache[key], epoch=epoch))
    test = {"loss": float(values["val_loss"][done - 1]) * 1.02, start.metric: float(values["val_metric"][done - 1])}
    files = {}
    if artifacts:  # model.keras: its weights and the optimizer's two moments, plus the zip's own files
        n_weights = sum(w.size for w in random_weights(experiment, rng))
        files = {"model.keras": rng.bytes(12 * n_weights + 20_000),
                 "history.csv": history_csv(history, start.metric).encode(),
                 "experiment.json": experiment.to_json().encode()}
    reason = f"Trained all {epochs} epochs." if status == "finished" else "Stopped by the user."
    events.append(EndEvent(status=status, reason=reason, epochs_done=done, test_metrics=test, artifacts=files))
    return events


def record_run(recorder, run_id: str, experiment: Experiment, events: list, owner: str | None = None) -> JobRecord:
    """Replay a run's events into a JobRecord whose recorder (a RunStore) writes them, as the server does."""
    record = JobRecord(run_id, experiment, owner=owner, recorder=recorder)
    record.mark_started()
    for event in events:
        record.apply(event)
    if record.record_error:
        raise RuntimeError(f"recording {run_id} failed: {record.record_error}")
    return record


MIN_EPOCHS, MAX_EPOCHS, SNAPSHOTS, STOPPED_EVERY = 30, 300, 2, 7  # fill_store's runs


def fill_store(store, owner: str, n: int, seed: int = 0, *, stopped_every: int = STOPPED_EVERY,
               min_epochs: int = MIN_EPOCHS, max_epochs: int = MAX_EPOCHS) -> list[str]:
    """`n` varied runs owned by `owner` (`varied_experiments`, SNAPSHOTS snapshots besides the first epoch's),
    recorded into `store` through JobRecords; every `stopped_every`-th one stopped a third of the way. The run
    ids, oldest first."""
    rng = np.random.default_rng(seed)
    datas: dict = {}
    snapshots: dict = {}
    ids = []
    experiments = varied_experiments(n, seed, min_epochs=min_epochs, max_epochs=max_epochs, snapshots=SNAPSHOTS)
    for i, experiment in enumerate(experiments):
        data = datas.get(experiment.data)
        if data is None:
            data = datas[experiment.data] = build_data(experiment.data)
        epochs = experiment.train.epochs
        stopped = stopped_every and i % stopped_every == stopped_every - 1
        events = run_events(experiment, rng, data=data, epochs_done=max(1, epochs // 3) if stopped else None,
                            status="stopped" if stopped else "finished", cache=snapshots)
        run_id = f"bench-{seed}-{i:04d}"
        record_run(store, run_id, experiment, events, owner)
        ids.append(run_id)
    return ids
