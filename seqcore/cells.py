"""The one table of recurrent cells: names, gate blocks, bias layout, parameter formulas, what their gates mean.

Everything that differs between SimpleRNN, LSTM and GRU outside their equations reads this table: the config's
choices, the NumPy reference's weight checks, the parameter counts, the cost estimate of a training step, and
the pages' captions. The equations themselves are `seqcore.reference`'s step functions. Standard library only,
so the NumPy reference can import it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CellSpec:
    name: str  # the Keras layer class
    blocks: tuple[str, ...]  # what each block of `units` columns in W, U and b computes, in Keras' order
    bias_rows: int  # GRU with reset_after (Keras 3's default) has an input bias and a recurrent bias
    has_cell_state: bool  # the LSTM carries c_t besides h_t
    gates_caption: str  # what the Inspect page's gate heatmaps show
    init_settings: tuple[str, ...] = ()  # the model's initialisation levers that this cell reads (others ignore them)

    @property
    def n_blocks(self) -> int:
        return len(self.blocks)

    @property
    def formula(self) -> str:
        """Parameters of one layer with n units reading m inputs, in symbols: e.g. '4·(n·m + n² + n)'."""
        inner = f"n·m + n² + {'' if self.bias_rows == 1 else self.bias_rows}n"
        return inner if self.n_blocks == 1 else f"{self.n_blocks}·({inner})"

    def parameters(self, units: int, inputs: int) -> int:
        return self.n_blocks * (units * inputs + units * units + self.bias_rows * units)


CELLS: dict[str, CellSpec] = {
    spec.name: spec for spec in (
        CellSpec("SimpleRNN", ("candidate",), 1, False,
                 "A SimpleRNN has no gates: this is x_t W + h_(t−1) U + b before the activation. Values far from 0 "
                 "saturate tanh, where its gradient vanishes.", init_settings=("recurrent_init",)),
        CellSpec("LSTM", ("input", "forget", "candidate", "output"), 1, True,
                 "Input, forget and output gates lie in 0..1 (how much is written, kept and shown); the candidate "
                 "c̃ in −1..1. A forget gate near 1 keeps the cell state, which is how an LSTM remembers over "
                 "long lags.", init_settings=("forget_bias", "chrono_t_max")),
        CellSpec("GRU", ("update", "reset", "candidate"), 2, False,
                 "The update gate z chooses between keeping h_(t−1) (z near 1) and taking the candidate h̃; the "
                 "reset gate r chooses how much of h_(t−1) the candidate sees."),
    )
}
CELL_NAMES = tuple(CELLS)


def cell(name: str) -> CellSpec:
    if name not in CELLS:
        raise ValueError(f"cell {name!r} is not one of {', '.join(CELLS)}")
    return CELLS[name]
