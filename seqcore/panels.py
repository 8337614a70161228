"""The dashboard's figures for a run: history, snapshots and data in, Plotly figures out.

Pure functions (no Streamlit), shared by the live training page, the Inspect
page and the bytes-per-update benchmark.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass

import numpy as np

from seqcore import evaluation, plots, reference, saturation, text
from seqcore.data import SequenceData
from seqcore.empty_chart import empty_chart_svg
from seqcore.events import EpochEvent, SnapshotEvent, StartEvent
from seqcore.tasks import MARKED, SERIES, TEXT, TOKENS

BITS = "bits/char"  # how a text run's baselines are named, and so how its loss chart knows to read in bits


def _column(history, name: str) -> np.ndarray:
    return np.array([getattr(e, name) for e in history], dtype=np.float32)


def _near(baselines: dict[str, float], *curves: np.ndarray) -> dict[str, float]:
    """The baselines within reach of the curves: one far above them would squash the curves flat."""
    values = np.concatenate([c[np.isfinite(c)] for c in curves]) if curves else np.array([])
    if not len(values):
        return baselines
    top = 1.5 * float(values.max())
    return {k: v for k, v in baselines.items() if v <= top}


def _previous(previous: tuple[str, tuple[EpochEvent, ...]] | None, train: str, val: str):
    if previous is None or not previous[1]:
        return None
    label, history = previous
    return label, _column(history, "epoch"), _column(history, train), _column(history, val)


def loss_baselines(baselines: dict[str, float]) -> dict[str, float]:
    return {k: v for k, v in baselines.items() if "entropy" in k or "MSE" in k or BITS in k}


def best_loss_baseline(baselines: dict[str, float]) -> float | None:
    """The lowest loss a simple model (no network) reaches on a run's validation data: every task has one
    (cross-entropy for tokens, MSE for numbers), so the Runs table holds every run against it. In the loss's
    own units: a text run's n-gram baselines are in bits per character, its loss in nats."""
    values = [v * math.log(2) if k.endswith(BITS) else v for k, v in loss_baselines(baselines).items()]
    return min(values) if values else None


def in_bits(baselines: dict[str, float] | None) -> bool:
    """Whether a run is a text run, whose loss is drawn in bits per character beside its n-gram baselines."""
    return any(k.endswith(BITS) for k in baselines or {})


def _bits(curve: np.ndarray) -> np.ndarray:
    return curve / np.float32(math.log(2))


def text_scores(nats: float) -> str:
    """A cross-entropy in the three units a text run is read in, e.g. '1.93 bits/char · perplexity 3.8 · 1.34
    nats'."""
    if not math.isfinite(nats):
        return "–"
    return f"{text.nats_to_bits(nats):.3f} bits/char · perplexity {text.perplexity(nats):.2f} · {nats:.3f} nats"


def metric_baselines(baselines: dict[str, float]) -> dict[str, float]:
    return {k: v for k, v in baselines.items() if "accuracy" in k}


def metric_label(metric: str) -> str:
    return "accuracy" if metric == "accuracy" else "mean absolute error"


LOSS_TITLE = "Loss (train and validation)"


def empty_loss_panel(epochs: int) -> str:
    """The loss chart before a run's first point, as an SVG frame (no Plotly needed): its x axis over the epochs
    the run will train."""
    return empty_chart_svg(LOSS_TITLE, "epoch", epochs, "loss", note="The curve grows here as the network learns")


