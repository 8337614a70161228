"""Early stopping: a run watches its validation loss, stops when it has not improved for `patience` epochs, and
keeps the weights of its best epoch, whatever ended it; its test metrics, its saved model and its last snapshot
are of those weights."""

from types import SimpleNamespace

import keras
import numpy as np
import pytest

from seqcore.config import preset
from seqcore.data import build_data
from seqcore.events import EndEvent, EpochEvent, SnapshotEvent
from seqcore.training import Control, StopFlag, early_stopping_on, train, write_artifacts

EPOCHS, PATIENCE = 25, 3
# Random digits cannot be predicted: the validation loss dips a little while the network learns the digits'
# frequencies, then rises as it learns its training sequences by heart.
OVERFITS = ["model.units=32", "data.n_sequences=60", "train.learning_rate=0.003", f"train.epochs={EPOCHS}",
            f"train.patience={PATIENCE}", "train.snapshot_every=1"]


def csv_series(**settings):
    return preset("sine").with_values(**{"data.generator": "csv", "data.csv_column": "v", **settings})


def noisy_sine(n=400):
    return np.sin(np.arange(n) * 0.2) + np.random.default_rng(0).normal(0, 0.1, n)


def run(experiment, control=None, **kwargs):
    events = []
    end = train(experiment, events.append, control, **kwargs)
    return SimpleNamespace(experiment=experiment, events=events, end=end,
                           epochs=[e for e in events if isinstance(e, EpochEvent)],
                           snapshots=[e for e in events if isinstance(e, SnapshotEvent)])


def best_epoch(epochs: list[EpochEvent]) -> EpochEvent:
    """The first epoch with the lowest validation loss (a tie is no improvement)."""
    return min(epochs, key=lambda e: (e.val_loss, e.epoch))


def snapshot_of(result, epoch: int) -> SnapshotEvent:
    return next(s for s in result.snapshots if s.epoch == epoch)


def assert_same_weights(a: list[np.ndarray], b: list[np.ndarray]) -> None:
    assert len(a) == len(b)
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x, y)


@pytest.fixture(scope="module")
def overfitting(tmp_path_factory):
    """The same run with early stopping on and off."""
    on = run(preset("seed").apply_overrides([*OVERFITS, "train.early_stopping=on"]))
    on.paths = write_artifacts(on.end.artifacts, tmp_path_factory.mktemp("early_on"))
    off = run(preset("seed").apply_overrides([*OVERFITS, "train.early_stopping=off"]), save_artifacts=False)
    return SimpleNamespace(on=on, off=off)


def test_auto_is_on_for_a_csv_series_and_off_for_the_lessons():
    assert early_stopping_on(csv_series())
    assert not early_stopping_on(preset("sine"))
    assert not early_stopping_on(preset("seed"))
    assert early_stopping_on(preset("sine").with_values(**{"train.early_stopping": "on"}))
    assert not early_stopping_on(csv_series(**{"train.early_stopping": "off"}))


def test_a_run_whose_validation_loss_rises_stops_early_and_names_its_best_epoch(overfitting):
    on = overfitting.on
    best, stopped = best_epoch(on.epochs), len(on.epochs)
    assert stopped < EPOCHS and on.end.epochs_done == stopped
    assert stopped == best.epoch + PATIENCE  # no better validation loss in the `patience` epochs after the best
    assert on.end.status == "finished"
    assert on.end.reason == (
        f"Stopped early at epoch {stopped}: the validation loss had not improved for {PATIENCE} epochs. "
        f"Kept the weights of epoch {best.epoch} (validation loss {best.val_loss:.4g}), the lowest.")


def test_the_model_a_run_keeps_is_its_best_epochs(overfitting):
    on = overfitting.on
    best, stopped = best_epoch(on.epochs), len(on.epochs)
    assert [s.epoch for s in on.snapshots] == list(range(1, stopped + 1))  # one per epoch, none twice
    last = on.snapshots[-1]  # the run's latest snapshot: what the Train page and the series evaluation read
    assert last.epoch == stopped and on.events[-2] is last and isinstance(on.events[-1], EndEvent)
    assert_same_weights(last.weights, snapshot_of(on, best.epoch).weights)
    assert not np.array_equal(last.weights[0], on.snapshots[-2].weights[0])  # not the weights training ended with
    saved = keras.saving.load_model(on.paths["model.keras"])
    assert_same_weights(saved.get_weights(), last.weights)


def test_the_test_metrics_are_those_of_the_kept_weights(overfitting):
    on, off = overfitting.on, overfitting.off
    data = build_data(on.experiment.data)
    saved = keras.saving.load_model(on.paths["model.keras"])
    scores = saved.evaluate(data.x_test, data.y_test, sample_weight=data.w_test, verbose=0, return_dict=True)
    assert on.end.test_metrics["loss"] == pytest.approx(scores["loss"], rel=1e-5)
    assert on.end.test_metrics["accuracy"] == pytest.approx(scores["accuracy"], rel=1e-5)
    assert on.end.test_metrics["loss"] != pytest.approx(off.end.test_metrics["loss"], rel=1e-6)


