"""The dashboard's uses of private names in Streamlit, each with its reason, in one place.

Each is a speed-up or a work-around that degrades to Streamlit's own behaviour when the name is gone;
tests/test_compat.py fails, naming the name, when the installed Streamlit no longer has one.
"""

from __future__ import annotations

# name -> why the dashboard uses it (tests/test_compat.py checks that each still exists)
PRIVATE_NAMES = {
    "streamlit.delta_generator._use_warning_has_been_displayed":
        "skips Streamlit's once-per-process REPL check (inspect.stack(), 0.1-0.2 s of the first visitor's page); "
        "`streamlit run` is never a REPL",
    "streamlit.config.set_option":
        "lowers server.maxUploadSize to the hosted limit on a running server: the upload widget's own limit is "
        "checked only in the browser, and st.set_option refuses server options",
    "streamlit.runtime.pages_manager.PagesManager.uses_pages_directory":
        "leaves the old pages-folder mode that a folder named pages/ starts a fresh server in "
        "(streamlit/streamlit#10276), so a page URL as a server's first request still runs through app.py",
}


def skip_repl_check() -> None:
    import streamlit.delta_generator

    streamlit.delta_generator._use_warning_has_been_displayed = True


def cap_uploads(megabytes: int) -> None:
    """The server refuses any upload larger than this (HTTP 413), whatever the browser was told."""
    from streamlit import config

    if config.get_option("server.maxUploadSize") > megabytes:
        config.set_option("server.maxUploadSize", megabytes)


def leave_pages_directory_mode() -> None:
    from streamlit.runtime.pages_manager import PagesManager

    PagesManager.uses_pages_directory = False