def loss_panel(history: tuple[EpochEvent, ...], start: StartEvent | None, *, log_y=False, smoothing=0.0,
               previous: tuple[str, tuple[EpochEvent, ...]] | None = None):
    """`previous`: (label, history) of the run before, drawn faded. A text run's loss (nats, as Keras reports it)
    is drawn in bits per character, the unit of its n-gram baselines."""
    base = loss_baselines(start.baselines if start else {})
    train, val = _column(history, "loss"), _column(history, "val_loss")
    before = _previous(previous, "loss", "val_loss")
    title, label = LOSS_TITLE, "loss"
    if in_bits(base):
        train, val = _bits(train), _bits(val)
        before = before and (before[0], before[1], _bits(before[2]), _bits(before[3]))
        title, label = "Bits per character (train and validation)", "bits per character"
    base = _near(base, train, val)
    return plots.loss_figure(_column(history, "epoch"), train, val, log_y=log_y, smoothing=smoothing, baselines=base,
                             title=title, y_label=label, previous=before)


def metric_panel(history: tuple[EpochEvent, ...], start: StartEvent | None, *, smoothing=0.0,
                 previous: tuple[str, tuple[EpochEvent, ...]] | None = None):
    metric = start.metric if start else "metric"
    base = metric_baselines(start.baselines) if start else {}
    label = metric_label(metric)
    return plots.loss_figure(_column(history, "epoch"), _column(history, "metric"), _column(history, "val_metric"),
                             smoothing=smoothing, baselines=base, title=label.capitalize(), y_label=label,
                             previous=_previous(previous, "metric", "val_metric"))


def compare_panels(runs: list[tuple[str, tuple[EpochEvent, ...]]], metric: str, *, baselines: dict[str, float],
                   log_y=False, smoothing=0.0, bits: bool | None = None) -> dict:
    """The loss and metric curves of several runs on shared axes (`runs`: label and history, one colour each).
    `bits`: the runs are text runs, drawn in bits per character; by default, when the baselines say so (runs on
    different data come without baselines, so the Runs page says it)."""
    def curves(train, val):
        return [(label, _column(h, "epoch"), _column(h, train), _column(h, val)) for label, h in runs]

    label = metric_label(metric)
    loss_lines = curves("loss", "val_loss")
    loss_title, loss_label = "Loss (solid: train, dotted: validation)", "loss"
    if in_bits(baselines) if bits is None else bits:
        loss_lines = [(name, epochs, _bits(train), _bits(val)) for name, epochs, train, val in loss_lines]
        loss_title, loss_label = "Bits per character (solid: train, dotted: validation)", "bits per character"
    return {"loss": plots.compare_figure(loss_lines, log_y=log_y, smoothing=smoothing,
                                         baselines=_near(loss_baselines(baselines), *[c[2] for c in loss_lines]),
                                         title=loss_title, y_label=loss_label),
            "metric": plots.compare_figure(curves("metric", "val_metric"), smoothing=smoothing,
                                           baselines=metric_baselines(baselines), y_label=label,
                                           title=f"{label.capitalize()} (solid: train, dotted: validation)")}


def token_labels(x: np.ndarray, vocabulary=None) -> list[str]:
    """Input tokens of one probe sequence as tick labels: token numbers, or a text's characters (a space as ␣,
    a line end as ↵, so each tick shows something)."""
    ids = np.argmax(x, axis=-1)
    if vocabulary is None:
        return [str(t) for t in ids]
    return [_visible(c) for c in vocabulary.decode(ids)]


def _characters(ids: np.ndarray, vocabulary) -> np.ndarray:
    # quote=False: Plotly decodes &lt; &gt; &amp; but would show &quot; as typed.
    return np.array([html.escape(_visible(c), quote=False) for c in vocabulary.decode(ids)])


def _visible(char: str) -> str:
    return {" ": "␣", "\n": "↵", "\t": "⇥"}.get(char, char)


def hidden_panel(snapshot: SnapshotEvent, start: StartEvent, data: SequenceData, *, layer=0, probe=0):
    h = snapshot.hidden[layer][probe]
    labels = token_labels(start.probe_x[probe], data.vocabulary) if data.task.kind in (TOKENS, TEXT) else None
    return plots.hidden_state_heatmap(
        h, x_labels=labels, title=f"Hidden state h_t, layer {layer + 1}, seq. {probe + 1} (epoch {snapshot.epoch})")


