"""The one fragment of a page that owns the refresh timer: the live panel on the Train page, the sidebar's
status line on every other page.

Each tick looks at the run once (`session.observe_run`). On the Train page the sidebar's line is drawn by full
runs (it says the run is live on the page, or how it ended), and `follow` asks for a full run whenever the line
would change: when the run changes rate or ends, and after Pause, Resume or Stop. (A fragment may write into a
sidebar container made outside it, but in the 30-session load test those writes lagged the panel by more than
a minute for most pages, so each fragment draws only inside its own container.) A fragment's timer
is fixed when a full script run creates it: when the run needs another rate (it left the queue, has its first
epoch, ended), `follow` asks for one full rerun per run and rate, and again only if it has not come within
RERUN_AGAIN_S: a loaded server whose rerun lags behind further ticks is not asked again and again (the classroom
load test found that feeding an overload), and a rerun that a tick interrupted is asked for once more.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import streamlit as st

from pages.ui import replay, session, sidebar, state
from seqcore.backend import JobView

# How often a live page redraws. Each redraw costs the server about 50 ms per session, and a hosted server
# serves a class: there it redraws half as often.
REFRESH_S = {"local": 1.0, "hosted": 2.0}
# While queued, a page has only its place in line to show. Far back, it checks seldom; near the front, often,
# so the run shows as soon as it starts. At one tick every 3 s, 28 queued pages alone were nine reruns a second
# on a server that runs one at a time.
QUEUED_REFRESH_S = ((3, 3.0), (9, 6.0))  # (up to this place in line, seconds between checks)
QUEUED_REFRESH_FAR_S = 15.0
# Until a run's first epoch is in, the panel looks often: the first point is what a person waits for after
# pressing Train (a warm worker has it within 0.2 s), and this phase lasts a few ticks.
FIRST_POINT_REFRESH_S = 0.25
RERUN_AGAIN_S = 10.0


def refresh_s() -> float:
    return REFRESH_S[state.limits().name]


def queued_refresh_s(position: int) -> float:
    return next((seconds for last, seconds in QUEUED_REFRESH_S if position <= last), QUEUED_REFRESH_FAR_S)


def live_timer(view: JobView) -> float:
    """Seconds between redraws of the live panel for this (unfinished) run."""
    if view.status == "queued":
        return max(refresh_s(), queued_refresh_s(view.queue_position))
    if view.status in ("starting", "running") and not view.history:
        return FIRST_POINT_REFRESH_S
    return refresh_s()


def timer_for(view: JobView | None, *, live_panel: bool) -> float | None:
    """The fragment's timer: none without an unfinished run or while the view is frozen; the live panel's rate
    on the Train page (a frame's, while a run too fast for it is drawn frame by frame); elsewhere only the status line
    follows the run, at half that rate."""
    if live_panel and replay.paced(view) and not session.frozen():
        return replay.frame_s()
    if view is None or view.done or (live_panel and session.frozen()):
        return None
    return live_timer(view) if live_panel else 2 * refresh_s()


def redraw_all() -> None:
    """From a button's callback (which cannot rerun): the next tick reruns the whole page, sidebar included."""
    st.session_state[session.REDRAW_ALL] = True


def follow(view: JobView | None, timer: float | None, *, live_panel: bool) -> None:
    """Ask for one full rerun when this run wants another timer than the fragment has, or a button asked."""
    if st.session_state.pop(session.REDRAW_ALL, False):
        st.rerun(scope="app")
    wanted = timer_for(view, live_panel=live_panel)
    if wanted == timer:
        return
    asked = (view.id if view else None, wanted)
    last = st.session_state.get(session.FULL_RERUN_ASKED)
    if last is None or last[0] != asked or time.monotonic() - last[1] > RERUN_AGAIN_S:
        st.session_state[session.FULL_RERUN_ASKED] = (asked, time.monotonic())
        st.rerun(scope="app")


def _live_tick(body: Callable[[session.RunNow], None], timer: float | None) -> None:
    now = session.observe_run()
    follow(now.pace, timer, live_panel=True)
    body(now)


def live_fragment(body: Callable[[session.RunNow], None]) -> None:
    """The Train page's live panel, redrawn by its own timer."""
    timer = timer_for(session.run_now().pace, live_panel=True)
    st.fragment(_live_tick, run_every=timer)(body, timer)


def _status_tick(timer: float | None) -> None:
    now = session.observe_run()
    follow(now.pace, timer, live_panel=False)
    st.caption(sidebar.status_line(now.pace, pair=now.partner is not None))


def status(live_panel: bool) -> None:
    """The sidebar's status line: drawn once per full run where the live panel shows the run, else by a fragment
    of its own that follows the run."""
    now = session.run_now()
    if live_panel:
        st.caption(sidebar.status_line(now.pace, live_here=True, pair=now.partner is not None))
        return
    timer = timer_for(now.pace, live_panel=False)
    st.fragment(_status_tick, run_every=timer)(timer)
