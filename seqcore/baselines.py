"""Simple models an RNN has to beat, scored on the validation split.

A network is only interesting where it does better than these: on random digits nothing beats
chance, on a noiseless sine a linear model is already near perfect. Scores are in the units of the
Keras loss and metrics: accuracy as a fraction, cross-entropy in nats, MSE in the scaled units
the model is trained on.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from seqcore.data import SequenceData

# A linear model on more inputs costs rows × inputs² and adds nothing a baseline needs:
# 256 lags already cover any period a window can show.
MAX_LINEAR_INPUTS = 256
CHUNK_ROWS = 8192  # rows per step of the normal equations, to bound float64 copies


def baselines(data: SequenceData, *, with_hmm: bool = False) -> dict[str, float]:
    """Validation scores of the simple predictors of this data's task (`seqcore.tasks`), keyed by name.

    `with_hmm`: on token tasks, also a hidden Markov model's (`seqcore.hmm`). Fitting it takes a fraction of a second
    and imports hmmlearn, so it is done where a run starts (the worker), not where a page is drawn.
    """
    scores = data.task.baselines(data)
    if with_hmm and data.task.kind.name == "tokens":
        from seqcore.hmm import hmm_baselines

        scores |= hmm_baselines(data)
    return scores


def _weighted_mean(values: np.ndarray, weights: np.ndarray) -> float:
    return float(np.sum(values * weights) / np.sum(weights))


def token_baselines(data: SequenceData) -> dict[str, float]:
    """Averaged over steps, weighted by `w_val` where steps are masked:
      'chance accuracy'       1 / vocabulary size: guessing uniformly at random.
      'majority accuracy'     always predicting the most frequent training target.
      'bigram accuracy'       predicting the most frequent next token given the current input token
                              (a first-order Markov model counted on the training split).
      'bigram cross-entropy'  the same model's categorical cross-entropy in nats, with add-one
                              smoothing: comparable with Keras' categorical_crossentropy loss when
                              that loss averages over weighted steps.
    """
    vocab = data.n_outputs
    # One-hot back to token ids; this also works for the delay task, whose input and target differ.
    inputs_train, targets_train = data.x_train.argmax(-1), data.y_train.argmax(-1)
    inputs_val, targets_val = data.x_val.argmax(-1), data.y_val.argmax(-1)
    weights_train = np.ones(inputs_train.shape) if data.w_train is None else data.w_train
    weights_val = np.ones(inputs_val.shape) if data.w_val is None else data.w_val

    # counts[current token, next target], weighted so that masked steps teach nothing.
    counts = np.bincount((inputs_train * vocab + targets_train).ravel(), weights=weights_train.ravel(),
                         minlength=vocab * vocab).reshape(vocab, vocab)
    target_counts = counts.sum(axis=0)
    majority = int(target_counts.argmax())
    # A token never seen as input in training has no row of counts: fall back to the majority guess.
    next_token = np.where(counts.sum(axis=1) > 0, counts.argmax(axis=1), majority)
    probabilities = (counts + 1) / (counts.sum(axis=1, keepdims=True) + vocab)

    return {
        "chance accuracy": 1.0 / vocab,
        "majority accuracy": _weighted_mean(targets_val == majority, weights_val),
        "bigram accuracy": _weighted_mean(next_token[inputs_val] == targets_val, weights_val),
        "bigram cross-entropy": _weighted_mean(-np.log(probabilities[inputs_val, targets_val]), weights_val),
    }


def text_baselines(data: SequenceData) -> dict[str, float]:
    """Validation bits per character of add-k unigram, bigram and trigram models counted on the training text
    (`seqcore.text.ngram_baselines`): what a network that reads only the last 0, 1 or 2 characters can do."""
    from seqcore.text import ngram_baselines

    split = data.text
    return ngram_baselines(split.ids["train"], split.ids["validation"], data.n_outputs)


def copy_baselines(data: SequenceData) -> dict[str, float]:
    """The token baselines, and the memoryless strategy of the copy-memory literature: blanks right until the
    marker, then a uniform guess among the symbols. Its cross-entropy is k·ln(symbols) / (T + 2k) nats
    (10·ln 8 / (T + 20) in Arjovsky, Shah & Bengio 2016), its accuracy (T + k + k / symbols) / (T + 2k)."""
    steps, symbols = data.n_steps, data.n_features - 2
    k = int(np.count_nonzero(data.y_val[0].argmax(-1)))  # the target steps that are not blank
    return {**token_baselines(data),
            "memoryless cross-entropy": k * float(np.log(symbols)) / steps,
            "memoryless accuracy": (steps - k + k / symbols) / steps}


def _mean_mse(data: SequenceData) -> float:
    y_train, y_val = data.y_train.astype(np.float64), data.y_val.astype(np.float64)
    return float(np.mean((y_val - y_train.mean(axis=0)) ** 2))


def series_baselines(data: SequenceData) -> dict[str, float]:
    """Mean squared error over every output value, in the scaled units the model trains on:
      'mean MSE'         predicting the training mean of y.
      'persistence MSE'  repeating the last input value for every horizon step.
      'linear AR MSE'    least-squares linear map (plus intercept) from the input window to y; only the last
                         MAX_LINEAR_INPUTS values of very long windows, to stay fast.
    """
    if data.transform is not None and not data.transform.identity_but_scale:
        return _level_forecasts_mse(data)
    last_value = data.x_val[:, -1, :1].astype(np.float64)  # (N, 1) broadcasts over the horizon
    found = {"mean MSE": _mean_mse(data),
             "persistence MSE": float(np.mean((data.y_val.astype(np.float64) - last_value) ** 2)),
             "linear AR MSE": _linear_mse(data)}
    if data.season:
        found.update({k: v for k, v in _level_forecasts_mse(data).items() if k.startswith("seasonal")})
    return found


def _level_forecasts_mse(data: SequenceData) -> dict[str, float]:
    """The naive forecasts of the series' values (seqcore.evaluation: persistence, seasonal naive, the training
    mean, a linear AR in the values) on validation, in the units the network trains on: through its log and
    differencing, so the loss chart compares like with like when the network learns changes."""
    from seqcore import evaluation

    if not len(data.x_val):
        return {}
    origins = evaluation.origins(data, "val")
    y_val = data.y_val.astype(np.float64)
    forecasts = evaluation.forecast_baselines(data, part="val", season=data.season)
    # A trending series soon leaves its training mean: that forecast's loss in changes runs to thousands, would
    # squash the chart, and says nothing; the test table in the series' values keeps it.
    forecasts.pop(evaluation.MEAN)
    return {f"{name} MSE": float(np.mean((data.transform.to_model_forecast(levels, data.series, origins) - y_val) ** 2))
            for name, levels in forecasts.items()}


def adding_baselines(data: SequenceData) -> dict[str, float]:
    """'mean MSE': predicting the training mean of the sums, which is what a model that ignores the marks can do
    (about 1/6: the variance of a sum of two uniform values); 'linear MSE': least squares on every input."""
    return {"mean MSE": _mean_mse(data), "linear MSE": _linear_mse(data)}


def _linear_mse(data: SequenceData) -> float:
    """Validation MSE of least squares from the (last MAX_LINEAR_INPUTS values of the) flattened window to y.

    Solved through the normal equations, accumulated over chunks of rows, so memory stays small and
    the cost is rows × inputs² rather than an SVD of the whole design matrix (a minute for adding
    with 1000 steps).
    """
    n_steps = max(1, min(data.n_steps, MAX_LINEAR_INPUTS // data.n_features))
    x_train, x_val = data.x_train[:, -n_steps:], data.x_val[:, -n_steps:]
    # Centring replaces the intercept column and keeps the normal equations well conditioned.
    x_mean = x_train.mean(axis=0, dtype=np.float64).reshape(-1)
    y_mean = data.y_train.mean(axis=0, dtype=np.float64)

    gram = np.zeros((x_mean.size, x_mean.size))
    cross = np.zeros((x_mean.size, data.n_outputs))
    for start in range(0, len(x_train), CHUNK_ROWS):
        inputs = _flat(x_train[start:start + CHUNK_ROWS]) - x_mean
        gram += inputs.T @ inputs
        cross += inputs.T @ (data.y_train[start:start + CHUNK_ROWS] - y_mean)
    coefficients, *_ = np.linalg.lstsq(gram, cross, rcond=None)

    squared_error = 0.0
    for start in range(0, len(x_val), CHUNK_ROWS):
        predicted = (_flat(x_val[start:start + CHUNK_ROWS]) - x_mean) @ coefficients + y_mean
        squared_error += float(np.sum((data.y_val[start:start + CHUNK_ROWS] - predicted) ** 2))
    return squared_error / data.y_val.size


def _flat(x: np.ndarray) -> np.ndarray:
    return x.reshape(len(x), -1).astype(np.float64)
