"""seqcore.text: sources, vocabulary, splits and windows, n-gram baselines, and sampling with the NumPy reference."""

import math

import numpy as np
import pytest

from seqcore import text
from seqcore.text import TextError

# --------------------------------------------------------------------------- sources


def test_builtin_corpus_is_python_docs_deterministic_and_capped():
    corpus = text.builtin_corpus()
    assert corpus == text.builtin_corpus()
    assert 150_000 < len(corpus) <= text.BUILTIN_MAX_CHARS
    assert corpus.startswith('The "assert" statement')
    assert len(text.builtin_corpus(1000)) == 1000  # a cap below the first topic cuts that topic


@pytest.mark.parametrize("raw, expected", [
    (b"plain ASCII\n", "plain ASCII\n"),
    (b"\xef\xbb\xbf" + "中文和表情😀".encode(), "中文和表情😀"),
    (b"one\r\ntwo\rthree", "one\ntwo\nthree"),
])
def test_decode_text_reads_utf8_any_script(raw, expected):
    assert text.decode_text(raw) == expected


def test_decode_text_names_the_bad_byte_and_its_offset():
    with pytest.raises(TextError, match=r"not UTF-8: byte 0xFF at offset 2"):
        text.decode_text(b"ab\xffcd")
    # The offset counts in the file's bytes, the byte-order mark included.
    with pytest.raises(TextError, match=r"byte 0xE9 at offset 6"):
        text.decode_text(b"\xef\xbb\xbfcaf\xe9")  # 'café' saved as Latin-1


@pytest.mark.parametrize("raw, problem", [
    (b"", "empty"), (b"\xef\xbb\xbf", "empty"), (b"  \n\t \r\n", "only whitespace"),
])
def test_decode_text_refuses_empty_and_whitespace(raw, problem):
    with pytest.raises(TextError, match=problem):
        text.decode_text(raw)


def test_text_error_is_a_value_error():
    assert issubclass(TextError, ValueError)


# --------------------------------------------------------------------------- vocabulary


def chinese_text(n_distinct=300, seed=0):
    """n_distinct CJK characters, the i-th appearing n_distinct - i times (plus a tie at ranks 49/50), shuffled."""
    counts = {chr(0x4E00 + i): n_distinct - i for i in range(n_distinct)}
    counts[chr(0x4E00 + 50)] = counts[chr(0x4E00 + 48)]  # ties with rank 48's count: the lower code point wins
    characters = [c for c, n in counts.items() for _ in range(n)]
    np.random.default_rng(seed).shuffle(characters)
    return "".join(characters), counts


def test_vocabulary_cap_and_unknown_mapping_on_chinese_text():
    corpus, counts = chinese_text()
    vocabulary = text.build_vocabulary(corpus, max_size=50)
    assert vocabulary.size == 50 and vocabulary.unknown_index == 49
    assert vocabulary.chars[-1] == text.UNKNOWN_SYMBOL
    assert vocabulary.distinct_count == 300 and vocabulary.mapped_distinct == 251
    ranked = sorted(counts, key=lambda c: (-counts[c], c))
    kept = set(ranked[:49])
    assert set(vocabulary.chars[:-1]) == kept
    assert chr(0x4E00 + 48) in kept and chr(0x4E00 + 50) not in kept  # the tie went to the lower code point
    assert vocabulary.mapped_count == sum(n for c, n in counts.items() if c not in kept)
    ids = vocabulary.encode(corpus)
    assert ids.dtype == np.int32 and len(ids) == len(corpus)
    assert int(np.count_nonzero(ids == vocabulary.unknown_index)) == vocabulary.mapped_count
    assert vocabulary.decode(vocabulary.encode("一丁七")) == "一丁七"  # U+4E00..4E03: among the most frequent
    assert vocabulary.decode(vocabulary.encode("一" + chr(0x4E00 + 299) + "😀")) == "一" + text.UNKNOWN_SYMBOL * 2
    assert "251 others" in text.describe_vocabulary(vocabulary)


