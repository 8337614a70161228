"""A run that ends before the page draws it is replayed epoch by epoch (pages/ui/replay.py)."""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace

import pytest

from pages.ui import replay
from seqcore.backend import JobView
from seqcore.config import Experiment
from seqcore.events import EpochEvent, SnapshotEvent


def epoch(n: int) -> EpochEvent:
    return EpochEvent(epoch=n, epochs=100, loss=1 / n, metric=0.5, val_loss=1 / n, val_metric=0.5, seconds=0.015,
                      samples_per_s=1000.0, elapsed=0.015 * n)


class FakeJob:
    """The one call the replay makes of a JobHandle: a recorded snapshot by epoch."""

    def __init__(self, epochs):
        self.snapshots = {e: SnapshotEvent(epoch=e, weights=[], hidden=[], probe_output=None) for e in epochs}

    def snapshot(self, epoch):
        return self.snapshots.get(epoch)


def finished(n=100, snapshot_every=5) -> tuple[FakeJob, JobView]:
    epochs = (1, *range(snapshot_every, n + 1, snapshot_every))
    job = FakeJob(epochs)
    view = JobView(id="job-1", experiment=Experiment(), status="finished", reason="Trained all 100 epochs.",
                   queue_position=0, start=None, history=tuple(epoch(i) for i in range(1, n + 1)),
                   snapshot_epochs=epochs, latest_snapshot=job.snapshot(n), end=None, submitted_at=0.0,
                   waited_s=0.0, estimated_wait_s=0.0)
    return job, view


def test_the_normal_speed_draws_the_seed_preset_in_twenty_frames():
    n_frames = replay.frames(replay.SPEEDS["normal"], replay.FRAME_S["local"])
    shown, states = 0, []
    while shown < 100:
        shown = replay.advance(shown, 100, 100, n_frames)
        states.append(shown)
    assert len(states) >= 20 and states[-1] == 100 and states == sorted(set(states))
    assert replay.advance(0, 3, 3, n_frames) == 1  # a short run still goes one epoch a frame
    assert replay.advance(10, 12, 100, n_frames) == 12  # never past what has trained
    assert replay.frames(replay.SPEEDS["normal"], replay.FRAME_S["hosted"]) == 10  # half the redraws hosted


@pytest.fixture
def session(monkeypatch):
    """The replay's session state, outside a Streamlit run: a dict, on a local (not hosted) server."""
    state_dict = {}
    monkeypatch.setattr(replay.st, "session_state", state_dict)
    monkeypatch.setattr(replay.state, "limits", lambda: SimpleNamespace(name="local"))
    return state_dict


def running(view: JobView, epochs: int) -> JobView:
    return dataclasses.replace(view, status="running", reason="", history=view.history[:epochs])


def test_a_run_drawn_at_27_and_92_epochs_while_it_trained_still_grows_through_a_dozen_states(session):
    """The CI failure it fixes: a busy machine trained the seed preset in about 3 s, the live panel drew it at
    epochs 27 and 92, and the replay only covered the last 8: eight states in all."""
    job, done = finished()
    replay.started(done.id)
    states = []
    for trained in (27, 92, 100):  # what the backend had at each tick while it trained
        view = running(done, trained)
        assert replay.paced(view)
        states.append(replay.next_frame(job, view).epoch)
    while replay.paced(done):
        frame = replay.next_frame(job, done)
        assert frame.status == "running" and frame.end is None  # an ended run shows its end after the last frame
        states.append(frame.epoch)
    replay.note_drawn(done)
    assert len(set(states)) >= 10 and states == sorted(states) and states[-1] == 100, states
    assert not replay.paced(done)


def test_a_long_run_is_drawn_live_and_skip_or_off_draw_a_fast_one_as_it_comes(session):
    job, done = finished()
    slow = dataclasses.replace(done, history=tuple(dataclasses.replace(e, seconds=1.0, elapsed=1.0 * e.epoch)
                                                   for e in done.history))
    replay.started(done.id)
    assert not replay.paced(running(slow, 3))  # 100 s expected: the live rate shows it growing
    fast = running(done, 30)
    assert replay.paced(fast) and replay.next_frame(job, fast).epoch < 30
    paused = dataclasses.replace(fast, status="paused")
    assert replay.next_frame(job, paused).status == "paused"  # a frame of an unfinished run keeps its state
    replay.skip()
    assert not replay.paced(fast) and not replay.paced(done)
    replay.started(done.id)
    session[replay.SPEED_CHOICE] = "off"
    assert not replay.paced(fast) and not replay.paced(done)
    replay.started("another-run")
    session[replay.SPEED_CHOICE] = "normal"
    assert not replay.paced(done)  # only the run this session started


def test_a_long_run_drawn_live_stays_live_between_ticks_and_at_its_end(session):
    """The bug it fixes: each live draw of a long run left epochs undrawn by the next tick, so the panel fell into
    frame-by-frame drawing ("A fast run", redrawn every frame_s, four times the hosted rate) for the rest of the run
    and replayed its last epochs once it ended."""
    job, done = finished()
    slow = dataclasses.replace(done, history=tuple(dataclasses.replace(e, seconds=0.3, elapsed=0.3 * e.epoch)
                                                   for e in done.history))  # 30 s expected
    replay.started(done.id)
    for trained in (4, 11, 17, 60, 97):  # epochs trained at each tick of the live rate
        view = running(slow, trained)
        assert not replay.paced(view), trained
        replay.note_drawn(view)
    assert not replay.paced(slow)  # ended with 3 epochs not drawn yet: shown whole, not replayed
    assert not replay.paced(dataclasses.replace(running(slow, 99), status="paused"))


def test_a_frame_is_the_run_as_it_was_at_that_epoch():
    job, view = finished()
    frame = replay.at_epoch(job, view, 37)
    assert frame.epoch == 37 and len(frame.history) == 37 and not frame.done
    assert frame.snapshot_epochs[-1] == 35 and frame.latest_snapshot.epoch == 35  # the last snapshot by then
    assert frame.end is None and frame.reason == ""
    start = replay.at_epoch(job, view, 0)
    assert start.history == () and start.latest_snapshot is None
    whole = replay.at_epoch(job, dataclasses.replace(view), 100)
    assert whole.latest_snapshot.epoch == 100
