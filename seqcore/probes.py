"""Probe sequences typed by a person: parse and check them, run a recorded snapshot's weights on them.

The Inspect page uses this to answer "what does the trained network do with *my* sequence?"
without TensorFlow: the weights go through `seqcore.reference`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from seqcore import reference
from seqcore.data import one_hot
from seqcore.transforms import SeriesTransform

MAX_PROBE_STEPS = 500


class ProbeError(ValueError):
    """A typed probe that cannot be used; the message says what is allowed."""


def parse_numbers(text: str) -> list[str]:
    return [part for part in re.split(r"[\s,;]+", text.strip()) if part]


def token_probe(text: str, vocab_size: int) -> np.ndarray:
    """'3 1 4 1 5' -> int tokens, each in [0, vocab_size)."""
    parts = parse_numbers(text)
    if not parts:
        raise ProbeError("probe: type at least one token, e.g. 1 2 3 4")
    if len(parts) > MAX_PROBE_STEPS:
        raise ProbeError(f"probe: {len(parts)} tokens is above the maximum of {MAX_PROBE_STEPS}")
    tokens = []
    for part in parts:
        if not re.fullmatch(r"\d+", part) or int(part) >= vocab_size:
            allowed = f"tokens are whole numbers from 0 to {vocab_size - 1}"
            raise ProbeError(f"probe: {part[:20]!r} is not a token; {allowed}")
        tokens.append(int(part))
    return np.array(tokens)


def series_probe(text: str) -> np.ndarray:
    """'0.1, 0.5, 0.9' -> float values in the data's own units."""
    parts = parse_numbers(text)
    if len(parts) < 2:
        raise ProbeError("probe: type at least two numbers, e.g. 0 0.5 1 0.5")
    if len(parts) > MAX_PROBE_STEPS:
        raise ProbeError(f"probe: {len(parts)} values is above the maximum of {MAX_PROBE_STEPS}")
    try:
        values = np.array([float(p) for p in parts])
    except ValueError:
        bad = next(p for p in parts if not _is_float(p))
        raise ProbeError(f"probe: {bad[:20]!r} is not a number") from None
    if not np.all(np.isfinite(values)) or np.abs(values).max() > 1e12:
        raise ProbeError("probe: values must be finite numbers below 1e12 in size")
    return values


def _is_float(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


@dataclass(frozen=True)
class ProbeResult:
    trace: reference.Trace
    inputs: np.ndarray  # what to plot against time: tokens or raw values
    next_tokens: np.ndarray | None = None  # tokens: most likely next token after each step
    next_probability: np.ndarray | None = None
    forecast: np.ndarray | None = None  # series: the next horizon values, in the data's units


def run_token_probe(weights, tokens: np.ndarray, *, vocab_size: int, cell: str, activation: str) -> ProbeResult:
    trace = reference.forward(weights, one_hot(tokens, vocab_size)[None], cell=cell, head="tokens",
                              activation=activation)
    probs = trace.output[0]
    return ProbeResult(trace=trace, inputs=tokens, next_tokens=probs.argmax(-1), next_probability=probs.max(-1))


def run_series_probe(weights, values: np.ndarray, *, transform: SeriesTransform, cell: str, activation: str
                     ) -> ProbeResult:
    """The network on values typed in the series' own units, through the data's transform; the forecast is
    turned back into values after the last one typed."""
    if len(values) < transform.lag + 2:
        raise ProbeError(f"probe: the network learns changes over {transform.lag} steps, so type at least "
                         f"{transform.lag + 2} values")
    if transform.log and np.any(values <= 0):
        raise ProbeError("probe: the network learns the logarithm, so every value must be above 0")
    modelled = transform.to_model(values)[transform.lag:].astype(np.float32)
    trace = reference.forward(weights, modelled[None, :, None], cell=cell, head="regression", activation=activation)
    return ProbeResult(trace=trace, inputs=values[transform.lag:],
                       forecast=transform.invert(trace.output[0], values, len(values)))
