"""What a user of the models notices: the parameter counts and formulas the dashboard shows are Keras' own,
every cell learns, and the downloadable Keras script runs and builds the same model."""

import itertools
import os
import re
import runpy
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from seqcore.cells import CELL_NAMES as CELLS
from seqcore.config import PRESETS, ConfigError, Experiment, preset
from seqcore.events import EpochEvent, SnapshotEvent
from seqcore.models import build_model, keras_script, lstm_bias, parameter_counts
from seqcore.training import train

PROJECT_ROOT = Path(__file__).resolve().parent.parent

TASKS = {  # data settings giving each kind of input / output size
    "tokens": {"data.generator": "random_digits", "data.vocab_size": 5},  # m = k = 5, softmax per step
    "regression": {"data.generator": "sine", "data.horizon": 3},  # m = 1, k = 3
    "adding": {"data.generator": "adding"},  # m = 2, k = 1
}


def small(cell: str, layers: int, task: str, units: int = 3) -> Experiment:
    return Experiment().with_values(**{"model.cell": cell, "model.layers": layers, "model.units": units,
                                       **TASKS[task]})


@pytest.mark.parametrize(("cell", "layers", "task"), list(itertools.product(CELLS, (1, 2), TASKS)))
def test_parameter_counts_are_keras_own(cell, layers, task):
    experiment = small(cell, layers, task, units=3 + layers)
    rows = parameter_counts(experiment)
    model = build_model(experiment)
    assert sum(row.params for row in rows) == model.count_params()
    names = [f"{cell.lower()}_{i}" for i in range(1, layers + 1)] + ["head"]
    assert [row.params for row in rows] == [model.get_layer(name).count_params() for name in names]


@pytest.mark.parametrize(("cell", "formula"), [
    ("SimpleRNN", "n·m + n² + n"),
    ("LSTM", "4·(n·m + n² + n)"),
    ("GRU", "3·(n·m + n² + 2n)"),
])
def test_each_cells_formula_is_shown_with_its_numbers(cell, formula):
    rows = parameter_counts(small(cell, 2, "tokens", units=7))
    assert [row.formula for row in rows] == [formula, formula, "n·k + k"]
    assert [row.name for row in rows] == [f"{cell} 1", f"{cell} 2", "Dense head"]
    for row in rows:
        # The substituted text holds only numbers, and works out to the count shown beside it.
        expression = row.substituted.replace("·", "*").replace("²", "**2")
        assert re.fullmatch(r"[0-9*+() ]+", expression), row.substituted
        assert eval(expression) == row.params, row  # noqa: S307 - digits and operators only, checked above
    assert rows[0].substituted.startswith(formula[:formula.index("n")] + "7·5")  # layer 1 reads the 5 tokens
    assert "7·7" in rows[1].substituted  # layer 2 reads layer 1's 7 units


@pytest.mark.slow
@pytest.mark.parametrize(("cell", "layers"), [("SimpleRNN", 1), ("GRU", 1), ("LSTM", 2)])  # each cell; two layers
def test_each_cell_learns_a_sine_wave(cell, layers):
    experiment = preset("sine").apply_overrides(
        [f"model.cell={cell}", f"model.layers={layers}", "model.units=8", "data.n_points=300", "train.epochs=6",
         "train.snapshot_every=100"])
    events = []
    end = train(experiment, events.append)
    assert end.status == "finished", end.reason
    epochs = [e for e in events if isinstance(e, EpochEvent)]
    assert [e.epoch for e in epochs] == list(range(1, 7))
    assert epochs[-1].val_loss < 0.8 * epochs[0].val_loss, [round(e.val_loss, 4) for e in epochs]
    # Better than always predicting the training mean (an MSE near the scaled variance).
    start = events[0]
    assert epochs[-1].val_loss < start.baselines["mean MSE"]
    # Hidden states of every layer are recorded for the probe windows: (probe, T, units).
    snapshot = next(e for e in reversed(events) if isinstance(e, SnapshotEvent))
    assert [h.shape for h in snapshot.hidden] == [(4, 20, 8)] * layers


def test_every_presets_script_is_valid_python_holding_its_experiment():
    for name, (_, experiment) in PRESETS.items():
        script = keras_script(experiment)
        compile(script, f"{name}.py", "exec")
        embedded = re.search(r'EXPERIMENT_JSON = r"""\n(.*?)\n"""', script, re.S).group(1)
        assert Experiment.from_json(embedded) == experiment, name
        assert f"layers.{experiment.model.cell}({experiment.model.units}" in script


@pytest.mark.slow
def test_a_presets_script_runs_on_its_own(tmp_path):
    script = tmp_path / "sine.py"
    script.write_text(keras_script(preset("sine")))
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT), "TF_CPP_MIN_LOG_LEVEL": "2"}
    result = subprocess.run([sys.executable, str(script), "1"], cwd=tmp_path, env=env, capture_output=True,
                            text=True, timeout=240)
    assert result.returncode == 0, result.stderr[-3000:]
    epoch_lines = [line for line in result.stdout.splitlines() if " - val_loss: " in line]
    assert len(epoch_lines) == 1, result.stdout[-2000:]  # one epoch, as asked on the command line
    assert re.search(r"^test: \{'loss': .*'mae': ", result.stdout, re.M), result.stdout[-2000:]


