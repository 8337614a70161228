"""Replaying a run that trained faster than the page draws it: epoch by epoch, at TensorFlow Playground's pace.

The seed preset's 100 epochs take about 1.5 s, less than two redraws, so a newcomer who pressed Train used to see
the finished curve and never a growing one. A run this session started and saw end before its epochs were drawn
is shown again as it went: the live panel draws it cut at a growing epoch, one frame per tick, until it is whole.
"""

from __future__ import annotations

import dataclasses
import math

import streamlit as st

from pages.ui import state
from seqcore.backend import JobHandle, JobView

REPLAY = "replay"  # session key: {"id": the run this session started, "shown": epochs drawn so far}
SPEED = "replay_speed"  # the widget's key
SPEEDS = {"slow": 8.0, "normal": 4.0, "fast": 2.0, "off": 0.0}  # seconds a whole replay lasts
# Seconds between frames; a hosted server draws a class of pages, so it draws half as often there.
FRAME_S = {"local": 0.25, "hosted": 0.5}


def started(job_id: str) -> None:
    """A run this session just started: replay it if it ends before the page has drawn its epochs."""
    st.session_state[REPLAY] = {"id": job_id, "shown": 0}


def frame_s() -> float:
    return FRAME_S[state.limits().name]


def _record(view: JobView | None) -> dict | None:
    record = st.session_state.get(REPLAY)
    return record if view is not None and record is not None and record["id"] == view.id else None


def speed() -> str:
    return st.session_state.get(SPEED, "normal")


def pending(view: JobView | None) -> bool:
    """Whether the panel replays this run now: it ended with epochs the page has not drawn yet."""
    record = _record(view)
    return (record is not None and view.done and record["shown"] < len(view.history) and speed() != "off"
            and not (view.status == "failed" and not view.history))


def note_drawn(view: JobView | None) -> None:
    """The panel drew this unfinished run whole: a replay, if one follows, starts where the drawing ended."""
    record = _record(view)
    if record is not None and not view.done:
        record["shown"] = len(view.history)


def skip() -> None:
    record = st.session_state.get(REPLAY)
    if record is not None:
        record["shown"] = math.inf


def frames(seconds: float, frame: float) -> int:
    """How many frames a replay of `seconds` has at one frame every `frame` seconds (at least one)."""
    return max(1, round(seconds / frame))


def advance(shown: float, total: int, n_frames: int, start: int = 0) -> int:
    """The epochs drawn after one more frame of a replay from epoch `start` to `total` in `n_frames` steps."""
    return int(min(total, shown + max(1, math.ceil((total - start) / n_frames))))


def next_frame(job: JobHandle, view: JobView) -> JobView:
    """Advance the replay by one frame and return the run as it was at that epoch (status running, no end)."""
    record = _record(view)
    start = record.setdefault("from", int(record["shown"]))  # what was drawn live: the replay goes on from it
    record["shown"] = advance(record["shown"], len(view.history), frames(SPEEDS[speed()], frame_s()), start)
    return at_epoch(job, view, record["shown"])


def at_epoch(job: JobHandle, view: JobView, epochs: int) -> JobView:
    """The finished run's view cut after `epochs` epochs: the history so far and the last snapshot by then."""
    history = view.history[:epochs]
    last = history[-1].epoch if history else 0
    snapshot_epochs = tuple(e for e in view.snapshot_epochs if e <= last)
    latest = job.snapshot(snapshot_epochs[-1]) if snapshot_epochs else None
    return dataclasses.replace(view, history=history, snapshot_epochs=snapshot_epochs, latest_snapshot=latest,
                               status="running", end=None, reason="", stopping=False)


def seconds_trained(view: JobView) -> float:
    return view.history[-1].elapsed if view.history else 0.0
