"""Every key the dashboard keeps in `st.session_state`, who writes it and who reads it, and the session's run.

Keys that only name a widget (`key="inspect_epoch"`, chart keys) live beside their widget; the ones listed
here are read or written by code, so a change to one is a change to this table.

| key | holds | written by | read by |
| --- | --- | --- | --- |
| EXPERIMENT | the session's valid `Experiment` | state (link, widgets, presets) | every page |
| ERRORS | widget key -> message of a refused value | state.on_widget_change | widgets, live (Train off) |
| REFUSED | widget key -> the refused value, shown until fixed | state.on_widget_change | state.ensure_widgets |
| NOTICES | one-off (kind, text) messages for the next page | state.notice | state.show_notices |
| CSV | the uploaded CSV: name, digest, frame, value and time columns | state.store_csv (Data page) | state.uploaded |
| TEXT | the person's own text: name, digest, UTF-8 bytes, characters | state.store_text (Data page) | state.uploaded |
| widget_key(s, n) | each setting's widget value | Streamlit, state.sync_widgets | state.on_widget_change |
| PRESET_CHOICE | the sidebar's preset picker | Streamlit, state.load_preset | sidebar |
| RUNS_EXPLAINED | run ids named by the address whose absence a notice explained | runs.current_job | runs |
| BROWSER | the key of this tab's browser, owner of its runs (code asks runs.browser()) | runs._tab | tests |
| SHOWN_RUN | id of a past run opened from the store (Runs page, address), kept on screen across pages | runs | runs |
| STORED_MEMO | the ended stored run last shown (a `StoredRun`), read once | runs | runs |
| PAIR_STARTED | a Theory page pair button's callback queued its pair: switch to the Train page | compare | compare |
| RUN_NOW | `RunNow`: the run and its view, taken once per script run | observe_run | run_now (pages, sidebar) |
| PAGE | url path of the page being drawn | app.py | sidebar (share link), refresh |
| FREEZE | the live panel's "Freeze" toggle | Streamlit | refresh (no timer while frozen) |
| REDRAW_ALL | a button asked for a full rerun (a callback cannot rerun) | live: Pause, Resume, Stop | refresh |
| FULL_RERUN_ASKED | ((run id, timer), when) a full rerun was last asked for | refresh.follow | refresh.follow |
| FIGURES_MEMO | the live figures and what they were drawn from | live | live |
| EVALUATION_MEMO | (run id, {epoch: (data, test evaluation or None, snapshot)}) of a series run | live | live |
| PREVIOUS_RUN | (run id, (label, history) of the browser's run before it, or None) | live | live |
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from seqcore.backend import JobHandle, JobView

EXPERIMENT = "experiment"
ERRORS = "config_errors"
REFUSED = "refused_values"
NOTICES = "notices"
CSV = "csv"
TEXT = "own_text"
PRESET_CHOICE = "preset_choice"
RUNS_EXPLAINED = "runs_explained"
RUN_NOW = "run_now"
BROWSER = "browser"
SHOWN_RUN = "shown_run"
STORED_MEMO = "stored_run_memo"
PAIR_STARTED = "pair_started"
PAGE = "page_url_path"
EVALUATION_MEMO = "evaluation_memo"
FREEZE = "freeze"
FULL_RERUN_ASKED = "full_rerun_asked"
REDRAW_ALL = "redraw_all"
FIGURES_MEMO = "live_figures_memo"
PREVIOUS_RUN = "previous_run"
COMPILED_AHEAD = "compiled_ahead"  # the settings a worker was last asked to compile before Train
THEORY_SECTION = "theory.section"  # the Theory page's open tab (its widget key)
THEORY_CELL = "theory.cell"  # the cell whose equations and code it shows

RUN_PARAM = "run"  # the URL parameter naming the run on screen (an id, not a key: ownership is the browser's)
BOARD_PARAM = "board"  # the projector's link: the class board of one data key, alone


def widget_key(section: str, name: str) -> str:
    return f"w.{section}.{name}"


@dataclass(frozen=True)
class RunNow:
    """The session's run as one script run sees it: the handle (for buttons) and one view (for drawing)."""

    job: JobHandle | None
    view: JobView | None
    partner: JobHandle | None = None  # the other run of an A/B comparison
    partner_view: JobView | None = None

    @property
    def active(self) -> bool:
        return any(v is not None and not v.done for v in (self.view, self.partner_view))

    @property
    def pace(self) -> JobView | None:
        """The view that sets the refresh rate and the status line: an unfinished run of the pair (a running one
        before a queued one), else the run's own."""
        views = [v for v in (self.view, self.partner_view) if v is not None and not v.done]
        views.sort(key=lambda v: v.status == "queued")
        return views[0] if views else self.view


def observe_run() -> RunNow:
    """Look at the session's run once, at the start of a script run (app.py) or of a fragment's run; everything
    drawn in that run reads the same picture through `run_now`."""
    from pages.ui import runs  # runs imports this module for its keys

    job, partner = runs.current_runs()
    now = RunNow(job, job.view() if job else None, partner, partner.view() if partner else None)
    st.session_state[RUN_NOW] = now
    return now


def run_now() -> RunNow:
    now = st.session_state.get(RUN_NOW)
    return now if now is not None else observe_run()


def page() -> str | None:
    return st.session_state.get(PAGE)


def frozen() -> bool:
    return bool(st.session_state.get(FREEZE, False))
