"""Gate saturation: how often each unit's gates are shut (below 0.1) or wide open (above 0.9).

Karpathy, Johnson & Fei-Fei 2015 ("Visualizing and Understanding Recurrent Networks", fig. 3) read a trained
LSTM this way: a forget gate open nearly all the time belongs to a unit that integrates over long spans, one
that is never saturated acts on each input as it comes. Computed from the NumPy reference's gates on real
sequences of the run's data, so it shows what the trained weights do, not what the cell could do.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from seqcore import reference
from seqcore.cells import CELLS

SHUT, OPEN = 0.1, 0.9  # Karpathy et al.'s thresholds for left- and right-saturated
MAX_SEQUENCES = 64  # enough steps for stable fractions
# The forward pass's multiply-adds, sequences × steps × units × (units + inputs) × blocks, kept to about 0.1 s of
# NumPy a page run: 64 sequences of an LSTM(64) at T = 100 fit; an LSTM(1024) at T = 1000 gets one sequence.
MAX_WORK = 64 * 100 * 64 * 128 * 4


def sequences_for(n_steps: int, units: int, inputs: int, blocks: int) -> int:
    """How many sequences the saturation is counted over: MAX_SEQUENCES, fewer for big or long networks."""
    return int(max(1, min(MAX_SEQUENCES, MAX_WORK // max(1, n_steps * units * (units + inputs) * blocks))))


@dataclass(frozen=True)
class GateSaturation:
    gate: str
    shut: np.ndarray  # (units,) fraction of steps below SHUT
    open: np.ndarray  # (units,) fraction of steps above OPEN
    sequences: int  # how many sequences the fractions were counted over


def sigmoid_gates(cell: str) -> tuple[str, ...]:
    """The cell's gates that a sigmoid squashes into 0..1 (its candidate is a tanh, a SimpleRNN has none)."""
    spec = CELLS[cell]
    return tuple(block for block in spec.blocks if block != "candidate") if spec.n_blocks > 1 else ()


def gate_saturation(weights: list, x: np.ndarray, *, cell: str, head: str, layer: int = 0,
                    activation: str = "tanh") -> list[GateSaturation]:
    """Per sigmoid gate of `layer`, each unit's share of time steps shut and open, over the first sequences of `x`
    (`sequences_for` says how many); empty for a SimpleRNN."""
    gates = sigmoid_gates(cell)
    if not gates:
        return []
    recurrent = weights[1 + 3 * layer]  # U of the layer: (units, blocks × units)
    units = recurrent.shape[0]
    count = sequences_for(x.shape[1], units, x.shape[2] if layer == 0 else units, len(CELLS[cell].blocks))
    trace = reference.forward(weights, x[:count], cell=cell, head=head, activation=activation)
    values = trace.layers[layer].gates
    counted = min(count, len(x))
    return [GateSaturation(gate, shut=(values[gate] < SHUT).mean(axis=(0, 1)),
                           open=(values[gate] > OPEN).mean(axis=(0, 1)), sequences=counted) for gate in gates]
