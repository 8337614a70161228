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


@pytest.fixture(scope="module")
def dated_run():
    """A person's monthly CSV with a trend and a season, trained as the app does (auto: differenced)."""
    import pandas as pd

    from seqcore import csvseries
    from seqcore.data import load_csv
    from seqcore.training import train

    t = np.arange(240)
    values = 300 + 0.4 * t + 4 * np.sin(2 * np.pi * t / 12) + np.random.default_rng(3).normal(0, 0.3, len(t))
    text = pd.DataFrame({"month": pd.date_range("1990-01-31", periods=len(t), freq="ME").strftime("%Y-%m-%d"),
                         "ppm": values}).to_csv(index=False)
    uploaded = csvseries.column_series(load_csv(text.encode()), "ppm", "month")
    experiment = preset("sine").with_values(**{"data.generator": "csv", "data.csv_column": "ppm",
                                               "data.time_column": "month", "data.seq_len": 12,
                                               "model.units": 8, "train.epochs": 3})
    events = []
    end = train(experiment, events.append, uploaded=uploaded, save_artifacts=False)
    snapshot = [e for e in events if isinstance(e, SnapshotEvent)][-1]
    return experiment, build_data(experiment.data, uploaded), snapshot, end


def test_a_differenced_run_is_scored_in_its_own_units(dated_run):
    experiment, data, snapshot, end = dated_run
    assert data.transform.lag == 1 and data.season == 12
    assert "Kept the weights of epoch" in end.reason  # early stopping is on for a CSV series
    found = panels.series_evaluation(snapshot, data, cell=experiment.model.cell)
    # One step ahead of a lag-1 difference, the error in ppm is the error in the change: Keras' test MSE, scaled.
    assert found.score("network").rmse == pytest.approx(math.sqrt(end.test_metrics["loss"]) * data.scaler.scale,
                                                        rel=1e-3)
    assert {"persistence", "seasonal naive", "mean", "linear AR"} <= {name for name, _ in found.rows}
    assert found.truth.min() > 380  # the test part's true values in ppm, far above the training mean


def test_the_forecast_past_the_end_continues_the_dates(dated_run):
    experiment, data, snapshot, _ = dated_run
    direct = panels.forecast_past_end(snapshot, data, 1, cell=experiment.model.cell)
    assert direct.method == "direct" and direct.axis[0] == np.datetime64("2010-01-31")  # the month after the last
    ahead = panels.forecast_past_end(snapshot, data, 24, cell=experiment.model.cell)
    assert ahead.method == "recursive" and "fed back" in ahead.sentence and len(ahead.values) == 24
    assert ahead.axis[-1] == np.datetime64("2011-12-31")  # month ends, at the series' frequency
    assert ahead.values[0] == pytest.approx(direct.values[0])
    # a trend learnt as changes goes on past the last value instead of falling back to the training level
    assert abs(ahead.values[0] - data.series[-1]) < 10
    with pytest.raises(ValueError, match="from 1 to"):
        panels.forecast_past_end(snapshot, data, 0, cell=experiment.model.cell)


def test_the_forecast_downloads_as_csv_with_dates(dated_run):
    import io

    import pandas as pd

    experiment, data, snapshot, _ = dated_run
    found = panels.series_evaluation(snapshot, data, cell=experiment.model.cell)
    future = panels.forecast_past_end(snapshot, data, 6, cell=experiment.model.cell)
    frame = pd.read_csv(io.BytesIO(panels.forecast_csv(data, found, future)), parse_dates=["time"])
    assert list(frame.columns) == ["time", "part", "actual", "forecast"]
    assert (frame["part"] == "past the end").sum() == 6 and frame["time"].is_monotonic_increasing
    assert frame["time"].iloc[-1] == pd.Timestamp("2010-06-30") and math.isnan(frame["actual"].iloc[-1])
    figure = panels.forecast_figure(data, found, future, epoch=snapshot.epoch)
    assert figure.layout.xaxis.title.text == "date"


def test_without_a_test_part_the_forecast_past_the_end_still_draws_and_downloads(dated_run):
    import io

    import pandas as pd

    experiment, data, snapshot, _ = dated_run
    no_test = build_data(experiment.data.__class__(**{**experiment.data.__dict__, "test_fraction": 0.0}),
                         _uploaded_of(data))
    assert panels.series_evaluation(snapshot, no_test, cell=experiment.model.cell) is None
    future = panels.forecast_past_end(snapshot, no_test, 12, cell=experiment.model.cell)
    figure = panels.forecast_figure(no_test, None, future, epoch=snapshot.epoch)
    assert figure.layout.title.text.startswith("The end of the data, then past it")
    frame = pd.read_csv(io.BytesIO(panels.forecast_csv(no_test, None, future)))
    assert list(frame["part"].unique()) == ["past the end"] and len(frame) == 12


def _uploaded_of(data):
    from seqcore import csvseries

    return csvseries.pack(data.series, data.times)
