"""The dashboard's figures for a run: history, snapshots and data in, Plotly figures out.

Pure functions (no Streamlit), shared by the live training page, the Inspect
page and the bytes-per-update benchmark.
"""

from __future__ import annotations

import numpy as np

from seqcore import plots
from seqcore.data import SequenceData
from seqcore.events import EpochEvent, SnapshotEvent, StartEvent
from seqcore.tasks import MARKED, TOKENS


def _column(history, name: str) -> np.ndarray:
    return np.array([getattr(e, name) for e in history], dtype=np.float32)


def _near(baselines: dict[str, float], *curves: np.ndarray) -> dict[str, float]:
    """The baselines within reach of the curves: one far above them would squash the curves flat."""
    values = np.concatenate([c[np.isfinite(c)] for c in curves]) if curves else np.array([])
    if not len(values):
        return baselines
    top = 1.5 * float(values.max())
    return {k: v for k, v in baselines.items() if v <= top}


def loss_panel(history: tuple[EpochEvent, ...], start: StartEvent | None, *, log_y=False, smoothing=0.0):
    base = {k: v for k, v in (start.baselines if start else {}).items() if "entropy" in k or "MSE" in k}
    base = _near(base, _column(history, "loss"), _column(history, "val_loss"))
    return plots.loss_figure(_column(history, "epoch"), _column(history, "loss"), _column(history, "val_loss"),
                             log_y=log_y, smoothing=smoothing, baselines=base, title="Loss (train and validation)")


def metric_panel(history: tuple[EpochEvent, ...], start: StartEvent | None, *, smoothing=0.0):
    metric = start.metric if start else "metric"
    base = {k: v for k, v in (start.baselines if start else {}).items() if "accuracy" in k} if start else {}
    label = "accuracy" if metric == "accuracy" else "mean absolute error"
    return plots.loss_figure(_column(history, "epoch"), _column(history, "metric"), _column(history, "val_metric"),
                             smoothing=smoothing, baselines=base, title=label.capitalize(), y_label=label)


def token_labels(x: np.ndarray) -> list[str]:
    """Input tokens of one probe sequence as tick labels."""
    return [str(t) for t in np.argmax(x, axis=-1)]


def hidden_panel(snapshot: SnapshotEvent, start: StartEvent, data: SequenceData, *, layer=0, probe=0):
    h = snapshot.hidden[layer][probe]
    labels = token_labels(start.probe_x[probe]) if data.task.kind is TOKENS else None
    return plots.hidden_state_heatmap(
        h, x_labels=labels, title=f"Hidden state h_t of layer {layer + 1}, probe sequence {probe + 1} "
                                  f"(epoch {snapshot.epoch})")


def prediction_panel(snapshot: SnapshotEvent, start: StartEvent, data: SequenceData, *, probe=0):
    """Tokens: the probe's predictions right/wrong. Series: actual vs predicted plus a forecast. Marked: scatter."""
    spec = data.task
    if spec.kind is TOKENS:
        probs = snapshot.probe_output[probe]
        target = np.argmax(start.probe_y[probe], axis=-1)
        weights = None if start.probe_w is None else start.probe_w[probe]
        vocab = probs.shape[-1]
        return plots.token_prediction_figure(
            np.argmax(start.probe_x[probe], axis=-1), target, np.argmax(probs, axis=-1),
            probs[np.arange(len(target)), target], weights=weights, chance=1.0 / vocab,
            target=spec.target,
            title=f"Predictions of the {spec.target}, sequence {probe + 1} (epoch {snapshot.epoch})")
    predicted = snapshot.val_prediction
    if spec.kind is MARKED:  # one number per sequence
        truth = data.y_val[:len(predicted), 0]
        return plots.scatter_prediction_figure(truth, predicted[:, 0], quantity=spec.target,
                                               title=f"Predicted vs true, validation (epoch {snapshot.epoch})")
    scaler, (a, b) = data.scaler, data.split_points
    steps = data.n_steps
    t_pred = a + steps + np.arange(len(predicted))
    t_actual = np.arange(a, b)
    forecast = t_forecast = None
    if snapshot.forecast is not None:
        forecast = scaler.inverse(snapshot.forecast)
        t_forecast = b + np.arange(len(forecast))
    return plots.series_prediction_figure(
        t_actual, data.series[a:b], t_pred, scaler.inverse(predicted[:, 0]), t_forecast=t_forecast,
        forecast=forecast, title=f"Validation, then forecast (epoch {snapshot.epoch})")


def live_figures(history, start, snapshot, data, *, layer=0, probe=0, log_y=False, smoothing=0.0) -> dict:
    """Every figure of one live update of the training page."""
    figures = {"loss": loss_panel(history, start, log_y=log_y, smoothing=smoothing),
               "metric": metric_panel(history, start, smoothing=smoothing)}
    if snapshot is not None and start is not None:
        figures["predictions"] = prediction_panel(snapshot, start, data, probe=probe)
        figures["hidden"] = hidden_panel(snapshot, start, data, layer=layer, probe=probe)
    return figures
