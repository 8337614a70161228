"""The generators: each makes the raw sequences of one task from its settings and a seeded generator.

Token tasks return `TokenSequences` (integer inputs and targets, and step weights where some steps have
no target), marked regressions return `MarkedSequences` (inputs with channels, one target per sequence),
series return one 1-D float array. `seqcore.data` turns any of them into split, model-ready arrays;
`seqcore.tasks` says which generator belongs to which task. NumPy only; `config` is a `DataConfig`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

import numpy as np

if TYPE_CHECKING:
    from seqcore.config import DataConfig

MG_DT = 0.1  # Euler step of the Mackey-Glass integration, in time units
MG_STEPS_PER_SAMPLE = 10  # one sample per time unit
MG_BURN_IN = 500  # time units dropped so the series starts on the attractor, not in the transient
AR_BURN_IN = 500  # steps dropped so the AR series starts from its stationary distribution


class TokenSequences(NamedTuple):
    inputs: np.ndarray  # (N, T) int: the token read at each step
    targets: np.ndarray  # (N, T) int: the token to predict at each step
    weights: np.ndarray | None  # (N, T) float32: 0 where a step has no target, or None when every step has one
    shown: np.ndarray  # (N, L) int: the sequences as a person sees them in the preview


class MarkedSequences(NamedTuple):
    x: np.ndarray  # (N, T, channels) float32
    y: np.ndarray  # (N, outputs) float32


# --------------------------------------------------------------------------- tokens


def random_digits(config: DataConfig, rng: np.random.Generator) -> TokenSequences:
    tokens = rng.integers(0, config.vocab_size, size=(config.n_sequences, config.seq_len), dtype=np.int32)
    return next_token_pairs(tokens)


def patterned_digits(config: DataConfig, rng: np.random.Generator) -> TokenSequences:
    return next_token_pairs(_patterned_tokens(config, rng))


def next_token_pairs(tokens: np.ndarray) -> TokenSequences:
    """Read every token but the last, predict the one after it: the last token has nothing after it."""
    return TokenSequences(inputs=tokens[:, :-1], targets=tokens[:, 1:], weights=None, shown=tokens)


def delay(config: DataConfig, rng: np.random.Generator) -> TokenSequences:
    """Predict the token seen `lag` steps ago; the first `lag` steps have nothing to recall and weigh 0."""
    n, length, lag = config.n_sequences, config.seq_len, config.lag
    tokens = rng.integers(0, config.vocab_size, size=(n, length), dtype=np.int32)
    targets = np.zeros_like(tokens)  # token 0 stands in where nothing is lagged yet; its weight is 0
    targets[:, lag:] = tokens[:, :-lag]
    weights = np.broadcast_to((np.arange(length) >= lag).astype(np.float32), (n, length))
    return TokenSequences(inputs=tokens, targets=targets, weights=weights, shown=tokens)


COPY_BLANK = 0  # the copy task's blank symbol; its data symbols are 1..vocab_size and its marker vocab_size + 1


def copy_memory(config: DataConfig, rng: np.random.Generator) -> TokenSequences:
    """The copy-memory task (Hochreiter & Schmidhuber 1997; Arjovsky, Shah & Bengio 2016).

    Input: k = copy_len symbols, T - 1 blanks (T = seq_len), the marker, then k blanks: T + 2k steps.
    Target: blanks until the marker, then the k symbols in order. Every step is scored, as in the papers, so a
    network that remembers nothing scores k·ln(vocab_size) / (T + 2k) nats (blanks right, then guesses).
    """
    n, k, blanks = config.n_sequences, config.copy_len, config.seq_len
    length = blanks + 2 * k
    symbols = rng.integers(1, config.vocab_size + 1, size=(n, k), dtype=np.int32)
    inputs = np.full((n, length), COPY_BLANK, dtype=np.int32)
    inputs[:, :k] = symbols
    inputs[:, k + blanks - 1] = config.vocab_size + 1  # the marker: "now write them out"
    targets = np.full((n, length), COPY_BLANK, dtype=np.int32)
    targets[:, -k:] = symbols
    return TokenSequences(inputs=inputs, targets=targets, weights=None, shown=inputs)


def _patterned_tokens(config: DataConfig, rng: np.random.Generator) -> np.ndarray:
    n, length, vocab = config.n_sequences, config.seq_len, config.vocab_size
    steps = np.arange(length)
    if config.pattern == "motif":
        # One motif for the whole data set, each sequence entering it at its own offset: the pattern is
        # the same everywhere, so what is learnt on training sequences carries over to held-out ones.
        # Distinct tokens (when the vocabulary allows) make each token's successor unambiguous.
        motif = rng.choice(vocab, size=config.motif_len, replace=config.motif_len > vocab).astype(np.int32)
        offsets = rng.integers(0, config.motif_len, size=n)
        tokens = motif[(offsets[:, None] + steps) % config.motif_len]
    else:
        starts = rng.integers(0, vocab, size=n)
        tokens = ((starts[:, None] + steps) % vocab).astype(np.int32)
    replaced = rng.random((n, length)) < config.noise
    random_tokens = rng.integers(0, vocab, size=(n, length), dtype=np.int32)
    return np.where(replaced, random_tokens, tokens)


# --------------------------------------------------------------------------- marked regression


def adding(config: DataConfig, rng: np.random.Generator) -> MarkedSequences:
    """The adding problem: two channels, a value in [0, 1) and a marker; the target is the sum of the two marked
    values, one in each half of the sequence."""
    n, length = config.n_sequences, config.seq_len
    values = rng.random((n, length), dtype=np.float32)
    half = length // 2
    first = rng.integers(0, half, size=n)
    second = rng.integers(half, length, size=n)
    rows = np.arange(n)
    markers = np.zeros((n, length), dtype=np.float32)
    markers[rows, first] = 1.0
    markers[rows, second] = 1.0
    sums = values[rows, first] + values[rows, second]
    return MarkedSequences(x=np.stack([values, markers], axis=-1), y=sums[:, None])


# --------------------------------------------------------------------------- series


def sine(config: DataConfig, rng: np.random.Generator) -> np.ndarray:
    t = np.arange(config.n_points)
    clean = config.amplitude * np.sin(2 * np.pi * config.frequency * t + config.phase)
    return clean + config.noise * config.amplitude * rng.standard_normal(config.n_points)


def sum_of_sines(config: DataConfig, rng: np.random.Generator) -> np.ndarray:
    k = config.n_components
    frequencies = rng.uniform(0.005, 0.1, size=k)
    weights = rng.uniform(0.3, 1.0, size=k)
    phases = rng.uniform(0, 2 * np.pi, size=k)
    # Normalised to the RMS of one sine of the same amplitude, so `amplitude` and `noise` mean the
    # same thing whatever the number of components.
    weights = weights / np.sqrt(np.sum(weights**2))
    t = np.arange(config.n_points)
    clean = config.amplitude * (np.sin(2 * np.pi * np.outer(t, frequencies) + phases) @ weights)
    return clean + config.noise * config.amplitude * rng.standard_normal(config.n_points)


def _stable_ar_coefficients(order: int, rng: np.random.Generator) -> np.ndarray:
    """phi_1..phi_p of a stationary AR(p): built from roots strictly inside the unit circle."""
    # Radii 0.5-0.95 keep the process well away from both white noise and a random walk.
    radii = rng.uniform(0.5, 0.95, size=order)
    n_pairs = order // 2
    angles = rng.uniform(0.1 * np.pi, 0.9 * np.pi, size=n_pairs)
    pairs = radii[:n_pairs] * np.exp(1j * angles)
    roots = np.concatenate([pairs, pairs.conj()])  # conjugate pairs keep the coefficients real
    if order % 2:
        roots = np.append(roots, radii[-1] * rng.choice([-1.0, 1.0]))
    # z^p - phi_1 z^(p-1) - ... - phi_p has these roots.
    return -np.poly(roots).real[1:]


def ar(config: DataConfig, rng: np.random.Generator) -> np.ndarray:
    order, n = config.ar_order, config.n_points
    phi = _stable_ar_coefficients(order, rng)
    innovations = rng.standard_normal(n + AR_BURN_IN)
    # A true recurrence: each value needs the previous ones. Plain floats are ~10x faster than numpy scalars.
    phi_newest_first = phi.tolist()
    history = [0.0] * order
    for shock in innovations.tolist():
        recent = history[-1:-order - 1:-1]
        history.append(sum(c * v for c, v in zip(phi_newest_first, recent, strict=True)) + shock)
    clean = np.array(history[order + AR_BURN_IN:])
    return clean + config.noise * rng.standard_normal(n)


def random_walk(config: DataConfig, rng: np.random.Generator) -> np.ndarray:
    n = config.n_points
    return np.cumsum(rng.standard_normal(n)) + config.noise * rng.standard_normal(n)


def mackey_glass(config: DataConfig, rng: np.random.Generator) -> np.ndarray:
    """dx/dt = 0.2 x(t-tau) / (1 + x(t-tau)^10) - 0.1 x(t), Euler steps of MG_DT, one sample per time unit."""
    n = config.n_points
    delay_steps = int(round(config.mg_tau / MG_DT))
    n_steps = (n + MG_BURN_IN) * MG_STEPS_PER_SAMPLE
    # trajectory[j] is x at time (j - delay_steps) * dt: the first delay_steps + 1 entries are the history.
    trajectory = (1.2 + rng.uniform(-0.1, 0.1, size=delay_steps + 1)).tolist()
    append, current = trajectory.append, trajectory[-1]
    for step in range(n_steps):  # a true delay recurrence; plain floats keep 2 million steps to ~2 s
        lagged = trajectory[step]
        lagged2 = lagged * lagged
        lagged10 = lagged2 * lagged2 * lagged2 * lagged2 * lagged2
        current += MG_DT * (0.2 * lagged / (1.0 + lagged10) - 0.1 * current)
        append(current)
    samples = np.array(trajectory[delay_steps + MG_STEPS_PER_SAMPLE::MG_STEPS_PER_SAMPLE])
    clean = samples[MG_BURN_IN:MG_BURN_IN + n]
    # Noise relative to the series' own spread (about 0.23), as `amplitude` does for sines.
    return clean + config.noise * clean.std() * rng.standard_normal(n)
