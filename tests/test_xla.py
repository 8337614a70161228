"""XLA where it pays (`training.use_xla`): the rule, a run under XLA that learns what a run without it learns,
and the places that say so (the StartEvent, the run store, the status line, the live panel, the command line)."""

import io
import json
from contextlib import redirect_stderr

import numpy as np
import pytest

from seqcore import codec
from seqcore.backend import JobRecord
from seqcore.config import preset
from seqcore.data import build_data
from seqcore.events import EpochEvent, StartEvent
from seqcore.training import ModelCache, train, use_xla


def _use(experiment, cached=False, **changes):
    experiment = experiment.with_values(**changes)
    return use_xla(experiment, build_data(experiment.data), cached=cached)


LESSON = preset("adding_lstm")  # T=100, 30 epochs of 66 batches


@pytest.mark.parametrize("name", ["seed", "sine", "adding_lstm"])
def test_on_and_off_force_it_whatever_the_run(name):
    experiment = preset(name)
    assert _use(experiment, **{"train.xla": "on"}) is True
    assert _use(experiment, cached=True, **{"train.xla": "off"}) is False


def test_auto_turns_it_on_for_the_long_memory_lesson_and_longer_sequences():
    assert _use(LESSON) is True
    assert _use(LESSON, **{"model.cell": "SimpleRNN"}) is True
    assert _use(LESSON, **{"data.seq_len": 200, "model.cell": "GRU"}) is True
    assert _use(LESSON, **{"data.seq_len": 50, "train.epochs": 20}) is True


def test_auto_keeps_it_off_for_short_runs_and_short_sequences():
    assert _use(preset("seed")) is False  # 9 unrolled steps: XLA's compile of the unrolled graph never pays here
    assert _use(preset("sine")) is False  # 20 steps, 30 short epochs
    assert _use(LESSON, **{"train.epochs": 1}) is False  # one epoch of the lesson does not pay the compile back
    assert _use(LESSON, **{"train.epochs": 3, "data.n_sequences": 500}) is False


def test_auto_turns_it_on_where_the_worker_has_the_network_compiled_with_xla():
    assert _use(LESSON, **{"train.epochs": 1}) is False
    assert _use(LESSON, cached=True, **{"train.epochs": 1}) is True


def test_auto_weighs_the_steps_the_run_will_take():
    """Break-even in the run's steps: more epochs, more sequences an epoch or longer sequences each tip it on."""
    base = LESSON.with_values(**{"train.epochs": 2, "data.n_sequences": 600})
    assert _use(base) is False
    assert _use(base, **{"train.epochs": 60}) is True
    assert _use(base, **{"data.n_sequences": 20_000}) is True


def test_the_jax_backend_always_compiles_with_xla():
    assert _use(preset("seed"), **{"train.backend": "jax"}) is True


def _small(xla: str):
    return preset("adding").with_values(**{"data.seq_len": 24, "data.n_sequences": 120, "model.units": 8,
                                           "train.batch_size": 32, "train.epochs": 2, "train.xla": xla})


def test_a_run_under_xla_says_so_and_learns_the_same_curve_as_one_without():
    models = ModelCache()
    curves, starts = {}, {}
    for xla in ("off", "on"):
        events = []
        end = train(_small(xla), events.append, save_artifacts=False, models=models)
        assert end.status == "finished", end.reason
        starts[xla] = next(e for e in events if isinstance(e, StartEvent))
        curves[xla] = [(e.loss, e.val_loss) for e in events if isinstance(e, EpochEvent)]
    assert (starts["off"].xla, starts["on"].xla) == (False, True)
    # The same initial weights, batches and arithmetic: the losses agree to float32 rounding.
    np.testing.assert_allclose(curves["on"], curves["off"], rtol=1e-4)
    assert models.hits == 0 and len(models._models) == 2  # compiled with and without XLA: two cache entries


def _start(xla: bool | None = None) -> StartEvent:
    kwargs = {} if xla is None else {"xla": xla}
    return StartEvent(n_train=80, n_val=10, n_test=10, steps_per_epoch=8, steps_per_execution=1, metric="mae",
                      baselines={"mean": 0.16}, probe_x=np.zeros((1, 5, 2), np.float32),
                      probe_y=np.zeros((1, 1), np.float32), probe_w=None, seconds_to_build=0.5, **kwargs)


def test_start_events_keep_xla_through_the_store_codec_and_runs_stored_before_it_read_as_off():
    assert codec.decode(codec.encode(_start(True))).xla is True
    assert _start().xla is False
    blob = codec.encode(_start(True))  # as an older version wrote it: no "xla" in the header
    with np.load(io.BytesIO(blob), allow_pickle=False) as archive:
        arrays = {key: archive[key] for key in archive.files}
    header = json.loads(arrays["__header__"].tobytes())
    del header["fields"]["xla"]
    arrays["__header__"] = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)
    old = io.BytesIO()
    np.savez(old, **arrays)
    assert codec.decode(old.getvalue()).xla is False


def test_a_stored_run_under_xla_reads_back_as_one(tmp_path):
    from seqcore.store import RunStore

    store = RunStore(tmp_path)
    try:
        record = JobRecord("run-xla", LESSON, owner="browser-a", recorder=store)
        record.mark_started()
        record.apply(_start(True))
        assert store.view("run-xla").start.xla is True
    finally:
        store.close()


def _view(status: str, xla: bool):
    record = JobRecord("run-1", LESSON, owner="browser-a")
    record.mark_started()
    record.apply(_start(xla))
    view = record.view()
    from dataclasses import replace

    return replace(view, status=status)


def test_the_status_line_says_xla_on_when_it_is():
    from pages.ui.sidebar import status_line

    assert status_line(_view("running", True)).endswith("· XLA on")
    assert status_line(_view("running", True), live_here=True) == "🏃 Running: live on this page · XLA on"
    assert status_line(_view("finished", True)).endswith("· XLA on")
    for status in ("running", "finished"):
        assert "XLA" not in status_line(_view(status, False))


def test_the_command_line_start_line_says_whether_xla_is_on():
    from seqcore.__main__ import _Progress

    for xla, said in ((True, "XLA on"), (False, "XLA off")):
        err = io.StringIO()
        with redirect_stderr(err):
            _Progress(quiet=False, metric="mae")(_start(xla))
        assert said in err.getvalue().splitlines()[0]
