"""What a user of one training run notices: the live events, the files it leaves, and a clear failure when
the loss blows up."""

import csv
import math
from types import SimpleNamespace

import keras
import numpy as np
import pytest

from seqcore.config import Experiment, preset
from seqcore.events import EndEvent, EpochEvent, SnapshotEvent, StartEvent
from seqcore.training import Control, ModelCache, compile_ahead, train, write_artifacts

EPOCHS, EVERY = 5, 2


@pytest.fixture(scope="module")
def seed_run(tmp_path_factory):
    """The seed tutorial, made tiny: 5 epochs, a snapshot every 2, artifacts written."""
    experiment = preset("seed").apply_overrides(
        [f"train.epochs={EPOCHS}", f"train.snapshot_every={EVERY}", "model.units=8", "data.n_sequences=40"])
    out = tmp_path_factory.mktemp("seed_run")
    events = []
    end = train(experiment, events.append)
    paths = write_artifacts(end.artifacts, out)
    return SimpleNamespace(experiment=experiment, events=events, end=end, out=out, paths=paths,
                           epochs=[e for e in events if isinstance(e, EpochEvent)],
                           snapshots=[e for e in events if isinstance(e, SnapshotEvent)])


def test_a_run_reports_start_every_epoch_and_its_end(seed_run):
    events = seed_run.events
    assert isinstance(events[0], StartEvent)
    assert isinstance(events[-1], EndEvent) and events[-1] == seed_run.end
    assert sum(isinstance(e, (StartEvent, EndEvent)) for e in events) == 2
    assert [e.epoch for e in seed_run.epochs] == list(range(1, EPOCHS + 1))
    assert all(e.epochs == EPOCHS for e in seed_run.epochs)
    end = seed_run.end
    assert (end.status, end.reason, end.epochs_done) == ("finished", f"Trained all {EPOCHS} epochs.", EPOCHS)
    assert set(end.test_metrics) == {"loss", "accuracy"}


def test_snapshots_come_every_k_epochs_plus_the_first_and_the_last(seed_run):
    assert [s.epoch for s in seed_run.snapshots] == [1, 2, 4, 5]
    for snapshot in seed_run.snapshots:  # each right after its epoch's event
        position = seed_run.events.index(snapshot)
        assert seed_run.events[position - 1].epoch == snapshot.epoch


def test_the_start_event_describes_the_data(seed_run):
    start = seed_run.events[0]
    assert start.n_train + start.n_val + start.n_test == 40
    assert start.n_train > start.n_val > 0
    assert start.steps_per_epoch == math.ceil(start.n_train / 10)
    assert start.metric == "accuracy"
    assert start.baselines["chance accuracy"] == pytest.approx(0.1)
    # The probe: the first validation sequences, 9 one-hot steps of 10 digits each.
    assert start.probe_x.shape == (4, 9, 10) and start.probe_y.shape == (4, 9, 10)


def test_epoch_metrics_are_finite_and_time_moves_on(seed_run):
    for epoch in seed_run.epochs:
        assert 0.0 <= epoch.metric <= 1.0 and 0.0 <= epoch.val_metric <= 1.0
        assert math.isfinite(epoch.loss) and math.isfinite(epoch.val_loss)
        assert epoch.seconds > 0 and epoch.samples_per_s > 0
    elapsed = [e.elapsed for e in seed_run.epochs]
    assert elapsed == sorted(elapsed)


def test_snapshots_hold_hidden_states_of_the_probe(seed_run):
    for snapshot in seed_run.snapshots:
        assert [h.shape for h in snapshot.hidden] == [(4, 9, 8)]  # (probe, T, units) for the one layer
        assert np.all(np.abs(snapshot.hidden[0]) <= 1.0)  # tanh-bounded hidden states
        assert snapshot.probe_output.shape == (4, 9, 10)
        np.testing.assert_allclose(snapshot.probe_output.sum(-1), 1.0, atol=1e-5)  # a softmax over the digits
    assert not np.array_equal(seed_run.snapshots[0].weights[0], seed_run.snapshots[-1].weights[0])  # it learnt


