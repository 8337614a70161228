"""The equations as code: a NumPy forward pass of our SimpleRNN, LSTM and GRU models.

It mirrors the models the builder makes (Keras 3 conventions): `keras.Input((T, features))`,
then L recurrent layers of one cell, then one Dense head, which is a softmax at every step
for head 'tokens' and linear on the last step's h for head 'regression'. Given
`model.get_weights()` it returns what `model.predict` returns, plus every hidden state,
cell state and gate, so the dashboard can draw them without TensorFlow in the UI process.
That is why this module imports only NumPy (and the standard-library table `seqcore.cells`).

The step functions (`simple_rnn_step`, `lstm_step`, `gru_step`) are teaching material: the
Theory page shows their source next to the LaTeX, so they stay a few lines that read like
the equations. Each takes `xW`, the input term x_t W for its step: `run_layer` computes it
for all steps in one matmul before the time loop, instead of T small ones inside it.

Everything runs in float32, as Keras does, vectorised over the batch; only time is a loop.
Dropout, recurrent dropout and the regularisers act only in training, so they do not appear.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from seqcore.cells import CELL_NAMES as CELLS
from seqcore.cells import CELLS as CELL_SPECS

HEADS = ("tokens", "regression")
ACTIVATIONS = ("tanh", "relu", "sigmoid")

DTYPE = np.float32


# --- activations (numerically stable: no overflow for any finite input) ---

def sigmoid(z: np.ndarray) -> np.ndarray:
    # exp(-|z|) never overflows; pick the algebraically equal form that fits the sign of z.
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))


def relu(z: np.ndarray) -> np.ndarray:
    return np.maximum(z, 0)


def softmax(z: np.ndarray, axis: int = -1) -> np.ndarray:
    # Subtracting the max changes nothing mathematically but keeps exp() from overflowing.
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


ACTIVATION_FUNCTIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "tanh": np.tanh, "relu": relu, "sigmoid": sigmoid,
}


# --- one time step of each cell: these mirror the equations on the Theory page ---

def simple_rnn_step(xW, h_prev, U, b, act=np.tanh):
    """h_t = act(x_t W + h_{t-1} U + b)."""
    pre_activation = xW + h_prev @ U + b
    h = act(pre_activation)
    return h, {"pre-activation": pre_activation}


def lstm_step(xW, h_prev, c_prev, U, b):
    """Keras gate order in W, U and b: input, forget, candidate (c̃), output."""
    xW_i, xW_f, xW_c, xW_o = np.split(xW, 4, axis=-1)
    hU_i, hU_f, hU_c, hU_o = np.split(h_prev @ U, 4, axis=-1)
    b_i, b_f, b_c, b_o = np.split(b, 4)
    i = sigmoid(xW_i + hU_i + b_i)        # input gate: how much of c̃ to write
    f = sigmoid(xW_f + hU_f + b_f)        # forget gate: how much of c_{t-1} to keep
    c_tilde = np.tanh(xW_c + hU_c + b_c)  # candidate cell state
    o = sigmoid(xW_o + hU_o + b_o)        # output gate: how much of the cell to show
    c = f * c_prev + i * c_tilde
    h = o * np.tanh(c)
    return h, c, {"input": i, "forget": f, "candidate": c_tilde, "output": o}


def gru_step(xW, h_prev, U, b):
    """reset_after=True (Keras 3 default); gate order update (z), reset (r), candidate (h̃).
    b has two rows: b[0] the input bias b^x, b[1] the recurrent bias b^h."""
    xW_z, xW_r, xW_h = np.split(xW + b[0], 3, axis=-1)
    hU_z, hU_r, hU_h = np.split(h_prev @ U + b[1], 3, axis=-1)
    z = sigmoid(xW_z + hU_z)              # update gate: how much of h_{t-1} to keep
    r = sigmoid(xW_r + hU_r)              # reset gate: how much of h_{t-1} the candidate sees
    h_tilde = np.tanh(xW_h + r * hU_h)    # candidate; r applies after U (reset_after)
    h = z * h_prev + (1 - z) * h_tilde
    return h, {"update": z, "reset": r, "candidate": h_tilde}


STEP_FUNCTIONS = {"SimpleRNN": simple_rnn_step, "LSTM": lstm_step, "GRU": gru_step}


# --- results ---

@dataclass
class LayerTrace:
    """Everything one recurrent layer computed, each array (N, T, units)."""

    h: np.ndarray                 # hidden state after every step
    c: np.ndarray | None          # LSTM cell state after every step; None for the other cells
    gates: dict[str, np.ndarray]  # LSTM: input, forget, candidate, output; GRU: update, reset,
                                  # candidate; SimpleRNN: pre-activation


@dataclass
class Trace:
    output: np.ndarray            # (N, T, n_out) softmax probabilities for 'tokens', (N, n_out) for 'regression'
    layers: list[LayerTrace]      # one per recurrent layer, input side first


# --- weights ---

LayerWeights = tuple[np.ndarray, np.ndarray, np.ndarray]  # kernel W, recurrent kernel U, bias b
HeadWeights = tuple[np.ndarray, np.ndarray]               # Dense kernel, Dense bias


def split_weights(weights: list, cell: str) -> tuple[list[LayerWeights], HeadWeights]:
    """Split `model.get_weights()` into per-layer (kernel, recurrent_kernel, bias) and the Dense head.

    The layer count comes from the list length (3 per recurrent layer + 2 for Dense). Shapes are
    checked against the cell so that weights from another cell or architecture fail here with a
    message that says which array is wrong, rather than as a broadcasting error mid-way.
    Arrays come back as float32.
    """
    _check_choice("cell", cell, CELLS)
    arrays = [np.asarray(w, dtype=DTYPE) for w in weights]
    if len(arrays) < 5 or (len(arrays) - 2) % 3:
        raise ValueError(
            f"expected 3 arrays per recurrent layer (kernel, recurrent_kernel, bias) and 2 for the Dense head "
            f"(kernel, bias), i.e. 5, 8, 11, ... arrays; got {len(arrays)}")
    spec = CELL_SPECS[cell]
    blocks = spec.n_blocks
    layers: list[LayerWeights] = []
    input_size = None  # width of the previous layer's h; None for the first layer, which reads x
    for index in range(0, len(arrays) - 2, 3):
        name = f"{cell} layer {index // 3 + 1}"
        kernel, recurrent_kernel, bias = arrays[index:index + 3]
        if recurrent_kernel.ndim != 2 or recurrent_kernel.shape[0] == 0:
            raise ValueError(f"{name}: recurrent_kernel must be a 2-D (units, {_cols(cell)}) array; "
                             f"got shape {recurrent_kernel.shape}")
        units = recurrent_kernel.shape[0]
        expected_bias = (blocks * units,) if spec.bias_rows == 1 else (spec.bias_rows, blocks * units)
        if kernel.ndim != 2:
            raise ValueError(f"{name}: kernel must be a 2-D (inputs, {_cols(cell)}) array; got shape {kernel.shape}")
        # The first layer's kernel may have any number of rows (features); later ones read the previous h.
        kernel_rows = kernel.shape[0] if input_size is None else input_size
        _check_shape(f"{name} recurrent_kernel", recurrent_kernel, (units, blocks * units), cell, units)
        _check_shape(f"{name} kernel", kernel, (kernel_rows, blocks * units), cell, units)
        if spec.bias_rows == 2 and bias.shape == (blocks * units,):
            raise ValueError(f"{name}: bias has shape {bias.shape}, which is a GRU with reset_after=False; "
                             f"only reset_after=True (the Keras 3 default) is supported, bias shape {expected_bias}")
        _check_shape(f"{name} bias", bias, expected_bias, cell, units)
        layers.append((kernel, recurrent_kernel, bias))
        input_size = units
    dense_kernel, dense_bias = arrays[-2:]
    if dense_kernel.ndim != 2:
        raise ValueError(f"Dense kernel must be a 2-D (units, n_outputs) array; got shape {dense_kernel.shape}")
    if dense_kernel.shape[0] != input_size:
        raise ValueError(f"Dense kernel has shape {dense_kernel.shape} but the last recurrent layer has "
                         f"{input_size} units: expected ({input_size}, n_outputs)")
    if dense_bias.shape != (dense_kernel.shape[1],):
        raise ValueError(f"Dense bias has shape {dense_bias.shape}; expected ({dense_kernel.shape[1]},) "
                         f"to match the Dense kernel {dense_kernel.shape}")
    return layers, (dense_kernel, dense_bias)


def _cols(cell: str) -> str:
    blocks = CELL_SPECS[cell].n_blocks
    return "units" if blocks == 1 else f"{blocks} * units"


def _check_shape(name: str, array: np.ndarray, expected: tuple[int, ...], cell: str, units: int) -> None:
    if array.shape == expected:
        return
    hint = ""
    # A width that is the wrong multiple of units usually means the weights come from another cell.
    if array.ndim == len(expected) and array.shape[-1] % units == 0:
        others = [c for c, spec in CELL_SPECS.items() if spec.n_blocks == array.shape[-1] // units and c != cell]
        hint = f" (these look like {others[0]} weights)" if others else ""
    raise ValueError(f"{name} has shape {array.shape}; with {units} units it must be {expected}{hint}")


def _check_choice(name: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ValueError(f"{name} {value!r} is not one of {', '.join(allowed)}")


# --- the forward pass ---

def run_layer(layer: LayerWeights, inputs: np.ndarray, cell: str, activation: str = "tanh") -> LayerTrace:
    """Run one recurrent layer over (N, T, in) inputs from zero initial state."""
    _check_choice("activation", activation, ACTIVATIONS)
    W, U, b = layer
    n_sequences, n_steps, _ = inputs.shape
    units = U.shape[0]
    xW_all = inputs @ W  # (N, T, blocks * units): the input term of every step in one matmul
    h = np.zeros((n_sequences, units), DTYPE)
    c = np.zeros((n_sequences, units), DTYPE)
    hs, cs, gate_steps = [], [], []
    for t in range(n_steps):
        if cell == "SimpleRNN":
            h, gates = simple_rnn_step(xW_all[:, t], h, U, b, ACTIVATION_FUNCTIONS[activation])
        elif cell == "LSTM":
            h, c, gates = lstm_step(xW_all[:, t], h, c, U, b)
            cs.append(c)
        else:
            h, gates = gru_step(xW_all[:, t], h, U, b)
        hs.append(h)
        gate_steps.append(gates)
    return LayerTrace(
        h=np.stack(hs, axis=1),
        c=np.stack(cs, axis=1) if cell == "LSTM" else None,
        gates={name: np.stack([g[name] for g in gate_steps], axis=1) for name in gate_steps[0]},
    )


def forward(weights: list, x: np.ndarray, *, cell: str, head: str, activation: str = "tanh") -> Trace:
    """The model's output for x of shape (N, T, features), with every layer's states and gates.

    `activation` is the SimpleRNN activation; LSTM and GRU always use sigmoid gates and tanh.
    """
    _check_choice("cell", cell, CELLS)
    _check_choice("head", head, HEADS)
    _check_choice("activation", activation, ACTIVATIONS)
    layers, (dense_kernel, dense_bias) = split_weights(weights, cell)
    x = np.asarray(x, dtype=DTYPE)
    n_features = layers[0][0].shape[0]
    if x.ndim != 3 or x.shape[1] == 0 or x.shape[2] != n_features:
        raise ValueError(f"x must have shape (sequences, steps >= 1, {n_features} features); got {x.shape}")
    traces = []
    inputs = x
    for layer in layers:
        traces.append(run_layer(layer, inputs, cell, activation))
        inputs = traces[-1].h
    if head == "tokens":
        output = softmax(inputs @ dense_kernel + dense_bias)  # Dense on (N, T, units): one softmax per step
    else:
        output = inputs[:, -1] @ dense_kernel + dense_bias    # the last layer returns only its last h
    return Trace(output=output.astype(DTYPE, copy=False), layers=traces)


def predict(weights: list, x: np.ndarray, *, cell: str, head: str, activation: str = "tanh") -> np.ndarray:
    """Just the output, the same as `model.predict(x)`."""
    return forward(weights, x, cell=cell, head=head, activation=activation).output


def forecast(weights: list, window: np.ndarray, steps: int, *, cell: str, activation: str = "tanh",
             horizon: int | None = None) -> np.ndarray:
    """Free-running forecast of a one-feature regression model, past the end of the data.

    Each call predicts the next `horizon` values from the last T values; these are appended and
    the window slides on by `horizon`, so later predictions rest on earlier ones. Returns `steps`
    values (the last chunk is cut short). `window` is (T,) or (T, 1), giving (steps,), or a batch
    (N, T, 1), giving (N, steps). `horizon` defaults to the model's number of outputs and, when
    given, must equal it.
    """
    layers, (dense_kernel, _) = split_weights(weights, cell)
    n_outputs = dense_kernel.shape[1]
    if horizon is None:
        horizon = n_outputs
    if horizon != n_outputs:
        raise ValueError(f"horizon {horizon} does not match the model, which predicts {n_outputs} values per call")
    if layers[0][0].shape[0] != 1:
        raise ValueError(f"forecast needs a model with one input feature; this one has {layers[0][0].shape[0]}")
    if isinstance(steps, bool) or not isinstance(steps, int | np.integer) or steps < 0:
        raise ValueError(f"steps must be a whole number >= 0; got {steps!r}")
    window = np.asarray(window, dtype=DTYPE)
    single = window.ndim == 1 or (window.ndim == 2 and window.shape[1] == 1)
    if single:
        window = window.reshape(1, -1, 1)
    if window.ndim != 3 or window.shape[1] == 0 or window.shape[2] != 1:
        raise ValueError(f"window must have shape (T,), (T, 1) or (N, T, 1); got {window.shape}")
    n_steps = window.shape[1]
    history = window[:, :, 0]
    predicted = []
    for _ in range(-(-steps // horizon)):  # ceil(steps / horizon) calls
        values = predict(weights, history[:, -n_steps:, None], cell=cell, head="regression", activation=activation)
        predicted.append(values)
        history = np.concatenate([history, values], axis=1)
    result = np.concatenate(predicted, axis=1)[:, :steps] if predicted else np.zeros((len(history), 0), DTYPE)
    return result[0] if single else result
