"""seqcore.units: hidden states after each character, pattern targets, and units ranked by how they follow them."""

import ast
import dataclasses
import time
from pathlib import Path

import numpy as np
import pytest

from seqcore import reference, text, units
from seqcore.text import TextError
from tests.test_text import random_weights as text_random_weights

PASSAGE = 'say "hi there" (a (b) c) [x [y]] 42\nend of line here\n\nz'


def random_weights(cell, V, units_):
    """Two layers: the traces are read from either."""
    return text_random_weights(cell, V, units_, layers=2)


@pytest.fixture(scope="module")
def vocabulary():
    return text.build_vocabulary("the quick brown fox jumps over\n", max_size=14)


def one_hot(vocabulary, passage):
    return np.eye(vocabulary.size, dtype=np.float32)[vocabulary.encode(passage)][None]


def marked(passage, mask):
    return "".join(ch if v else "_" for ch, v in zip(passage, mask, strict=True))


# --------------------------------------------------------------------------- module rules


def test_module_imports_only_numpy_regex_the_standard_library_and_seqcore_text():
    tree = ast.parse(Path(units.__file__).read_text(encoding="utf-8"))
    modules = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            modules.add(node.module)
    assert modules <= {"__future__", "dataclasses", "math", "numpy", "regex", "seqcore.text"}, modules


# --------------------------------------------------------------------------- hidden states


@pytest.mark.parametrize("cell", ["LSTM", "GRU", "SimpleRNN"])
def test_hidden_trace_is_what_the_reference_computes_on_the_one_hot_text(vocabulary, cell):
    import keras

    passage = "the quick brown fox\njumps over the lazy dog"  # l, a, z, y, d, g are unknown to this vocabulary
    V, steps = vocabulary.size, len(passage)
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((steps, V)), getattr(keras.layers, cell)(10, return_sequences=True),
                              getattr(keras.layers, cell)(7, return_sequences=True),
                              keras.layers.Dense(V, activation="softmax")])
    rng = np.random.default_rng(1)
    weights = [w + rng.normal(0, 0.4, w.shape).astype(np.float32) for w in model.get_weights()]
    trace = reference.forward(weights, one_hot(vocabulary, passage), cell=cell, head="tokens")
    for layer, width in ((0, 10), (1, 7)):
        ours = units.hidden_trace(weights, vocabulary, passage, cell=cell, layer=layer)
        assert ours.shape == (steps, width) and ours.dtype == np.float32
        np.testing.assert_allclose(ours, trace.layers[layer].h[0], atol=1e-5)
        if cell == "LSTM":  # h, not the cell state
            assert not np.allclose(ours, trace.layers[layer].c[0], atol=1e-3)


def test_hidden_trace_passes_the_simple_rnn_activation_on(vocabulary):
    weights = random_weights("SimpleRNN", vocabulary.size, 6)
    passage = "fox jumps"
    ours = units.hidden_trace(weights, vocabulary, passage, cell="SimpleRNN", activation="relu", layer=1)
    trace = reference.forward(weights, one_hot(vocabulary, passage), cell="SimpleRNN", head="tokens",
                              activation="relu")
    np.testing.assert_allclose(ours, trace.layers[1].h[0], atol=1e-5)
    assert ours.min() >= 0


@pytest.mark.parametrize("layer", [2, -1, 1.0, True])
def test_hidden_trace_names_the_layer_out_of_range_and_how_many_there_are(vocabulary, layer):
    weights = random_weights("GRU", vocabulary.size, 4)
    with pytest.raises(TextError, match=rf"layer {layer!r} is out of range: the network has 2 recurrent layers"):
        units.hidden_trace(weights, vocabulary, "fox", cell="GRU", layer=layer)


def test_hidden_trace_refuses_empty_text_and_another_vocabulary(vocabulary):
    weights = random_weights("LSTM", vocabulary.size, 4)
    with pytest.raises(TextError, match="the text is empty"):
        units.hidden_trace(weights, vocabulary, "", cell="LSTM")
    with pytest.raises(TextError, match="another vocabulary"):
        units.hidden_trace(random_weights("LSTM", vocabulary.size + 1, 4), vocabulary, "fox", cell="LSTM")


# --------------------------------------------------------------------------- patterns


def test_every_registered_pattern_compiles_and_has_a_one_sentence_description():
    assert units.PATTERNS[units.LINE_POSITION][0] is None
    for name, (expression, description) in units.PATTERNS.items():
        assert description.endswith(".") and description.count(". ") == 0, name
        if expression is not None:
            assert units.pattern_mask(PASSAGE, expression).shape == (len(PASSAGE),)


