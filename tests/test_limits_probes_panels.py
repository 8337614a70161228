"""Hosted limits, typed probes and the dashboard's panels: the engine pieces under the UI (no TensorFlow)."""

import dataclasses

import numpy as np
import pytest

from seqcore import limits, panels, plots, probes
from seqcore.config import ConfigError, Experiment, preset
from seqcore.data import build_data
from seqcore.events import EpochEvent, SnapshotEvent, StartEvent
from seqcore.models import input_output_sizes
from seqcore.tasks import TASKS

# --- limits -------------------------------------------------------------------------------------------


def test_hosted_limits_name_the_field_value_and_limit():
    big = preset("seed").with_values(**{"model.units": 512, "train.epochs": 1000})
    with pytest.raises(ConfigError) as err:
        limits.check(big, limits.HOSTED)
    text = str(err.value)
    assert "model.units: 512 is above this server's hosted limit of 128" in text
    assert "train.epochs: 1000" in text
    limits.check(big, limits.LOCAL)  # generous locally


def test_every_preset_fits_the_hosted_limits_without_a_message():
    for name in ("seed", "sine", "delay", "delay_simplernn", "adding", "overfit", "overfit_cured"):
        clamped, messages = limits.clamp(preset(name), limits.HOSTED)
        limits.check(clamped, limits.HOSTED)
        assert messages == []  # only the default time limit was lowered, silently
        assert clamped.train.time_limit_s == limits.HOSTED.time_limit_s


def test_clamp_lowers_what_is_too_big_and_says_so():
    clamped, messages = limits.clamp(preset("seed").with_values(**{"model.units": 900}), limits.HOSTED)
    assert clamped.model.units == 128
    assert messages and "model.units" in messages[0]
    same, none = limits.clamp(preset("seed"), limits.LOCAL)
    assert same == preset("seed") and none == []


def test_clamp_falls_back_to_defaults_when_lowering_breaks_a_rule():
    # delay with lag 250 needs seq_len > 250; the hosted cap of 200 on seq_len breaks that rule
    long_delay = Experiment().with_values(**{"data.generator": "delay", "data.seq_len": 300, "data.lag": 250})
    clamped, messages = limits.clamp(long_delay, limits.HOSTED)
    assert clamped == Experiment()
    assert any("default experiment" in m for m in messages)


def test_hosted_switch_and_slots_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("SEQCORE_HOSTED", "1")
    monkeypatch.setenv("SEQCORE_SLOTS", "3")
    active = limits.active_limits()
    assert active.name == "hosted" and active.slots == 3
    monkeypatch.setenv("SEQCORE_HOSTED", "0")
    assert limits.active_limits().name == "local"


# --- probes -------------------------------------------------------------------------------------------


def _random_weights(experiment: Experiment, seed: int = 0) -> list[np.ndarray]:
    """Weights in Keras' layout for the experiment's model, drawn at random."""
    rng = np.random.default_rng(seed)
    m, k = input_output_sizes(experiment.data)
    n, blocks = experiment.model.units, {"SimpleRNN": 1, "LSTM": 4, "GRU": 3}[experiment.model.cell]
    weights = []
    for _ in range(experiment.model.layers):
        bias = (2, blocks * n) if experiment.model.cell == "GRU" else (blocks * n,)
        weights += [rng.normal(0, 0.3, (m, blocks * n)), rng.normal(0, 0.3, (n, blocks * n)), rng.normal(0, 0.1, bias)]
        m = n
    weights += [rng.normal(0, 0.3, (n, k)), np.zeros(k)]
    return [w.astype(np.float32) for w in weights]


THE_LINK_THAT_FILLED_THE_SERVER = {"data.generator": "random_digits", "data.n_sequences": 5000,
                                   "data.seq_len": 200, "data.vocab_size": 50}


