"""Sequence Playground: train SimpleRNN, LSTM and GRU networks in the browser and watch them learn.

    streamlit run app.py
"""

import sys
from pathlib import Path

# The pages import `pages.ui` and `seqcore` from here, whichever folder Streamlit was started in.
sys.path.insert(0, str(Path(__file__).resolve().parent))

import streamlit as st  # noqa: E402
import streamlit.delta_generator  # noqa: E402

# Streamlit checks once per process whether it runs in a REPL, with `inspect.stack()` on the first element drawn:
# 0.1-0.2 s of the first visitor's page (cProfile). `streamlit run` is never a REPL, so skip the check.
streamlit.delta_generator._use_warning_has_been_displayed = True

from pages.ui import runs, sidebar, state  # noqa: E402

# Icons are Material symbols, not emoji: the first emoji icon loads Streamlit's emoji catalogue (0.3 s of the
# first page).
st.set_page_config(page_title="Sequence Playground", page_icon=":material/repeat:", layout="wide")
state.init_session()
# Live charts redraw every second; Streamlit's default dimming of stale elements would make them flicker
# grey on a projector, so keep them fully visible while they update.
# st.html, not st.markdown: HTML inside Markdown makes every browser load a 190 kB parser first.
st.html("<style>[data-testid=stElementContainer][data-stale=true]{opacity:1 !important;transition:none}</style>")
runs.job_manager()  # the first visit starts a warm worker (TensorFlow imported) while the person reads

page = st.navigation([
    st.Page("pages/data.py", title="Data", icon=":material/show_chart:", default=True),
    st.Page("pages/train.py", title="Model & training", icon=":material/neurology:", url_path="train"),
    st.Page("pages/inspect_run.py", title="Inspect", icon=":material/biotech:", url_path="inspect"),
    st.Page("pages/theory.py", title="Theory", icon=":material/menu_book:", url_path="theory"),
])
st.session_state["page_url_path"] = page.url_path
sidebar.draw()
page.run()
