"""Drawing a run that trains faster than the page: epoch by epoch, at TensorFlow Playground's pace.

The seed preset's 100 epochs take about 1.5 s, less than two redraws, so a newcomer who pressed Train used to see
the finished curve and never a growing one. A run this session started is drawn at a pace a person can follow: a
frame per tick, each at most a share of its epochs ahead of the last (a twentieth at the normal speed), so it grows
through a dozen states or more whether it is still training (a busy machine made the seed preset take 3 s, and the
page drew it at epoch 27 and 92) or has ended (then it is replayed as it went, until it is whole).
"""

from __future__ import annotations

import dataclasses
import math

import streamlit as st

from pages.ui import state
from seqcore.backend import JobHandle, JobView

REPLAY = "replay"  # session key: {"id": the run this session started, "shown": epochs on screen, "skipped"}
SPEED = "replay_speed"  # the widget's key
# The speed chosen, kept apart from the widget's key: Streamlit drops a widget's value on a run that does not draw
# it, and the selector shows only while a run is drawn frame by frame.
SPEED_CHOICE = "replay_speed_choice"
# Seconds a whole run takes to draw at least. Normal is twenty frames locally: a 2-core machine showed 10 to 14
# of the 15 states that 4 s gave the seed preset (tests/e2e/test_replay.py), and a person should see a dozen.
SPEEDS = {"slow": 8.0, "normal": 5.0, "fast": 2.0, "off": 0.0}
# Seconds between frames; a hosted server draws a class of pages, so it draws half as often there.
FRAME_S = {"local": 0.25, "hosted": 0.5}
# A run expected to end within this many seconds is drawn a frame a tick all along: at the live rate of a draw
# every second or two it would show in a handful of states.
SHORT_RUN_S = 15.0


def started(job_id: str) -> None:
    """A run this session just started: draw it at a pace a person can follow."""
    st.session_state[REPLAY] = {"id": job_id, "shown": 0, "skipped": False}


def frame_s() -> float:
    return FRAME_S[state.limits().name]


def _record(view: JobView | None) -> dict | None:
    record = st.session_state.get(REPLAY)
    if view is None or record is None or record["id"] != view.id or record.get("skipped"):
        return None
    return record


def speed() -> str:
    return st.session_state.get(SPEED_CHOICE, "normal")


def remember_speed() -> None:
    st.session_state[SPEED_CHOICE] = st.session_state[SPEED]


def expected_s(view: JobView) -> float | None:
    """Seconds the run will have trained when it ends (none before its second epoch)."""
    left = view.seconds_left()
    return None if left is None else view.history[-1].elapsed + left


def paced(view: JobView | None) -> bool:
    """Whether the panel draws this run a frame a tick now: a run this session started that is training so fast
    that the live rate would skip most of its epochs, or has ended with epochs not on screen yet; never a run
    expected to train longer than SHORT_RUN_S, nor one the panel drew live for that reason."""
    record = _record(view)
    if record is None or record.get("live") or speed() == "off" or (view.status == "failed" and not view.history):
        return False
    if _long(view):
        return False  # the live rate shows it growing; the epochs that came since the last draw are not a replay
    return record["shown"] < len(view.history) or (view.status == "running" and expected_s(view) is not None)


def _long(view: JobView) -> bool:
    """A running run expected to train longer than SHORT_RUN_S."""
    expected = expected_s(view) if view.status == "running" else None
    return expected is not None and expected > SHORT_RUN_S


def note_drawn(view: JobView | None) -> None:
    """The panel drew this run whole: a frame that follows starts from there. A long run drawn live stays live
    to its end (its last epochs are not replayed)."""
    record = _record(view)
    if record is not None:
        record["shown"] = len(view.history)
        record["live"] = record.get("live") or _long(view)


def skip() -> None:
    record = st.session_state.get(REPLAY)
    if record is not None:
        record["skipped"] = True


def frames(seconds: float, frame: float) -> int:
    """How many frames a drawing of `seconds` has at one frame every `frame` seconds (at least one)."""
    return max(1, round(seconds / frame))


def advance(shown: int, trained: int, planned: int, n_frames: int) -> int:
    """The epochs on screen after one more frame: at most a `n_frames`th of the `planned` epochs further, and
    never past the `trained` ones."""
    return int(min(trained, shown + max(1, math.ceil(planned / n_frames))))


def next_frame(job: JobHandle, view: JobView) -> JobView:
    """Advance the drawing by one frame and return the run as it was at that epoch."""
    record = _record(view)
    n_frames = frames(SPEEDS[speed()], frame_s())
    record["shown"] = advance(record["shown"], len(view.history), view.experiment.train.epochs, n_frames)
    if not view.done and record["shown"] >= len(view.history):
        return view  # it has caught up with the training: the run as it is
    return at_epoch(job, view, record["shown"])


def at_epoch(job: JobHandle, view: JobView, epochs: int) -> JobView:
    """The run's view cut after `epochs` epochs: the history so far and the last snapshot by then; an ended run
    shows as running, with no end, until its last frame."""
    history = view.history[:epochs]
    last = history[-1].epoch if history else 0
    snapshot_epochs = tuple(e for e in view.snapshot_epochs if e <= last)
    latest = job.snapshot(snapshot_epochs[-1]) if snapshot_epochs else None
    cut = dataclasses.replace(view, history=history, snapshot_epochs=snapshot_epochs, latest_snapshot=latest)
    if view.done:
        cut = dataclasses.replace(cut, status="running", end=None, reason="", stopping=False)
    return cut


def seconds_trained(view: JobView) -> float:
    return view.history[-1].elapsed if view.history else 0.0