def test_a_link_asking_for_hundreds_of_megabytes_is_refused_before_its_data_is_built():
    # Five such links (seeds 1..5) took a hosted server from 373 MB to 2.4 GB.
    experiment = Experiment().with_values(**THE_LINK_THAT_FILLED_THE_SERVER)
    with pytest.raises(ConfigError) as caught:
        limits.check_size(experiment, limits.HOSTED)
    (field, value, allowed), = caught.value.problems
    assert (field, value) == ("data.n_sequences", 5000)
    assert "49,750,000 input values" in allowed and "limit of 5,000,000" in allowed
    limits.check_size(experiment, limits.LOCAL)  # a machine of one's own may build it


def test_the_configuration_that_always_died_at_the_memory_ceiling_is_refused_beforehand():
    # Delay, 5000 × 200, vocabulary 50, LSTM 128 × 2, batch 512: every setting within the hosted caps, and the
    # worker died at its 3 GB ceiling after 36 s of CPU, every time.
    experiment = preset("delay").with_values(**{**THE_LINK_THAT_FILLED_THE_SERVER, "data.generator": "delay",
                                                "model.units": 128, "model.layers": 2, "train.batch_size": 512,
                                                "train.time_limit_s": 120.0})
    assert limits.estimated_worker_mb(experiment) > limits.HOSTED.worker_memory_mb * limits.MEMORY_MARGIN
    with pytest.raises(ConfigError, match="input values"):
        limits.check(experiment, limits.HOSTED)
    smaller = experiment.with_values(**{"data.vocab_size": 4})  # 4,000,000 values: the data fits
    limits.check(smaller, limits.HOSTED)
    tight = dataclasses.replace(limits.HOSTED, worker_memory_mb=1500.0)
    with pytest.raises(ConfigError) as caught:
        limits.check(smaller, tight)
    (field, value, allowed), = caught.value.problems
    assert field == "train.batch_size" and value == 512 and "needs about 1,89" in allowed and "1,275 MB" in allowed


@pytest.mark.parametrize("task", [name for name in TASKS if not TASKS[name].needs_upload])
def test_every_hosted_configuration_at_its_caps_is_refused_for_size_or_fits_a_worker(task):
    """The hosted limits are a set a worker can always run: no legal configuration reaches the ceiling."""
    cap = limits.HOSTED
    experiment = Experiment().with_values(**{"data.generator": task, "model.units": cap.units, "model.layers":
                                             cap.layers, "train.batch_size": cap.batch_size,
                                             "train.time_limit_s": cap.time_limit_s, "model.cell": "LSTM"})
    for n in (cap.n_sequences, 1000, 100):
        try:
            sized = experiment.with_values(**{"data.n_sequences": n, "data.n_points": cap.n_points,
                                              "data.vocab_size": 8, "data.seq_len": 150 if task == "copy_memory"
                                              else cap.seq_len})
        except ConfigError:
            continue
        try:
            limits.check(sized, cap)
        except ConfigError as err:
            assert "input values" in str(err), err  # refused for its size, never for lack of memory
            continue
        assert limits.estimated_worker_mb(sized) <= cap.worker_memory_mb * limits.MEMORY_MARGIN


def test_a_csv_column_longer_than_the_hosted_series_is_refused():
    experiment = preset("sine").with_values(**{"data.generator": "csv", "data.csv_column": "price",
                                               "train.time_limit_s": 60.0})
    with pytest.raises(ConfigError, match="data.csv_column: 'price' has 1000000 values, above this server's hosted "
                                          "limit of 20000 points"):
        limits.check(experiment, limits.HOSTED, uploaded=np.zeros(1_000_000))
    limits.check(experiment, limits.HOSTED, uploaded=np.zeros(5_000))


def test_token_probe_parses_and_explains_what_is_allowed():
    assert probes.token_probe("3 1, 4;1", 10).tolist() == [3, 1, 4, 1]
    with pytest.raises(probes.ProbeError, match="'12' is not a token; tokens are whole numbers from 0 to 9"):
        probes.token_probe("1 12", 10)
    with pytest.raises(probes.ProbeError, match="at least one token"):
        probes.token_probe("   ", 10)
    with pytest.raises(probes.ProbeError, match="above the maximum"):
        probes.token_probe(" ".join(["1"] * 501), 10)


