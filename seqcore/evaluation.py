"""Honest evaluation of a series forecast: the network beside the naive forecasts, in the series' own units.

A test loss in scaled units says nothing to a practitioner; what counts is whether the network beats the
forecasts anyone gets for free (tomorrow equals today, this month equals the same month last year). Every
forecaster here predicts the same windows of one part as the network, and is fitted on the training part only.

Truth and baselines are read from the raw series (`SequenceData.series`) at the windows' own positions, so they
are exact, not float32 values inverted from the model's scaled arrays.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from seqcore.baselines import CHUNK_ROWS, MAX_LINEAR_INPUTS

if TYPE_CHECKING:
    from seqcore.data import SequenceData

PARTS = ("train", "val", "test")  # the names SequenceData.part takes
_PART_WORDS = {"train": "training", "val": "validation", "test": "test"}
NETWORK, PERSISTENCE, SEASONAL, MEAN, LINEAR = "network", "persistence", "seasonal naive", "mean", "linear AR"
ORDER = (NETWORK, PERSISTENCE, SEASONAL, MEAN, LINEAR)  # the rows of an Evaluation, when present
NAIVE = (PERSISTENCE, SEASONAL)  # the forecasts a network must beat to be worth having
ZERO_TOLERANCE = 1e-9  # relative to the largest true value: below it a value counts as zero for MAPE


# --------------------------------------------------------------------------- windows in original units


def _check_series(data: SequenceData, part: str) -> None:
    if data.series is None or data.split_points is None or data.scaler is None:
        raise ValueError(f"evaluation needs a series task's data, not {data.generator!r}")
    if part not in PARTS:
        raise ValueError(f"part {part!r} is not one of {', '.join(PARTS)}")


def _first_window(data: SequenceData, part: str) -> int:
    """Position in the raw series where the part's first window starts (build_data windows each part alone)."""
    return data.window_start(part)


def origins(data: SequenceData, part: str = "test") -> np.ndarray:
    """(N,) the position in the raw series of each window's first target."""
    return _first_window(data, part) + data.n_steps + np.arange(len(data.part(part)[0]))


def _raw_windows(data: SequenceData, part: str) -> np.ndarray:
    """The part's windows as (N, T + H) raw values: T inputs, then the H targets. A view, not a copy."""
    _check_series(data, part)
    n, width = len(data.part(part)[0]), data.n_steps + data.n_outputs
    start = _first_window(data, part)
    if n == 0:
        return np.zeros((0, width))
    return sliding_window_view(np.asarray(data.series, dtype=np.float64)[start:start + n + width - 1], width)


def targets(data: SequenceData, part: str = "test") -> np.ndarray:
    """The part's true values in original units, (N, H) like its y."""
    return np.array(_raw_windows(data, part)[:, data.n_steps:])


@dataclass(frozen=True, eq=False)
class LinearAR:
    """Least squares from the last `len(weights)` values of a window to its H targets, with an intercept.

    Fitted on the training windows in original units; centring (the means below) replaces the intercept
    column and keeps the normal equations well conditioned whatever the series' offset.
    """

    weights: np.ndarray  # (L, H): one column per horizon step, oldest input first
    x_mean: np.ndarray  # (L,) mean training input at each lag
    y_mean: np.ndarray  # (H,) mean training target at each horizon step

    @property
    def intercept(self) -> np.ndarray:
        """(H,) the constant term when predicting as window @ weights + intercept."""
        return self.y_mean - self.x_mean @ self.weights

    @classmethod
    def fit(cls, data: SequenceData) -> LinearAR:
        """Fit on the training windows only, so no validation or test value shapes the coefficients."""
        windows = _raw_windows(data, "train")
        steps = data.n_steps
        lags = min(steps, MAX_LINEAR_INPUTS)  # as baselines._linear_mse: more lags cost rows × lags² for nothing
        inputs, outputs = windows[:, steps - lags:steps], windows[:, steps:]
        x_mean, y_mean = inputs.mean(axis=0), outputs.mean(axis=0)
        gram = np.zeros((lags, lags))
        cross = np.zeros((lags, outputs.shape[1]))
        for start in range(0, len(windows), CHUNK_ROWS):  # chunks bound the float64 copies of a long series
            x = inputs[start:start + CHUNK_ROWS] - x_mean
            gram += x.T @ x
            cross += x.T @ (outputs[start:start + CHUNK_ROWS] - y_mean)
        weights, *_ = np.linalg.lstsq(gram, cross, rcond=None)  # rank-deficient (a clean sine): minimum norm
        return cls(weights=weights, x_mean=x_mean, y_mean=y_mean)

    def predict(self, inputs: np.ndarray) -> np.ndarray:
        """(N, H) forecasts from (N, T) input windows in original units (only the last L values are read)."""
        inputs = np.asarray(inputs, dtype=np.float64)[:, -len(self.weights):]
        out = np.empty((len(inputs), self.weights.shape[1]))
        for start in range(0, len(inputs), CHUNK_ROWS):
            out[start:start + CHUNK_ROWS] = (inputs[start:start + CHUNK_ROWS] - self.x_mean) @ self.weights
        return out + self.y_mean


