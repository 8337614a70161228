"""Text for a character-level language model: sources, vocabulary, splits and windows, n-gram baselines, sampling.

The engine groundwork of the text task (issue #16): everything here is the standard library and NumPy, so the UI
process can build a vocabulary, score the baselines and sample from a snapshot's weights without TensorFlow.
Sampling runs the NumPy reference's step functions (`seqcore.reference`) one character at a time, carrying the
hidden state, so a continuation of N characters costs N steps, not N re-runs of a growing prefix.

Bad input raises `TextError` (a ValueError) with a message that names the problem and what would fix it.
"""

from __future__ import annotations

import codecs
import functools
import math
from dataclasses import dataclass

import numpy as np

from seqcore import reference, splits

# The built-in corpus is cut to whole topics within this many characters: 200,000 characters of English with
# ~100 symbols is already a one-hot input of 20 million float32 values (80 MB) at stride T, and the issue's
# reference point (an LSTM(32) at ~1.76 bits/char in 60 s) was measured on 175,000 characters.
BUILTIN_MAX_CHARS = 200_000

# The vocabulary's size, the unknown symbol included. 100 keeps every character of ordinary English, code and
# punctuation (the built-in corpus's training part has 100 distinct characters: one occurrence of one becomes unknown),
# and keeps a Chinese text of thousands of distinct characters to a softmax of a size that trains on two cores.
DEFAULT_MAX_VOCAB = 100

# Add-k smoothing of the n-gram baselines. Not add-one: with ~100 symbols it puts 100 pseudo-counts on every
# context, so a trigram context seen a few times is pulled almost to uniform and the baseline the network has to beat
# looks weaker than counting really is. Validation bits/char of the trigram on the built-in corpus (T = 50, 10 % / 10 %
# splits) for k = 1, 0.5, 0.1, 0.05, 0.01: 3.03, 2.91, 2.78, 2.77, 2.78 (bigram 3.69, 3.67, 3.67, 3.67, 3.68; the
# unigram 4.62 for all). 0.1 is at the bottom for both, chosen once on that corpus and not tuned per text.
DEFAULT_SMOOTHING = 0.1

UNKNOWN_SYMBOL = "\ufffd"  # how the unknown symbol is shown (the Unicode replacement character)
TEMPERATURE_ARGMAX = 1e-6  # at or below this temperature sampling takes the most probable character
PARTS = ("train", "validation", "test")


class TextError(ValueError):
    """Text that cannot be used, with a message that says why."""


# --------------------------------------------------------------------------- sources


@functools.lru_cache(maxsize=2)
def builtin_corpus(max_chars: int = BUILTIN_MAX_CHARS) -> str:
    """The built-in corpus: the help texts of Python's own documentation, as they ship with Python.

    `pydoc_data.topics.topics` is a dict of the reference manual's topics ("assert", "assignment", "async", …)
    that `help()` shows: plain English with code samples, part of the Python documentation and licensed with it
    under the PSF License Agreement (the Python Software Foundation's licence, which allows redistribution). On
    Python 3.11 it holds 79 topics, 464,970 characters in all, 103 distinct characters. Topics are joined in the
    order of their names, separated by a blank line, and whole topics are taken while they fit in `max_chars`
    (the first one cut if it alone is longer): with the default, the first 37 topics, 196,665 characters, the same
    on every run.
    """
    from pydoc_data.topics import topics

    if max_chars < 1:
        raise TextError(f"max_chars must be at least 1; got {max_chars}")
    taken: list[str] = []
    length = 0
    for name in sorted(topics):
        piece = topics[name].strip("\n")
        extra = len(piece) + (2 if taken else 0)
        if length + extra > max_chars:
            if not taken:
                taken.append(piece[:max_chars])
            break
        taken.append(piece)
        length += extra
    return "\n\n".join(taken)


def normalise_line_ends(text: str) -> str:
    """Windows (\\r\\n) and old Mac (\\r) line ends as \\n, so a text reads the same whatever saved it."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


@functools.lru_cache(maxsize=16)
def builtin_vocabulary_size(val_fraction: float, test_fraction: float, max_vocab: int = DEFAULT_MAX_VOCAB) -> int:
    """The size of the built-in corpus's vocabulary with these splits and cap, without encoding the text."""
    corpus = builtin_corpus()
    start, stop = _bounds(len(corpus), val_fraction, test_fraction)["train"]
    return build_vocabulary(corpus[start:stop], max_vocab).size


