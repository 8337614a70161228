"""A series run's end on the Train page: its test forecasts scored in the series' own units beside the naive ones
(seqcore.panels.series_evaluation, from seqcore.evaluation)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from seqcore import panels
from seqcore.config import preset
from seqcore.data import build_data
from seqcore.events import SnapshotEvent


@pytest.fixture(scope="module")
def sine_run():
    from seqcore.training import train

    experiment = preset("sine").with_values(**{"model.units": 8, "train.epochs": 3})
    events = []
    end = train(experiment, events.append, save_artifacts=False)
    snapshot = [e for e in events if isinstance(e, SnapshotEvent)][-1]
    return experiment, build_data(experiment.data), snapshot, end


def test_the_network_row_is_keras_test_loss_in_the_series_units(sine_run):
    experiment, data, snapshot, end = sine_run
    found = panels.series_evaluation(snapshot, data, cell=experiment.model.cell)
    network = found.score("network")
    # Keras' test MSE is in scaled units over the same windows: its root times the scale is the RMSE in raw units.
    assert network.rmse == pytest.approx(math.sqrt(end.test_metrics["loss"]) * data.scaler.scale, rel=1e-3)
    assert [name for name, _ in found.rows][:2] == ["network", "persistence"]
    rows = panels.evaluation_rows(found)
    assert sum(row[-1] == "✓" for row in rows) == 1 and rows[0][0] == "network"
    kind, sentence = found.verdict()
    assert kind in ("success", "warning") and sentence.startswith("Test RMSE")


def test_the_evaluation_goes_in_chunks_and_needs_a_test_part(sine_run, monkeypatch):
    experiment, data, snapshot, _ = sine_run
    whole = panels.series_evaluation(snapshot, data, cell=experiment.model.cell)
    monkeypatch.setattr(panels, "PREDICT_CHUNK", 7)  # not a divisor of the test windows
    chunked = panels.series_evaluation(snapshot, data, cell=experiment.model.cell)
    np.testing.assert_allclose(chunked.predictions["network"], whole.predictions["network"], rtol=1e-5, atol=1e-6)
    no_test = build_data(experiment.data.__class__(**{**experiment.data.__dict__, "test_fraction": 0.0}))
    assert panels.series_evaluation(snapshot, no_test, cell=experiment.model.cell) is None