def seasonal_problem(data: SequenceData, part: str, season: int) -> str | None:
    """Why the seasonal naive forecast cannot be made for every window of the part, or None if it can."""
    _check_series(data, part)
    if isinstance(season, bool) or not isinstance(season, int | np.integer) or season < 1:
        raise ValueError(f"season must be a whole number of steps, at least 1, not {season!r}")
    first_forecast = _first_window(data, part) + data.n_steps
    if season > first_forecast:
        return (f"seasonal naive ({season} steps) needs {season} values before the first forecast, and the "
                f"{_PART_WORDS[part]} part's first window has only {first_forecast}")
    return None


def forecast_baselines(data: SequenceData, *, part: str = "test", season: int | None = None
                       ) -> dict[str, np.ndarray]:
    """The naive forecasters' (N, H) predictions for every window of `part`, in the raw series' units.

    'persistence': the window's last value for every horizon step. 'seasonal naive' (when `season` is given
    and every window has the history): the latest value one or more seasons before each target that the window's
    forecast origin has seen, y[t - m·(j // m + 1)] for horizon step j (0-based), so a horizon longer than the
    season never reads a target. A season longer than the window reads the raw series before the window (an
    earlier part at most: allowed, since it was observed before the forecast); when the first window would need
    a value before the series starts, the key is left out (`seasonal_problem` says why). 'mean': the training
    part's mean. 'linear AR': `LinearAR` fitted on the training windows.
    """
    windows = _raw_windows(data, part)
    steps, horizon = data.n_steps, data.n_outputs
    n = len(windows)
    inputs = windows[:, :steps]
    predictions = {PERSISTENCE: np.repeat(inputs[:, -1:], horizon, axis=1)}
    if season is not None and seasonal_problem(data, part, season) is None:
        first_targets = origins(data, part)
        lookback = np.arange(horizon) % season - season  # -m … -1: never at or past the origin
        predictions[SEASONAL] = np.asarray(data.series, dtype=np.float64)[first_targets[:, None] + lookback]
    train_mean = float(np.mean(data.series[:data.split_points[0]], dtype=np.float64))
    predictions[MEAN] = np.full((n, horizon), train_mean)
    predictions[LINEAR] = LinearAR.fit(data).predict(inputs)
    return predictions


# --------------------------------------------------------------------------- scores


@dataclass(frozen=True)
class Scores:
    """RMSE and MAE in the truth's units; MAPE in percent, None (with `mape_note` saying why) where undefined."""

    rmse: float
    mae: float
    mape: float | None
    mape_note: str | None = None


def scores(truth, predicted) -> Scores:
    """Scores of `predicted` against `truth` (same shape), over every value."""
    truth, predicted = np.asarray(truth, dtype=np.float64), np.asarray(predicted, dtype=np.float64)
    if truth.shape != predicted.shape:
        raise ValueError(f"predictions of shape {predicted.shape} do not match the truth's {truth.shape}")
    if truth.size == 0:
        raise ValueError("there are no values to score")
    error = predicted - truth
    rmse, mae = float(np.sqrt(np.mean(error ** 2))), float(np.mean(np.abs(error)))
    size = np.abs(truth)
    near_zero = size <= ZERO_TOLERANCE * size.max()  # all of them when every true value is 0
    if near_zero.any():
        count = int(near_zero.sum())
        values = "value is" if count == 1 else "values are"
        return Scores(rmse, mae, None, f"MAPE left out: {count} true {values} zero or nearly, and a percentage "
                                       "error divides by the true value")
    return Scores(rmse, mae, float(100 * np.mean(np.abs(error) / size)))