def test_vocabulary_is_deterministic_and_bounds_checked():
    vocabulary = text.build_vocabulary("abracadabra", max_size=3)
    assert vocabulary.chars == ("a", "b", text.UNKNOWN_SYMBOL)  # a 5, b 2, r 2: b < r
    assert vocabulary == text.build_vocabulary("abracadabra", max_size=3)
    assert vocabulary.mapped_count == 4 and vocabulary.distinct_count == 5
    with pytest.raises(TextError, match="vocabulary size"):
        text.build_vocabulary("abc", max_size=1)
    with pytest.raises(TextError, match=r"\[0, 3\)"):
        vocabulary.decode([3])


# --------------------------------------------------------------------------- splits and windows


def test_split_by_position_test_part_last_and_vocabulary_from_training_only():
    corpus = "abcdefgh" * 40 + "XYZ" * 10  # 'XYZ' only at the end: the test part
    split = text.split_text(corpus, seq_len=8, val_fraction=0.1, test_fraction=0.1)
    bounds = split.bounds
    assert list(bounds) == ["train", "validation", "test"]
    assert bounds["train"][0] == 0 and bounds["test"][1] == len(corpus)
    assert bounds["train"][1] == bounds["validation"][0] and bounds["validation"][1] == bounds["test"][0]
    assert split.part_text("test") == corpus[-len(split.part_text("test")):]
    assert "X" not in split.vocabulary.chars  # seen only in the test part
    for part in text.PARTS:
        np.testing.assert_array_equal(split.ids[part], split.vocabulary.encode(split.part_text(part)))
    assert np.all(split.ids["test"][-30:] == split.vocabulary.unknown_index)


@pytest.mark.parametrize("stride", [None, 1, 3])
def test_windows_target_the_next_character_and_never_cross_parts(stride):
    corpus = "".join(chr(0x4E00 + i % 200) for i in range(1000))
    seq_len = 16
    split = text.split_text(corpus, seq_len=seq_len, max_vocab=500)
    seen_targets = 0
    for part, (start, stop) in split.bounds.items():
        # Windows of the text's positions: every position a window reads or predicts lies inside its part.
        inputs, targets = text.text_windows(np.arange(start, stop), seq_len, stride)
        assert len(inputs) > 0 and inputs.shape == targets.shape and inputs.shape[1] == seq_len
        assert inputs.min() >= start and targets.max() < stop
        np.testing.assert_array_equal(targets, inputs + 1)
        assert np.all(np.diff(inputs[:, 0]) == (stride or seq_len))
        seen_targets += targets.size
        x, y = text.one_hot_windows(split.ids[part], split.vocabulary.size, seq_len, stride)
        assert x.shape == y.shape == (len(inputs), seq_len, split.vocabulary.size)
        assert x.dtype == np.float32
        np.testing.assert_array_equal(x.argmax(-1), split.ids[part][inputs - start])
        np.testing.assert_array_equal(y.argmax(-1), split.ids[part][targets - start])
    assert seen_targets > 0


def test_too_short_text_is_refused_with_the_length_needed():
    seq_len, need = 20, text.needed_length(20, 0.1, 0.1)
    assert need >= 10 * (seq_len + 1)  # each 10 % part holds one window of 21 characters
    with pytest.raises(TextError, match=rf"{need - 1} characters.*need at least {need}"):
        text.split_text("x" * (need - 1), seq_len=seq_len)
    split = text.split_text("x" * need, seq_len=seq_len)
    assert all(stop - start >= seq_len + 1 for start, stop in split.bounds.values())
    assert text.needed_length(20, 0.2, 0.0) < need  # no test part asked for: less text will do
    with pytest.raises(TextError, match="only whitespace"):
        text.split_text(" " * 1000, seq_len=5)


# --------------------------------------------------------------------------- n-gram baselines