def test_a_script_builds_the_same_model_as_the_app(monkeypatch, tmp_path):
    # The delay task (targets weighted per step) with every option the script writes out.
    experiment = preset("delay").apply_overrides(
        ["data.n_sequences=100", "model.cell=SimpleRNN", "model.activation=relu", "model.layers=2", "model.units=6",
         "model.dropout=0.2", "model.recurrent_dropout=0.1", "model.l1=0.001", "model.l2=0.001",
         "train.clipnorm=1.5", "train.optimizer=rmsprop", "train.batch_size=16"])
    script = tmp_path / "variant.py"
    script.write_text(keras_script(experiment))
    monkeypatch.setattr(sys, "argv", [str(script), "1"])
    result = runpy.run_path(str(script), run_name="__main__")
    model, app_model = result["model"], build_model(experiment)
    assert model.count_params() == app_model.count_params()
    recurrent = [layer for layer in model.layers if layer.__class__.__name__ == "SimpleRNN"]
    assert [layer.units for layer in recurrent] == [6, 6]
    assert [layer.return_sequences for layer in recurrent] == [True, True]  # a prediction at every step
    config = recurrent[0].get_config()
    assert (config["activation"], config["dropout"], config["recurrent_dropout"]) == ("relu", 0.2, 0.1)
    assert config["kernel_regularizer"]["config"] == {"l1": 0.001, "l2": 0.001}
    optimizer = model.optimizer
    assert type(optimizer).__name__ == "RMSprop" and optimizer.clipnorm == 1.5
    assert np.isclose(np.asarray(optimizer.learning_rate), 0.01)
    assert len(result["history"].history["loss"]) == 1


# --- initialisation levers (issue #15) ---

def _lstm_bias_after_build(**model):
    experiment = Experiment().with_values(**{f"model.{k}": v for k, v in model.items()}, **{"model.units": 6})
    layer = build_model(experiment).get_layer("lstm_1")
    return layer.cell.bias.numpy().reshape(4, 6)  # Keras' blocks: input, forget, candidate, output


def test_keras_default_forget_bias_is_one_and_a_chosen_value_replaces_it():
    assert np.allclose(_lstm_bias_after_build()[1], 1.0)
    bias = _lstm_bias_after_build(forget_bias=0.0)
    assert np.allclose(bias, 0.0)
    assert np.allclose(_lstm_bias_after_build(forget_bias=3.0)[1], 3.0)


def test_chrono_initialisation_spreads_the_forget_bias_over_log_1_to_log_t_and_mirrors_it_on_the_input_gate():
    bias = _lstm_bias_after_build(chrono_t_max=100)
    forget = bias[1]
    assert np.all(forget >= 0.0) and np.all(forget <= np.log(99.0))
    assert np.ptp(forget) > 0.5  # different units remember over different spans
    assert np.allclose(bias[0], -forget) and np.allclose(bias[2:], 0.0)
    assert np.allclose(_lstm_bias_after_build(chrono_t_max=100), bias)  # seeded: the same run starts the same


def test_identity_recurrent_init_gives_the_irnn_its_identity_matrix_and_other_cells_ignore_the_simplernn_lever():
    experiment = Experiment().with_values(**{"model.cell": "SimpleRNN", "model.units": 5, "model.activation": "relu",
                                             "model.recurrent_init": "identity"})
    cell = build_model(experiment).get_layer("simplernn_1").cell
    assert np.allclose(cell.recurrent_kernel.numpy(), np.eye(5))
    gru = Experiment().with_values(**{"model.cell": "GRU", "model.units": 5, "model.recurrent_init": "identity"})
    assert not np.allclose(build_model(gru).get_layer("gru_1").cell.recurrent_kernel.numpy()[:, :5], np.eye(5))


def test_a_chrono_t_of_one_is_refused_naming_the_field():
    with pytest.raises(ConfigError, match="model.chrono_t_max: 1 must be 0"):
        Experiment().with_values(**{"model.chrono_t_max": 1})


def test_the_keras_script_starts_from_the_same_bias_as_the_app():
    experiment = Experiment().with_values(**{"model.units": 6, "model.chrono_t_max": 40})
    script = keras_script(experiment)
    call = next(line for line in script.splitlines() if "layers.LSTM" in line)
    import keras

    code = re.search(r"bias_initializer=(keras\.initializers\.Constant\(lstm_bias\([^)]*\)\))", call).group(1)
    initializer = eval(code, {"keras": keras, "lstm_bias": lstm_bias})
    app_bias = build_model(experiment).get_layer("lstm_1").cell.bias.numpy()
    assert np.allclose(np.asarray(initializer((24,))), app_bias)
    assert "unit_forget_bias=False" in call
    assert "lstm_bias" not in keras_script(Experiment())  # Keras' defaults are not spelled out


def test_each_layer_of_a_stacked_chrono_lstm_draws_its_own_spans_and_the_script_draws_the_same():
    experiment = Experiment().with_values(**{"model.units": 6, "model.layers": 2, "model.chrono_t_max": 40})
    model = build_model(experiment)
    first, second = (model.get_layer(f"lstm_{i}").cell.bias.numpy() for i in (1, 2))
    assert not np.allclose(first, second)
    calls = [line for line in keras_script(experiment).splitlines() if "layers.LSTM" in line]
    seeds = [int(re.search(r"seed=(\d+)", line).group(1)) for line in calls]
    assert seeds == [experiment.train.seed, experiment.train.seed + 1]
    assert np.allclose(lstm_bias(6, chrono_t_max=40, seed=seeds[1]), second)
