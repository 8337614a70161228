"""The HMM baseline: on data an HMM models exactly it reaches the best accuracy there is, on the delay task with few
states it stays at chance, it never looks ahead, and it is fitted where a run starts, within its bounds."""

import logging
import math
from dataclasses import replace

import numpy as np
import pytest

from seqcore import hmm
from seqcore.baselines import baselines
from seqcore.config import DataConfig, preset
from seqcore.data import build_data
from seqcore.events import StartEvent
from seqcore.training import train

# Patterned digits an HMM with a state per motif position models exactly: each token is the motif's, or with
# probability NOISE a uniformly drawn one.
VOCAB, MOTIF, NOISE = 6, 4, 0.1
PATTERNED = DataConfig(generator="patterned_digits", vocab_size=VOCAB, motif_len=MOTIF, noise=NOISE, seq_len=20,
                       n_sequences=300)
DELAY = DataConfig(generator="delay", vocab_size=4, lag=5, seq_len=20, n_sequences=500)


def ids(data, part="train"):
    """(inputs, targets, weights) of one part as token ids."""
    x, y, w = data.part(part)
    return x.argmax(-1), y.argmax(-1), w


def fitted(data, **kwargs) -> hmm.FittedHMM:
    inputs, targets, weights = ids(data)
    return hmm.fit_hmm(inputs, targets, weights, n_inputs=data.n_features, n_targets=data.n_outputs,
                       states=kwargs.pop("states", hmm.states_for(data.n_outputs)), **kwargs)


def val_scores(model, data):
    return hmm.scores(model, *ids(data, "val"))


def true_motif_model() -> hmm.FittedHMM:
    """The process that generated PATTERNED, as an HMM on its tokens: a state per motif position, moving on one
    position a step; the motif read from the same data drawn without noise (same seed, so same motif)."""
    clean = build_data(replace(PATTERNED, noise=0.0))
    motif = clean.x_train.argmax(-1)[0, :MOTIF]  # the motif, from wherever this sequence entered it
    emission = np.full((MOTIF, VOCAB), NOISE / VOCAB)
    emission[np.arange(MOTIF), motif] += 1 - NOISE
    return hmm.FittedHMM(startprob=np.full(MOTIF, 1 / MOTIF), transmat=np.roll(np.eye(MOTIF), 1, axis=1),
                         emissionprob=emission, n_inputs=VOCAB, n_targets=VOCAB, next_token=True, iterations=0,
                         converged=True, seconds=0.0, train_tokens=0)


@pytest.fixture(scope="module")
def patterned():
    return build_data(PATTERNED)


@pytest.fixture(scope="module")
def delay():
    return build_data(DELAY)


def test_on_patterned_digits_it_reaches_the_true_models_accuracy(patterned):
    best_accuracy, best_entropy = val_scores(true_motif_model(), patterned)
    # The true model's filter is the Bayes predictor: once it knows the motif position, it is right unless the
    # next token was replaced by another one.
    assert best_accuracy == pytest.approx(1 - NOISE + NOISE / VOCAB, abs=0.02)
    accuracy, entropy = val_scores(fitted(patterned), patterned)
    assert accuracy == pytest.approx(best_accuracy, abs=0.01)
    assert entropy == pytest.approx(best_entropy, abs=0.02)
    # Its memory is worth something: after a replaced token the bigram is lost, the HMM is not.
    assert accuracy > baselines(patterned)["bigram accuracy"] + 0.05


def test_on_the_delay_task_few_states_stay_at_chance(delay):
    probabilities = hmm.target_probabilities(fitted(delay), *ids(delay, "val"))
    np.testing.assert_allclose(probabilities.sum(-1), 1.0, atol=1e-5)  # a probability model over the 4 tokens
    accuracy, entropy = val_scores(fitted(delay), delay)  # 4 states against 4^5 possible histories
    assert accuracy == pytest.approx(0.25, abs=0.03)
    assert entropy == pytest.approx(math.log(4), abs=0.02)


def test_on_the_delay_task_enough_states_climb_above_chance():
    # Each step emits (input, target), so a state has to hold the current token and the L before it: V^(L+1) of
    # them. Baum-Welch finds a local optimum, not always the exact model (0.82 with these data; 0.97 from another
    # random start), but far above chance.
    data = build_data(replace(DELAY, vocab_size=2, lag=1))
    assert val_scores(fitted(data, states=4), data)[0] > 0.75


def test_masked_steps_neither_teach_nor_count(delay):
    inputs, targets, weights = ids(delay, "val")
    model = fitted(delay)
    accuracy, entropy = hmm.scores(model, inputs, targets, weights)
    probabilities = hmm.target_probabilities(model, inputs, targets, weights)
    scored = weights > 0
    chosen = np.take_along_axis(probabilities, targets[..., None], axis=-1)[..., 0]
    assert accuracy == pytest.approx(np.mean(probabilities.argmax(-1)[scored] == targets[scored]))
    assert entropy == pytest.approx(np.mean(-np.log(chosen[scored])), rel=1e-5)
    # Whatever stands in for the missing targets changes nothing, in the fit or in the scores.
    other = np.where(scored, targets, 3)
    assert hmm.scores(model, inputs, other, weights) == (accuracy, entropy)
    train_inputs, train_targets, train_weights = ids(delay)
    refit = hmm.fit_hmm(train_inputs, np.where(train_weights > 0, train_targets, 3), train_weights, n_inputs=4,
                        n_targets=4, states=model.states)
    np.testing.assert_array_equal(refit.emissionprob, model.emissionprob)