# --------------------------------------------------------------------------- the network beside the baselines


@dataclass(frozen=True, eq=False)
class Evaluation:
    """Scores of the network and the baselines on the same windows, network first (`ORDER`)."""

    rows: tuple[tuple[str, Scores], ...]
    part: str = "test"
    notes: tuple[str, ...] = ()  # why a baseline is missing
    beyond_training: bool = False  # the part's values lie mostly outside the training range: a trend
    truth: np.ndarray | None = None  # (N, H) original units
    predictions: Mapping[str, np.ndarray] = field(default_factory=dict)  # (N, H) original units, by name

    def score(self, name: str) -> Scores | None:
        return dict(self.rows).get(name)

    @property
    def best(self) -> str | None:
        """The name with the lowest RMSE (the first in `ORDER` on a tie); None if no RMSE is finite."""
        finite = [(s.rmse, i, name) for i, (name, s) in enumerate(self.rows) if math.isfinite(s.rmse)]
        return min(finite)[2] if finite else None

    def verdict(self, unit: str = "") -> tuple[str, str]:
        """('success' | 'warning', the end-of-run sentence): does the network beat the naive forecasts?

        `unit`: the values' unit ('ppm'), written after each number. A warning adds one sentence on what to try.
        """
        label = _PART_WORDS[self.part].capitalize()
        network = self.score(NETWORK)
        if network is None:
            raise ValueError("the evaluation has no network row")
        if not math.isfinite(network.rmse):
            return "warning", (f"{label} RMSE is not a number: the network's predictions are not finite, so the "
                               "training diverged. Try a lower learning rate or gradient clipping.")
        naive = [(name, s.rmse) for name, s in self.rows if name in NAIVE]
        # The best of the other baselines, where it beats the network: a success is not the whole story then.
        others = sorted(((s.rmse, name) for name, s in self.rows if name not in NAIVE and name != NETWORK
                         and s.rmse < network.rmse))[:1]
        others = [(name, rmse) for rmse, name in others]
        shown = _numbers([network.rmse, *(r for _, r in naive), *(r for _, r in others)], unit)
        net, naive_shown, others_shown = shown[0], shown[1:1 + len(naive)], shown[1 + len(naive):]
        better = [f"{name} ({text})" for (name, rmse), text in zip(naive, naive_shown, strict=True)
                  if network.rmse < rmse]
        worse = [(name, text, rmse == network.rmse) for (name, rmse), text in zip(naive, naive_shown, strict=True)
                 if network.rmse >= rmse]
        head = f"{label} RMSE {net}"
        if better:
            head += f": better than {_and(better)}"
        if not worse:
            sentence = head + "."
            if others:
                name, text = others[0][0], others_shown[0]
                sentence += f" The {name} does better still ({text})."
            return "success", sentence
        lost = _and([f"{name} ({text})" for name, text, _ in worse])
        equal = all(tie for _, _, tie in worse)
        head += (" but " if better else ": ") + ("no better than " if equal else "worse than ") + lost
        if worse[0][0] == PERSISTENCE:
            head += ": the network has not learnt more than 'tomorrow equals today'."
        else:
            head += ": the network has not learnt the season."
        return "warning", f"{head} {self._advice()}"

    def _advice(self) -> str:
        if self.beyond_training:
            return (f"The {_PART_WORDS[self.part]} values lie outside the range the network was trained on: a "
                    "trend it cannot extrapolate, which differencing the series would take out.")
        return "Try more epochs, a longer window (at least one season), or a smaller network with dropout."