def text_bytes(text: str) -> np.ndarray:
    """A text as the uint8 array of its UTF-8 bytes: how a person's own text travels with a run (to a worker,
    into the run store) in the slot an uploaded CSV column uses."""
    return np.frombuffer(text.encode("utf-8"), dtype=np.uint8).copy()


def decode_text(raw: bytes) -> str:
    """The text of an uploaded or pasted file: UTF-8, with or without a byte-order mark; any script.

    Windows (\\r\\n) and old Mac (\\r) line ends become \\n, so a file reads the same whatever saved it.
    Raises TextError when the bytes are empty, are not UTF-8 (naming the byte offset and the byte's value), or
    hold only whitespace.
    """
    if isinstance(raw, np.ndarray):
        raw = raw.astype(np.uint8, copy=False).tobytes()
    if isinstance(raw, str):
        raise TextError("decode_text takes the file's bytes, not a str; pass text.encode('utf-8') or the raw bytes")
    raw = bytes(raw)
    if not raw:
        raise TextError("the text is empty: the file has no bytes")
    body = raw[len(codecs.BOM_UTF8):] if raw.startswith(codecs.BOM_UTF8) else raw
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        offset = error.start + (len(raw) - len(body))
        raise TextError(f"the text is not UTF-8: byte 0x{raw[offset]:02X} at offset {offset} ({error.reason}); "
                        f"save the file as UTF-8 and upload it again") from None
    if not text:
        raise TextError("the text is empty: the file holds only a byte-order mark")
    text = normalise_line_ends(text)
    if not text.strip():
        raise TextError(f"the text is only whitespace ({len(text)} characters of spaces, tabs or line ends)")
    return text


# --------------------------------------------------------------------------- vocabulary


@dataclass(frozen=True)
class Vocabulary:
    """The symbols a model reads and predicts: the most frequent characters of the training text, plus unknown.

    `chars[i]` is symbol i's character; the kept characters come in code-point order and the unknown symbol
    (shown as U+FFFD) is last, at `unknown_index`. `distinct_count`: distinct characters in the training text;
    `mapped_count`: how many of its characters (occurrences, not kinds) were mapped to unknown by the cap.
    """

    chars: tuple[str, ...]
    unknown_index: int
    mapped_count: int
    distinct_count: int

    @property
    def size(self) -> int:
        return len(self.chars)

    @property
    def mapped_distinct(self) -> int:
        """How many distinct training characters the cap left out."""
        return self.distinct_count - (self.size - 1)

    def encode(self, text: str) -> np.ndarray:
        """int32 ids of every character; characters outside the vocabulary become `unknown_index`."""
        codes = _code_points(text)
        kept = _code_points("".join(self.chars[:self.unknown_index]))  # sorted: chars are in code-point order
        if not len(kept):
            return np.full(len(codes), self.unknown_index, np.int32)
        where = np.minimum(np.searchsorted(kept, codes), len(kept) - 1)
        return np.where(kept[where] == codes, where, self.unknown_index).astype(np.int32)

    def decode(self, ids) -> str:
        ids = np.asarray(ids, dtype=np.int64).reshape(-1)
        if ids.size and (ids.min() < 0 or ids.max() >= self.size):
            raise TextError(f"ids must lie in [0, {self.size}); got {ids.min()}..{ids.max()}")
        return "".join(self.chars[i] for i in ids.tolist())


def trained_vocabulary(chars: str | None, built: Vocabulary) -> Vocabulary:
    """The vocabulary a run trained with: `chars` as its StartEvent recorded them, or `built` (the one its text
    gives now) when they agree or none were recorded. The built-in corpus ships with Python, so another Python's
    may give other symbols; the recorded ones still read the network's ids right."""
    if chars is None or "".join(built.chars) == chars:
        return built
    return Vocabulary(chars=tuple(chars), unknown_index=len(chars) - 1, mapped_count=0,
                      distinct_count=len(chars) - 1)