def prediction_panel(snapshot: SnapshotEvent, start: StartEvent, data: SequenceData, *, probe=0):
    """Tokens: the probe's predictions right/wrong. Series: actual vs predicted plus a forecast. Marked: scatter."""
    spec = data.task
    if spec.kind in (TOKENS, TEXT):
        probs = snapshot.probe_output[probe]
        target = np.argmax(start.probe_y[probe], axis=-1)
        weights = None if start.probe_w is None else start.probe_w[probe]
        vocab = probs.shape[-1]
        inputs, predicted = np.argmax(start.probe_x[probe], axis=-1), np.argmax(probs, axis=-1)
        p_true = probs[np.arange(len(target)), target]
        if spec.kind is TEXT:  # drawn as characters, escaped: Plotly reads a few HTML tags in its text
            inputs, target, predicted = (_characters(ids, data.vocabulary) for ids in (inputs, target, predicted))
        return plots.token_prediction_figure(
            inputs, target, predicted, p_true, weights=weights, chance=1.0 / vocab,
            target=spec.target,
            title=f"Predictions, seq. {probe + 1} (epoch {snapshot.epoch})")
    predicted = snapshot.val_prediction
    if spec.kind is MARKED:  # one number per sequence
        truth = data.y_val[:len(predicted), 0]
        return plots.scatter_prediction_figure(truth, predicted[:, 0], quantity=spec.target,
                                               title=f"Predicted vs true, validation (epoch {snapshot.epoch})")
    a, b = data.split_points
    t_pred = data.window_start("val") + data.n_steps + np.arange(len(predicted))
    values = data.transform.invert(predicted, data.series, t_pred)[:, 0]
    forecast = t_forecast = None
    if snapshot.forecast is not None:
        forecast = data.transform.invert(snapshot.forecast, data.series, b)
        t_forecast = b + np.arange(len(forecast))
    return plots.series_prediction_figure(
        series_axis(data, np.arange(a, b)), data.series[a:b], series_axis(data, t_pred), values,
        t_forecast=None if t_forecast is None else series_axis(data, t_forecast), forecast=forecast,
        title=f"Validation, then forecast (epoch {snapshot.epoch})")


def series_axis(data: SequenceData, positions: np.ndarray) -> np.ndarray:
    """The x values of positions in the series: its dates where it has them (continued past its end at its
    frequency), else the step numbers."""
    positions = np.asarray(positions, dtype=np.int64)
    if data.times is None:
        return positions
    from seqcore.csvseries import extended_times

    extra = int(positions.max(initial=0)) + 1 - len(data.times)
    return extended_times(data.times, extra, data.time_step)[positions]


def baselines_note(baselines: dict[str, float]) -> str | None:
    """A line under the charts saying how the HMM baseline came about (its K and fitting time), if it has one."""
    fitted = next(((name, value) for name, value in baselines.items() if name.startswith("HMM fitting seconds")), None)
    if fitted is None:
        return None
    states = fitted[0].removeprefix("HMM fitting seconds ").strip("()")
    return (f"Dashed: the simple baselines, on validation. The HMM's ({states}) was fitted by Baum–Welch on the "
            f"training sequences in {fitted[1]:.2f} s when this run started: its memory is one of those states.")


PREDICT_CHUNK = 512  # windows per NumPy forward pass: it keeps every state and gate, so memory grows with the chunk


def series_evaluation(snapshot: SnapshotEvent, data: SequenceData, *, cell: str,
                      activation: str = "tanh") -> evaluation.Evaluation | None:
    """A series run's test windows forecast by this snapshot's network, in the series' own units, beside the naive
    forecasts on the same windows (`seqcore.evaluation`); None without a test part."""
    if data.task.kind is not SERIES or not len(data.x_test):
        return None
    predicted = np.concatenate([
        reference.predict(snapshot.weights, data.x_test[start:start + PREDICT_CHUNK], cell=cell, head="regression",
                          activation=activation) for start in range(0, len(data.x_test), PREDICT_CHUNK)])
    return evaluation.evaluate(data, predicted)