def test_series_probe_refuses_text_and_infinities():
    assert probes.series_probe("0.5, 1e3 -2").tolist() == [0.5, 1000.0, -2.0]
    with pytest.raises(probes.ProbeError, match="'abc' is not a number"):
        probes.series_probe("1 abc 3")
    with pytest.raises(probes.ProbeError, match="finite"):
        probes.series_probe("1 inf")


def test_a_typed_token_probe_gives_a_prediction_per_step():
    experiment = preset("seed").with_values(**{"model.units": 8})
    result = probes.run_token_probe(_random_weights(experiment), np.array([1, 2, 3, 4, 5]), vocab_size=10,
                                    cell="LSTM", activation="tanh")
    assert result.next_tokens.shape == (5,) and result.next_tokens.max() < 10
    assert np.all((result.next_probability > 0) & (result.next_probability <= 1))
    assert result.trace.layers[0].h.shape == (1, 5, 8)


def test_a_typed_series_probe_answers_in_the_data_units():
    experiment = preset("sine").with_values(**{"model.units": 6, "data.amplitude": 50.0})
    data = build_data(experiment.data)
    result = probes.run_series_probe(_random_weights(experiment), data.series[:20], transform=data.transform,
                                     cell="GRU", activation="tanh")
    # The output is mapped back through the scaler: tanh-bounded units times a std of about 35.
    assert result.forecast.shape == (1,)
    assert abs(result.forecast[0] - data.scaler.mean) < 20 * data.scaler.std


# --- panels -------------------------------------------------------------------------------------------


def _fake_run(experiment: Experiment, epochs: int = 3):
    """A StartEvent, history and snapshot shaped like a real run of `experiment`, from random weights."""
    from seqcore import reference

    data = build_data(experiment.data)
    weights = _random_weights(experiment)
    probe_x = data.x_val[:4]
    head = data.head
    trace = reference.forward(weights, probe_x, cell=experiment.model.cell, head=head)
    start = StartEvent(n_train=data.n_train, n_val=data.n_val, n_test=data.n_test, steps_per_epoch=1,
                       steps_per_execution=1, metric="accuracy" if head == "tokens" else "mae",
                       baselines={"chance accuracy": 0.1, "bigram cross-entropy": 2.3, "mean MSE": 1.0},
                       probe_x=probe_x, probe_y=data.y_val[:4],
                       probe_w=None if data.w_val is None else data.w_val[:4], seconds_to_build=0.1)
    history = tuple(EpochEvent(epoch=e, epochs=epochs, loss=1.0 / e, metric=0.1 * e, val_loss=1.2 / e,
                               val_metric=0.1 * e, seconds=0.1, samples_per_s=100.0, elapsed=0.1 * e)
                    for e in range(1, epochs + 1))
    val_prediction = None
    if head == "regression":  # values do not matter here, only their shape (a real forward of 400 windows is slow)
        val_prediction = np.zeros((min(400, data.n_val), data.n_outputs), dtype=np.float32)
    forecast = np.zeros(20, dtype=np.float32) if data.series is not None else None
    snapshot = SnapshotEvent(epoch=epochs, weights=weights, hidden=[layer.h for layer in trace.layers],
                             probe_output=trace.output, val_prediction=val_prediction, forecast=forecast)
    return start, history, snapshot, data


@pytest.mark.parametrize("name", ["seed", "delay", "sine", "adding"])
def test_a_live_update_has_every_figure(name):
    experiment = preset(name).with_values(**{"model.units": 8, "data.n_sequences": 200}
                                          if name != "sine" else {"model.units": 8})
    start, history, snapshot, data = _fake_run(experiment)
    figures = panels.live_figures(history, start, snapshot, data, log_y=True, smoothing=0.5)
    assert set(figures) == {"loss", "metric", "predictions", "hidden"}
    assert figures["loss"].layout.yaxis.type == "log"
    hidden = figures["hidden"].data[0]
    assert np.asarray(hidden.z).shape == (8, data.n_steps)  # units x steps


