"""What a user of `python -m seqcore` notices: the presets, a headless training run with its files and
scores, clear exit codes and messages for bad input, and the Keras script."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from seqcore.config import PRESETS, Experiment, preset

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def seqcore(*args: str, timeout: float = 60, quiet_tensorflow: bool = True) -> subprocess.CompletedProcess:
    """`python -m seqcore ARGS`; `quiet_tensorflow=False` runs it as from a shell that says nothing to TensorFlow."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONPATH": str(PROJECT_ROOT)}
    if not quiet_tensorflow:
        env.pop("TF_CPP_MIN_LOG_LEVEL")
    return subprocess.run([sys.executable, "-m", "seqcore", *args], cwd=PROJECT_ROOT, env=env, capture_output=True,
                          text=True, timeout=timeout)


def test_presets_lists_every_preset_with_its_description():
    result = seqcore("presets")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == len(PRESETS)
    for line, (name, (description, _)) in zip(lines, PRESETS.items(), strict=True):
        assert line.split()[0] == name
        assert line.endswith(description)


@pytest.mark.slow
def test_train_writes_the_artifacts_and_prints_the_scores(tmp_path):
    out = tmp_path / "run"
    result = seqcore("train", "--preset", "seed", "--set", "train.epochs=3", "--out", str(out), timeout=300,
                     quiet_tensorflow=False)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    for name in ("model.keras", "history.csv", "experiment.json"):
        assert (out / name).is_file(), name
        assert f": {out / name}" in result.stdout
    scores = {}
    for part in ("train", "validation"):
        match = re.search(rf"^{part}: loss ([\d.]+), accuracy ([\d.]+)$", result.stdout, re.M)
        assert match, result.stdout
        scores[part] = float(match.group(2))
        assert 0.0 <= scores[part] <= 1.0
    assert "finished: Trained all 3 epochs." in result.stdout
    assert re.search(r"^test accuracy: [\d.]+$", result.stdout, re.M)
    assert re.search(r"^recorded as run cli-[0-9a-f]+ in \S", result.stdout, re.M)  # the default store: see conftest
    assert len((out / "history.csv").read_text().splitlines()) == 1 + 3
    saved = Experiment.from_json((out / "experiment.json").read_text())
    assert saved == preset("seed").with_values(**{"train.epochs": 3})
    # Keras' progress bar (one line in a log), and only what the person asked for: no TensorFlow start-up notices.
    assert re.search(r"^3/3 - .* - loss: [\d.]+ - val_loss: [\d.]+ - accuracy", result.stderr, re.M), result.stderr
    assert "oneDNN" not in result.stderr and "absl" not in result.stderr and "\x1b[" not in result.stderr


@pytest.mark.parametrize(("args", "message"), [
    (["--set", "model.units=0"], "error: model.units: 0 is below the minimum 1"),
    (["--set", "model.colour=red"], "error: model.colour: 'red' is not a known setting"),
    (["--set", "units=5"], "error: units: '5' is not a known setting"),
    (["--preset", "nope"], "error: preset: 'nope' is not one of seed, "),
])
def test_bad_input_exits_2_and_names_the_setting(tmp_path, args, message):
    out = tmp_path / "never"
    result = seqcore("train", *args, "--out", str(out))
    assert result.returncode == 2
    assert result.stderr.startswith(message), result.stderr
    assert "Traceback" not in result.stderr
    assert not out.exists(), "nothing may be written for invalid input"


def test_a_bad_config_file_exits_2(tmp_path):
    config = tmp_path / "experiment.json"
    broken = preset("seed").to_dict()
    broken["data"]["amplitude"] = 10**400  # beyond any float
    config.write_text(json.dumps(broken))
    result = seqcore("code", "--config", str(config))
    assert result.returncode == 2
    assert result.stderr.startswith("error: data.amplitude: 1000"), result.stderr
    assert "Traceback" not in result.stderr
    missing = seqcore("code", "--config", str(tmp_path / "missing.json"))
    assert missing.returncode == 2 and "cannot be read" in missing.stderr


def test_code_prints_a_keras_script(tmp_path):
    result = seqcore("code", "--preset", "sine")
    assert result.returncode == 0, result.stderr
    script = result.stdout
    compile(script, "sine.py", "exec")
    assert "layers.GRU(16, return_sequences=False)" in script
    assert "keras.optimizers.Adam(learning_rate=0.01)" in script
    assert '"batch_size": 32' in script
    # --config takes a downloaded experiment, and --set still applies on top.
    config = tmp_path / "experiment.json"
    config.write_text(preset("sine").to_json())
    changed = seqcore("code", "--config", str(config), "--set", "model.cell=LSTM")
    assert changed.returncode == 0, changed.stderr
    assert "layers.LSTM(16, return_sequences=False)" in changed.stdout


@pytest.mark.slow
def test_train_on_a_dated_csv_scores_the_test_forecasts_in_its_units(tmp_path):
    data = PROJECT_ROOT / "tests" / "data" / "co2_weekly.csv"
    result = seqcore("train", "--csv", str(data), "--set", "data.generator=csv", "--set", "data.csv_column=co2",
                     "--set", "data.time_column=date", "--set", "data.missing=interpolate", "--set", "data.seq_len=26",
                     "--set", "model.units=8", "--set", "train.epochs=2", "--out", str(tmp_path / "run"), timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    rows = dict(re.findall(r"^test forecast ([a-z AR]+): (RMSE .*)$", result.stdout, re.M))
    assert list(rows) == ["network", "persistence", "seasonal naive", "mean", "linear AR"], result.stdout
    # ppm: the training mean is tens of ppm off the test part, persistence a fraction of one
    assert float(rows["mean"].split()[1].rstrip(",")) > 10 > float(rows["persistence"].split()[1].rstrip(","))
    assert re.search(r"^Test RMSE [\d.]+: ", result.stdout, re.M)
    assert "Kept the weights of epoch" in result.stdout  # early stopping is on for a CSV series
    missing = seqcore("train", "--csv", str(data), "--set", "data.generator=csv", "--set", "data.csv_column=co2",
                      "--out", str(tmp_path / "refused"))
    assert missing.returncode == 2
    assert "has 59 missing values (the first in row 7); set Missing values (data.missing) to drop" in missing.stderr
