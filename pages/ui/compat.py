"""The dashboard's uses of private names in Streamlit, each with its reason, in one place.

Each is a speed-up or a work-around that degrades to Streamlit's own behaviour when the name is gone;
tests/test_compat.py fails, naming the name, when the installed Streamlit no longer has one.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

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


# Streamlit's frontend loads Plotly's own JavaScript as one lazy chunk of its build, named so (not a Python name:
# tests/test_empty_chart.py checks that the installed Streamlit still has one).
PLOTLY_CHUNK_GLOB = "static/js/PlotlyChart.*.js"


@functools.cache
def plotly_chunk() -> str | None:
    """The file name of the chunk of Streamlit's frontend that holds Plotly's JavaScript, or None if its build
    has no such file."""
    import streamlit

    found = sorted(Path(streamlit.__file__).parent.joinpath("static").glob(PLOTLY_CHUNK_GLOB))
    return found[0].name if len(found) == 1 else None


def plotly_preload_script() -> str | None:
    """A script that has the browser load Plotly's chunk once the page is drawn and the browser idle (None where
    the chunk is not found: Plotly then loads with the first chart, as Streamlit does it). The chunk's URL is
    resolved against Streamlit's own entry module, so it is the very module the first chart imports later, which
    the browser then finds loaded and run."""
    chunk = plotly_chunk()
    if chunk is None:
        return None
    return ("<script>(() => {"
            "const entry = document.querySelector('script[type=module][src*=\"static/js/index.\"]');"
            "if (!entry || window.__seqPlotlyPreload) return;"
            "window.__seqPlotlyPreload = 'waiting';"
            f"const url = new URL({json.dumps('./' + chunk)}, entry.src).href;"
            "const load = () => { window.__seqPlotlyPreload = 'loading';"
            "import(url).then(() => { window.__seqPlotlyPreload = 'loaded'; },"
            " () => { window.__seqPlotlyPreload = 'failed'; }); };"
            "(window.requestIdleCallback || (f => setTimeout(f, 200)))(load, {timeout: 2000});"
            "})();</script>")