MAX_FORECAST_STEPS = 1000  # past the end of the data: beyond a few seasons a fed-back forecast says little


@dataclass(frozen=True, eq=False)
class Forecast:
    """A network's forecast past the end of the data, in the series' values, at its positions (or dates)."""

    axis: np.ndarray  # (steps,) dates, or step numbers after the last
    values: np.ndarray  # (steps,)
    method: str  # 'direct' or 'recursive'
    sentence: str  # how it was made, for the caption


def forecast_past_end(snapshot: SnapshotEvent, data: SequenceData, steps: int, *, cell: str,
                      activation: str = "tanh") -> Forecast:
    """`steps` values after the series' last, from the network of `snapshot`: its H outputs at once where steps
    <= H (direct), else those outputs fed back in as inputs, H at a time (recursive)."""
    if isinstance(steps, bool) or not isinstance(steps, int | np.integer) or not 1 <= steps <= MAX_FORECAST_STEPS:
        raise ValueError(f"steps {steps!r} must be a whole number from 1 to {MAX_FORECAST_STEPS}")
    n, horizon = len(data.series), data.n_outputs
    window = data.transform.to_model(data.series)[n - data.n_steps:]
    outputs = reference.forecast(snapshot.weights, window.astype(np.float32), int(steps), cell=cell,
                                 activation=activation, horizon=horizon)
    values = data.transform.invert(outputs, data.series, n)
    if steps <= horizon:
        method = "direct"
        sentence = (f"Direct: the network's {horizon} outputs at once, from the last {data.n_steps} values of the "
                    "data.")
    else:
        method = "recursive"
        sentence = (f"Recursive: the network predicts {horizon} step{'s' if horizon > 1 else ''}, which are fed "
                    f"back in as if they were data, {-(-steps // horizon)} times, so later values rest on earlier "
                    "forecasts and their errors add up.")
    return Forecast(axis=series_axis(data, n + np.arange(steps)), values=values, method=method, sentence=sentence)


def forecast_figure(data: SequenceData, found: evaluation.Evaluation | None, future: Forecast | None, *,
                    epoch: int):
    """The test part's true values, the network's forecast of each (its first step ahead), and the forecast past
    the end of the data, on the series' dates; without a test part (`found` None), the last windows' values."""
    n = len(data.series)
    if found is not None:
        start, first_targets = data.split_points[1], evaluation.origins(data, "test")
        predicted, title = found.predictions[evaluation.NETWORK][:, 0], "Test part, then past the end of the data"
    else:
        start, first_targets, predicted = max(0, n - 4 * data.n_steps), np.zeros(0, np.int64), np.zeros(0)
        title = "The end of the data, then past it"
    return plots.series_prediction_figure(
        series_axis(data, np.arange(start, n)), data.series[start:], series_axis(data, first_targets), predicted,
        t_forecast=None if future is None else future.axis, forecast=None if future is None else future.values,
        title=f"{title} (epoch {epoch})")


def forecast_csv(data: SequenceData, found: evaluation.Evaluation | None, future: Forecast | None) -> bytes:
    """The test part (true value and the network's forecast of it; none without a test part) and the forecast
    past the end, one row a step, with the dates where the series has them."""
    import pandas as pd

    first_targets = evaluation.origins(data, "test") if found is not None else np.zeros(0, np.int64)
    predicted = found.predictions[evaluation.NETWORK][:, 0] if found is not None else np.zeros(0)
    rows = {"part": ["test"] * len(first_targets), "actual": data.series[first_targets], "forecast": predicted}
    axis = [series_axis(data, first_targets)]
    if future is not None:
        rows["part"] += ["past the end"] * len(future.values)
        rows["actual"] = np.concatenate([rows["actual"], np.full(len(future.values), np.nan)])
        rows["forecast"] = np.concatenate([rows["forecast"], future.values])
        axis.append(future.axis)
    when = np.concatenate(axis)
    frame = pd.DataFrame({"time" if data.times is not None else "step": when, **rows})
    return frame.to_csv(index=False).encode()


