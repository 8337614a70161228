"""What the browser tests share: waiting for the app, finding its parts, reading its charts."""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Locator, Page, expect

SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
READY = "[data-testid=stApp][data-test-connection-state=CONNECTED]"
FIRST_LOAD_MS = 60_000  # the first page of a session on a busy machine
STEP_MS = 30_000

expect.set_options(timeout=STEP_MS)

# Every Plotly chart on the page: its title (tags removed) and the number of points of its first trace.
PLOTS_JS = """() => [...document.querySelectorAll('.js-plotly-plot')].map(el => {
    const title = ((el.layout && el.layout.title && el.layout.title.text) || '').replace(/<[^>]*>/g, '');
    const full = (el._fullData || [])[0];
    const raw = ((el.data || [])[0] || {}).x;
    const points = full && Number.isInteger(full._length) ? full._length : (raw && raw.length) || 0;
    return {title: title, points: points};
})"""


# --- helpers ---

def wait_ready(page: Page, timeout_ms: int = STEP_MS) -> None:
    """Connected and not running a script. Right after an action this may still describe the state before
    it, and right after notRunning the DOM may still hold skeletons: wait for a concrete element too."""
    app = page.locator(READY)
    expect(app).to_be_visible(timeout=timeout_ms)
    expect(app).to_have_attribute("data-test-script-state", "notRunning", timeout=timeout_ms)


def heading(page: Page, title: str) -> Locator:
    return page.locator("h1", has_text=re.compile(f"^{re.escape(title)}$"))


def open_app(page: Page, url: str, title: str = "Data") -> None:
    page.goto(url)
    wait_ready(page, FIRST_LOAD_MS)
    expect(heading(page, title)).to_be_visible(timeout=FIRST_LOAD_MS)
    expect(share_button(page)).to_be_visible(timeout=FIRST_LOAD_MS)


def sidebar(page: Page) -> Locator:
    return page.get_by_test_id("stSidebar")


def go_to(page: Page, link: str, title: str) -> None:
    """Follow a page link of the sidebar's navigation."""
    sidebar(page).get_by_test_id("stSidebarNav").get_by_role("link", name=link).click()
    expect(heading(page, title)).to_be_visible()
    wait_ready(page)
    expect(share_button(page)).to_be_visible()


def assert_no_exception(page: Page) -> None:
    expect(page.get_by_test_id("stException")).to_have_count(0)


def screenshot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


def choose(page: Page, combobox: Locator, option: str) -> None:
    combobox.click()
    page.get_by_role("option", name=option, exact=True).click()


def load_preset(page: Page, name: str) -> None:
    choose(page, sidebar(page).get_by_role("combobox", name="Preset"), name)
    sidebar(page).get_by_role("button", name="Load preset").click()
    expect(page.get_by_test_id("stAlertContentSuccess")).to_contain_text(f"Loaded the {name} preset")
    wait_ready(page)


def share_button(page: Page) -> Locator:
    """The sidebar's button that opens the share link (a popover)."""
    return sidebar(page).get_by_role("button", name="Link to these settings")


def expect_share_link(page: Page, contains: str | re.Pattern) -> str:
    """Open the share popover, wait until its link contains `contains`, close it; the link."""
    share_button(page).click()
    box = page.get_by_test_id("stPopoverBody").get_by_test_id("stCode")
    expect(box).to_contain_text(contains)
    link = box.inner_text().strip()
    page.keyboard.press("Escape")
    expect(page.get_by_test_id("stPopoverBody")).to_be_hidden()
    return link


def share_link(page: Page) -> str:
    return expect_share_link(page, "http")


def run_status(page: Page) -> Locator:
    """The sidebar's one-line status of the session's run."""
    return sidebar(page).get_by_test_id("stCaptionContainer").first


# Metrics the current script run drew: while a rerun draws, the elements of the run before stay on the page marked
# stale (Streamlit removes them when the run ends), and a metric that moved stands there twice meanwhile.
CURRENT_METRIC = "[data-testid=stElementContainer]:not([data-stale=true]) [data-testid=stMetric]"


def metric_value(page: Page, label: str) -> Locator:
    """The value of the metric labelled `label` (exactly) that the current run drew."""
    named = page.get_by_test_id("stMetricLabel").get_by_text(label, exact=True)
    return page.locator(CURRENT_METRIC).filter(has=named).get_by_test_id("stMetricValue")


def epoch_metric(page: Page) -> Locator:
    return metric_value(page, "Epoch")


def epochs_done(page: Page) -> int:
    text = epoch_metric(page).inner_text()
    match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text)
    assert match, f"unexpected Epoch metric {text!r}"
    return int(match.group(1))


def plots(page: Page) -> list[dict]:
    return page.evaluate(PLOTS_JS)


def points_of(page: Page, title_part: str) -> int:
    """Points of the first trace of the chart whose title contains `title_part` (0 if there is none).
    While Streamlit redraws, an old copy of a chart may linger beside the new one: take the larger."""
    return max([p["points"] for p in plots(page) if title_part.lower() in p["title"].lower()], default=0)


def has_plot(page: Page, title_part: str) -> bool:
    return any(title_part.lower() in p["title"].lower() for p in plots(page))


def poll_until(what: str, condition: Callable[[], object], timeout_s: float, every_s: float = 0.25):
    deadline = time.monotonic() + timeout_s
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s:g} s waiting for {what}")
        time.sleep(every_s)


# Every Plotly chart on the page: its title (tags removed) and, per trace, its name, points and opacity.
TRACES_JS = """() => [...document.querySelectorAll('.js-plotly-plot')].map(el => {
    const title = ((el.layout && el.layout.title && el.layout.title.text) || '').replace(/<[^>]*>/g, '');
    const full = el._fullData || [];
    const traces = (el.data || []).map((trace, i) => {
        const f = full[i];
        const points = f && Number.isInteger(f._length) ? f._length : (trace.x && trace.x.length) || 0;
        return {name: trace.name || '', points: points, opacity: f && f.opacity !== undefined ? f.opacity : 1};
    });
    return {title: title, traces: traces};
})"""


def traces_of(page: Page, title_part: str) -> list[dict]:
    """Traces (name, points, opacity) of the chart whose title contains `title_part` ([] if there is none).
    While Streamlit redraws, an old copy of a chart may linger beside the new one: take the one with most points."""
    charts = [c for c in page.evaluate(TRACES_JS) if title_part.lower() in c["title"].lower()]
    best = max(charts, key=lambda c: (sum(t["points"] for t in c["traces"]), len(c["traces"])), default=None)
    return best["traces"] if best else []


def trace_points(page: Page, title_part: str) -> dict[str, int]:
    """Points per trace name of the chart whose title contains `title_part`."""
    return {t["name"]: t["points"] for t in traces_of(page, title_part)}


@contextlib.contextmanager
def screenshots_on_failure(name: str, pages: list[Page]):
    """Save a screenshot of each page in `pages` (`name`_failed_N.png) if the block raises, then let the error go
    on. `pages` is read at the failure: a test may add the pages it opens later."""
    try:
        yield
    except BaseException:
        for i, page in enumerate(pages):
            with contextlib.suppress(Exception):
                screenshot(page, f"{name}_failed_{i}")
        raise
