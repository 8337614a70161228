"""The standalone Keras script (#17): no seqcore, the app's data for every task, the app's first epoch, raw values
in and raw values out.

The scripts run as a person runs them: `python train_model.py 1` in an empty folder, with PYTHONPATH cleared and
only the files the script reads beside it.
"""

import ast
import json
import math
import os
import runpy
import shutil
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest

from seqcore import csvseries, script
from seqcore.config import Experiment
from seqcore.data import build_data, fresh_training_split, load_csv
from seqcore.events import EpochEvent
from seqcore.tasks import SERIES, TASKS, TEXT
from seqcore.text import text_bytes
from seqcore.training import train

CO2 = Path(__file__).parent / "data" / "co2_weekly.csv"
OWN_TEXT = ("It was the best of times, it was the worst of times, it was the age of wisdom, it was the age of "
            "foolishness.\n") * 12
SCRIPT_TIMEOUT_S = 240
# Equal data, weights and batch order give the app's loss exactly (measured: bit for bit, every case below); the
# tolerance leaves room for a different summation order of threads. Another data or weight seed moved the delay
# run's loss by 0.7 % and 1.3 % (test below).
RTOL = 1e-5


def experiment_of(**values) -> Experiment:
    return Experiment().with_values(**{"model.units": 8, "train.batch_size": 16, "train.epochs": 1, **values})


def co2_upload() -> np.ndarray:
    return csvseries.column_series(load_csv(CO2.read_bytes()), "co2", "date")


CO2_RUN = {"data.generator": "csv", "data.csv_column": "co2", "data.time_column": "date",
           "data.missing": "interpolate", "data.difference": "lag1", "data.seq_len": 16, "train.batch_size": 64,
           "model.chrono_t_max": 20}

# Small settings of every task in the registry, and the variants whose code paths differ (weights, transforms,
# CSV without dates, own text, fresh draws).
DATA_CASES = {
    "random_digits": {"data.n_sequences": 40},
    "random_digits fresh": {"data.n_sequences": 40, "data.fresh_data": True},
    "patterned_digits": {"data.generator": "patterned_digits", "data.n_sequences": 40, "data.noise": 0.1},
    "patterned count": {"data.generator": "patterned_digits", "data.n_sequences": 40, "data.pattern": "count"},
    "delay": {"data.generator": "delay", "data.n_sequences": 40, "data.seq_len": 12, "data.lag": 3},
    "copy_memory": {"data.generator": "copy_memory", "data.n_sequences": 40, "data.seq_len": 5, "data.copy_len": 3},
    "text": {"data.generator": "text", "data.seq_len": 50},
    "text own": {"data.generator": "text", "data.text_source": "own", "data.seq_len": 20, "data.stride": 7},
    "adding": {"data.generator": "adding", "data.n_sequences": 40, "data.seq_len": 12},
    "sine": {"data.generator": "sine", "data.n_points": 200, "data.seq_len": 10, "data.noise": 0.1},
    "sine seasonal": {"data.generator": "sine", "data.n_points": 200, "data.seq_len": 10, "data.horizon": 3,
                      "data.difference": "season", "data.season": 20},
    "sum_of_sines": {"data.generator": "sum_of_sines", "data.n_points": 200, "data.seq_len": 10,
                     "data.horizon": 2},
    "ar": {"data.generator": "ar", "data.n_points": 200, "data.seq_len": 10, "data.ar_order": 3},
    "random_walk": {"data.generator": "random_walk", "data.n_points": 200, "data.seq_len": 10,
                    "data.difference": "lag1"},
    "mackey_glass": {"data.generator": "mackey_glass", "data.n_points": 200, "data.seq_len": 10, "data.log": True},
    "csv": CO2_RUN,
    "csv auto log": {**CO2_RUN, "data.difference": "auto", "data.log": True, "data.missing": "drop"},
    "csv no dates": {"data.generator": "csv", "data.csv_column": "co2", "data.missing": "interpolate",
                     "data.seq_len": 16, "data.horizon": 2, "data.test_fraction": 0.0},
}