def evaluation_rows(found: evaluation.Evaluation) -> list[list[str]]:
    """[forecaster, RMSE, MAE, MAPE, best] rows of an evaluation, the lowest RMSE marked."""
    def number(value) -> str:
        return "–" if value is None or not math.isfinite(value) else evaluation.format_number(value)

    return [[name, number(s.rmse), number(s.mae), "–" if s.mape is None else f"{number(s.mape)} %",
             "✓" if name == found.best else ""] for name, s in found.rows]


TEXT_BASELINES_CAPTION = (
    "Dashed: n-gram models counted on the training text (add-k smoothing, k = 0.1) and scored on validation, "
    "in bits per character; each reads only the last 0, 1 or 2 characters. The network beats counting where its "
    "line falls below theirs.")


GRADIENTS_CAPTION = (
    "How strongly the loss still reaches back to the input at each step, in this snapshot of the network "
    "(mean over the first 32 validation sequences). Where the line falls by powers of ten towards early steps, "
    "the gradient has vanished: training cannot teach the network to use those inputs.")


def gradient_panel(runs: list[tuple[str, SnapshotEvent | None]]):
    """The gradients through time of each run's latest snapshot (label, snapshot); None when none has any."""
    curves = [(label, s.grad_norms) for label, s in runs if s is not None and s.grad_norms is not None]
    if not curves:
        return None
    epochs = sorted({s.epoch for _, s in runs if s is not None and s.grad_norms is not None})
    note = f" (epoch {epochs[0]})" if len(epochs) == 1 else ""
    return plots.gradient_time_figure(curves, epoch_note=note)


SATURATION_CAPTION = (
    "Each point is one unit: the share of steps, over the {count} {split} sequences named in the title, that its "
    "gate is wide open (right) or shut (up). A forget gate far to the right belongs to a unit that keeps its cell "
    "state over long spans, what the adding and delay tasks need; points near the corner (0, 0) are gates "
    "that respond to each input as it comes; on the dotted diagonal a gate is always one or the other.")


def saturation_panel(snapshot: SnapshotEvent, data: SequenceData, *, cell: str, activation: str = "tanh",
                     layer: int = 0):
    """(figure, caption) of one layer's gate saturation in this snapshot, on validation sequences (training ones
    when there are none); None for a SimpleRNN."""
    split = "validation" if len(data.x_val) else "training"
    sequences = data.one_hot_rows("val" if split == "validation" else "train", saturation.MAX_SEQUENCES)[0]
    found = saturation.gate_saturation(snapshot.weights, sequences, cell=cell, head=data.head, layer=layer,
                                       activation=activation)
    if not found:
        return None
    count = found[0].sequences
    figure = plots.gate_saturation_figure(
        found, title=f"Gate saturation, layer {layer + 1}, epoch {snapshot.epoch} ({count} {split} sequences)")
    return figure, SATURATION_CAPTION.format(count=count, split=split)


def live_figures(history, start, snapshot, data, *, layer=0, probe=0, log_y=False, smoothing=0.0,
                 previous=None) -> dict:
    """Every figure of one live update of the training page; `previous` (label, history): the run before,
    faded under the curves."""
    figures = {"loss": loss_panel(history, start, log_y=log_y, smoothing=smoothing, previous=previous),
               "metric": metric_panel(history, start, smoothing=smoothing, previous=previous)}
    if snapshot is not None and start is not None:
        figures["predictions"] = prediction_panel(snapshot, start, data, probe=probe)
        figures["hidden"] = hidden_panel(snapshot, start, data, layer=layer, probe=probe)
        if data.task.long_memory and snapshot.grad_norms is not None:
            figures["gradients"] = gradient_panel([("this run", snapshot)])
    return figures
