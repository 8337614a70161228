"""The dashboard in a real browser: pages, presets, live training, Stop, page switches, share links, bad links.

Run with `python -m pytest tests/e2e -q` (fixtures in conftest.py: one server, one system Chromium).
Each test saves screenshots of the pages it saw into tests/e2e/screenshots/.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

pytestmark = pytest.mark.e2e

SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
READY = "[data-testid=stApp][data-test-connection-state=CONNECTED]"
FIRST_LOAD_MS = 60_000  # the first page of a session on a busy machine
STEP_MS = 30_000
FIRST_EPOCH_S = 150  # a warm worker may still be importing TensorFlow, and the first epoch compiles the model
EPOCHS = 5000  # far more than the seed preset's 100, so that the run is still going when Stop is pressed

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
    expect(sidebar(page).get_by_test_id("stCode")).to_be_visible(timeout=FIRST_LOAD_MS)


def sidebar(page: Page) -> Locator:
    return page.get_by_test_id("stSidebar")


def go_to(page: Page, link: str, title: str) -> None:
    """Follow a page link of the sidebar's navigation."""
    sidebar(page).get_by_test_id("stSidebarNav").get_by_role("link", name=link).click()
    expect(heading(page, title)).to_be_visible()
    wait_ready(page)
    expect(sidebar(page).get_by_test_id("stCode")).to_be_visible()


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


def share_link(page: Page) -> str:
    return sidebar(page).get_by_test_id("stCode").inner_text().strip()


def run_status(page: Page) -> Locator:
    """The sidebar's one-line status of the session's run."""
    return sidebar(page).get_by_test_id("stCaptionContainer").first


def epoch_metric(page: Page) -> Locator:
    label = page.get_by_test_id("stMetricLabel").get_by_text("Epoch", exact=True)
    return page.get_by_test_id("stMetric").filter(has=label).get_by_test_id("stMetricValue")


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


# --- tests ---

def test_every_page_opens_without_an_exception(e2e_server, e2e_page):
    page = e2e_page
    open_app(page, e2e_server)
    expect(page.locator(".js-plotly-plot").first).to_be_visible()  # the data preview
    expect(page.get_by_text("Simple models to beat")).to_be_visible()
    assert_no_exception(page)
    screenshot(page, "page_data")

    go_to(page, "Model & training", "Model & training")
    expect(page.get_by_role("button", name="Train")).to_be_enabled()
    expect(page.get_by_text("Parameters: 12,710")).to_be_visible()
    expect(run_status(page)).to_contain_text("No run yet")
    assert_no_exception(page)
    screenshot(page, "page_train")

    for link, name in [("Inspect", "inspect"), ("Theory", "theory")]:
        go_to(page, link, link)
        assert_no_exception(page)
        screenshot(page, f"page_{name}")


def test_train_watch_it_learn_stop_and_find_the_run_again(e2e_server, e2e_page):
    page = e2e_page
    open_app(page, e2e_server)
    load_preset(page, "seed")
    assert share_link(page) == f"{e2e_server}/"  # the seed preset is the default experiment

    go_to(page, "Model & training", "Model & training")
    epochs = page.get_by_role("spinbutton", name="Epochs")
    epochs.fill(str(EPOCHS))
    epochs.press("Enter")
    expect(sidebar(page).get_by_test_id("stCode")).to_contain_text(f"t.epochs={EPOCHS}")

    page.get_by_role("button", name="Train").click()
    expect(run_status(page)).to_contain_text(re.compile("Queued|Starting|Running"))
    expect(page).to_have_url(re.compile(r"[?&]run="))

    # The loss chart gains points at least twice while the run goes on.
    first = poll_until("the first point of the loss chart", lambda: points_of(page, "Loss"), FIRST_EPOCH_S)
    second = poll_until("more loss points", lambda: (n := points_of(page, "Loss")) > first and n, 30)
    third = poll_until("still more loss points", lambda: (n := points_of(page, "Loss")) > second and n, 30)
    assert first < second < third
    epoch_seen = epochs_done(page)
    poll_until("the Epoch metric to go up", lambda: epochs_done(page) > epoch_seen, 30)

    # The first snapshot brings the hidden-state heatmap and the predictions.
    poll_until("the hidden-state heatmap", lambda: has_plot(page, "Hidden state"), 60)
    poll_until("the predictions chart", lambda: has_plot(page, "prediction"), 30)
    assert_no_exception(page)
    screenshot(page, "train_running")

    page.get_by_role("button", name="Stop").click()
    expect(run_status(page)).to_contain_text(re.compile(rf"Stopped at epoch \d+ of {EPOCHS}"))
    stopped_at = int(re.search(r"Stopped at epoch (\d+)", run_status(page).inner_text()).group(1))
    assert 0 < stopped_at < EPOCHS
    expect(epoch_metric(page)).to_have_text(f"{stopped_at} / {EPOCHS}")
    expect(page.get_by_role("button", name="Train")).to_be_enabled()
    expect(page.get_by_role("button", name="Stop")).to_be_disabled()
    wait_ready(page)
    loss_points = poll_until("the loss chart after Stop", lambda: points_of(page, "Loss"), 10)
    assert_no_exception(page)
    screenshot(page, "train_stopped")

    # Another page and back: the run, its epoch count and its charts are still there.
    go_to(page, "Inspect", "Inspect")
    assert_no_exception(page)
    screenshot(page, "inspect_after_run")
    go_to(page, "Model & training", "Model & training")
    expect(epoch_metric(page)).to_have_text(f"{stopped_at} / {EPOCHS}")
    expect(run_status(page)).to_contain_text(f"Stopped at epoch {stopped_at} of {EPOCHS}")
    expect(page.get_by_role("spinbutton", name="Epochs")).to_have_value(str(EPOCHS))
    poll_until("the loss chart after the round trip", lambda: points_of(page, "Loss") == loss_points, 15)
    poll_until("the heatmap after the round trip", lambda: has_plot(page, "Hidden state"), 15)
    poll_until("the predictions after the round trip", lambda: has_plot(page, "prediction"), 15)
    # The address bar still carries the settings and the run, so a reload finds both.
    expect(page).to_have_url(re.compile(rf"/train\?.*t\.epochs={EPOCHS}"))
    expect(page).to_have_url(re.compile(r"[?&]run="))
    assert_no_exception(page)
    screenshot(page, "train_after_round_trip")

    page.reload()
    wait_ready(page, FIRST_LOAD_MS)
    expect(heading(page, "Model & training")).to_be_visible()
    expect(epoch_metric(page)).to_have_text(f"{stopped_at} / {EPOCHS}")
    expect(page.get_by_role("spinbutton", name="Epochs")).to_have_value(str(EPOCHS))
    assert_no_exception(page)


