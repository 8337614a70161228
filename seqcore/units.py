"""Which hidden units track a pattern in the text: a character-level network's states, pattern targets, ranking.

Karpathy, Johnson & Fei-Fei (2015) found single LSTM cells that switch on inside quotes or count the position in
a line; LSTMVis (Strobelt et al.) lets a learner select units by the pattern they follow. Here a learner names a
pattern (a regular expression, or the position in the line), `pattern_mask` marks the characters it covers,
`hidden_trace` reads a layer's hidden state after every character, and `rank_units` ranks the units by how
closely they follow the pattern. NumPy, the standard library and `regex` only, so the UI process can run it.

Visitors' patterns run on a shared server: `regex` (not `re`) because it can stop a match after a timeout, and
patterns are capped in length and in their counted repeats, which `regex` expands when it compiles them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import regex

from seqcore.text import Stepper, TextError, Vocabulary

__all__ = [
    "LINE_POSITION",
    "MAX_PATTERN_CHARS",
    "MAX_REPEAT_PRODUCT",
    "PATTERNS",
    "PATTERN_TIMEOUT_S",
    "UnitScore",
    "hidden_trace",
    "line_position",
    "named_target",
    "pattern_mask",
    "rank_units",
]

MAX_PATTERN_CHARS = 200
PATTERN_TIMEOUT_S = 0.5  # long enough for any sane pattern on the 200,000-character corpus, short for a server
# `regex` unrolls counted repeats when it compiles, so nested ones multiply: (?:(?:a{100}){100}){100} takes about
# a second to compile, one more level a hundred times as long, and compiling has no timeout.
MAX_REPEAT_PRODUCT = 100_000

LINE_POSITION = "position in the line"

# name -> (regular expression, what it marks); None for the position in the line, which is not a mask.
PATTERNS: dict[str, tuple[str | None, str]] = {
    # Across line ends: hard-wrapped prose (the built-in corpus, Project Gutenberg books) wraps inside quotes.
    "inside double quotes": (r'"[^"]*"', "Between a pair of double quotes, the quotes included, across line ends."),
    # (?R) recurses into the whole pattern, so nested brackets count: all of "(a (b) c)" is inside.
    "inside parentheses": (r"\((?:[^()]++|(?R))*\)", "Everything between balanced parentheses, nested ones too."),
    "inside square brackets": (r"\[(?:[^\[\]]++|(?R))*\]", "Everything between balanced square brackets."),
    "vowels": (r"[aeiouAEIOU]", "The letters a, e, i, o and u, upper or lower case."),
    "whitespace": (r"\s", "Spaces, tabs and line ends."),
    "digits": (r"\d", "The digits 0 to 9 (and other scripts' digits)."),
    "start of a word": (r"\b\w", "The first character of every word."),
    "end of the line is near": (r"[^\n]{1,5}(?=\n)", "The last five characters before a line end."),
    LINE_POSITION: (None, "How far along its line a character is: 0 at the line's start, 1 at its line end."),
}


@dataclass(frozen=True)
class UnitScore:
    """One unit's Pearson correlation with the target over a passage's characters."""

    unit: int
    correlation: float


def hidden_trace(weights: list, vocabulary: Vocabulary, text: str, *, cell: str, activation: str = "tanh",
                 layer: int = 0) -> np.ndarray:
    """(len(text), units) float32: `layer`'s hidden state h (for an LSTM h, not c) after each character.

    Stepped one character at a time, as the sampler reads a prompt, so a long passage costs no more memory than
    its states (no one-hot array of len(text) x V).
    """
    if not isinstance(text, str) or not text:
        raise TextError("the text is empty: give at least one character to read the hidden states on")
    stepper = Stepper(weights, cell=cell, activation=activation)
    outputs = stepper.dense_kernel.shape[1]
    if stepper.vocabulary_size != vocabulary.size or outputs != vocabulary.size:
        raise TextError(f"the network reads {stepper.vocabulary_size} and predicts {outputs} symbols, but the "
                        f"vocabulary has {vocabulary.size}: these weights belong to another vocabulary")
    count = len(stepper.layers)
    if isinstance(layer, bool) or not isinstance(layer, int | np.integer) or not 0 <= layer < count:
        raise TextError(f"layer {layer!r} is out of range: the network has {count} recurrent "
                        f"layer{'s' if count != 1 else ''}, numbered 0 to {count - 1}")
    rows = []
    for symbol in vocabulary.encode(text).tolist():
        stepper.step(symbol)
        rows.append(stepper.h[layer][0])
    return np.array(rows, dtype=np.float32)


def line_position(text: str) -> np.ndarray:
    """(len(text),) float32: each character's column divided by its line's last column, so 0 at a line's first
    character and 1 at its line end ("\\n", or the text's last character); 0 on a line of one character."""
    codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
    n = len(codes)
    ends = np.flatnonzero(codes == 10)  # each line's last character: its "\n"
    if not n or not len(ends) or ends[-1] != n - 1:
        ends = np.append(ends, n - 1)
    starts = np.concatenate(([0], ends[:-1] + 1))
    line = np.searchsorted(ends, np.arange(n))  # the first line end at or after each character
    column = np.arange(n) - starts[line]
    last_column = ends[line] - starts[line]
    return np.where(last_column > 0, column / np.maximum(last_column, 1), 0.0).astype(np.float32)


def _check_pattern(pattern) -> regex.Pattern:
    if not isinstance(pattern, str) or not pattern:
        raise TextError("the pattern is empty: type a regular expression, e.g. [aeiou] for vowels")
    if len(pattern) > MAX_PATTERN_CHARS:
        raise TextError(f"the pattern is {len(pattern):,} characters long; keep it to {MAX_PATTERN_CHARS} or fewer")
    product = 1
    # A brace after an even number of backslashes (none included) is a repeat: in \\{100} the two are one literal
    # backslash, and {100} repeats it.
    for low, high in regex.findall(r"(?<!\\)(?:\\\\)*\{(\d*),?(\d*)\}", pattern):
        product *= max(int(low or 0), int(high or 0), 1)
        if product > MAX_REPEAT_PRODUCT:
            raise TextError(f"the pattern {pattern!r} repeats too much: its counted repeats ({{n}}) multiply to more "
                            f"than {MAX_REPEAT_PRODUCT:,}; use smaller counts, or + and * instead")
    try:
        return regex.compile(pattern)
    except regex.error as error:
        raise TextError(f"the pattern {pattern!r} is not a regular expression: {error}") from None


def pattern_mask(text: str, pattern: str) -> np.ndarray:
    """(len(text),) float32: 1.0 at every character inside a match of `pattern`, 0.0 elsewhere.

    Matches are found left to right without overlapping, as `re.finditer` does; a zero-width match (\\b, a
    lookahead, x* where there is no x) marks nothing. Raises TextError for a bad pattern or one that takes
    longer than PATTERN_TIMEOUT_S on this text.
    """
    compiled = _check_pattern(pattern)
    change = np.zeros(len(text) + 1, np.int32)  # +1 where a match starts, -1 where it ends
    try:
        # concurrent=True lets the server's other threads run while a slow pattern is matched.
        for match in compiled.finditer(text, timeout=PATTERN_TIMEOUT_S, concurrent=True):
            start, end = match.span()
            if end > start:
                change[start] += 1
                change[end] -= 1
    except TimeoutError:
        raise TextError(f"the pattern {pattern!r} took too long (over {PATTERN_TIMEOUT_S:g} s) on this text: "
                        "simplify it, e.g. avoid a repeat inside a repeat such as (a+)+") from None
    return (np.cumsum(change[:-1]) > 0).astype(np.float32)


def named_target(text: str, name: str) -> np.ndarray:
    """The target of a PATTERNS entry on `text`: its mask, or the position in the line."""
    if name not in PATTERNS:
        raise TextError(f"there is no pattern named {name!r}; the named ones are {', '.join(PATTERNS)}")
    expression = PATTERNS[name][0]
    return line_position(text) if expression is None else pattern_mask(text, expression)


def rank_units(trace, target, *, top: int | None = 10) -> list[UnitScore]:
    """The `top` units (None: all) whose activation correlates most with `target`, by |Pearson r|, ties to the
    lower unit. The sign matters to a learner (a unit can be off inside quotes), so it is kept, not squared.

    A constant unit scores 0: it carries no information about the pattern. A constant target raises TextError,
    because then no unit can be told apart from another.
    """
    trace = np.asarray(trace, dtype=np.float64)
    target = np.asarray(target, dtype=np.float64).reshape(-1)
    if trace.ndim != 2 or trace.shape[0] != len(target):
        raise TextError(f"the trace must be (characters, units) with one row per target value; got trace "
                        f"{trace.shape} and {len(target)} target values")
    if top is not None and (isinstance(top, bool) or not isinstance(top, int | np.integer) or top < 1):
        raise TextError(f"top must be a whole number >= 1, or None for every unit; got {top!r}")
    if not np.isfinite(target).all():
        raise TextError("the target holds NaN or infinite values; give one finite number per character")
    n = len(target)
    if not n or np.ptp(target) == 0:
        if not n or target[0] == 0:
            raise TextError(f"the pattern matches none of the {n:,} characters in this passage: no unit can follow "
                            "it here; try another pattern or a longer passage")
        if target[0] == 1:
            raise TextError(f"the pattern matches every character ({n:,} of {n:,}) in this passage: no unit can "
                            "follow it here; try a narrower pattern")
        raise TextError(f"the target is {target[0]:g} at every one of the {n:,} characters in this passage, so no "
                        "unit can follow it; try a longer passage")
    centred_target = target - target.mean()
    centred = trace - trace.mean(axis=0)
    scale = np.sqrt((centred ** 2).sum(axis=0)) * math.sqrt(float(centred_target @ centred_target))
    constant = (np.ptp(trace, axis=0) == 0) | ~np.isfinite(scale) | (scale == 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = (centred_target @ centred) / np.where(constant, 1.0, scale)
    r = np.clip(np.where(constant | ~np.isfinite(r), 0.0, r), -1.0, 1.0)
    order = np.lexsort((np.arange(len(r)), -np.abs(r)))  # |r| descending, then the lower unit
    chosen = order if top is None else order[:top]
    return [UnitScore(unit=int(u), correlation=float(r[u])) for u in chosen]