def test_before_the_first_snapshot_only_the_curves_are_drawn():
    start, history, _, data = _fake_run(preset("seed").with_values(**{"model.units": 4}))
    assert set(panels.live_figures(history, start, None, data)) == {"loss", "metric"}


def test_a_big_run_sends_less_than_300_kB_per_update():
    experiment = preset("sine").with_values(**{"model.units": 256, "data.seq_len": 500, "data.n_points": 8000,
                                               "data.val_fraction": 0.2})
    start, history, snapshot, data = _fake_run(experiment, epochs=100)
    figures = panels.live_figures(history, start, snapshot, data)
    total = sum(plots.figure_size_bytes(f) for f in figures.values())
    assert total < 300_000, total


def test_a_baseline_far_above_the_curves_is_left_out_so_they_stay_readable():
    start, history, _, _ = _fake_run(preset("seed").with_values(**{"model.units": 4}))
    start = dataclasses.replace(start, baselines={"bigram cross-entropy": 1.1, "mean MSE": 50.0})
    annotations = " ".join(a.text or "" for a in panels.loss_panel(history, start).layout.annotations)
    assert "bigram cross-entropy" in annotations  # the labels of the dashed baseline lines
    assert "mean MSE" not in annotations


@pytest.mark.parametrize(("name", "target"), [("seed", "next token"), ("delay", "token L steps back"),
                                              ("adding", "sum of the two marked numbers")])
def test_the_prediction_chart_names_what_the_task_predicts(name, target):
    # The delay task's charts said "Next-token predictions" and "p(true next token)": its target is 20 steps back.
    experiment = preset(name).with_values(**{"model.units": 8, "data.n_sequences": 200})
    start, history, snapshot, data = _fake_run(experiment)
    figure = panels.prediction_panel(snapshot, start, data)
    words = figure.layout.title.text + " " + (figure.layout.yaxis.title.text or "")
    assert target in words
    assert name == "seed" or "next token" not in words


def test_long_memory_tasks_show_gradients_through_time_and_others_do_not():
    def figures_for(experiment):
        data = build_data(experiment.data)
        t, f = data.x_val.shape[1:]
        start = StartEvent(len(data.x_train), len(data.x_val), len(data.x_test), 1, 1, data.task.kind.metric, {},
                           data.x_val[:1], data.y_val[:1], None, 0.0)
        hidden = [np.zeros((1, t, experiment.model.units), np.float32)]
        output = np.zeros((1, t, f), np.float32) if data.head == "tokens" else np.zeros((1, 1), np.float32)
        snapshot = SnapshotEvent(1, [], hidden, output, val_prediction=np.zeros((len(data.x_val), 1), np.float32),
                                 grad_norms=np.geomspace(1e-6, 1.0, t).astype(np.float32))
        return panels.live_figures((), start, snapshot, data)

    assert "gradients" in figures_for(preset("adding").with_values(**{"data.n_sequences": 100}))
    assert "gradients" in figures_for(preset("delay").with_values(**{"data.n_sequences": 100}))
    assert "gradients" not in figures_for(preset("patterned"))
    pair = panels.gradient_panel([("A", SnapshotEvent(3, [], [], np.zeros(1), grad_norms=np.ones(5))),
                                  ("B", SnapshotEvent(3, [], [], np.zeros(1), grad_norms=np.full(5, 1e-9)))])
    assert [t.name for t in pair.data] == ["A", "B"] and pair.layout.yaxis.type == "log"
    assert "(epoch 3)" in pair.layout.title.text
    assert panels.gradient_panel([("A", SnapshotEvent(3, [], [], np.zeros(1)))]) is None  # a run from before


def test_the_note_under_the_charts_names_the_hmms_states_and_fitting_time_and_nothing_without_one():
    from seqcore.panels import baselines_note

    note = baselines_note({"bigram accuracy": 0.2, "HMM accuracy (K = 4 states)": 0.26,
                           "HMM fitting seconds (K = 4 states)": 0.4123})
    assert note is not None and "The HMM's (K = 4 states) was fitted by Baum–Welch" in note and "0.41 s" in note
    assert baselines_note({"mean MSE": 0.16}) is None
