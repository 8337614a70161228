"""Baselines tell a user what an RNN has to beat; check they say the obvious things."""

import math

import numpy as np
import pytest

from seqcore.baselines import baselines
from seqcore.config import DataConfig
from seqcore.data import build_data

TOKEN_KEYS = {"chance accuracy", "majority accuracy", "bigram accuracy", "bigram cross-entropy"}


def test_keys_per_task():
    assert set(baselines(build_data(DataConfig()))) == TOKEN_KEYS
    assert set(baselines(build_data(DataConfig(generator="sine")))) == {"mean MSE", "persistence MSE",
                                                                        "linear AR MSE"}
    assert set(baselines(build_data(DataConfig(generator="adding")))) == {"mean MSE", "linear MSE"}
    assert all(isinstance(v, float) for v in baselines(build_data(DataConfig())).values())


@pytest.mark.parametrize("pattern", ["motif", "count"])
def test_bigram_predicts_noiseless_patterned_digits(pattern):
    scores = baselines(build_data(DataConfig(generator="patterned_digits", pattern=pattern, seq_len=20)))
    assert scores["bigram accuracy"] > 0.99
    assert scores["bigram cross-entropy"] < 0.2


def test_random_digits_stay_at_chance():
    scores = baselines(build_data(DataConfig(n_sequences=2000)))
    assert scores["chance accuracy"] == pytest.approx(0.1)
    assert abs(scores["bigram accuracy"] - 0.1) < 0.03
    assert abs(scores["majority accuracy"] - 0.1) < 0.03
    assert scores["bigram cross-entropy"] == pytest.approx(math.log(10), abs=0.05)


def test_masked_delay_steps_do_not_count():
    # With lag 9 of 10 steps, nine steps in ten are masked with target 0: counting them would
    # make "always say 0" look 90 % right.
    scores = baselines(build_data(DataConfig(generator="delay", seq_len=10, lag=9, vocab_size=4,
                                             n_sequences=2000)))
    assert abs(scores["majority accuracy"] - 0.25) < 0.05
    assert abs(scores["bigram accuracy"] - 0.25) < 0.05


def test_linear_model_nails_a_noiseless_sine():
    scores = baselines(build_data(DataConfig(generator="sine", noise=0.0)))
    assert scores["linear AR MSE"] < 0.01 * scores["mean MSE"]
    assert scores["persistence MSE"] < scores["mean MSE"]


def test_persistence_beats_the_mean_on_a_random_walk():
    scores = baselines(build_data(DataConfig(generator="random_walk")))
    assert scores["persistence MSE"] < 0.1 * scores["mean MSE"]


def test_ignoring_the_marks_in_the_adding_problem_costs_about_one_sixth():
    scores = baselines(build_data(DataConfig(generator="adding", seq_len=50, n_sequences=3000)))
    assert scores["mean MSE"] == pytest.approx(1 / 6, abs=0.02)
    assert scores["linear MSE"] == pytest.approx(1 / 6, abs=0.02)  # a sum of two marked values is not linear


def test_mse_is_in_scaled_units():
    data = build_data(DataConfig(generator="sine", amplitude=100.0, noise=0.0))
    # Predicting the mean of a standardised series costs about its variance, 1, whatever the amplitude.
    assert baselines(data)["mean MSE"] == pytest.approx(1.0, abs=0.1)
    assert np.isfinite(list(baselines(data).values())).all()


def test_linear_model_on_a_window_longer_than_its_input_cap():
    data = build_data(DataConfig(generator="sine", seq_len=300, n_points=3000, val_fraction=0.3,
                                 test_fraction=0.2))
    scores = baselines(data)
    assert scores["linear AR MSE"] < 0.01 * scores["mean MSE"]


@pytest.mark.parametrize("generator", ["random_digits", "patterned_digits", "delay", "copy_memory"])
def test_the_hmm_joins_every_token_tasks_baselines_only_when_asked(generator):
    from seqcore.hmm import hmm_names, states_for

    data = build_data(DataConfig(generator=generator, n_sequences=60))
    plain, with_hmm = baselines(data), baselines(data, with_hmm=True)
    assert not any("HMM" in name for name in plain)  # what the Data page shows, drawn in the UI's process
    assert set(with_hmm) - set(plain) == set(hmm_names(states_for(data.n_outputs)))
    assert all(math.isfinite(v) for v in with_hmm.values())


@pytest.mark.parametrize("generator", ["sine", "adding"])
def test_no_hmm_for_numbers(generator):
    data = build_data(DataConfig(generator=generator))
    assert baselines(data, with_hmm=True) == baselines(data)


def test_the_data_pages_baselines_do_not_import_hmmlearn(packages_imported_by):
    code = ("from seqcore.baselines import baselines\nfrom seqcore.data import build_data\n"
            "from seqcore.config import DataConfig\n"
            "[baselines(build_data(DataConfig(generator=g))) for g in ('random_digits', 'delay', 'copy_memory')]")
    assert packages_imported_by(code, {"hmmlearn", "sklearn", "scipy"}) == []
