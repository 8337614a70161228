"""A run that ends before the page draws it is replayed epoch by epoch (pages/ui/replay.py)."""

from __future__ import annotations

import dataclasses

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


def test_the_normal_speed_draws_the_seed_preset_in_more_than_ten_frames():
    n_frames = replay.frames(replay.SPEEDS["normal"], replay.FRAME_S["local"])
    shown, states = 0, []
    while shown < 100:
        shown = replay.advance(shown, 100, n_frames)
        states.append(shown)
    assert len(states) >= 10 and states[-1] == 100 and states == sorted(set(states))
    assert replay.advance(0, 3, n_frames) == 1  # a short run still goes one epoch a frame
    shown, states = 60, []  # 60 epochs were drawn live: the other 40 get as many frames
    while shown < 100:
        shown = replay.advance(shown, 100, n_frames, start=60)
        states.append(shown)
    assert len(states) >= 10
    assert replay.frames(replay.SPEEDS["normal"], replay.FRAME_S["hosted"]) == 8  # half the redraws hosted


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
