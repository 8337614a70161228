"""The task registry: every generator is one entry, and the copy-memory task shows what an entry gives."""

import math

import numpy as np
import pytest

from seqcore import jacobians
from seqcore.baselines import baselines
from seqcore.cells import CELLS
from seqcore.config import DataConfig, Experiment
from seqcore.data import build_data
from seqcore.generators import COPY_BLANK
from seqcore.models import input_output_sizes, input_steps, parameter_counts
from seqcore.tasks import SPLIT_FIELDS, TASKS, TOKENS

SETTINGS = set(DataConfig.field_names())


@pytest.mark.parametrize("name", list(TASKS))
def test_every_task_names_real_settings_and_its_data_has_the_sizes_it_declares(name):
    task = TASKS[name]
    assert set(task.fields) <= SETTINGS and not set(task.fields) & set(SPLIT_FIELDS)
    assert set(task.labels) <= set(task.fields)
    if task.needs_upload:
        return
    config = DataConfig(generator=name)
    data = build_data(config)
    assert data.task is task and config.task is task
    assert (data.n_features, data.n_outputs) == input_output_sizes(config) == task.sizes(config)
    assert data.n_steps == input_steps(config) == task.steps(config)
    assert data.head == task.kind.head
    scores = baselines(data)
    assert scores and all(math.isfinite(v) for v in scores.values())


def copy_config(**changes) -> DataConfig:
    return DataConfig(**{"generator": "copy_memory", "n_sequences": 200, "vocab_size": 8, "copy_len": 3,
                         "seq_len": 7, **changes})


def test_copy_memory_repeats_the_first_symbols_after_the_marker():
    config = copy_config()
    data = build_data(config)
    k, gap, symbols = 3, 7, 8
    inputs, targets = data.x_train.argmax(-1), data.y_train.argmax(-1)
    assert inputs.shape == (data.n_train, gap + 2 * k) and data.n_features == symbols + 2
    marker = symbols + 1
    assert (inputs[:, k + gap - 1] == marker).all()
    assert (inputs[:, k:k + gap - 1] == COPY_BLANK).all() and (inputs[:, k + gap:] == COPY_BLANK).all()
    assert ((inputs[:, :k] >= 1) & (inputs[:, :k] <= symbols)).all()
    np.testing.assert_array_equal(targets[:, -k:], inputs[:, :k])  # the k symbols, in order, after the marker
    assert (targets[:, :-k] == COPY_BLANK).all()
    assert data.w_train is None  # every step is scored, as in the papers


def test_copy_memory_baseline_is_the_published_memoryless_one():
    # Arjovsky, Shah & Bengio (2016): 10 symbols of 8, gap T: 10·ln 8 / (T + 20) nats.
    for gap in (5, 50):
        scores = baselines(build_data(copy_config(copy_len=10, seq_len=gap)))
        assert scores["memoryless cross-entropy"] == pytest.approx(10 * math.log(8) / (gap + 20))
        assert scores["memoryless accuracy"] == pytest.approx((gap + 10 + 10 / 8) / (gap + 20))


def test_copy_memory_is_deterministic_from_its_seed_and_checked_against_the_limit():
    a, b = build_data(copy_config()), build_data(copy_config())
    np.testing.assert_array_equal(a.x_train, b.x_train)
    assert not np.array_equal(a.x_train, build_data(copy_config(seed=7)).x_train)


def test_copy_memory_builds_a_model_with_the_counts_its_sizes_imply():
    experiment = Experiment(data=copy_config(), model=Experiment().model)
    rows = parameter_counts(experiment)
    n, m = experiment.model.units, 10  # 8 symbols, blank, marker
    assert rows[0].params == CELLS["LSTM"].parameters(n, m) == 4 * (n * m + n * n + n)
    assert rows[-1].params == n * m + m
    assert TASKS["copy_memory"].kind is TOKENS


def test_cell_formulas_read_as_written():
    assert [CELLS[c].formula for c in ("SimpleRNN", "LSTM", "GRU")] == [
        "n·m + n² + n", "4·(n·m + n² + n)", "3·(n·m + n² + 2n)"]


def test_jacobians_match_finite_differences_of_the_state():
    U, w, inputs = jacobians.random_simple_rnn(radius=1.2, drive=0.5, units=4, steps=6, seed=3)
    h0 = np.random.default_rng(0).normal(size=4) * 0.1
    analytic = jacobians.state_jacobians(U, w, inputs, h0)

    def final_state(start):
        h = start
        for x in inputs:
            h = np.tanh(x * w + h @ U)
        return h

    eps = 1e-6
    numeric = np.stack([(final_state(h0 + eps * e) - final_state(h0 - eps * e)) / (2 * eps) for e in np.eye(4)],
                       axis=1)
    np.testing.assert_allclose(analytic[-1], numeric, atol=1e-7)


def test_jacobian_norms_fade_with_a_small_radius_and_stay_below_the_linear_bound():
    tanh_norms, linear_norms = jacobians.jacobian_norms(radius=0.9, drive=1.0, steps=50)
    assert tanh_norms[-1] < 1e-2 and linear_norms[-1] < 1.0
    U, _, _ = jacobians.random_simple_rnn(radius=0.9, drive=1.0, units=32, steps=50, seed=0)
    bound = np.linalg.norm(U, 2) ** np.arange(1, 51)
    assert (tanh_norms <= bound * (1 + 1e-9)).all()
    np.testing.assert_allclose(linear_norms[0], np.linalg.norm(U, 2), rtol=1e-9)
