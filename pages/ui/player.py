"""Inspect's play button: step the epoch slider through a run's snapshots on a timer, as a film of the learning.

A widget's value cannot be set once the widget is drawn in a script run, so a tick leaves the next epoch (or the
end of the film) under its own key and reruns the page; `apply` moves it into the widgets before they are drawn.
"""

from __future__ import annotations

import time

import streamlit as st

PLAYING = "inspect_play"  # the toggle's key
SPEED = "inspect_play_speed"  # the speed box's key
NEXT = "inspect_play_next"  # a tick's word for the next run: ("epoch", value) or ("stop", None)
DRAWN_AT = "inspect_play_drawn_at"  # when the page last drew a frame (monotonic seconds)
SPEEDS = {"slow": 2.0, "normal": 1.0, "fast": 0.5}  # seconds a snapshot stays on screen


def apply(epoch_key: str) -> None:
    """Before the widgets are drawn: move a tick's next epoch into the slider, or turn the toggle off."""
    word = st.session_state.pop(NEXT, None)
    if word is None:
        return
    kind, value = word
    if kind == "epoch":
        st.session_state[epoch_key] = value
    else:
        st.session_state[PLAYING] = False


def next_epoch(epochs: list[int], current: int) -> int | None:
    """The snapshot after `current`, or None at the last (from before the first, the first)."""
    later = [e for e in epochs if e > current]
    return later[0] if later else None


def controls(container, epochs: list[int], current: int, epoch_key: str) -> None:
    """The Play toggle and its speed in `container`; while playing, a timer that shows the next snapshot."""
    with container:
        playing = st.toggle("▶ Play", key=PLAYING, disabled=len(epochs) < 2,
                            help="Step through the snapshots one after another, from the one shown to the last.")
        st.selectbox("Speed", list(SPEEDS), index=1, key=SPEED, label_visibility="collapsed",
                     help="slow: 2 s a snapshot, normal 1 s, fast 0.5 s")
    if not playing:
        st.session_state.pop(DRAWN_AT, None)
        return
    if next_epoch(epochs, current) is None and DRAWN_AT not in st.session_state:
        st.session_state[NEXT] = ("epoch", epochs[0])  # pressed at the last snapshot: play from the first
        st.session_state[DRAWN_AT] = time.monotonic()
        st.rerun(scope="app")
    seconds = SPEEDS[st.session_state.get(SPEED, "normal")]
    st.session_state[DRAWN_AT] = time.monotonic()
    st.fragment(_tick, run_every=seconds)(epochs, epoch_key, seconds)


def _tick(epochs: list[int], epoch_key: str, seconds: float) -> None:
    # The fragment also runs with the page: only a timer's tick, a frame's time after the page, moves on.
    if time.monotonic() - st.session_state.get(DRAWN_AT, 0.0) < 0.8 * seconds:
        return
    following = next_epoch(epochs, st.session_state.get(epoch_key, epochs[-1]))
    if following is None:
        st.session_state[NEXT] = ("stop", None)
        st.session_state.pop(DRAWN_AT, None)
    else:
        st.session_state[NEXT] = ("epoch", following)
    st.rerun(scope="app")