def test_ngram_bits_equal_hand_computed_values():
    train, validation, k, V = np.array([0, 1, 0, 1, 1]), np.array([1, 0, 1, 0]), 0.5, 2
    # Scored: validation positions 2 and 3, the characters 1 (after 1, 0) and 0 (after 0, 1).
    # unigram: counts 0 → 2, 1 → 3 of 5.
    unigram = -(math.log2((3 + k) / (5 + k * V)) + math.log2((2 + k) / (5 + k * V))) / 2
    # bigram: (0,1) twice, (1,0) once, (1,1) once; contexts 0 and 1 each followed twice.
    bigram = -(math.log2((2 + k) / (2 + k * V)) + math.log2((1 + k) / (2 + k * V))) / 2
    # trigram: (0,1,0), (1,0,1), (0,1,1); context (1,0) once, (0,1) twice.
    trigram = -(math.log2((1 + k) / (1 + k * V)) + math.log2((1 + k) / (2 + k * V))) / 2
    scores = text.ngram_baselines(train, validation, V, k)
    assert scores["unigram bits/char"] == pytest.approx(unigram, abs=1e-12)
    assert scores["bigram bits/char"] == pytest.approx(bigram, abs=1e-12)
    assert scores["trigram bits/char"] == pytest.approx(trigram, abs=1e-12)
    # An unseen context falls back to uniform: ctx (1,1) then 0 never seen → (0 + k) / (0 + kV) = 1/2.
    assert text.ngram_bits(train, np.array([1, 1, 0]), 3, V, k) == pytest.approx(1.0)


def test_ngram_baselines_order_on_real_text_and_unit_helpers():
    split = text.split_text(text.builtin_corpus(60_000), seq_len=50)
    scores = text.ngram_baselines(split.ids["train"], split.ids["validation"], split.vocabulary.size)
    assert scores["unigram bits/char"] > scores["bigram bits/char"] > scores["trigram bits/char"] > 1.0
    assert scores["unigram bits/char"] < math.log2(split.vocabulary.size)
    assert text.nats_to_bits(math.log(2)) == pytest.approx(1.0)
    assert text.perplexity(math.log(4)) == pytest.approx(4.0)
    with pytest.raises(TextError, match="smoothing"):
        text.ngram_bits(split.ids["train"], split.ids["validation"], 2, split.vocabulary.size, 0)


# --------------------------------------------------------------------------- sampling


def random_weights(cell, V, units, seed=0, layers=1, scale=0.5):
    rng = np.random.default_rng(seed)
    blocks = {"SimpleRNN": 1, "LSTM": 4, "GRU": 3}[cell]
    weights, inputs = [], V
    for _ in range(layers):
        bias_shape = (2, blocks * units) if cell == "GRU" else (blocks * units,)
        weights += [rng.normal(0, scale, (inputs, blocks * units)), rng.normal(0, scale, (units, blocks * units)),
                    rng.normal(0, scale, bias_shape)]
        inputs = units
    weights += [rng.normal(0, 1.5, (units, V)), rng.normal(0, 0.5, V)]
    return [w.astype(np.float32) for w in weights]


@pytest.fixture
def vocabulary():
    return text.build_vocabulary("the quick brown fox jumps", max_size=12)


def stepwise_probabilities(weights, vocabulary, prompt, generated, cell="LSTM"):
    """The network's next-character probabilities before each generated character, recomputed from scratch."""
    return [text.next_char_probabilities(weights, vocabulary, prompt + generated[:i], cell=cell)[-1]
            for i in range(len(generated))]


@pytest.mark.parametrize("cell", ["LSTM", "GRU", "SimpleRNN"])
def test_temperature_zero_is_argmax(vocabulary, cell):
    weights = random_weights(cell, vocabulary.size, 16)
    greedy = text.sample(weights, vocabulary, "the ", 30, cell=cell, temperature=0.0)
    assert text.sample(weights, vocabulary, "the ", 30, cell=cell, temperature=1e-7, seed=5).text == greedy.text
    steps = stepwise_probabilities(weights, vocabulary, "the ", greedy.text, cell)
    assert [int(np.argmax(p)) for p in steps] == greedy.ids.tolist()
    np.testing.assert_allclose(greedy.probabilities, [p[i] for p, i in zip(steps, greedy.ids, strict=True)],
                               rtol=1e-5)