def test_the_saved_model_is_the_trained_one(seed_run):
    model = keras.saving.load_model(seed_run.paths["model.keras"])
    last = seed_run.snapshots[-1]
    for saved, recorded in zip(model.get_weights(), last.weights, strict=True):
        np.testing.assert_array_equal(saved, recorded)
    # The snapshot's probe output (from the reference forward pass) is what the saved model predicts.
    probe_x = seed_run.events[0].probe_x
    np.testing.assert_allclose(model.predict_on_batch(probe_x), last.probe_output, atol=1e-5)


def test_history_csv_has_one_row_per_epoch(seed_run):
    assert seed_run.paths["history.csv"] == seed_run.out / "history.csv"
    with open(seed_run.paths["history.csv"], newline="") as file:
        rows = list(csv.DictReader(file))
    assert list(rows[0]) == ["epoch", "loss", "accuracy", "val_loss", "val_accuracy", "seconds", "samples_per_s",
                             "elapsed"]
    assert [int(r["epoch"]) for r in rows] == list(range(1, EPOCHS + 1))
    assert [float(r["loss"]) for r in rows] == [e.loss for e in seed_run.epochs]
    assert [float(r["val_accuracy"]) for r in rows] == [e.val_metric for e in seed_run.epochs]


def test_experiment_json_reproduces_the_run(seed_run):
    assert Experiment.from_json(seed_run.end.artifacts["experiment.json"].decode()) == seed_run.experiment


def test_a_diverging_loss_fails_the_run_and_suggests_a_lower_learning_rate():
    # A ReLU SimpleRNN under plain SGD with the largest allowed learning rate: the loss overflows in epoch 1.
    experiment = preset("sine").apply_overrides(
        ["model.cell=SimpleRNN", "model.activation=relu", "model.units=32", "train.optimizer=sgd",
         "train.learning_rate=1.0", "train.epochs=20", "data.n_points=300"])
    events = []
    with np.errstate(all="ignore"):
        end = train(experiment, events.append)
    assert end.status == "failed"
    assert "diverged" in end.reason and "learning rate" in end.reason
    assert 1 <= end.epochs_done < 20  # it stopped at once instead of training on NaNs
    assert end.test_metrics == {}
    for snapshot in (e for e in events if isinstance(e, SnapshotEvent)):
        assert all(np.isfinite(w).all() for w in snapshot.weights)


def test_a_stop_pressed_while_the_run_is_built_ends_it_before_any_training():
    class StopAtOnce(Control):
        def poll(self):
            return "stop"

    events = []
    end = train(preset("seed"), events.append, StopAtOnce())
    assert (end.status, end.reason, end.epochs_done) == ("stopped", "Stopped by the user.", 0)
    assert not [e for e in events if isinstance(e, EpochEvent)]
    assert end.test_metrics == {}  # nothing was trained, so there is nothing to test
    assert set(end.artifacts) == {"model.keras", "history.csv", "experiment.json"}


def _losses(experiment, models=None) -> list[float]:
    events = []
    train(experiment, events.append, models=models)
    return [e.loss for e in events if isinstance(e, EpochEvent)]


