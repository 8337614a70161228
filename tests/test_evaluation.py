"""Honest evaluation: the naive forecasts in original units, scored beside the network on the same windows."""

import math
import warnings

import numpy as np
import pandas as pd
import pytest

from seqcore.config import DataConfig
from seqcore.data import build_data
from seqcore.evaluation import (
    Evaluation,
    LinearAR,
    Scores,
    evaluate,
    forecast_baselines,
    format_number,
    scores,
    seasonal_period,
    targets,
)

SQUARES = np.arange(30, dtype=np.float64) ** 2  # every value says which step it is: v[t] = t²


def squares(horizon, values=SQUARES):
    """30 points as an uploaded CSV column; val 0.3 and test 0.3 give training 0-11, validation 12-20, test 21-29."""
    config = DataConfig(generator="csv", csv_column="v", difference="none", seq_len=4, horizon=horizon,
                        val_fraction=0.3, test_fraction=0.3)
    return build_data(config, uploaded=values)


def sq(*steps):
    return [t * t for t in steps]


# --------------------------------------------------------------------------- baselines in original units


def test_persistence_and_seasonal_naive_one_step():
    data = squares(horizon=1)
    assert data.split_points == (12, 21) and data.x_test.shape == (5, 4, 1)
    # Test windows start at 21..25: inputs t..t+3, target t+4.
    np.testing.assert_array_equal(targets(data), np.array(sq(25, 26, 27, 28, 29))[:, None])
    predicted = forecast_baselines(data, season=6)
    np.testing.assert_array_equal(predicted["persistence"], np.array(sq(24, 25, 26, 27, 28))[:, None])
    # Six steps back from targets 25..29: 19 and 20 lie before the window, in the validation part.
    np.testing.assert_array_equal(predicted["seasonal naive"], np.array(sq(19, 20, 21, 22, 23))[:, None])
    # The same windows as the model's: its scaled last inputs and targets, inverted.
    np.testing.assert_allclose(predicted["persistence"][:, 0], data.scaler.inverse(data.x_test[:, -1, 0]),
                               rtol=1e-6)
    np.testing.assert_allclose(targets(data), data.scaler.inverse(data.y_test), rtol=1e-6)


def test_persistence_and_seasonal_naive_three_steps():
    data = squares(horizon=3)
    np.testing.assert_array_equal(targets(data), [sq(25, 26, 27), sq(26, 27, 28), sq(27, 28, 29)])
    predicted = forecast_baselines(data, season=2)
    assert set(predicted) == {"persistence", "seasonal naive", "mean", "linear AR"}
    np.testing.assert_array_equal(predicted["persistence"], [sq(24, 24, 24), sq(25, 25, 25), sq(26, 26, 26)])
    # A season shorter than the horizon: step 3 repeats the value two seasons back, never a target (25 or 26).
    np.testing.assert_array_equal(predicted["seasonal naive"], [sq(23, 24, 23), sq(24, 25, 24), sq(25, 26, 25)])
    np.testing.assert_array_equal(forecast_baselines(data, season=6)["seasonal naive"],
                                  [sq(19, 20, 21), sq(20, 21, 22), sq(21, 22, 23)])
    assert all(p.shape == (3, 3) for p in predicted.values())


def test_seasonal_naive_left_out_where_the_season_reaches_before_the_series():
    data = squares(horizon=1)
    assert "seasonal naive" not in forecast_baselines(data, season=26)  # the first forecast (25) has 25 before it
    np.testing.assert_array_equal(forecast_baselines(data, season=25)["seasonal naive"][:, 0], sq(0, 1, 2, 3, 4))
    assert "seasonal naive" not in forecast_baselines(data, part="train", season=5)
    assert "seasonal naive" not in forecast_baselines(data)  # no season given
    evaluation = evaluate(data, data.y_test, season=26)
    assert "seasonal naive" not in dict(evaluation.rows) and "needs 26 values" in evaluation.notes[0]
    with pytest.raises(ValueError, match="season"):
        forecast_baselines(data, season=0)


