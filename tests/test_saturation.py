"""Gate saturation (Karpathy, Johnson & Fei-Fei 2015's view) from the NumPy reference: a unit's gate that a bias
holds open or shut reads as always saturated, one that follows its input as often as the input says, and the
figure draws one point per unit at (open share, shut share)."""

import numpy as np
import pytest

from seqcore import plots
from seqcore.saturation import gate_saturation, sigmoid_gates

UNITS, TOKENS = 3, 2


def lstm_weights(bias_blocks: dict[str, float], kernel_forget: np.ndarray | None = None) -> list[np.ndarray]:
    """One LSTM layer reading one-hot tokens with zero U, the given constant bias per block, and a token head."""
    blocks = ("input", "forget", "candidate", "output")
    kernel = np.zeros((TOKENS, 4 * UNITS), np.float32)
    if kernel_forget is not None:
        kernel[:, UNITS:2 * UNITS] = kernel_forget
    bias = np.concatenate([np.full(UNITS, bias_blocks.get(b, 0.0), np.float32) for b in blocks])
    return [kernel, np.zeros((UNITS, 4 * UNITS), np.float32), bias, np.zeros((UNITS, TOKENS), np.float32),
            np.zeros(TOKENS, np.float32)]


def alternating_tokens(sequences=5, steps=8) -> np.ndarray:
    tokens = np.arange(steps) % TOKENS
    return np.broadcast_to(np.eye(TOKENS, dtype=np.float32)[tokens], (sequences, steps, TOKENS)).copy()


def by_gate(found):
    return {g.gate: g for g in found}


def test_a_bias_that_holds_a_gate_open_or_shut_reads_as_saturated_every_step():
    found = by_gate(gate_saturation(lstm_weights({"forget": 10.0, "input": -10.0}), alternating_tokens(),
                                    cell="LSTM", head="tokens"))
    assert list(found) == ["input", "forget", "output"]  # the candidate is a tanh, not a gate
    assert np.allclose(found["forget"].open, 1.0) and np.allclose(found["forget"].shut, 0.0)
    assert np.allclose(found["input"].shut, 1.0) and np.allclose(found["input"].open, 0.0)
    assert np.allclose(found["output"].open, 0.0) and np.allclose(found["output"].shut, 0.0)  # σ(0) = 0.5


def test_a_gate_driven_by_its_input_is_open_and_shut_as_often_as_the_input_says():
    # Token 0 opens unit 0's forget gate and shuts unit 1's; token 1 does the reverse; unit 2 ignores tokens.
    drive = np.array([[8.0, -8.0, 0.0], [-8.0, 8.0, 0.0]], np.float32)
    tokens = np.eye(TOKENS, dtype=np.float32)[[0, 0, 0, 1]][None]  # three steps of token 0, one of token 1
    forget = by_gate(gate_saturation(lstm_weights({}, drive), tokens, cell="LSTM", head="tokens"))["forget"]
    assert np.allclose(forget.open, [0.75, 0.25, 0.0]) and np.allclose(forget.shut, [0.25, 0.75, 0.0])


def test_gru_reports_its_update_and_reset_gates_and_a_simplernn_has_none():
    assert sigmoid_gates("GRU") == ("update", "reset") and sigmoid_gates("SimpleRNN") == ()
    bias = np.zeros((2, 3 * UNITS), np.float32)
    bias[0, :UNITS] = -10.0  # the update gate z, shut: the GRU takes its candidate every step
    weights = [np.zeros((TOKENS, 3 * UNITS), np.float32), np.zeros((UNITS, 3 * UNITS), np.float32), bias,
               np.zeros((UNITS, TOKENS), np.float32), np.zeros(TOKENS, np.float32)]
    found = by_gate(gate_saturation(weights, alternating_tokens(), cell="GRU", head="tokens"))
    assert np.allclose(found["update"].shut, 1.0) and np.allclose(found["reset"].shut, 0.0)
    simple = [np.zeros((TOKENS, UNITS), np.float32), np.zeros((UNITS, UNITS), np.float32),
              np.zeros(UNITS, np.float32), np.zeros((UNITS, TOKENS), np.float32), np.zeros(TOKENS, np.float32)]
    assert gate_saturation(simple, alternating_tokens(), cell="SimpleRNN", head="tokens") == []


def test_the_figure_has_a_panel_per_gate_and_a_point_per_unit_at_open_and_shut_shares():
    found = gate_saturation(lstm_weights({"forget": 10.0}), alternating_tokens(), cell="LSTM", head="tokens")
    figure = plots.gate_saturation_figure(found)
    points = [t for t in figure.data if t.mode == "markers"]
    assert [t.name for t in points] == ["input", "forget", "output"]
    forget = points[1]
    assert list(forget.x) == pytest.approx([1.0] * UNITS) and list(forget.y) == pytest.approx([0.0] * UNITS)
    assert list(forget.customdata) == [0, 1, 2] and "unit %{customdata}" in forget.hovertemplate
    assert [a.text for a in figure.layout.annotations] == ["input", "forget", "output"]


def test_a_big_or_long_network_is_counted_over_fewer_sequences_so_the_page_stays_quick():
    from seqcore.saturation import MAX_SEQUENCES, sequences_for

    assert sequences_for(100, 64, 2, 4) == MAX_SEQUENCES  # the adding lesson's LSTM(64)
    assert sequences_for(1000, 1024, 1024, 4) == 1  # the largest network a local server allows
    assert 1 < sequences_for(200, 128, 2, 4) < MAX_SEQUENCES
    many = alternating_tokens(sequences=100)
    found = gate_saturation(lstm_weights({"forget": 10.0}), many, cell="LSTM", head="tokens")
    assert np.allclose(found[1].open, 1.0)  # counted over the first MAX_SEQUENCES, with the same answer
