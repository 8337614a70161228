"""seqcore.reference must compute what Keras computes, for every cell, depth and head we build."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # before TensorFlow loads, to keep its banner out of the output

import inspect  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from seqcore import reference  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parents[1]
GATE_NAMES = {"SimpleRNN": {"pre-activation"}, "LSTM": {"input", "forget", "candidate", "output"},
              "GRU": {"update", "reset", "candidate"}}


def build_model(cell, units, features, steps, head, n_outputs, *, activation="tanh", training_extras=False,
                last_returns_state=False, seed=0):
    """Our builder's architecture, with weights perturbed so that biases are nonzero.

    Returns the model and a probe model whose outputs are each recurrent layer's output
    (and, with `last_returns_state`, the last layer's final states).
    """
    keras.utils.set_random_seed(seed)
    layer_class = getattr(keras.layers, cell)
    # Dropout and regularisers only act in training: set them sometimes to show inference ignores them.
    extras = dict(dropout=0.3, recurrent_dropout=0.2, kernel_regularizer=keras.regularizers.L2(0.01)) \
        if training_extras else {}
    if cell == "SimpleRNN":
        extras["activation"] = activation
    inputs = keras.Input((steps, features))
    h, probes = inputs, []
    for index, layer_units in enumerate(units):
        is_last = index == len(units) - 1
        layer = layer_class(layer_units, return_sequences=not is_last or head == "tokens",
                            return_state=is_last and last_returns_state, **extras)
        h = layer(h)
        if is_last and last_returns_state:
            h, *states = h
            probes += [h, *states]
        else:
            probes.append(h)
    outputs = keras.layers.Dense(n_outputs, activation="softmax" if head == "tokens" else None)(h)
    model = keras.Model(inputs, outputs)
    rng = np.random.default_rng(seed)
    model.set_weights([w + rng.normal(0, 0.3, w.shape).astype(np.float32) for w in model.get_weights()])
    return model, keras.Model(inputs, probes)


def assert_close(ours, keras_values, activation="tanh"):
    keras_values = np.asarray(keras_values)
    assert ours.shape == keras_values.shape
    # relu is unbounded, so compare relative to the size of the values.
    scale = max(1.0, float(np.abs(keras_values).max())) if activation == "relu" else 1.0
    np.testing.assert_allclose(ours, keras_values, rtol=1e-4, atol=1e-4 * scale)


model_shapes = dict(
    cell=st.sampled_from(reference.CELLS),
    units=st.lists(st.integers(1, 16), min_size=1, max_size=3),
    features=st.integers(1, 5),
    steps=st.integers(1, 12),
    batch=st.integers(1, 4),
    n_outputs=st.integers(1, 5),
    activation=st.sampled_from(reference.ACTIVATIONS),
    seed=st.integers(0, 2**16),
)


@settings(max_examples=25, deadline=None)
@given(head=st.sampled_from(reference.HEADS), training_extras=st.booleans(), **model_shapes)
def test_forward_matches_keras(cell, units, features, steps, batch, n_outputs, activation, seed, head,
                               training_extras):
    if head == "tokens":
        n_outputs = max(n_outputs, 2)  # a vocabulary has at least 2 tokens; softmax over 1 is constant
    model, probe = build_model(cell, units, features, steps, head, n_outputs, activation=activation,
                               training_extras=training_extras, seed=seed)
    x = np.random.default_rng(seed + 1).normal(size=(batch, steps, features)).astype(np.float32)

    trace = reference.forward(model.get_weights(), x, cell=cell, head=head, activation=activation)

    assert trace.output.dtype == np.float32
    assert_close(trace.output, model(x), activation)
    assert_close(reference.predict(model.get_weights(), x, cell=cell, head=head, activation=activation),
                 model(x), activation)
    layer_outputs = probe(x)
    layer_outputs = layer_outputs if isinstance(layer_outputs, list | tuple) else [layer_outputs]
    assert len(trace.layers) == len(units) == len(layer_outputs)
    for layer_units, layer, keras_output in zip(units, trace.layers, layer_outputs, strict=True):
        # The last layer of a regression model returns only its final h.
        keras_output = np.asarray(keras_output)
        assert_close(layer.h if keras_output.ndim == 3 else layer.h[:, -1], keras_output, activation)
        assert layer.h.shape == (batch, steps, layer_units)
        assert set(layer.gates) == GATE_NAMES[cell]
        assert all(gate.shape == layer.h.shape for gate in layer.gates.values())
        assert (layer.c is not None) == (cell == "LSTM")


@settings(max_examples=15, deadline=None)
@given(**model_shapes)
def test_last_layer_sequence_and_final_states_match_keras(cell, units, features, steps, batch, n_outputs,
                                                          activation, seed):
    model, probe = build_model(cell, units, features, steps, "tokens", max(n_outputs, 2), activation=activation,
                               last_returns_state=True, seed=seed)
    x = np.random.default_rng(seed + 1).normal(size=(batch, steps, features)).astype(np.float32)

    last = reference.forward(model.get_weights(), x, cell=cell, head="tokens", activation=activation).layers[-1]

    # The probe returns the earlier layers' sequences, then the last one's, then h_T (and c_T for LSTM).
    probe_outputs = probe(x)
    sequence, final_h = probe_outputs[len(units) - 1:len(units) + 1]
    assert_close(last.h, sequence, activation)
    assert_close(last.h[:, -1], final_h, activation)
    if cell == "LSTM":
        assert_close(last.c[:, -1], probe_outputs[-1])
        assert last.c.shape == last.h.shape
        # The textbook identity h_t = o ⊙ tanh(c_t) holds at every step.
        np.testing.assert_allclose(last.h, last.gates["output"] * np.tanh(last.c), atol=1e-6)


@pytest.mark.parametrize("cell", reference.CELLS)
@pytest.mark.parametrize("horizon", [1, 3])
def test_forecast_matches_a_manual_loop_of_keras_predictions(cell, horizon):
    window_len, steps = 6, 8  # 8 is not a multiple of 3: the last chunk gets cut short
    model, _ = build_model(cell, [4], 1, window_len, "regression", horizon, seed=horizon)
    window = np.sin(np.arange(window_len) / 2).astype(np.float32)

    ours = reference.forecast(model.get_weights(), window, steps, cell=cell, horizon=horizon)

    history = list(window)
    while len(history) < window_len + steps:
        history += list(np.asarray(model(np.array(history[-window_len:], np.float32).reshape(1, window_len, 1)))[0])
    assert ours.shape == (steps,)
    np.testing.assert_allclose(ours, history[window_len:window_len + steps], atol=1e-4)
    # A batch of windows gives one forecast per window, and (T, 1) means the same as (T,).
    batch = np.stack([window, -window])[..., None]
    batched = reference.forecast(model.get_weights(), batch, steps, cell=cell, horizon=horizon)
    assert batched.shape == (2, steps)
    np.testing.assert_allclose(batched[0], ours, atol=1e-6)
    np.testing.assert_allclose(reference.forecast(model.get_weights(), window[:, None], steps, cell=cell), ours)


# --- errors, with weights made by hand (no Keras needed) ---

def lstm_weights(features=3, units=(4, 5), n_outputs=2):
    rng = np.random.default_rng(0)
    weights, inputs = [], features
    for n in units:
        weights += [rng.normal(size=(inputs, 4 * n)), rng.normal(size=(n, 4 * n)), rng.normal(size=4 * n)]
        inputs = n
    return weights + [rng.normal(size=(inputs, n_outputs)), rng.normal(size=n_outputs)]


def test_split_weights_infers_the_layers():
    layers, (dense_kernel, dense_bias) = reference.split_weights(lstm_weights(), "LSTM")
    assert [w.shape for w in layers[1]] == [(4, 20), (5, 20), (20,)]
    assert dense_kernel.shape == (5, 2) and dense_bias.dtype == np.float32


@pytest.mark.parametrize("weights, cell, message", [
    (lstm_weights()[:-1], "LSTM", "got 7"),
    (lstm_weights(), "GRU", r"layer 1 recurrent_kernel has shape \(4, 16\).*look like LSTM weights"),
    (lstm_weights(), "SimpleRNN", "look like LSTM weights"),
    (lstm_weights()[:3] + lstm_weights(units=(3, 5))[3:], "LSTM", r"layer 2 kernel has shape \(3, 20\).*\(4, 20\)"),
    (lstm_weights()[:-2] + [np.zeros((4, 2)), np.zeros(2)], "LSTM", r"Dense kernel has shape \(4, 2\).*5 units"),
    (lstm_weights()[:-1] + [np.zeros(3)], "LSTM", r"Dense bias has shape \(3,\)"),
    ([np.zeros((3, 6)), np.zeros((2, 6)), np.zeros(6), np.zeros((2, 1)), np.zeros(1)], "GRU", "reset_after=False"),
    (lstm_weights(), "Transformer", "cell 'Transformer' is not one of"),
])
def test_split_weights_says_what_is_wrong(weights, cell, message):
    with pytest.raises(ValueError, match=message):
        reference.split_weights(weights, cell)


def test_bad_inputs_are_refused_clearly():
    weights = lstm_weights()
    x = np.zeros((2, 5, 3), np.float32)
    with pytest.raises(ValueError, match=r"3 features\); got \(2, 5, 4\)"):
        reference.forward(weights, np.zeros((2, 5, 4)), cell="LSTM", head="tokens")
    with pytest.raises(ValueError, match="head 'classes'"):
        reference.forward(weights, x, cell="LSTM", head="classes")
    with pytest.raises(ValueError, match="activation 'gelu'"):
        reference.forward(weights, x, cell="LSTM", head="tokens", activation="gelu")
    with pytest.raises(ValueError, match="one input feature"):
        reference.forecast(weights, np.zeros(5), 3, cell="LSTM")
    one_feature = lstm_weights(features=1, n_outputs=2)
    with pytest.raises(ValueError, match="horizon 1 does not match the model, which predicts 2"):
        reference.forecast(one_feature, np.zeros(5), 3, cell="LSTM", horizon=1)
    assert reference.forecast(one_feature, np.zeros(5), 0, cell="LSTM").shape == (0,)


def test_extreme_values_stay_finite_without_warnings():
    weights = [w * 1e3 for w in lstm_weights()]
    x = np.full((2, 4, 3), 1e4, np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an overflow in exp() would warn
        for head in reference.HEADS:
            trace = reference.forward(weights, x, cell="LSTM", head=head)
            assert np.isfinite(trace.output).all()
    np.testing.assert_allclose(reference.softmax(np.array([1e4, 0.0], np.float32)), [1.0, 0.0])
    np.testing.assert_array_equal(reference.sigmoid(np.array([-1e4, 0.0, 1e4], np.float32)), [0.0, 0.5, 1.0])


def test_step_functions_are_short_readable_source_for_the_theory_page():
    for step in (reference.simple_rnn_step, reference.lstm_step, reference.gru_step):
        source = inspect.getsource(step)
        assert source.startswith(f"def {step.__name__}(") and len(source.splitlines()) <= 20


def test_imports_only_numpy(packages_imported_by):
    # The dashboard draws states and gates without TensorFlow in the UI process.
    assert packages_imported_by("import seqcore.reference", {"keras", "tensorflow", "streamlit", "jax", "torch"}) == []