def test_mean_and_linear_ar_are_fitted_on_training_only():
    data = squares(horizon=2)
    predicted = forecast_baselines(data)
    np.testing.assert_allclose(predicted["mean"], 506 / 12)  # (0² + … + 11²) / 12: the training part only
    # A quadratic is an exact linear AR on 4 lags, so the fit extrapolates the test part exactly.
    np.testing.assert_allclose(predicted["linear AR"], targets(data), rtol=1e-6)

    changed = SQUARES.copy()
    changed[12:] = np.random.default_rng(0).normal(size=18) * 1000  # validation and test values, not training
    other = squares(horizon=2, values=changed)
    ar, other_ar = LinearAR.fit(data), LinearAR.fit(other)
    np.testing.assert_array_equal(ar.weights, other_ar.weights)
    np.testing.assert_array_equal(ar.intercept, other_ar.intercept)
    np.testing.assert_array_equal(forecast_baselines(other)["mean"], predicted["mean"])
    assert not np.allclose(forecast_baselines(other)["linear AR"], predicted["linear AR"])  # new inputs, same fit


def test_linear_ar_predicts_the_next_value_of_an_ar_series():
    # v[t] = 0.5 v[t-1] + 3 exactly: the fitted map gives 0.5 · last + 3 on test windows it never saw.
    values = [10.0]
    for _ in range(29):
        values.append(0.5 * values[-1] + 3 + 0.01 * (-1) ** len(values))  # a wiggle so the lags are not collinear
    data = squares(horizon=1, values=np.array(values))
    predicted = forecast_baselines(data)["linear AR"]
    assert predicted == pytest.approx(targets(data), abs=0.02)


# --------------------------------------------------------------------------- scores


def test_scores_against_hand_computed_values():
    got = scores([1.0, 2.0, 4.0], [2.0, 2.0, 1.0])  # errors 1, 0, -3
    assert got.rmse == pytest.approx(math.sqrt(10 / 3))
    assert got.mae == pytest.approx(4 / 3)
    assert got.mape == pytest.approx(100 * (1 / 1 + 0 / 2 + 3 / 4) / 3)  # 58.33 %
    assert got.mape_note is None


def test_mape_is_skipped_with_a_zero_in_the_truth():
    got = scores([[0.0, 2.0], [4.0, 1e-12]], [[1.0, 2.0], [4.0, 0.0]])
    assert got.mape is None and "2 true values are zero" in got.mape_note
    assert got.rmse == pytest.approx(0.5) and got.mae == pytest.approx(0.25)
    with pytest.raises(ValueError, match="do not match"):
        scores([1.0, 2.0], [1.0])


# --------------------------------------------------------------------------- evaluate


def sine():
    return build_data(DataConfig(generator="sine", n_points=300, seq_len=12, horizon=2, amplitude=5.0, noise=0.1))


def test_a_network_that_predicts_the_truth_scores_zero_and_is_best():
    data = sine()
    evaluation = evaluate(data, data.y_test, season=20)  # frequency 0.05: 20 steps a cycle
    assert [name for name, _ in evaluation.rows] == ["network", "persistence", "seasonal naive", "mean", "linear AR"]
    assert evaluation.score("network").rmse < 1e-5 and evaluation.best == "network"
    assert evaluation.score("persistence").rmse > 1


def test_evaluate_inverts_the_scaler():
    data = sine()
    offset = evaluate(data, data.y_test + 1.0)  # one scaled unit too high everywhere: one training std in raw units
    assert offset.score("network").rmse == pytest.approx(data.scaler.std, rel=1e-5)
    assert offset.score("network").mae == pytest.approx(data.scaler.std, rel=1e-5)
    last = np.repeat(data.x_test[:, -1, :], 2, axis=1)  # a network that learnt persistence, in scaled units
    copied = evaluate(data, last)
    assert copied.score("network").rmse == pytest.approx(copied.score("persistence").rmse, rel=1e-5)
    np.testing.assert_allclose(copied.predictions["network"], copied.predictions["persistence"], rtol=1e-5)
    with pytest.raises(ValueError, match="shape"):
        evaluate(data, data.y_test[:, :1])


def test_evaluate_needs_series_windows():
    with pytest.raises(ValueError, match="series"):
        evaluate(build_data(DataConfig()), np.zeros((10, 1)))
    no_test = build_data(DataConfig(generator="sine", test_fraction=0.0))
    with pytest.raises(ValueError, match="no windows"):
        evaluate(no_test, no_test.y_test)


# --------------------------------------------------------------------------- the verdict


def table(network, persistence, seasonal=None, mean=5.0, linear=3.0, **settings):
    named = [("network", network), ("persistence", persistence), ("seasonal naive", seasonal), ("mean", mean),
             ("linear AR", linear)]
    return Evaluation(rows=tuple((name, Scores(rmse, rmse, None)) for name, rmse in named if rmse is not None),
                      **settings)