def test_a_share_link_opens_the_same_settings_elsewhere(e2e_server, e2e_new_page):
    sharer = e2e_new_page()
    open_app(sharer, e2e_server)
    load_preset(sharer, "sine")
    link = share_link(sharer)
    assert link.startswith(f"{e2e_server}/?") and "m.cell=GRU" in link and "m.units=16" in link, link
    assert "run=" not in link

    friend = e2e_new_page()  # another browser context: another session, nothing shared but the link
    open_app(friend, link)
    expect(friend.get_by_test_id("stAlertContentWarning")).to_have_count(0)
    expect(friend.get_by_role("combobox", name="Generator")).to_have_value("Sine wave")
    assert share_link(friend) == link
    go_to(friend, "Model & training", "Model & training")
    expect(friend.get_by_role("combobox", name="Cell")).to_have_value("GRU")
    expect(friend.get_by_role("spinbutton", name="Units per layer")).to_have_value("16")
    expect(friend.get_by_role("spinbutton", name="Epochs")).to_have_value("30")
    expect(friend).to_have_url(re.compile(r"/train\?.*m\.units=16"))
    assert_no_exception(friend)
    screenshot(friend, "share_link_train")


def test_a_link_with_garbage_opens_with_a_warning_and_defaults(e2e_server, e2e_page):
    page = e2e_page
    open_app(page, f"{e2e_server}/?m.units=abc&zz=1&t.epochs=-5")
    warning = page.get_by_test_id("stAlertContentWarning")
    expect(warning).to_contain_text("could not be used")
    expect(warning).to_contain_text("m.units")
    expect(warning).to_contain_text("zz")
    assert_no_exception(page)
    expect(page).not_to_have_url(re.compile("abc|zz"))  # the address bar is a valid share link again
    screenshot(page, "garbage_link")

    go_to(page, "Model & training", "Model & training")
    expect(page.get_by_role("spinbutton", name="Units per layer")).to_have_value("50")
    expect(page.get_by_role("spinbutton", name="Epochs")).to_have_value("100")
    expect(page.get_by_test_id("stAlertContentWarning")).to_have_count(0)
    assert_no_exception(page)


def test_a_page_link_is_the_first_request_of_a_fresh_server(e2e_fresh_server, e2e_page):
    # A folder named pages/ starts Streamlit in its old pages-folder mode until app.py first calls
    # st.navigation: a restarted server must still open a link to a page other than the first one.
    page = e2e_page
    open_app(page, f"{e2e_fresh_server}/train?m.units=16", title="Model & training")
    expect(page.get_by_role("spinbutton", name="Units per layer")).to_have_value("16")
    expect(sidebar(page).get_by_test_id("stCode")).to_contain_text("m.units=16")
    expect(sidebar(page).get_by_test_id("stSidebarNav").get_by_role("link")).to_have_count(4)
    assert_no_exception(page)
    screenshot(page, "fresh_server_train_link")
