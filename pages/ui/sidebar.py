"""The sidebar on every page: presets, the current run's status line, the share link."""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from pages.ui import compat, session, state
from pages.ui.safe import md
from seqcore.backend import JobView
from seqcore.config import PRESETS, nearest_preset

STATUS_ICONS = {"queued": "⏳", "starting": "⚙️", "running": "🏃", "paused": "⏸️", "finished": "✅",
                "stopped": "⏹️", "timed_out": "⌛", "failed": "❌"}


STATUS_LINES = {  # what the line says in each status, filled from the view
    "starting": "Starting: building the data and the model…",
    "running": "Running: epoch {epoch} of {epochs}",
    "paused": "Paused at epoch {epoch} of {epochs}",
    "finished": "Finished: {epoch} epochs",
    "stopped": "Stopped at epoch {epoch} of {epochs}",
    "timed_out": "Timed out at epoch {epoch} of {epochs}",
    "failed": "Failed at epoch {epoch}: {reason}",
}


def status_line(view: JobView | None, live_here: bool = False, pair: bool = False) -> str:
    """One line that says where the session's run is; `live_here`: the page shows the run live (the line is
    drawn once per full run there, so it says nothing that changes every epoch); `pair`: `view` is the
    leading run of an A/B comparison."""
    if view is None:
        return "No run yet: press **Train** on *Model & training*."
    line = _status_line(view, live_here)
    return f"A/B comparison · {line}" if pair else line


def _status_line(view: JobView, live_here: bool) -> str:
    epochs = view.experiment.train.epochs
    if view.stopping:
        return f"⏹️ Stopping at epoch {view.epoch} of {epochs}…"
    if live_here and view.status == "queued":
        return "⏳ Queued: your place in line is shown on this page"
    if live_here and view.status in ("starting", "running"):
        return f"🏃 Running: live on this page{xla_note(view)}"
    if view.status == "queued":
        return (f"⏳ Queued: position {view.queue_position}, waiting {view.waited_s:.0f} s "
                f"(about {view.estimated_wait_s:.0f} s to go)")
    text = STATUS_LINES[view.status].format(epoch=view.epoch, epochs=epochs, reason=md(view.reason))
    return f"{STATUS_ICONS[view.status]} {text}{xla_note(view)}"


def xla_note(view: JobView) -> str:
    """' · XLA on' once the run's StartEvent says it compiles its steps with XLA, else nothing."""
    return " · XLA on" if view.start is not None and view.start.xla else ""


def settings_line(experiment) -> str:
    """What the current settings are: a preset, or how they differ from the nearest one."""
    nearest, changed = nearest_preset(experiment)
    if not changed:
        return f"Now: the **{nearest}** preset."
    shown = ", ".join(md(key) for key in changed[:4]) + (f" and {len(changed) - 4} more" if len(changed) > 4 else "")
    return f"Now: custom settings (the **{nearest}** preset with {shown} changed)."


def draw(status: Callable[[], None]) -> None:
    """The sidebar; `status` draws the run's status line under the title."""
    with st.sidebar:
        st.markdown("### :material/repeat: Sequence Playground")
        status()
        st.markdown("**Presets**")
        st.caption(settings_line(state.experiment()))
        names = list(PRESETS)
        choice = st.selectbox("Preset", names, key=session.PRESET_CHOICE, label_visibility="collapsed",
                              help="Complete experiments, each teaching one thing.")
        st.caption(PRESETS[choice][0])
        st.button("Load preset", key="load_preset", on_click=state.load_preset, args=(choice,),
                  use_container_width=True)

        st.markdown("**Share**")
        query = state.experiment().to_query()
        base = (st.context.url or "").rstrip("/")
        page_path = session.page()
        if page_path and base.endswith("/" + page_path):
            base = base[: -len(page_path) - 1]  # share the app, not the page the sharer happens to be on
        # In a popover, the code box (with its copy button) and its 1.5 MB highlighter load when it is opened,
        # not with every first page: 0.8 s of a new visitor's Data page on this 2-core machine.
        with st.popover("Link to these settings", icon=":material/link:", width="stretch"):
            st.code(f"{base}/?{query}" if query else f"{base}/", language=None, wrap_lines=True)
            st.caption("This link carries the settings only: never your data, runs or models. The address bar "
                       "holds the same settings.")
        preload_plotly()


def preload_plotly() -> None:
    """Have the browser load Plotly once it is idle, on whichever page a person arrives: the Data page, where
    most begin, draws no Plotly chart, and a fast Train pressed right after reaching the Train page otherwise
    waited for the library's load and missed the first frames of its run. At the sidebar's end, where an
    element that draws nothing shifts nothing."""
    preload = compat.plotly_preload_script()
    if preload is not None:  # our own script, no text from anyone in it
        st.html(preload, unsafe_allow_javascript=True)


CLOSE_SIDEBAR = "close_sidebar"  # session key: a button acted, so a phone's sidebar should get out of the way
# Below Streamlit's mobile width the sidebar covers the page: after an action in it (a preset loaded, a page
# chosen) a person wants to see what happened. Streamlit has no call for it, so the page clicks its own
# collapse button; at a desktop width the sidebar stays as the person left it.
_CLOSE_ON_A_PHONE = """<script>
setTimeout(() => {{
  const close = document.querySelector('[data-testid=stSidebarCollapseButton] button');
  if (window.innerWidth < 768 && close && close.getAttribute('aria-expanded') === 'true') close.click();
}}, 60); /* {count} */
</script>"""


def close_on_a_phone(page_changed: bool) -> None:
    """After a page change or a sidebar action: close the sidebar where it covers the page (a phone)."""
    if not (st.session_state.pop(CLOSE_SIDEBAR, False) or page_changed):
        return
    count = st.session_state.get("close_sidebar_count", 0) + 1  # new content, so the browser runs it again
    st.session_state["close_sidebar_count"] = count
    with st.sidebar:  # at the sidebar's end: an element that comes and goes in the page would shift its widgets
        st.html(_CLOSE_ON_A_PHONE.format(count=count), unsafe_allow_javascript=True)