def test_sampling_is_deterministic_from_its_seed(vocabulary):
    weights = random_weights("LSTM", vocabulary.size, 16)
    first = text.sample(weights, vocabulary, "quick", 120, cell="LSTM", temperature=1.0, seed=3)
    assert first.text == text.sample(weights, vocabulary, "quick", 120, cell="LSTM", temperature=1.0, seed=3).text
    others = {text.sample(weights, vocabulary, "quick", 120, cell="LSTM", temperature=1.0, seed=s).text
              for s in range(4, 8)}
    assert first.text not in others and len(others) == 4
    assert len(first.text) == 120 and first.probabilities.shape == (120,)
    assert np.all((first.probabilities > 0) & (first.probabilities <= 1))


def test_top_k_keeps_the_k_most_probable(vocabulary):
    weights = random_weights("GRU", vocabulary.size, 16, scale=0.2)
    for k in (1, 3):
        result = text.sample(weights, vocabulary, "fox", 40, cell="GRU", temperature=2.0, top_k=k, seed=1)
        steps = stepwise_probabilities(weights, vocabulary, "fox", result.text, "GRU")
        for p, chosen in zip(steps, result.ids, strict=True):
            assert chosen in np.argsort(-p, kind="stable")[:k]
    # At a high temperature without top-k, characters outside the top 3 do appear: the test above can fail.
    loose = text.sample(weights, vocabulary, "fox", 40, cell="GRU", temperature=2.0, seed=1)
    steps = stepwise_probabilities(weights, vocabulary, "fox", loose.text, "GRU")
    assert any(c not in np.argsort(-p, kind="stable")[:3] for p, c in zip(steps, loose.ids, strict=True))


def test_unknown_prompt_characters_read_as_unknown(vocabulary):
    weights = random_weights("LSTM", vocabulary.size, 8)
    assert "b" in vocabulary.chars and "o" in vocabulary.chars and "x" not in vocabulary.chars
    odd = text.sample(weights, vocabulary, "bo中!", 20, cell="LSTM", seed=2)
    assert odd.prompt_unknown == 2
    same = text.sample(weights, vocabulary, "bo" + text.UNKNOWN_SYMBOL * 2, 20, cell="LSTM", seed=2)
    assert odd.text == same.text and same.prompt_unknown == 2


@pytest.mark.parametrize("arguments, problem", [
    (dict(prompt=""), "prompt is empty"),
    (dict(temperature=-0.5), "temperature"),
    (dict(temperature=float("nan")), "temperature"),
    (dict(top_k=0), "top_k"),
    (dict(top_k=13), "top_k"),
    (dict(length=-1), "length"),
])
def test_sampling_refuses_bad_arguments(vocabulary, arguments, problem):
    weights = random_weights("LSTM", vocabulary.size, 8)
    call = dict(prompt="fox", length=5, temperature=1.0, top_k=None) | arguments
    with pytest.raises(TextError, match=problem):
        text.sample(weights, vocabulary, call.pop("prompt"), call.pop("length"), cell="LSTM", **call)


def test_weights_of_another_vocabulary_are_refused(vocabulary):
    with pytest.raises(TextError, match="another vocabulary"):
        text.sample(random_weights("LSTM", vocabulary.size + 1, 8), vocabulary, "fox", 5, cell="LSTM")


@pytest.mark.parametrize("cell, layers", [("LSTM", 1), ("GRU", 1), ("LSTM", 2)])
def test_reference_next_character_probabilities_match_keras(vocabulary, cell, layers):
    import keras

    from seqcore.data import one_hot

    prompt = "the quick brown fox jumps over"  # x, v, r, ... are unknown to this 12-symbol vocabulary
    V, steps = vocabulary.size, len(prompt)
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((steps, V))]
                             + [getattr(keras.layers, cell)(12, return_sequences=True) for _ in range(layers)]
                             + [keras.layers.Dense(V, activation="softmax")])
    rng = np.random.default_rng(1)
    model.set_weights([w + rng.normal(0, 0.4, w.shape).astype(np.float32) for w in model.get_weights()])
    expected = model.predict(one_hot(vocabulary.encode(prompt), V)[None], verbose=0)[0]
    ours = text.next_char_probabilities(model.get_weights(), vocabulary, prompt, cell=cell)
    assert ours.shape == expected.shape == (steps, V)
    np.testing.assert_allclose(ours, expected, atol=1e-4)
