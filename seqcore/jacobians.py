"""Why gradients vanish: the Jacobian ‖∂h_t/∂h_0‖ of a random tanh SimpleRNN, step by step.

Backpropagation through time multiplies one factor diag(1 − h_t²) Uᵀ per step; the Theory page draws the
norm of that product against t, beside the same product with tanh' = 1, which is just (Uᵀ)ᵗ. NumPy only.
"""

from __future__ import annotations

import numpy as np


def random_simple_rnn(radius: float, drive: float, units: int, steps: int, seed: int
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A recurrent matrix U scaled to spectral radius `radius`, input weights w of size `drive`, and `steps`
    standard normal inputs."""
    rng = np.random.default_rng(seed)
    U = rng.standard_normal((units, units)) / np.sqrt(units)
    U *= radius / np.abs(np.linalg.eigvals(U)).max()
    w = drive * rng.standard_normal(units)
    return U, w, rng.standard_normal(steps)


def state_jacobians(U: np.ndarray, w: np.ndarray, inputs: np.ndarray, h0: np.ndarray | None = None) -> np.ndarray:
    """∂h_t/∂h_0 for t = 1..len(inputs) of h_t = tanh(x_t w + h_(t−1) U), as (steps, units, units) matrices
    whose column j is the change of h_t per unit change of h_0[j]."""
    h = np.zeros(len(U)) if h0 is None else np.asarray(h0, dtype=np.float64)
    product = np.eye(len(U))
    products = []
    for x in inputs:
        h = np.tanh(x * w + h @ U)
        product = ((1 - h**2)[:, None] * U.T) @ product  # diag(1 − h_t²) Uᵀ times the earlier factors
        products.append(product)
    return np.stack(products)


def spectral_norms(matrices: np.ndarray) -> np.ndarray:
    """The largest singular value of each matrix: the root of the largest eigenvalue of MᵀM (half an SVD's cost)."""
    return np.sqrt(np.linalg.eigvalsh(np.swapaxes(matrices, 1, 2) @ matrices)[:, -1].clip(min=0))


def jacobian_norms(radius: float, drive: float, units: int = 32, steps: int = 50, seed: int = 0
                   ) -> tuple[np.ndarray, np.ndarray]:
    """‖∂h_t/∂h_0‖ for t = 1..steps of a random tanh SimpleRNN driven by standard normal inputs, and ‖(Uᵀ)ᵗ‖,
    the same product with tanh' = 1."""
    U, w, inputs = random_simple_rnn(radius, drive, units, steps, seed)
    powers = np.stack([np.linalg.matrix_power(U.T, t) for t in range(1, steps + 1)])
    return spectral_norms(state_jacobians(U, w, inputs)), spectral_norms(powers)