@pytest.mark.parametrize("task", ["patterned", "delay"])
def test_the_filter_never_looks_ahead(task, request):
    data = request.getfixturevalue(task)
    model = fitted(data)
    inputs, targets, weights = ids(data, "val")
    before = hmm.target_probabilities(model, inputs, targets, weights)
    step = 12
    changed_inputs, changed_targets = inputs.copy(), targets.copy()
    changed_inputs[:, step:] = (inputs[:, step:] + 1) % data.n_features  # the future, rewritten
    changed_targets[:, step - 1:] = (targets[:, step - 1:] + 1) % data.n_outputs  # the answer at step-1 included
    after = hmm.target_probabilities(model, changed_inputs, changed_targets, weights)
    np.testing.assert_array_equal(after[:, :step], before[:, :step])
    assert not np.array_equal(after[:, step:], before[:, step:])


def test_the_filter_agrees_with_hmmlearns_forward_algorithm(patterned):
    """P(next token | the tokens so far) = P(tokens up to it) / P(tokens so far), each from hmmlearn's score."""
    model = fitted(patterned)
    inputs, targets, _ = ids(patterned, "val")
    inputs, targets = inputs[:3, :6], targets[:3, :6]
    probabilities = hmm.target_probabilities(model, inputs, targets)
    from hmmlearn.hmm import CategoricalHMM

    reference = CategoricalHMM(n_components=model.states, n_features=VOCAB, init_params="")
    reference.startprob_, reference.transmat_ = model.startprob, model.transmat
    reference.emissionprob_ = model.emissionprob
    tokens = np.concatenate([inputs, targets[:, -1:]], axis=1)
    for n in range(len(tokens)):
        for t in range(inputs.shape[1]):
            ratio = math.exp(reference.score(tokens[n, :t + 2, None]) - reference.score(tokens[n, :t + 1, None]))
            assert probabilities[n, t, targets[n, t]] == pytest.approx(ratio, rel=1e-4)


def test_the_fit_keeps_to_its_bounds(delay):
    model = fitted(delay, max_tokens=500, max_iterations=6)
    assert model.train_tokens <= 500 and model.train_tokens % DELAY.seq_len == 0  # whole sequences only
    assert model.iterations <= 6
    out_of_time = fitted(delay, budget_s=0.0)  # the random starts, and no more
    assert out_of_time.iterations <= hmm.ITERATIONS_PER_CALL
    # Seeded: the same data give the same model.
    np.testing.assert_array_equal(fitted(delay, max_tokens=500).transmat, fitted(delay, max_tokens=500).transmat)


def test_the_preset_fits_take_well_under_a_second_of_cpu():
    for name in ("seed", "patterned", "delay"):
        data = build_data(preset(name).data)
        model = fitted(data)
        assert model.train_tokens <= hmm.MAX_TRAIN_TOKENS
        assert model.seconds < 2.0, (name, model.seconds)  # about 0.2-0.4 s here; generous for a busy machine


def test_k_is_the_vocabulary_capped():
    assert [hmm.states_for(v) for v in (2, 4, 10, 16, 64)] == [2, 4, 10, 16, hmm.MAX_STATES]


def test_a_failed_fit_leaves_the_baseline_out_with_a_warning(patterned, monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise ValueError("no luck")

    monkeypatch.setattr(hmm, "fit_hmm", broken)
    with caplog.at_level(logging.WARNING, logger="seqcore.hmm"):
        scores = baselines(patterned, with_hmm=True)
    assert scores == baselines(patterned)  # the other baselines, and nothing of the HMM's
    assert "HMM baseline is left out" in caplog.text and "no luck" in caplog.text


def test_a_token_runs_start_event_carries_the_hmm_and_a_series_run_does_not():
    tiny = ["train.epochs=1", "model.units=4", "train.snapshot_every=1"]
    starts = {}
    for name in ("patterned", "sine"):
        events = []
        train(preset(name).apply_overrides(tiny), events.append, save_artifacts=False)
        [starts[name]] = [e for e in events if isinstance(e, StartEvent)]
    accuracy, entropy, seconds = hmm.hmm_names(10)
    hmm_scores = {k: v for k, v in starts["patterned"].baselines.items() if k.startswith("HMM")}
    assert set(hmm_scores) == {accuracy, entropy, seconds}
    assert hmm_scores[accuracy] > starts["patterned"].baselines["bigram accuracy"]
    assert 0 < hmm_scores[seconds] < 5
    assert not any("HMM" in k for k in starts["sine"].baselines)