def vocabulary_json(vocabulary: Vocabulary) -> str:
    """The vocabulary as JSON (a run's vocabulary.json): what reads a saved text model's ids back as characters."""
    import json

    return json.dumps({"chars": list(vocabulary.chars), "unknown_index": vocabulary.unknown_index,
                       "mapped_count": vocabulary.mapped_count, "distinct_count": vocabulary.distinct_count},
                      ensure_ascii=False, indent=1)


def vocabulary_from_json(text: str) -> Vocabulary:
    """The inverse of `vocabulary_json`; TextError when the file is not one."""
    import json

    try:
        values = json.loads(text)
        chars = tuple(values["chars"])
        vocabulary = Vocabulary(chars=chars, unknown_index=int(values["unknown_index"]),
                                mapped_count=int(values["mapped_count"]), distinct_count=int(values["distinct_count"]))
    except (ValueError, KeyError, TypeError) as err:
        raise TextError(f"vocabulary.json is not a vocabulary this app wrote ({type(err).__name__}: {err})") from None
    if not chars or any(len(c) != 1 for c in chars) or vocabulary.unknown_index != len(chars) - 1:
        raise TextError("vocabulary.json is not a vocabulary this app wrote (its characters or unknown index)")
    return vocabulary


def _code_points(text: str) -> np.ndarray:
    return np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)


def build_vocabulary(train_text: str, max_size: int = DEFAULT_MAX_VOCAB) -> Vocabulary:
    """The vocabulary of a training text: at most `max_size` symbols, the unknown symbol included.

    The `max_size - 1` most frequent characters are kept; ties in frequency go to the lower code point, so the
    same text always gives the same vocabulary. A U+FFFD in the text itself is read as unknown.
    """
    if isinstance(max_size, bool) or not isinstance(max_size, int | np.integer) or max_size < 2:
        raise TextError(f"the vocabulary size must be a whole number >= 2 (one character and unknown); got "
                        f"{max_size!r}")
    codes, counts = np.unique(_code_points(train_text), return_counts=True)
    distinct = len(codes)
    real = codes != ord(UNKNOWN_SYMBOL)
    codes, counts = codes[real], counts[real]
    order = np.lexsort((codes, -counts))  # most frequent first, then lower code point
    kept = np.sort(codes[order[:max_size - 1]])
    mapped = len(train_text) - int(counts[order[:max_size - 1]].sum())
    chars = tuple(chr(c) for c in kept.tolist()) + (UNKNOWN_SYMBOL,)
    return Vocabulary(chars=chars, unknown_index=len(chars) - 1, mapped_count=mapped, distinct_count=distinct)


# --------------------------------------------------------------------------- splits and windows


@dataclass(frozen=True, eq=False)
class TextSplit:
    """A text split by position into train, validation and test (the latest characters are the test part).

    `bounds[part]` is the part's [start, stop) in the text; `ids[part]` its characters encoded with
    `vocabulary`, which was built from the training part alone.
    """

    text: str
    vocabulary: Vocabulary
    bounds: dict[str, tuple[int, int]]
    ids: dict[str, np.ndarray]
    seq_len: int

    def part_text(self, part: str) -> str:
        start, stop = self.bounds[_part(part)]
        return self.text[start:stop]

    def prompt(self, part: str = "validation", max_chars: int = 40) -> str:
        """The start of the part's first whole line (`prompt_from`): a part that begins inside a line skips to
        the next line, so a live sample continues what reads like the start of a line."""
        start, stop = self.bounds[_part(part)]
        passage = self.text[start:stop]
        if start > 0 and self.text[start - 1] != "\n" and "\n" in passage[:-1]:
            passage = passage[passage.index("\n") + 1:]
        return prompt_from(passage, max_chars=max_chars)


def _part(name: str) -> str:
    if name not in PARTS:
        raise TextError(f"part {name!r} is not one of {', '.join(PARTS)}")
    return name


def _bounds(n: int, val_fraction: float, test_fraction: float) -> dict[str, tuple[int, int]]:
    named = splits.series_bounds(n, val_fraction, test_fraction)
    return {"train": named["training"], "validation": named["validation"], "test": named["test"]}