@pytest.mark.parametrize("name, expected", [
    ("inside double quotes", '____"hi there"_________________________________________'),
    ("inside parentheses", "_______________(a (b) c)_______________________________"),
    ("inside square brackets", "_________________________[x [y]]_______________________"),
    ("vowels", "_a____i___e_e___a___________________e___o___i_e__e_e___"),
    ("whitespace", "___ ___ ______ __ ___ __ __ ____ __\n___ __ ____ ____\n\n_"),
    ("digits", "_________________________________42____________________"),
    ("start of a word", "s____h__t_______a__b__c___x__y___4__e___o__l____h_____z"),
    ("end of the line is near", "______________________________]] 42____________ here___"),
])
def test_registered_patterns_mark_what_their_names_say(name, expected):
    mask = units.named_target(PASSAGE, name)
    assert mask.dtype == np.float32 and set(np.unique(mask)) <= {0.0, 1.0}
    assert marked(PASSAGE, mask) == expected


def test_a_quote_reaches_across_a_line_end_as_in_wrapped_prose():
    passage = 'a "b\nc" d "e"'
    assert marked(passage, units.named_target(passage, "inside double quotes")) == '__"b\nc"___"e"'


def test_masks_count_characters_not_bytes_or_utf16_units():
    passage = "😀 中文 (é) 😀"
    assert marked(passage, units.pattern_mask(passage, r"\(.*?\)")) == "_____(é)__"


def test_line_position_runs_from_0_at_a_line_start_to_1_at_its_line_end():
    np.testing.assert_allclose(units.line_position("abc\nde\n\nf"), [0, 1 / 3, 2 / 3, 1, 0, 0.5, 1, 0, 0])
    np.testing.assert_allclose(units.line_position("abcd"), [0, 1 / 3, 2 / 3, 1])  # no line end: the last character
    assert units.line_position("").shape == (0,) and units.line_position("x").dtype == np.float32
    np.testing.assert_array_equal(units.named_target("ab\nc", units.LINE_POSITION), units.line_position("ab\nc"))


@pytest.mark.parametrize("pattern", [r"x*", r"\b", r"(?=a)", r"^", r"$", r"a{0}"])
def test_zero_width_matches_mark_nothing_and_end(pattern):
    started = time.perf_counter()
    mask = units.pattern_mask("banana split\n" * 2_000, pattern)
    assert time.perf_counter() - started < 5
    assert not mask.any() and len(mask) == 26_000


def test_a_pattern_that_is_not_a_regular_expression_names_itself_and_the_error():
    with pytest.raises(TextError, match=r"^the pattern '\(' is not a regular expression: missing \) at position 1$"):
        units.pattern_mask("abc", "(")
    with pytest.raises(TextError, match=r"the pattern '\[a-' is not a regular expression: .*character set"):
        units.pattern_mask("abc", "[a-")


def test_a_catastrophic_pattern_times_out_instead_of_hanging():
    started = time.perf_counter()
    with pytest.raises(TextError, match=r"the pattern '\(a\|aa\)\+\$' took too long .*simplify it"):
        units.pattern_mask("a" * 5_000 + "!", "(a|aa)+$")
    assert time.perf_counter() - started < 5


@pytest.mark.parametrize("pattern, problem", [
    ("", "the pattern is empty"),
    (None, "the pattern is empty"),
    ("a" * (units.MAX_PATTERN_CHARS + 1), rf"201 characters long; keep it to {units.MAX_PATTERN_CHARS} or fewer"),
    # Compiling this one would take minutes: regex unrolls the nested counts (20^4 copies of 'a').
    ("(?:(?:(?:a{20}){20}){20}){20}", "repeats too much"),
    # A literal backslash (two in the pattern) repeated: after an even number of them a brace counts (one slipped past).
    (r"(?:(?:\\{100}){100}){100}", "repeats too much"),
])
def test_patterns_too_long_empty_or_unrolling_too_much_are_refused_before_compiling(pattern, problem):
    with pytest.raises(TextError, match=problem):
        units.pattern_mask("aaaa", pattern)


def test_escaped_braces_and_small_counts_are_allowed():
    assert marked("a{20}b aaa", units.pattern_mask("a{20}b aaa", r"a\{20\}b|a{3}")) == "a{20}b_aaa"


def test_unknown_pattern_names_are_refused_with_the_known_ones():
    with pytest.raises(TextError, match="no pattern named 'quotes'.*inside double quotes"):
        units.named_target("abc", "quotes")


# --------------------------------------------------------------------------- ranking


def planted_trace(mask, n_units=12, seed=0):
    rng = np.random.default_rng(seed)
    trace = rng.normal(0, 1, (len(mask), n_units)).astype(np.float32)
    return trace, rng