def test_early_stopping_off_trains_every_epoch_and_keeps_the_last_weights(overfitting):
    on, off = overfitting.on, overfitting.off
    assert (off.end.status, off.end.reason, off.end.epochs_done) == ("finished", f"Trained all {EPOCHS} epochs.",
                                                                     EPOCHS)
    assert [s.epoch for s in off.snapshots] == list(range(1, EPOCHS + 1))
    # Watching the validation loss changes nothing in training: the curves agree while both run.
    shared = len(on.epochs)
    np.testing.assert_allclose([e.loss for e in on.epochs], [e.loss for e in off.epochs[:shared]], rtol=1e-5)
    np.testing.assert_allclose([e.val_loss for e in on.epochs], [e.val_loss for e in off.epochs[:shared]],
                               rtol=1e-5)


def test_a_run_that_trains_all_its_epochs_still_keeps_its_best_weights():
    result = run(preset("seed").apply_overrides(
        [*OVERFITS, "train.epochs=6", "train.patience=50", "train.early_stopping=on"]), save_artifacts=False)
    best = best_epoch(result.epochs)
    assert (result.end.status, result.end.epochs_done) == ("finished", 6)
    assert result.end.reason == (f"Trained all 6 epochs. Kept the weights of epoch {best.epoch} "
                                 f"(validation loss {best.val_loss:.4g}), the lowest.")
    assert [s.epoch for s in result.snapshots] == list(range(1, 7))
    if best.epoch < 6:
        assert_same_weights(result.snapshots[-1].weights, snapshot_of(result, best.epoch).weights)


class TimesOutAfterEpoch(Control):
    """A deadline that passes once `epoch` epochs have been reported."""

    def __init__(self, epoch: int):
        super().__init__(deadline_s=60.0)
        self.epoch, self.seen = epoch, 0

    def timed_out(self) -> bool:
        return self.seen >= self.epoch


@pytest.mark.parametrize("ending", ["stopped", "timed_out"])
def test_stop_or_the_time_limit_keeps_the_best_weights_so_far(ending):
    control = StopFlag() if ending == "stopped" else TimesOutAfterEpoch(4)
    events = []

    def emit(event):
        events.append(event)
        if isinstance(event, EpochEvent) and event.epoch == 4:
            if ending == "stopped":
                control.requested = True  # Stop pressed during epoch 4: the run ends in epoch 5
            else:
                control.seen = event.epoch

    experiment = preset("seed").apply_overrides(
        [*OVERFITS, "train.learning_rate=0.02", "train.patience=50", "train.early_stopping=on"])
    end = train(experiment, emit, control, save_artifacts=False)
    epochs = [e for e in events if isinstance(e, EpochEvent)]
    snapshots = [e for e in events if isinstance(e, SnapshotEvent)]
    best = best_epoch(epochs)
    assert end.status == ending and end.epochs_done == len(epochs) < EPOCHS
    first = "Stopped by the user." if ending == "stopped" else "The run reached its time limit of 60 s."
    assert end.reason == (f"{first} Kept the weights of epoch {best.epoch} (validation loss {best.val_loss:.4g}), "
                          "the lowest so far.")
    assert snapshots[-1].epoch == len(epochs) and events[-2] is snapshots[-1]
    if best.epoch < len(epochs):
        assert_same_weights(snapshots[-1].weights, next(s for s in snapshots if s.epoch == best.epoch).weights)
    assert end.test_metrics  # tested, on the kept weights


def test_a_diverging_run_with_early_stopping_still_fails_cleanly():
    experiment = preset("sine").apply_overrides(
        ["model.cell=SimpleRNN", "model.activation=relu", "model.units=32", "train.optimizer=sgd",
         "train.learning_rate=1.0", "train.epochs=20", "data.n_points=300", "train.early_stopping=on"])
    with np.errstate(all="ignore"):
        result = run(experiment, save_artifacts=False)
    assert result.end.status == "failed" and "diverged" in result.end.reason
    assert 1 <= result.end.epochs_done < 20 and result.end.test_metrics == {}
    for snapshot in result.snapshots:
        assert all(np.isfinite(w).all() for w in snapshot.weights)


def test_fresh_data_runs_with_early_stopping():
    settings = {"data.generator": "adding", "data.n_sequences": 120, "data.seq_len": 10, "model.units": 8,
                "train.epochs": 3, "train.batch_size": 16, "data.fresh_data": True, "train.early_stopping": "on"}
    result = run(preset("seed").with_values(**settings), save_artifacts=False)
    best = best_epoch(result.epochs)
    assert result.end.status == "finished" and result.end.epochs_done == 3
    assert result.end.reason.endswith(f"Kept the weights of epoch {best.epoch} "
                                      f"(validation loss {best.val_loss:.4g}), the lowest.")


def test_a_csv_series_stops_early_by_default():
    result = run(csv_series(**{"train.epochs": 3, "model.units": 8}), uploaded=noisy_sine(), save_artifacts=False)
    best = best_epoch(result.epochs)
    assert result.end.status == "finished"
    assert f"Kept the weights of epoch {best.epoch} " in result.end.reason
    assert result.snapshots[-1].epoch == 3
