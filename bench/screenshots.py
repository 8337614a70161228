"""The README's two screenshots, taken again from a running app: the Train page after a seed-preset run at a
projector's 1280 x 800 (`.github/training-page.png`) and on a phone at 390 x 844, from the Train button down
(`.github/training-page-phone.png`).

    python bench/screenshots.py                 # starts its own server on an empty run store, writes .github/
    python bench/screenshots.py --out /tmp/shots --url http://127.0.0.1:8501   # an app already running
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "e2e"))  # the browser tests' helpers: one way to drive the app

from browser_helpers import FIRST_LOAD_MS, open_app, sidebar, wait_ready  # noqa: E402
from playwright.sync_api import Browser, Page, expect, sync_playwright  # noqa: E402

from bench import servers  # noqa: E402

# name: (viewport, device scale). The projector shot is 1600 x 1000 pixels, sharp on a README at 1280 px wide.
SHOTS = {
    "training-page.png": ({"width": 1280, "height": 800}, 1.25),
    "training-page-phone.png": ({"width": 390, "height": 844}, 1.0),
}
RUN_MS = 180_000  # a first run of the server also waits for its worker to import TensorFlow
FINISHED = "Trained all 100 epochs"
# Scroll the Train button to the top of the window, below Streamlit's header, which stays over the page.
SCROLL_BELOW_HEADER_JS = """button => {
    const header = document.querySelector('[data-testid=stHeader]');
    button.style.scrollMarginTop = `${(header ? header.getBoundingClientRect().bottom : 0) + 8}px`;
    button.scrollIntoView({block: 'start'});
}"""


def _trained_seed_run(page: Page, url: str) -> None:
    """The seed preset (the app's defaults) trained to its end on the Train page, its replay skipped, the mouse
    off every chart."""
    open_app(page, f"{url}/train", "Model & training")
    page.get_by_role("button", name="Train").click()
    finished = page.get_by_test_id("stAlertContentSuccess").filter(has_text=FINISHED)
    skip = page.get_by_role("button", name="Skip")
    expect(skip.or_(finished).first).to_be_visible(timeout=RUN_MS)
    if skip.is_visible():  # a run slower than the page has no replay to skip
        with contextlib.suppress(Exception):  # the replay may end between the check and the click
            skip.click(timeout=5_000)
    expect(finished).to_be_visible(timeout=RUN_MS)
    wait_ready(page)
    page.mouse.move(0, 0)  # Plotly shows its toolbar under the pointer


def take(browser: Browser, url: str, out_dir: Path) -> list[Path]:
    """Write both screenshots into `out_dir` and return their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, (viewport, scale) in SHOTS.items():
        context = browser.new_context(viewport=viewport, device_scale_factor=scale)
        try:
            page = context.new_page()
            _trained_seed_run(page, url)
            if viewport["width"] < 640:  # a phone: the sidebar closed, the page scrolled to the Train button
                expect(sidebar(page)).to_have_attribute("data-collapsed", "true")
                page.get_by_role("button", name="Train").evaluate(SCROLL_BELOW_HEADER_JS)
                page.wait_for_timeout(300)  # Streamlit's scroll container settles
            path = out_dir / name
            page.screenshot(path=str(path))
            written.append(path)
        finally:
            context.close()
    return written


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=ROOT / ".github", help="folder to write the PNGs into")
    parser.add_argument("--url", help="an app already running (default: start one on an empty run store)")
    args = parser.parse_args(argv)
    with contextlib.ExitStack() as stack, sync_playwright() as playwright:
        url = args.url
        if not url:
            store = stack.enter_context(tempfile.TemporaryDirectory(prefix="screenshots-store-"))
            env = {**os.environ, "PYTHONUNBUFFERED": "1", "SEQCORE_STORE": store}
            for key in ("SEQCORE_HOSTED", "SEQCORE_STORE_URL", "SEQCORE_BACKEND"):
                env.pop(key, None)  # the embedded app, as a person runs it
            server = stack.enter_context(servers.StreamlitServer("app.py", Path(store) / "server.log", env))
            server.wait_healthy(FIRST_LOAD_MS / 1000)
            url = server.url
        browser = playwright.chromium.launch(executable_path=servers.CHROMIUM, args=servers.CHROMIUM_ARGS)
        try:
            for path in take(browser, url, args.out):
                print(path)
        finally:
            browser.close()


if __name__ == "__main__":
    main()