def test_a_unit_that_is_the_mask_plus_noise_ranks_first():
    mask = units.named_target(PASSAGE * 20, "inside parentheses")
    trace, rng = planted_trace(mask)
    trace[:, 7] = mask + rng.normal(0, 0.3, len(mask))
    ranked = units.rank_units(trace, mask, top=3)
    assert [type(s) for s in ranked] == [units.UnitScore] * 3
    assert ranked[0].unit == 7 and ranked[0].correlation > 0.7
    assert abs(ranked[1].correlation) < 0.2 and abs(ranked[1].correlation) >= abs(ranked[2].correlation)
    expected = np.corrcoef(trace[:, 7], mask)[0, 1]
    assert ranked[0].correlation == pytest.approx(expected, abs=1e-6)


def test_the_sign_is_kept_a_unit_off_inside_the_pattern_ranks_first_with_negative_correlation():
    mask = units.named_target(PASSAGE * 20, "inside double quotes")
    trace, _ = planted_trace(mask)
    trace[:, 4] = -mask
    [first] = units.rank_units(trace, mask, top=1)
    assert first == units.UnitScore(unit=4, correlation=pytest.approx(-1.0))


def test_the_line_position_is_a_target_too():
    position = units.line_position(PASSAGE * 5)
    trace, rng = planted_trace(position, n_units=5)
    trace[:, 2] = np.tanh(3 * position - 1.5) + rng.normal(0, 0.05, len(position))
    assert units.rank_units(trace, position, top=1)[0].unit == 2


def test_constant_units_score_zero_and_ties_go_to_the_lower_unit():
    mask = np.array([0, 1, 1, 0, 1, 0, 0, 1], np.float32)
    trace = np.zeros((8, 5), np.float32)
    trace[:, 0] = 0.7  # constant: no information, correlation 0 and not NaN
    trace[:, 3] = trace[:, 1] = mask
    trace[:, 4] = [1, 0, 0, 0, 0, 0, 0, 0]
    ranked = units.rank_units(trace, mask, top=None)
    assert [s.unit for s in ranked] == [1, 3, 4, 0, 2]
    assert ranked[0].correlation == pytest.approx(1.0) and ranked[1].correlation == pytest.approx(1.0)
    assert ranked[3] == units.UnitScore(0, 0.0) and ranked[4] == units.UnitScore(2, 0.0)
    assert all(np.isfinite(s.correlation) for s in ranked)
    assert len(units.rank_units(trace, mask)) == 5  # top=10 is more than there are units: all of them


@pytest.mark.parametrize("target, problem", [
    (np.zeros(6), r"matches none of the 6 characters in this passage"),
    (np.ones(6), r"matches every character \(6 of 6\) in this passage"),
    (np.full(6, 0.25), r"the target is 0.25 at every one of the 6 characters"),
])
def test_a_constant_target_says_whether_the_pattern_matched_everything_or_nothing(target, problem):
    with pytest.raises(TextError, match=problem):
        units.rank_units(np.random.default_rng(0).normal(size=(6, 3)), target)


@pytest.mark.parametrize("trace, target, top, problem", [
    (np.zeros((5, 3)), np.arange(4.0), 10, r"one row per target value; got trace \(5, 3\) and 4"),
    (np.zeros(5), np.arange(5.0), 10, "characters, units"),
    (np.zeros((5, 3)), np.arange(5.0), 0, "top must be a whole number >= 1"),
    (np.zeros((5, 3)), np.array([0, 1, np.nan, 0, 1]), 10, "NaN"),
])
def test_rank_units_refuses_mismatched_input(trace, target, top, problem):
    with pytest.raises(TextError, match=problem):
        units.rank_units(trace, target, top=top)


def test_unit_scores_are_frozen():
    score = units.UnitScore(unit=1, correlation=0.5)
    with pytest.raises(dataclasses.FrozenInstanceError):
        score.unit = 2


def test_hidden_trace_pattern_and_ranking_fit_together(vocabulary):
    passage = "the (quick) brown fox\njumps (over)\n"
    weights = random_weights("LSTM", vocabulary.size, 8)
    trace = units.hidden_trace(weights, vocabulary, passage, cell="LSTM", layer=1)
    ranked = units.rank_units(trace, units.named_target(passage, "inside parentheses"), top=4)
    assert len(ranked) == 4 and len({s.unit for s in ranked}) == 4
    assert all(-1 <= s.correlation <= 1 for s in ranked)
    assert [abs(s.correlation) for s in ranked] == sorted((abs(s.correlation) for s in ranked), reverse=True)
