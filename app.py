"""Sequence Playground: train SimpleRNN, LSTM and GRU networks in the browser and watch them learn.

    streamlit run app.py
"""

import contextlib

import streamlit as st

from pages.ui import compat, refresh, runs, session, sidebar, state
from seqcore.backends import BackendUnavailable

compat.skip_repl_check()
# Icons are Material symbols, not emoji: the first emoji icon loads Streamlit's emoji catalogue (0.3 s of the
# first page).
st.set_page_config(page_title="Sequence Playground", page_icon=":material/repeat:", layout="wide")
state.init_session()
# Live charts redraw every second; Streamlit's default dimming of stale elements would make them flicker
# grey on a projector, so keep them fully visible while they update.
# st.html, not st.markdown: HTML inside Markdown makes every browser load a 190 kB parser first.
# A compact top (Streamlit's 6rem above the title and a 2.75rem title cost a projector a fifth of its 800 px) and
# metric values that fit a quarter of the live panel.
st.html("<style>[data-testid=stElementContainer][data-stale=true]{opacity:1 !important;transition:none}"
        "[data-testid=stMainBlockContainer]{padding-top:3.25rem}"
        "h1{font-size:2rem !important;padding-top:0.25rem !important}"
        "[data-testid=stMetricValue]{font-size:1.6rem}</style>")
with contextlib.suppress(BackendUnavailable):  # said when Train is pressed
    runs.backend()  # the first visit starts a warm worker (TensorFlow imported) while the person reads

if st.query_params.get(session.BOARD_PARAM):  # the projector's link: the class board alone
    board = st.navigation([st.Page("pages/board.py", title="Class board", icon=":material/leaderboard:",
                                   url_path="board")], position="hidden")
    board.run()
    st.stop()
pages = [
    st.Page("pages/data.py", title="Data", icon=":material/show_chart:", default=True),
    st.Page("pages/train.py", title="Model & training", icon=":material/neurology:", url_path="train"),
    st.Page("pages/inspect_run.py", title="Inspect", icon=":material/biotech:", url_path="inspect"),
    st.Page("pages/runs.py", title="Runs", icon=":material/table_view:", url_path="runs"),
    # A class sharing a hosted server ranks its runs on the same data here; alone, a person ranks their own.
    st.Page("pages/board.py", title="Class board", icon=":material/leaderboard:", url_path="board"),
    st.Page("pages/theory.py", title="Theory", icon=":material/menu_book:", url_path="theory"),
]
page = st.navigation(pages)
page_changed = st.session_state.get(session.PAGE) not in (None, page.url_path)
st.session_state[session.PAGE] = page.url_path
session.observe_run()
# Where the live panel redraws the run (the Train page, view not frozen), the status line follows its full runs;
# elsewhere it follows the run itself. One timer per page either way: each tick is a script run on the server.
sidebar.draw(lambda: refresh.status(live_panel=page.url_path == "train" and not session.frozen()))
sidebar.close_on_a_phone(page_changed)
page.run()
