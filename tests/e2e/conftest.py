"""Real-browser fixtures: one Streamlit server and one system Chromium for the whole e2e session.

The server is `streamlit run app.py` on a free port, in its own process group so that its training
workers go with it. Chromium is the Debian package (`/usr/bin/chromium`, or $E2E_CHROMIUM); Playwright's
own browser downloads are never used. A missing Chromium fails the tests: it is never a reason to skip.
Screenshots and the server's log land in tests/e2e/screenshots/ (ignored by git, kept by CI as artifacts).
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from bench import servers

SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
CHROMIUM = os.environ.get("E2E_CHROMIUM", servers.CHROMIUM)
VIEWPORT = {"width": 1400, "height": 2000}  # tall: Streamlit scrolls an inner container, not the page
SERVER_START_S = 90  # Python, Streamlit and the app's imports on a busy two-core machine
STEP_TIMEOUT_MS = 30_000  # the default for one Playwright action or expectation


@contextlib.contextmanager
def _streamlit_server(log_name: str, hosted_env: dict[str, str] | None = None):
    """Start `streamlit run app.py` (no file watcher) and yield its base URL once healthy. Local limits, unless
    `hosted_env` gives the environment of a hosted demo (SEQCORE_HOSTED=1 and its settings)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("SEQCORE_HOSTED", None)  # the tests train above the hosted demo's limits
    env.update(hosted_env or {})
    with servers.StreamlitServer("app.py", SCREENSHOTS / log_name, env) as server:
        try:
            server.wait_healthy(SERVER_START_S)
        except servers.ServerError as err:
            pytest.fail(str(err), pytrace=False)
        yield server.url


@pytest.fixture(scope="session")
def e2e_server() -> str:
    """The base URL of the Streamlit server that the e2e session shares."""
    with _streamlit_server("server.log") as url:
        yield url


@pytest.fixture
def e2e_fresh_server() -> str:
    """A server of its own, that no browser has visited yet (for what a restarted server does first)."""
    with _streamlit_server("fresh_server.log") as url:
        yield url


@pytest.fixture(scope="module")
def e2e_hosted_server() -> str:
    """A hosted demo (SEQCORE_HOSTED=1) with one training slot, so that a second run has to queue."""
    with _streamlit_server("hosted_server.log", {"SEQCORE_HOSTED": "1", "SEQCORE_SLOTS": "1"}) as url:
        yield url


@pytest.fixture(scope="session")
def e2e_browser() -> Browser:
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        pytest.fail(f"The e2e tests need the system Chromium at {CHROMIUM} (Debian: apt-get install chromium; "
                    "or set E2E_CHROMIUM to its path). Playwright's own browser downloads are not used.")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=servers.CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def e2e_new_page(e2e_browser):
    """A factory of pages, each in a fresh browser context (its own cookies: its own Streamlit session)."""
    contexts = []

    def new_page() -> Page:
        context = e2e_browser.new_context(viewport=VIEWPORT)
        context.set_default_timeout(STEP_TIMEOUT_MS)
        contexts.append(context)
        return context.new_page()

    yield new_page
    for context in contexts:
        context.close()


@pytest.fixture
def e2e_page(e2e_new_page) -> Page:
    return e2e_new_page()


class RestartableServer:
    """`streamlit run app.py` on a run store folder of its own, that a test stops and starts again on the same
    store and port: what a person's browser meets after the server restarts. Each start draws its own cookie
    secret (none is set), as a restarted server does."""

    def __init__(self, store: Path, log_name: str):
        self.store, self.log_name = Path(store), log_name
        self.port = servers.free_port()
        self.url = f"http://{servers.HOST}:{self.port}"
        self.starts = 0
        self._server: servers.StreamlitServer | None = None

    def start(self) -> None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "SEQCORE_STORE": str(self.store)}
        env.pop("SEQCORE_HOSTED", None)
        env.pop("STREAMLIT_SERVER_COOKIE_SECRET", None)
        self.starts += 1
        self._server = servers.StreamlitServer("app.py", SCREENSHOTS / f"{self.log_name}_{self.starts}.log", env,
                                               port=self.port)
        try:
            self._server.wait_healthy(SERVER_START_S)
        except servers.ServerError as err:
            self.stop()
            pytest.fail(str(err), pytrace=False)

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None

    def restart(self) -> None:
        self.stop()
        self.start()


@pytest.fixture
def e2e_restartable_server(tmp_path) -> RestartableServer:
    """A server of its own on a run store of its own (tmp_path/store), started; `.restart()` stops it and starts
    it again on the same store and port."""
    server = RestartableServer(tmp_path / "store", "restartable_server")
    server.start()
    try:
        yield server
    finally:
        server.stop()