@pytest.mark.parametrize("cell,optimizer,dropout", [("LSTM", "adam", 0.0), ("GRU", "rmsprop", 0.2)])
def test_retraining_the_same_network_reuses_its_compiled_model_and_learns_the_same_curve(cell, optimizer, dropout):
    """A worker keeps compiled models: the second run of an architecture skips tracing, yet starts from the
    initial weights, optimizer state and dropout masks of a fresh build, so its curve is the fresh run's."""
    experiment = preset("seed").apply_overrides([
        "train.epochs=3", "model.units=8", "data.n_sequences=40", f"model.cell={cell}",
        f"train.optimizer={optimizer}", f"model.dropout={dropout}"])
    reseeded = experiment.with_values(**{"train.seed": 7})
    fresh, fresh_reseeded = _losses(experiment), _losses(reseeded)
    models = ModelCache()
    first = _losses(experiment, models)
    again = _losses(experiment.with_values(**{"train.learning_rate": 0.01}), models)  # changes no graph
    repeat = _losses(experiment, models)
    other_seed = _losses(reseeded, models)  # other initial weights, dropout masks and batch order
    back = _losses(experiment, models)
    assert models.hits == 4
    np.testing.assert_allclose(first, fresh, rtol=1e-5)
    np.testing.assert_allclose(repeat, fresh, rtol=1e-5)
    np.testing.assert_allclose(other_seed, fresh_reseeded, rtol=1e-5)
    np.testing.assert_allclose(back, fresh, rtol=1e-5)
    assert not np.allclose(again, fresh, rtol=1e-3)  # the new learning rate took effect
    assert not np.allclose(other_seed, fresh, rtol=1e-3)


def test_an_initialisation_lever_reuses_the_compiled_model_and_starts_from_its_own_weights():
    """The levers set starting values, not the graph: a chrono run after a plain one takes the compiled model,
    yet learns the curve a fresh chrono build learns."""
    base = preset("seed").apply_overrides(["train.epochs=2", "model.units=6", "data.n_sequences=40"])
    chrono = base.with_values(**{"model.chrono_t_max": 20, "model.forget_bias": 0.0})
    fresh = _losses(chrono)
    models = ModelCache()
    _losses(base, models)
    cached = _losses(chrono, models)
    assert models.hits == 1
    np.testing.assert_allclose(cached, fresh, rtol=1e-5)
    assert not np.allclose(cached, _losses(base), rtol=1e-4)  # the lever changed the run


def _start(experiment, models) -> StartEvent:
    events = []
    train(experiment, events.append, models=models, save_artifacts=False)
    return next(e for e in events if isinstance(e, StartEvent))


def test_a_network_compiled_ahead_of_train_starts_compiled_and_learns_the_curve_of_a_fresh_build():
    """What an idle worker does while a person changes settings: compile the network. The run that follows takes
    it from the cache, traced already, and learns the same curve as a run that compiled its own network."""
    experiment = preset("seed").apply_overrides(["train.epochs=3", "model.units=7", "data.n_sequences=40"])
    fresh = _losses(experiment)
    models = ModelCache()
    assert compile_ahead(experiment, models)
    assert not compile_ahead(experiment, models)  # compiled already: nothing more to do
    events = []
    train(experiment, events.append, models=models)
    assert models.hits == 1
    assert next(e for e in events if isinstance(e, StartEvent)).compiled_before
    np.testing.assert_allclose([e.loss for e in events if isinstance(e, EpochEvent)], fresh, rtol=1e-5)
    assert not _start(experiment.with_values(**{"model.units": 9}), models).compiled_before


def test_compiling_ahead_does_not_begin_when_a_run_is_waiting_already():
    experiment = preset("seed").apply_overrides(["train.epochs=3", "model.units=5", "data.n_sequences=40"])
    models = ModelCache()
    assert not compile_ahead(experiment, models, interrupted=lambda: True)
    assert not _start(experiment, models).compiled_before  # nothing was put in the cache


def test_compiling_ahead_settings_that_build_no_data_does_nothing():
    bad = preset("seed").apply_overrides(["data.generator=csv", "data.csv_column=value"])  # and no file given
    assert not compile_ahead(bad, ModelCache())


def test_a_changed_architecture_gets_its_own_model():
    models = ModelCache(size=2)
    base = preset("seed").apply_overrides(["train.epochs=1", "model.units=4", "data.n_sequences=20"])
    for units in (4, 5, 6, 4):
        _losses(base.with_values(**{"model.units": units}), models)
    assert models.hits == 0  # units 4 was evicted when 6 came in: only the two most recent are kept
    _losses(base.with_values(**{"model.units": 6}), models)
    assert models.hits == 1