def _fits(n: int, seq_len: int, val_fraction: float, test_fraction: float) -> bool:
    """Whether each part (test only when asked for) holds at least one window: T inputs and the character after."""
    return all(stop - start >= seq_len + 1 for part, (start, stop) in _bounds(n, val_fraction, test_fraction).items()
               if part != "test" or test_fraction > 0)


def needed_length(seq_len: int, val_fraction: float, test_fraction: float) -> int:
    """The fewest characters that give every part one window of `seq_len` (seq_len + 1 characters each)."""
    shares = [1 - val_fraction - test_fraction, val_fraction] + ([test_fraction] if test_fraction > 0 else [])
    if min(shares) <= 0:
        raise TextError(f"the split fractions (validation {val_fraction}, test {test_fraction}) leave a part with "
                        "no text: each must be above 0 (test may be 0) and together below 1")
    n = max(seq_len + 1, math.floor(max((seq_len + 1) / s for s in shares)) - 2)
    while not _fits(n, seq_len, val_fraction, test_fraction):
        n += 1
    return n


def split_text(text: str, *, seq_len: int, val_fraction: float = 0.1, test_fraction: float = 0.1,
               max_vocab: int = DEFAULT_MAX_VOCAB) -> TextSplit:
    """Split by position (train, validation, test in that order), build the vocabulary on the training part and
    encode every part with it. Raises TextError when a part is too short for one window of `seq_len`."""
    if isinstance(seq_len, bool) or not isinstance(seq_len, int | np.integer) or seq_len < 1:
        raise TextError(f"the window length must be a whole number >= 1; got {seq_len!r}")
    if not text.strip():
        raise TextError("the text is empty" if not text else "the text is only whitespace")
    need = needed_length(seq_len, val_fraction, test_fraction)
    if len(text) < need:
        raise TextError(f"the text is too short: {len(text)} characters, and windows of {seq_len} with validation "
                        f"{val_fraction:g} and test {test_fraction:g} need at least {need} (each part at least "
                        f"{seq_len + 1}); give more text or use a shorter window")
    bounds = _bounds(len(text), val_fraction, test_fraction)
    start, stop = bounds["train"]
    vocabulary = build_vocabulary(text[start:stop], max_vocab)
    all_ids = vocabulary.encode(text)
    ids = {part: all_ids[a:b] for part, (a, b) in bounds.items()}
    return TextSplit(text=text, vocabulary=vocabulary, bounds=bounds, ids=ids, seq_len=int(seq_len))