def evaluate(data: SequenceData, network_predictions_scaled, *, part: str = "test", season: int | None = None
             ) -> Evaluation:
    """Score the network's predictions for `part` (the network's units, (N, H), as the model outputs them) turned
    back into the series' values (`SeriesTransform.invert`), beside every baseline of `forecast_baselines` on the
    same windows."""
    season = data.season if season is None else season
    truth = targets(data, part)
    predicted = np.asarray(network_predictions_scaled, dtype=np.float64)
    if predicted.ndim == 1 and truth.shape[1] == 1:
        predicted = predicted[:, None]
    if predicted.shape != truth.shape:
        raise ValueError(f"the network's predictions have shape {predicted.shape}; the {_PART_WORDS[part]} part's "
                         f"targets are {truth.shape}")
    if len(truth) == 0:
        raise ValueError(f"the {_PART_WORDS[part]} part has no windows to evaluate")
    network = data.transform.invert(predicted, data.series, origins(data, part))
    predictions = {NETWORK: np.asarray(network, dtype=np.float64),
                   **forecast_baselines(data, part=part, season=season)}
    notes = ()
    if season is not None and SEASONAL not in predictions:
        notes = (seasonal_problem(data, part, season),)
    ordered = {name: predictions[name] for name in ORDER if name in predictions}
    train = np.asarray(data.series[:data.split_points[0]], dtype=np.float64)
    outside = (truth < train.min()) | (truth > train.max())
    return Evaluation(rows=tuple((name, scores(truth, p)) for name, p in ordered.items()), part=part, notes=notes,
                      beyond_training=bool(outside.mean() > 0.5), truth=truth, predictions=ordered)


# --------------------------------------------------------------------------- numbers in sentences


def format_number(value: float, digits: int = 3) -> str:
    """`digits` significant digits as people write them: 0.48, 9.5, 1,234, 2.5e-5."""
    if not math.isfinite(value):
        return str(value)
    if value == 0:
        return "0"
    size = abs(value)
    if size >= 1e6 or size < 1e-3:
        mantissa, _, exponent = f"{value:.{digits - 1}e}".partition("e")
        mantissa = mantissa.rstrip("0").rstrip(".") if "." in mantissa else mantissa
        return f"{mantissa}e{int(exponent)}"
    decimals = max(0, digits - 1 - math.floor(math.log10(size)))
    text = f"{value:,.{decimals}f}"
    return text.rstrip("0").rstrip(".") if decimals else text


def _numbers(values: list[float], unit: str) -> list[str]:
    """The values with 3 significant digits, or more where the first would otherwise read the same as another."""
    for digits in range(3, 8):
        texts = [format_number(v, digits) for v in values]
        if all(t != texts[0] for v, t in zip(values[1:], texts[1:], strict=True) if v != values[0]):
            break
    return [f"{t} {unit}" if unit else t for t in texts]


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


# --------------------------------------------------------------------------- season from dates

# Steps per season for each offset's rule code (pandas 3 aliases and the older ones it replaced).
_SEASONS = {"M": 12, "ME": 12, "MS": 12, "BM": 12, "BME": 12, "BMS": 12, "CBME": 12, "CBMS": 12,
            "Q": 4, "QE": 4, "QS": 4, "BQ": 4, "BQE": 4, "BQS": 4,
            "W": 52, "D": 7, "B": 5, "C": 5, "H": 24, "h": 24}


def seasonal_period(index) -> int | None:
    """The season implied by a DatetimeIndex's inferred frequency: monthly 12, quarterly 4, weekly 52, daily 7,
    business daily 5, hourly 24, and multiples that divide them (6-hourly 4). None where pandas cannot infer a
    regular frequency (irregular, fewer than 3 dates, not dates) or it has no season (yearly, minutes)."""
    import pandas as pd
    from pandas.tseries.frequencies import to_offset

    try:
        index = pd.DatetimeIndex(index)
        try:  # pandas 3.1 warns that infer_freq will return an offset: ask for that now where it can
            with pd.option_context("future.infer_freq_returns_offset", True):
                freq = pd.infer_freq(index)
        except pd.errors.OptionError:
            freq = pd.infer_freq(index)
    except (TypeError, ValueError):
        return None
    if freq is None:
        return None
    offset = to_offset(freq)
    season = _SEASONS.get(offset.rule_code.split("-")[0])
    if season is None or offset.n < 1 or season % offset.n:
        return None
    return season // offset.n