def upload_of(experiment: Experiment) -> np.ndarray | None:
    if experiment.data.upload_kind == "csv":
        frame = load_csv(CO2.read_bytes())
        return csvseries.column_series(frame, experiment.data.csv_column, experiment.data.time_column)
    if experiment.data.upload_kind == "text":
        return text_bytes(OWN_TEXT)
    return None


def write_script(experiment: Experiment, folder: Path, uploaded=None, *, csv_file: Path | None = None) -> Path:
    """train_model.py and the file it reads (data.csv from the run's values, or the given file, or text.txt)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "train_model.py"
    path.write_text(script.keras_script(experiment))
    if experiment.data.upload_kind == "csv":
        if csv_file is not None:
            shutil.copy(csv_file, folder / script.DATA_FILE)
        else:
            (folder / script.DATA_FILE).write_bytes(script.data_csv(experiment, uploaded))
    if experiment.data.upload_kind == "text":
        (folder / script.TEXT_FILE).write_bytes(uploaded.tobytes())
    return path


def imported_roots(source: str) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


def assert_same_arrays(ours, app, name):
    if app is None:
        assert ours is None, name
        return
    assert ours.dtype == app.dtype and ours.shape == app.shape, (name, ours.dtype, ours.shape, app.dtype, app.shape)
    np.testing.assert_array_equal(ours, app, err_msg=name)


# --------------------------------------------------------------------------- what the script is


@pytest.mark.parametrize("case", list(DATA_CASES))
def test_the_script_imports_only_keras_numpy_and_for_a_csv_pandas(case):
    experiment = experiment_of(**DATA_CASES[case])
    source = script.keras_script(experiment)
    compile(source, f"{case}.py", "exec")
    allowed = {"keras", "numpy", "tensorflow"} | ({"pandas"} if experiment.data.upload_kind == "csv" else set())
    third_party = {root for root in imported_roots(source) if root not in sys.stdlib_module_names}
    assert third_party <= allowed, third_party
    assert "seqcore" not in imported_roots(source)
    embedded = source.split('EXPERIMENT_JSON = r"""\n', 1)[1].split('\n"""', 1)[0]
    assert Experiment.from_json(embedded) == experiment


def test_every_task_of_the_registry_has_a_data_case():
    assert {DATA_CASES[case].get("data.generator", "random_digits") for case in DATA_CASES} == set(TASKS)


def test_the_script_copies_only_what_its_task_needs():
    tokens = script.keras_script(experiment_of(**DATA_CASES["delay"]))
    assert "def delay(" in tokens and "def adding(" not in tokens and "SeriesTransform" not in tokens
    assert "def forecast(" not in tokens and "pandas" not in tokens
    series = script.keras_script(experiment_of(**DATA_CASES["sine"]))
    assert "def sine(" in series and "def forecast(" in series and "def apply_missing(" not in series
    assert "class SeriesTransform" in series and "def one_hot(" not in series
    assert script.DATA_FILE in script.keras_script(experiment_of(**CO2_RUN))


@pytest.mark.parametrize("levers", [{}, {"model.chrono_t_max": 40, "model.layers": 2}, {"model.forget_bias": 0.0},
                                    {"model.cell": "SimpleRNN", "model.activation": "relu",
                                     "model.recurrent_init": "identity"}])
def test_the_scripts_initialisers_are_the_apps_in_code(levers):
    from seqcore.models import _initialisers

    experiment = experiment_of(**levers)
    for layer in range(experiment.model.layers):
        app = {name: text for name, (_, text) in _initialisers(experiment, layer).items()}
        assert script.initialiser_code(experiment, layer) == app


def test_writing_a_script_imports_no_tensorflow_keras_or_pandas(packages_imported_by):
    code = ("from seqcore.config import Experiment\nfrom seqcore.models import keras_script\n"
            "for g in ('random_digits', 'csv', 'text', 'sine', 'adding'):\n"
            "    keras_script(Experiment().with_values(**{'data.generator': g, 'data.csv_column': 'v', "
            "'model.chrono_t_max': 9}))")
    assert packages_imported_by(code, {"tensorflow", "keras", "pandas", "jax"}) == []


# --------------------------------------------------------------------------- the app's data, for every task


@pytest.mark.parametrize("case", list(DATA_CASES))
def test_the_scripts_data_equal_the_apps(case, tmp_path):
    experiment = experiment_of(**DATA_CASES[case])
    uploaded = upload_of(experiment)
    path = write_script(experiment, tmp_path, uploaded)
    namespace = runpy.run_path(str(path), run_name="train_model")  # its definitions, not its training
    ours, app = namespace["load_data"](), build_data(experiment.data, uploaded)
    for part in ("train", "val", "test"):
        for array in ("x", "y", "w"):
            name = f"{array}_{part}"
            assert_same_arrays(getattr(ours, name), getattr(app, name), name)
    assert (ours.n_features, ours.n_outputs) == (app.n_features, app.n_outputs)
    kind = experiment.data.task.kind
    if kind is SERIES:
        assert_same_arrays(ours.raw, app.series, "raw")
        assert_same_arrays(ours.times, app.times, "times")
        assert ours.split_points == app.split_points and ours.season == app.season
        theirs = app.transform
        assert (ours.transform.log, ours.transform.lag) == (theirs.log, theirs.lag)
        assert (ours.transform.scaler.mean, ours.transform.scaler.std) == (theirs.scaler.mean, theirs.scaler.std)
    if kind is TEXT:
        assert ours.vocabulary.chars == app.vocabulary.chars
    if experiment.data.fresh_data:  # later epochs' draws, as data.fresh_training_split makes them
        for epoch in (1, 2):
            drawn = namespace["make_sequences"](np.random.default_rng([experiment.data.seed, epoch]))
            for mine, theirs, name in zip(drawn, fresh_training_split(experiment.data, epoch), "xyw", strict=True):
                assert_same_arrays(None if mine is None else mine[:len(app.x_train)], theirs, name)


def test_a_csv_of_dates_and_missing_values_is_read_as_the_app_reads_the_upload(tmp_path):
    """The original file beside the script (19580329-style dates, empty cells) and the app's data.csv of the run's
    values give the same data."""
    experiment = experiment_of(**CO2_RUN)
    uploaded = co2_upload()
    app = build_data(experiment.data, uploaded)
    assert np.isnan(csvseries.unpack(uploaded)[0]).sum() > 10  # the file has gaps, interpolated here
    for folder, csv_file in ((tmp_path / "original", CO2), (tmp_path / "download", None)):
        path = write_script(experiment, folder, uploaded, csv_file=csv_file)
        ours = runpy.run_path(str(path), run_name="train_model")["load_data"]()
        assert_same_arrays(ours.raw, app.series, "raw")
        assert_same_arrays(ours.times, app.times, "times")
        assert_same_arrays(ours.x_train, app.x_train, "x_train")
        assert ours.season == app.season == 52
    text = script.data_csv(experiment, uploaded).decode()
    assert text.startswith("date,co2\n1958-03-29,316.1\n"), text[:60]
    assert script.input_files(experiment, uploaded) == {"data.csv": text.encode()}


def test_an_own_text_run_gives_its_text_as_text_txt_and_generated_data_no_file():
    experiment = experiment_of(**DATA_CASES["text own"])
    assert script.input_files(experiment, text_bytes(OWN_TEXT)) == {"text.txt": OWN_TEXT.encode()}
    assert script.input_files(experiment_of(**DATA_CASES["sine"]), None) == {}
    assert script.input_files(experiment_of(**DATA_CASES["text"]), None) == {}


def test_a_jax_run_s_script_asks_for_its_backend_before_keras_is_imported():
    source = script.keras_script(experiment_of(**{"train.backend": "jax"}))
    compile(source, "jax.py", "exec")
    assert source.index('os.environ.setdefault("KERAS_BACKEND", "jax")') < source.index("import keras")
    assert "KERAS_BACKEND" not in script.keras_script(experiment_of())


def test_preprocessing_json_is_none_for_the_tasks_that_read_their_data_as_it_is():
    experiment = experiment_of(**DATA_CASES["delay"])
    assert script.preprocessing_json(experiment, build_data(experiment.data)) is None
    assert script.data_csv(experiment, None) is None
    series = experiment_of(**DATA_CASES["sine seasonal"])
    values = json.loads(script.preprocessing_json(series, build_data(series.data)))
    assert list(values) == ["log", "lag", "mean", "std", "seq_len", "horizon", "season"]
    assert (values["lag"], values["season"], values["seq_len"], values["horizon"]) == (20, 20, 10, 3)


# --------------------------------------------------------------------------- run as a person runs it


FIRST_EPOCH_CASES = {
    "delay": {"data.generator": "delay", "data.n_sequences": 60, "data.seq_len": 12, "data.lag": 3,
              "data.vocab_size": 6},
    "adding fresh": {"data.generator": "adding", "data.n_sequences": 80, "data.seq_len": 12, "data.fresh_data": True},
    "sine": {"data.generator": "sine", "data.n_points": 300, "data.seq_len": 12, "data.horizon": 2,
             "model.cell": "GRU"},
    "csv": CO2_RUN,
    "text": {"data.generator": "text", "data.seq_len": 40, "train.batch_size": 64},
}
_RUNS: dict[str, tuple] = {}


def clean_env() -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    return {**env, "TF_CPP_MIN_LOG_LEVEL": "2"}


def start_script(experiment: Experiment, folder: Path, uploaded) -> subprocess.Popen:
    path = write_script(experiment, folder, uploaded, csv_file=CO2 if experiment.data.upload_kind == "csv" else None)
    return subprocess.Popen([sys.executable, path.name, "1"], cwd=folder, env=clean_env(), text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def finish(process: subprocess.Popen) -> str:
    try:
        stdout, stderr = process.communicate(timeout=SCRIPT_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        stdout, stderr = process.communicate()
        pytest.fail(f"the script ran past {SCRIPT_TIMEOUT_S} s\nstdout:\n{stdout[-2000:]}\nstderr:\n{stderr[-4000:]}")
    assert process.returncode == 0, f"the script failed ({process.returncode}):\n{stderr[-4000:]}"
    return stdout


def first_epoch_loss(stdout: str) -> float:
    lines = [line for line in stdout.splitlines() if line.startswith(script.FIRST_EPOCH_TAG)]
    assert len(lines) == 1, stdout[-2000:]
    return float(lines[0].removeprefix(script.FIRST_EPOCH_TAG))


def app_first_epoch_loss(experiment: Experiment, uploaded) -> float:
    events = []
    end = train(experiment, events.append, uploaded=uploaded, save_artifacts=False)
    assert end.status == "finished", end.reason
    return next(e for e in events if isinstance(e, EpochEvent)).loss


def scripted_run(case: str, tmp_path_factory) -> tuple:
    """(experiment, uploaded, folder, the script's stdout, the app's first epoch's loss), run once per case: the
    script in its folder while the app trains here."""
    if case not in _RUNS:
        experiment = experiment_of(**FIRST_EPOCH_CASES[case])
        uploaded = upload_of(experiment)
        folder = tmp_path_factory.mktemp(case.replace(" ", "_"))
        process = start_script(experiment, folder, uploaded)
        try:
            app_loss = app_first_epoch_loss(experiment, uploaded)
        finally:
            stdout = finish(process)
        _RUNS[case] = (experiment, uploaded, folder, stdout, app_loss)
    return _RUNS[case]


@pytest.mark.parametrize("case", list(FIRST_EPOCH_CASES))
def test_the_script_runs_alone_in_an_empty_folder_and_its_first_epoch_is_the_apps(case, tmp_path_factory):
    experiment, _, folder, stdout, app_loss = scripted_run(case, tmp_path_factory)
    ours = first_epoch_loss(stdout)
    assert math.isclose(ours, app_loss, rel_tol=RTOL), (ours, app_loss)
    assert (folder / "model.keras").is_file()
    assert (folder / script.PREPROCESSING_FILE).is_file() == (experiment.data.task.kind is SERIES)
    if experiment.data.task.kind is TEXT:
        assert json.loads((folder / "vocabulary.json").read_text(encoding="utf-8"))["chars"][-1] == "\ufffd"


def test_the_tolerance_tells_other_data_or_other_weights_apart(tmp_path_factory):
    experiment, uploaded, _, stdout, app_loss = scripted_run("delay", tmp_path_factory)
    ours = first_epoch_loss(stdout)
    for changed in ("data.seed", "train.seed"):
        section = experiment.data if changed.startswith("data") else experiment.train
        other = experiment.with_values(**{changed: section.seed + 1})
        loss = app_first_epoch_loss(other, uploaded)
        assert not math.isclose(ours, loss, rel_tol=RTOL), (changed, ours, loss, app_loss)
        assert abs(ours - loss) > 100 * RTOL * abs(ours), (changed, ours, loss)  # not a near miss


def test_the_saved_model_and_preprocessing_json_forecast_raw_values_as_the_app_does(tmp_path_factory):
    """Raw values in, raw values out: the script's forecast on the series' last raw values equals the app's own
    inversion of the network's prediction (SeriesTransform.invert), and preprocessing.json is the app's."""
    experiment, uploaded, folder, stdout, _ = scripted_run("csv", tmp_path_factory)
    data = build_data(experiment.data, uploaded)
    written = (folder / script.PREPROCESSING_FILE).read_bytes()
    assert written == script.preprocessing_json(experiment, data)
    assert json.loads(written)["lag"] == 1 and json.loads(written)["season"] == 52
    model = keras.saving.load_model(folder / "model.keras")
    namespace = runpy.run_path(str(folder / "train_model.py"), run_name="train_model")
    raw = data.series
    ours = namespace["forecast"](model, raw)  # preprocessing.json read from beside the script
    window = data.transform.to_model(raw)[-experiment.data.seq_len:].astype(np.float32)
    predicted = model.predict(window[None, :, None], verbose=0)
    app = data.transform.invert(predicted, raw, len(raw))[0]
    assert ours.shape == (experiment.data.horizon,)
    np.testing.assert_allclose(ours, app, rtol=1e-6)
    assert abs(ours[0] - raw[-1]) < 10  # ppm of CO2 a week on: a value of the series, not a scaled change
    assert "the next 1 values after the series:" in stdout


def test_a_script_that_fails_says_why_in_the_test_and_to_the_person(tmp_path):
    experiment = experiment_of(**CO2_RUN)
    path = write_script(experiment, tmp_path, co2_upload())
    (tmp_path / script.DATA_FILE).unlink()
    process = subprocess.Popen([sys.executable, path.name, "1"], cwd=tmp_path, env=clean_env(), text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    with pytest.raises(AssertionError, match=r"data\.csv is missing: put the CSV the run learnt beside this script"):
        finish(process)


def test_the_script_zip_carries_the_script_and_its_data():
    import io
    import zipfile

    from seqcore import csvseries
    from seqcore.config import Experiment
    from seqcore.data import load_csv
    from seqcore.script import DATA_FILE, input_files, keras_script, script_zip

    uploaded = csvseries.column_series(load_csv(CO2.read_bytes()), "co2", "date")
    experiment = Experiment().with_values(**{"data.generator": "csv", "data.csv_column": "co2",
                                             "data.time_column": "date", "data.missing": "interpolate"})
    archive = zipfile.ZipFile(io.BytesIO(script_zip(experiment, input_files(experiment, uploaded))))
    assert sorted(archive.namelist()) == [DATA_FILE, "train_model.py"]
    assert archive.read("train_model.py").decode() == keras_script(experiment)
    assert archive.read(DATA_FILE).decode().startswith("date,co2\n1958-03-29,316.1\n")


def test_a_series_run_saves_its_preprocessing_beside_the_model():
    import json

    from seqcore.config import Experiment
    from seqcore.data import build_data
    from seqcore.models import build_model
    from seqcore.script import PREPROCESSING_FILE
    from seqcore.training import artifact_bytes

    experiment = Experiment().with_values(**{"data.generator": "random_walk", "data.difference": "lag1",
                                             "model.units": 4})
    data = build_data(experiment.data)
    files = artifact_bytes(experiment, build_model(experiment, sizes=(1, 1)), [], data)
    saved = json.loads(files[PREPROCESSING_FILE])
    assert saved["lag"] == 1 and saved["mean"] == data.transform.scaler.mean and saved["seq_len"] == 10
    tokens = Experiment()
    assert PREPROCESSING_FILE not in artifact_bytes(tokens, build_model(tokens, sizes=(10, 10)), [],
                                                    build_data(tokens.data))