def text_windows(ids: np.ndarray, seq_len: int, stride: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Windows of one part's ids: inputs (N, T) and targets (N, T) int32, the target at each step the next character.

    A window reads characters [s, s + T) and predicts [s + 1, s + T + 1), for s = 0, stride, 2·stride, …, so
    it needs T + 1 characters of the part, and a part's windows never reach into another part. `stride`
    defaults to T: windows that do not overlap, as char-rnn trains (each character is a target once per epoch);
    a shorter stride gives a short pasted text more, overlapping, windows.
    """
    ids = np.asarray(ids, dtype=np.int32).reshape(-1)
    stride = seq_len if stride is None else stride
    if stride < 1:
        raise TextError(f"the stride must be >= 1; got {stride}")
    if len(ids) < seq_len + 1:
        return np.zeros((0, seq_len), np.int32), np.zeros((0, seq_len), np.int32)
    starts = np.arange(0, len(ids) - seq_len, stride)
    steps = starts[:, None] + np.arange(seq_len)
    return ids[steps], ids[steps + 1]


def one_hot_windows(ids: np.ndarray, vocabulary_size: int, seq_len: int,
                    stride: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """x (N, T, V) and y (N, T, V) float32 one-hot: the shapes of a token task's `SequenceData` arrays, with
    n_features = n_outputs = V.

    One-hot rather than ids into an Embedding layer, because every other part of the engine reads one-hot: the
    model builder's Input is (T, n_features) floats, `seqcore.reference.forward` and the Inspect views multiply x
    by the first layer's kernel, and the baselines and data preview read x.argmax(-1). For a vocabulary of a
    hundred symbols the one-hot product x·W is the same as an embedding lookup (a row of W), with the same
    parameters, so nothing is lost but memory (T × V floats a window); the sampler below does take the row of W
    directly instead of building the one-hot vector.
    """
    ids = np.asarray(ids)
    if ids.size and (ids.min() < 0 or ids.max() >= vocabulary_size):
        raise TextError(f"ids must lie in [0, {vocabulary_size}); got {ids.min()}..{ids.max()}")
    inputs, targets = text_windows(ids, seq_len, stride)
    eye = np.eye(vocabulary_size, dtype=np.float32)
    return eye[inputs], eye[targets]


# --------------------------------------------------------------------------- n-gram baselines


def nats_to_bits(nats: float) -> float:
    """A cross-entropy in nats (Keras' loss) as bits per character."""
    return float(nats) / math.log(2)


def perplexity(nats: float) -> float:
    """Per-character perplexity, exp(nats) = 2^bits: the number of equally likely characters it amounts to."""
    return float(math.exp(nats))


def _ngram_keys(ids: np.ndarray, order: int, vocabulary_size: int) -> np.ndarray:
    """One int64 key per n-gram of `order` consecutive ids (base-V digits, oldest first)."""
    ids = np.asarray(ids, dtype=np.int64)
    n = len(ids) - order + 1
    keys = np.zeros(max(n, 0), np.int64)
    for j in range(order):
        keys = keys * vocabulary_size + ids[j:j + n]
    return keys


def _lookup(keys: np.ndarray, table_keys: np.ndarray, table_counts: np.ndarray) -> np.ndarray:
    if not len(table_keys):
        return np.zeros(len(keys), np.float64)
    where = np.minimum(np.searchsorted(table_keys, keys), len(table_keys) - 1)
    return np.where(table_keys[where] == keys, table_counts[where], 0).astype(np.float64)


def ngram_bits(train_ids: np.ndarray, eval_ids: np.ndarray, order: int, vocabulary_size: int,
               k: float = DEFAULT_SMOOTHING) -> float:
    """Bits per character of an add-k n-gram model counted on `train_ids`, scored on `eval_ids`.

    P(c | context) = (count(context, c) + k) / (count(context) + k·V), the context being the `order - 1`
    characters before c (none for a unigram); count(context) counts the context only where a character follows
    it in training. Every character of `eval_ids` from the third on is scored, for every order, so the
    unigram, bigram and trigram numbers are averages over the same characters; contexts come from `eval_ids`
    itself, so nothing outside the scored part is read.
    """
    if order not in (1, 2, 3):
        raise TextError(f"order must be 1, 2 or 3; got {order}")
    if not k > 0:
        raise TextError(f"the smoothing k must be above 0; got {k}")
    if len(eval_ids) < 3:
        raise TextError(f"scoring needs at least 3 characters; got {len(eval_ids)}")
    V = vocabulary_size
    grams, gram_counts = np.unique(_ngram_keys(train_ids, order, V), return_counts=True)
    scored = _ngram_keys(eval_ids[3 - order:], order, V)  # n-grams ending at positions 2, 3, …
    numerator = _lookup(scored, grams, gram_counts) + k
    if order == 1:
        denominator = np.full(len(scored), len(train_ids) + k * V, np.float64)
    else:
        # count(context) = the number of training n-grams that start with it (a context followed by something).
        context_keys = _ngram_keys(train_ids[:-1], order - 1, V)
        contexts, context_counts = np.unique(context_keys, return_counts=True)
        denominator = _lookup(scored // V, contexts, context_counts) + k * V
    return float(-np.mean(np.log2(numerator / denominator)))


def ngram_baselines(train_ids: np.ndarray, val_ids: np.ndarray, vocabulary_size: int,
                    k: float = DEFAULT_SMOOTHING) -> dict[str, float]:
    """The validation bits per character the network has to beat: add-k unigram, bigram and trigram models
    counted on the training part (see `ngram_bits`)."""
    return {f"{name} bits/char": ngram_bits(train_ids, val_ids, order, vocabulary_size, k)
            for order, name in ((1, "unigram"), (2, "bigram"), (3, "trigram"))}


# --------------------------------------------------------------------------- sampling


@dataclass(frozen=True, eq=False)
class Sample:
    """A continuation: `text` (the generated characters, not the prompt), their `ids`, and `probabilities`: the
    probability the network gave each generated character (at temperature 1, before top-k), for the hover.
    `prompt_unknown`: prompt characters that were outside the vocabulary and read as unknown."""

    text: str
    ids: np.ndarray
    probabilities: np.ndarray
    prompt_unknown: int


class Stepper:
    """A network from `model.get_weights()` run one character at a time, carrying its states.

    Built on `seqcore.reference`'s step functions, so it computes what `reference.forward` computes; reading
    character i takes row i of the first kernel, which is x·W for the one-hot x without building it.
    """

    def __init__(self, weights: list, *, cell: str, activation: str = "tanh"):
        if activation not in reference.ACTIVATIONS:
            raise TextError(f"activation {activation!r} is not one of {', '.join(reference.ACTIVATIONS)}")
        self.layers, (self.dense_kernel, self.dense_bias) = reference.split_weights(weights, cell)
        self.cell = cell
        self.act = reference.ACTIVATION_FUNCTIONS[activation]
        self.vocabulary_size = self.layers[0][0].shape[0]
        self.reset()

    def reset(self) -> None:
        self.h = [np.zeros((1, U.shape[0]), reference.DTYPE) for _, U, _ in self.layers]
        self.c = [np.zeros((1, U.shape[0]), reference.DTYPE) for _, U, _ in self.layers]

    def step(self, symbol: int) -> np.ndarray:
        """Read one symbol; return the logits (V,) of the next one."""
        inputs = None
        for index, (W, U, b) in enumerate(self.layers):
            xW = W[symbol][None] if index == 0 else inputs @ W
            if self.cell == "LSTM":
                self.h[index], self.c[index], _ = reference.lstm_step(xW, self.h[index], self.c[index], U, b)
            elif self.cell == "GRU":
                self.h[index], _ = reference.gru_step(xW, self.h[index], U, b)
            else:
                self.h[index], _ = reference.simple_rnn_step(xW, self.h[index], U, b, self.act)
            inputs = self.h[index]
        return (inputs @ self.dense_kernel + self.dense_bias)[0]


NOT_FINITE = ("this snapshot's network gives outputs that are not finite numbers (its weights diverged): pick an "
              "earlier epoch, and train again with a lower learning rate or gradient clipping")


def _checked_stepper(weights: list, vocabulary: Vocabulary, cell: str, activation: str) -> Stepper:
    stepper = Stepper(weights, cell=cell, activation=activation)
    outputs = stepper.dense_kernel.shape[1]
    if stepper.vocabulary_size != vocabulary.size or outputs != vocabulary.size:
        raise TextError(f"the network reads {stepper.vocabulary_size} and predicts {outputs} symbols, but the "
                        f"vocabulary has {vocabulary.size}: these weights belong to another vocabulary")
    return stepper


def next_char_probabilities(weights: list, vocabulary: Vocabulary, text: str, *, cell: str,
                            activation: str = "tanh") -> np.ndarray:
    """(len(text), V) float32: after each character of `text`, the network's probabilities of the next one."""
    stepper = _checked_stepper(weights, vocabulary, cell, activation)
    logits = [stepper.step(symbol) for symbol in vocabulary.encode(text).tolist()]
    if logits and not np.isfinite(logits).all():
        raise TextError(NOT_FINITE)
    return reference.softmax(np.array(logits, dtype=reference.DTYPE)) if logits else \
        np.zeros((0, vocabulary.size), reference.DTYPE)


def sample(weights: list, vocabulary: Vocabulary, prompt: str, length: int, *, cell: str, temperature: float = 1.0,
           top_k: int | None = None, seed: int = 0, activation: str = "tanh") -> Sample:
    """`length` characters that continue `prompt`, drawn from the network one at a time.

    The prompt is read from a zero state; each drawn character is then fed back, the states carried on.
    Characters are drawn from softmax(logits / temperature), restricted to the `top_k` most probable when given;
    at a temperature of TEMPERATURE_ARGMAX or below, the most probable character is taken (the lowest id on a
    tie). The same seed gives the same text. The unknown symbol may be drawn like any other; it reads as U+FFFD.
    """
    if not isinstance(prompt, str) or not prompt:
        raise TextError("the prompt is empty: type at least one character for the network to continue")
    if isinstance(length, bool) or not isinstance(length, int | np.integer) or length < 0:
        raise TextError(f"the length must be a whole number >= 0; got {length!r}")
    if isinstance(temperature, bool) or not isinstance(temperature, int | float | np.floating) or \
            not math.isfinite(temperature) or temperature < 0:
        raise TextError(f"the temperature must be a finite number >= 0; got {temperature!r}")
    if top_k is not None and (isinstance(top_k, bool) or not isinstance(top_k, int | np.integer)
                              or not 1 <= top_k <= vocabulary.size):
        raise TextError(f"top_k must be a whole number from 1 to the vocabulary size ({vocabulary.size}), or None "
                        f"for all; got {top_k!r}")
    stepper = _checked_stepper(weights, vocabulary, cell, activation)
    rng = np.random.default_rng(seed)
    prompt_ids = vocabulary.encode(prompt)
    logits = None
    for symbol in prompt_ids.tolist():
        logits = stepper.step(symbol)
    ids, probabilities = [], []
    for _ in range(length):
        if not np.isfinite(logits).all():
            raise TextError(NOT_FINITE)
        logits64 = logits.astype(np.float64)
        model_p = _softmax64(logits64)
        symbol = _draw(logits64, model_p, temperature, top_k, rng)
        ids.append(symbol)
        probabilities.append(model_p[symbol])
        logits = stepper.step(symbol)
    ids_array = np.array(ids, dtype=np.int32)
    return Sample(text=vocabulary.decode(ids_array), ids=ids_array,
                  probabilities=np.array(probabilities, dtype=np.float32),
                  prompt_unknown=int(np.count_nonzero(prompt_ids == vocabulary.unknown_index)))


def _softmax64(logits: np.ndarray) -> np.ndarray:
    e = np.exp(logits - logits.max())
    return e / e.sum()


def _draw(logits: np.ndarray, model_p: np.ndarray, temperature: float, top_k: int | None,
          rng: np.random.Generator) -> int:
    if temperature <= TEMPERATURE_ARGMAX:
        return int(np.argmax(logits))
    if top_k is not None and top_k < len(logits):
        # The k largest logits; a stable sort keeps the lower id where logits tie at the cut.
        keep = np.argsort(-logits, kind="stable")[:top_k]
        restricted = np.full_like(logits, -np.inf)
        restricted[keep] = logits[keep]
        logits = restricted
    p = model_p if temperature == 1.0 and top_k is None else _softmax64(logits / temperature)
    # Inverse-CDF draw: one uniform number a character, so a seed fixes the whole text.
    index = int(np.searchsorted(np.cumsum(p), rng.random() * p.sum(), side="right"))
    return min(index, int(np.flatnonzero(p > 0)[-1]))


def prompt_from(text: str, *, max_chars: int = 40) -> str:
    """A prompt from a passage: its first line (the start of a validation line, for live samples), at most
    `max_chars` characters; the passage's start when its first line is blank."""
    for line in text.split("\n"):
        if line.strip():
            return line[:max_chars]
    return text[:max_chars]


def describe_vocabulary(vocabulary: Vocabulary) -> str:
    """One sentence for the Data page: symbols kept and what the cap mapped to unknown."""
    kept = vocabulary.size - 1
    if not vocabulary.mapped_count:
        return f"{kept} distinct characters, all kept, plus the unknown symbol for characters unseen in training."
    others = "other reads" if vocabulary.mapped_distinct == 1 else "others read"
    times = "occurrence" if vocabulary.mapped_count == 1 else "occurrences"
    return (f"{vocabulary.distinct_count} distinct characters in the training text; the {kept} most frequent are "
            f"kept and the {vocabulary.mapped_distinct} {others} as unknown ({UNKNOWN_SYMBOL}, "
            f"{vocabulary.mapped_count:,} {times}).")