@pytest.mark.parametrize("generator", ["random_digits", "delay", "sine"])
def test_a_new_network_creates_no_variables_while_its_training_steps_are_traced(generator):
    """Keras' TensorFlow trainer leaves the optimizer's and the metrics' variables to the first traced step, and
    a tf.function that creates variables while tracing is traced twice: a new network's first epoch took about a
    second longer. `train` builds them first, for unweighted, weighted (delay) and regression data alike."""
    import tensorflow as tf

    created_while_tracing = []

    def creator(next_creator, **kwargs):
        if tf.inside_function():
            created_while_tracing.append(kwargs.get("name"))
        return next_creator(**kwargs)

    experiment = preset("seed").apply_overrides(
        ["train.epochs=2", "model.units=6", "data.n_sequences=20", f"data.generator={generator}"])
    with tf.variable_creator_scope(creator):
        end = train(experiment, lambda event: None)
    assert end.status == "finished"
    assert created_while_tracing == []


@pytest.mark.parametrize("generator", ["adding", "delay"])
def test_gradients_through_time_match_finite_differences_of_each_sequences_loss(generator):
    from seqcore.data import build_data
    from seqcore.models import build_model
    from seqcore.training import input_gradient_norms

    settings = {"data.generator": generator, "data.n_sequences": 40, "data.seq_len": 6, "model.units": 3,
                "model.cell": "SimpleRNN"}
    if generator == "delay":
        settings["data.lag"] = 3
    experiment = preset("seed").with_values(**settings)
    data = build_data(experiment.data)
    model = build_model(experiment)
    x, y = data.x_val[:2].astype(np.float32), data.y_val[:2]
    w = None if data.w_val is None else data.w_val[:2]

    def loss_of(i, inputs):  # sequence i's own loss: a change to its input changes no other's
        return float(model.compute_loss(x=inputs, y=y[i:i + 1], y_pred=model(inputs),
                                        sample_weight=None if w is None else w[i:i + 1]))

    eps = 1e-2
    numeric = np.zeros_like(x, dtype=np.float64)
    for index in np.ndindex(*x.shape):
        i, up, down = index[0], x[index[0]:index[0] + 1].copy(), x[index[0]:index[0] + 1].copy()
        up[(0, *index[1:])] += eps
        down[(0, *index[1:])] -= eps
        numeric[index] = (loss_of(i, up) - loss_of(i, down)) / (2 * eps)
    expected = np.linalg.norm(numeric, axis=-1).mean(axis=0)
    norms = input_gradient_norms(model, x, y, w)
    assert norms.shape == (x.shape[1],)
    np.testing.assert_allclose(norms, expected, rtol=0.03, atol=1e-4)
    if generator == "adding":  # the loss is on the last step only: the input there matters most
        assert norms[-1] > norms[0]


def test_snapshots_carry_the_gradients_through_time(seed_run):
    snapshots = [e for e in seed_run.events if isinstance(e, SnapshotEvent)]
    steps = seed_run.experiment.data.seq_len - 1
    assert all(s.grad_norms.shape == (steps,) and np.isfinite(s.grad_norms).all() for s in snapshots)


def test_fresh_data_trains_on_a_new_draw_each_epoch_and_a_run_repeats_exactly():
    settings = {"data.generator": "adding", "data.n_sequences": 120, "data.seq_len": 10, "model.units": 8,
                "train.epochs": 3, "train.batch_size": 16}
    fresh = preset("seed").with_values(**settings, **{"data.fresh_data": True})

    def losses(experiment):
        events = []
        train(experiment, events.append, save_artifacts=False)
        return [e.loss for e in events if isinstance(e, EpochEvent)]

    first, again = losses(fresh), losses(fresh)
    assert first == again  # the draws come from the seeds: the same run twice is the same run
    assert len(first) == 3 and all(math.isfinite(v) for v in first)
    assert first != losses(preset("seed").with_values(**settings))
