"""The one fragment of a page that owns the refresh timer and draws the sidebar's status line.

On the Train page it also draws the live panel; on every other page only the status line. Each tick looks at
the run once (`session.observe_run`), so the panel and the status line can never disagree. A fragment's timer
is fixed when a full script run creates it: when the run needs another rate (it left the queue, has its first
epoch, ended), `follow` asks for one full rerun, once per run and rate, so a loaded server whose rerun lags
behind further ticks is not asked again and again (the classroom load test found that feeding an overload).
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from pages.ui import session, sidebar, state
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
    on the Train page; elsewhere only the status line follows the run, at half that rate."""
    if view is None or view.done or (live_panel and session.frozen()):
        return None
    return live_timer(view) if live_panel else 2 * refresh_s()


def follow(view: JobView | None, timer: float | None, *, live_panel: bool) -> None:
    """Ask for one full rerun when this run wants another timer than the fragment has."""
    wanted = timer_for(view, live_panel=live_panel)
    if wanted == timer:
        return
    asked = (view.id if view else None, wanted)
    if st.session_state.get(session.FULL_RERUN_ASKED) != asked:
        st.session_state[session.FULL_RERUN_ASKED] = asked
        st.rerun(scope="app")


def _tick(body: Callable[[session.RunNow], None] | None, timer: float | None, status_slot) -> None:
    now = session.observe_run()
    follow(now.view, timer, live_panel=body is not None)
    if body is not None:
        body(now)
    status_slot.caption(sidebar.status_line(now.view))


def fragment(body: Callable[[session.RunNow], None] | None = None) -> None:
    """Draw `body` (the live panel, or nothing) and the sidebar's status line in one fragment with one timer."""
    timer = timer_for(session.run_now().view, live_panel=body is not None)
    st.fragment(_tick, run_every=timer)(body, timer, sidebar.status_slot())