def test_verdict_success_in_the_issues_words():
    assert table(0.48, 1.28, 1.93).verdict(unit="ppm") == (
        "success", "Test RMSE 0.48 ppm: better than persistence (1.28 ppm) and seasonal naive (1.93 ppm).")
    kind, sentence = table(0.48, 1.28, linear=0.4).verdict()
    assert kind == "success"
    assert sentence == "Test RMSE 0.48: better than persistence (1.28). The linear AR does better still (0.4)."


def test_verdict_warning_when_worse_than_persistence():
    kind, sentence = table(9.5, 1.28, beyond_training=True).verdict()
    assert kind == "warning"
    assert sentence.startswith("Test RMSE 9.5: worse than persistence (1.28): the network has not learnt more "
                               "than 'tomorrow equals today'. ")
    assert "differencing" in sentence and "trend" in sentence
    kind, sentence = table(1.5, 1.28, 1.93, part="val").verdict(unit="ppm")
    assert kind == "warning" and sentence.startswith(
        "Validation RMSE 1.5 ppm: better than seasonal naive (1.93 ppm) but worse than persistence (1.28 ppm): ")
    assert "more epochs" in sentence and "longer window" in sentence
    kind, sentence = table(1.5, 1.9, 1.2).verdict()
    assert kind == "warning"
    assert "but worse than seasonal naive (1.2): the network has not learnt the season" in sentence
    assert table(float("nan"), 1.28).verdict()[0] == "warning"


def test_verdict_shows_enough_digits_to_tell_close_numbers_apart():
    _, sentence = table(1.2834, 1.2791).verdict()
    assert sentence.startswith("Test RMSE 1.283: worse than persistence (1.279)")
    assert table(1.28, 1.28).verdict()[1].startswith("Test RMSE 1.28: no better than persistence (1.28)")


def test_verdict_of_a_real_run_on_a_trend():
    # A network stuck at the training level, like the CO₂ run of the issue: the trend leaves it behind.
    config = DataConfig(generator="csv", csv_column="v", seq_len=6, difference="none")
    data = build_data(config, uploaded=np.arange(100.0) * 0.5)
    evaluation = evaluate(data, np.zeros_like(data.y_test))  # scaled 0: the training mean, 0.5 · 34.5 = 17.25
    assert evaluation.beyond_training and evaluation.best == "linear AR"
    # Targets 48, 48.5, 49, 49.5 (steps 96-99): errors 30.75 … 32.25, RMSE √(31.5² + 0.3125) = 31.505.
    assert evaluation.score("network").rmse == pytest.approx(math.sqrt(31.5 ** 2 + 0.3125))
    kind, sentence = evaluation.verdict(unit="ppm")
    assert kind == "warning" and sentence.startswith("Test RMSE 31.5 ppm: worse than persistence (0.5 ppm)")
    assert "differencing" in sentence


def test_format_number():
    assert [format_number(v) for v in (0.48, 9.5, 1.28, 1.0, 0.0, 12345.6, 2.5e-5, -0.0123)] == [
        "0.48", "9.5", "1.28", "1", "0", "12,346", "2.5e-5", "-0.0123"]


# --------------------------------------------------------------------------- season from dates


@pytest.mark.parametrize(("freq", "season"), [("MS", 12), ("ME", 12), ("QS", 4), ("QE", 4), ("W", 52), ("D", 7),
                                               ("B", 5), ("h", 24), ("6h", 4), ("YE", None), ("min", None)])
def test_seasonal_period_from_the_inferred_frequency(freq, season):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # pandas' future-behaviour warnings included
        assert seasonal_period(pd.date_range("2020-01-01", periods=40, freq=freq)) == season


def test_seasonal_period_of_irregular_or_non_dates_is_none():
    assert seasonal_period(pd.DatetimeIndex(["2020-01-01", "2020-01-03", "2020-01-04", "2020-01-08"])) is None
    assert seasonal_period(pd.DatetimeIndex(["2020-01-01", "2020-02-01"])) is None  # too few to infer
    assert seasonal_period(pd.Index(["a", "b", "c"])) is None
    assert seasonal_period(["1958-03-01", "1958-04-01", "1958-05-01", "1958-06-01"]) == 12  # dates as text
