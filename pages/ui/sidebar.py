"""The sidebar on every page: presets, the current run's status line, the share link."""

from __future__ import annotations

import streamlit as st

from pages.ui import runs, state
from seqcore.config import PRESETS
from seqcore.jobs import JobView

STATUS_ICONS = {"queued": "⏳", "starting": "⚙️", "running": "🏃", "paused": "⏸️", "finished": "✅",
                "stopped": "⏹️", "timed_out": "⌛", "failed": "❌"}


# (run id, whether it had ended) as the status line last showed it: the live panel reruns the page when the
# run has ended since, so that this line follows.
SHOWN_KEY = "status_line_shown"


def status_line(view: JobView | None, live_here: bool = False) -> str:
    """One line that says where the session's run is; `live_here`: the page itself shows it live."""
    if view is None:
        return "No run yet: press **Train** on *Model & training*."
    epochs = view.experiment.train.epochs
    icon = STATUS_ICONS.get(view.status, "")
    if view.stopping:
        return f"⏹️ Stopping at epoch {view.epoch} of {epochs}…"
    if live_here and view.status == "queued":
        return f"{icon} Queued: your place in line is shown on this page"
    if live_here and not view.done:  # the panel changes it from starting to running to paused without a rerun
        return "🏃 Running: live on this page"
    if view.status == "queued":
        return (f"{icon} Queued: position {view.queue_position}, waiting {view.waited_s:.0f} s "
                f"(about {view.estimated_wait_s:.0f} s to go)")
    if view.status == "starting":
        return f"{icon} Starting: building the data and the model…"
    if view.status == "running":
        return f"{icon} Running: epoch {view.epoch} of {epochs}"
    if view.status == "paused":
        return f"{icon} Paused at epoch {view.epoch} of {epochs}"
    if view.status == "finished":
        return f"{icon} Finished: {view.epoch} epochs"
    if view.status == "stopped":
        return f"{icon} Stopped at epoch {view.epoch} of {epochs}"
    if view.status == "timed_out":
        return f"{icon} Timed out at epoch {view.epoch} of {epochs}"
    return f"{icon} Failed at epoch {view.epoch}: {view.reason}"


def _status_fragment(live_here: bool) -> None:
    job = runs.current_job()
    view = job.view() if job else None
    st.caption(status_line(view, live_here))
    shown_before = st.session_state.get(SHOWN_KEY)
    st.session_state[SHOWN_KEY] = (view.id, view.done) if view else None
    # The run ended since this line last showed it: redraw the whole page once so its buttons and downloads follow.
    if view is not None and view.done and shown_before == (view.id, False):
        st.rerun()


def draw() -> None:
    with st.sidebar:
        st.markdown("### :material/repeat: Sequence Playground")
        job = runs.current_job()
        active = job is not None and not job.done
        # One timer per session: where the live panel redraws the run (the Train page, view not frozen), the
        # line waits for the panel's full rerun when the run ends. Elsewhere it ticks at half the panel's rate.
        # Every timer tick is a script run on the server; thirty tabs of a class add them up.
        live_here = st.session_state.get("page_url_path") == "train" and not st.session_state.get("freeze")
        ticking = active and not live_here
        st.fragment(_status_fragment, run_every=2 * state.limits().refresh_s if ticking else None)(live_here)

        st.markdown("**Presets**")
        names = list(PRESETS)
        choice = st.selectbox("Preset", names, key="preset_choice", label_visibility="collapsed",
                              help="Complete experiments, each teaching one thing.")
        st.caption(PRESETS[choice][0])
        st.button("Load preset", key="load_preset", on_click=state.load_preset, args=(choice,),
                  use_container_width=True)

        st.markdown("**Share**")
        query = state.experiment().to_query()
        base = (st.context.url or "").rstrip("/")
        page_path = st.session_state.get("page_url_path")
        if page_path and base.endswith("/" + page_path):
            base = base[: -len(page_path) - 1]  # share the app, not the page the sharer happens to be on
        # In a popover, the code box (with its copy button) and its 1.5 MB highlighter load when it is opened,
        # not with every first page: 0.8 s of a new visitor's Data page on this 2-core machine.
        with st.popover("Link to these settings", icon=":material/link:", width="stretch"):
            st.code(f"{base}/?{query}" if query else f"{base}/", language=None, wrap_lines=True)
            st.caption("This link carries the settings only: never your data, runs or models. The address bar "
                       "holds the same settings.")
