"""The dashboard in a real browser: pages, presets, live training, Stop, page switches, share links, bad links.

Run with `python -m pytest tests/e2e -q` (fixtures in conftest.py: one server, one system Chromium).
Each test saves screenshots of the pages it saw into tests/e2e/screenshots/.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest
from browser_helpers import (
    FIRST_LOAD_MS,
    assert_no_exception,
    choose,
    epoch_metric,
    epochs_done,
    expect_share_link,
    go_to,
    has_plot,
    heading,
    load_preset,
    metric_value,
    open_app,
    points_of,
    poll_until,
    run_status,
    screenshot,
    share_link,
    sidebar,
    wait_ready,
)
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e

FIRST_EPOCH_S = 150  # a warm worker may still be importing TensorFlow, and the first epoch compiles the model
EPOCHS = 5000  # far more than the seed preset's 100, so that the run is still going when Stop is pressed


# --- tests ---

def test_every_page_opens_without_an_exception(e2e_server, e2e_page):
    page = e2e_page
    open_app(page, e2e_server)
    preview = page.locator(".st-key-data_preview")
    expect(preview.locator("table tbody tr")).to_have_count(8)  # the seed preset's first digits, as a table
    expect(preview).to_contain_text("The first sequences")
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


def test_the_data_settings_read_on_one_line_each_at_projector_width(e2e_server, e2e_page):
    """At 1280 px the settings column is narrow: two inputs side by side wrapped their labels over two lines and
    hid the inputs' − / + buttons. One under the other, every label is one line and every input has its buttons."""
    page = e2e_page
    page.set_viewport_size({"width": 1280, "height": 1000})
    open_app(page, e2e_server)
    inputs = page.get_by_test_id("stMain").get_by_test_id("stNumberInput").filter(visible=True)
    expect(inputs).to_have_count(3)  # the seed preset's generator: sequences, length, vocabulary
    for i in range(3):
        field = inputs.nth(i)
        label = field.get_by_test_id("stWidgetLabel")
        line_height = label.evaluate("el => parseFloat(getComputedStyle(el.querySelector('p') || el).lineHeight)")
        assert label.bounding_box()["height"] < 1.5 * line_height, label.inner_text()
        expect(field.get_by_test_id("stNumberInputStepUp")).to_be_visible()
        expect(field.get_by_test_id("stNumberInputStepDown")).to_be_visible()
    screenshot(page, "page_data_1280")


def test_the_data_downloads_as_csv_and_the_share_link_opens_from_the_sidebar(e2e_server, e2e_page):
    page = e2e_page
    open_app(page, e2e_server)
    # The CSV is made when the button is pressed (a deferred download), not on every run of the page.
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download the data (CSV)").click()
    download = download_info.value
    assert download.suggested_filename == "random_digits.csv"
    lines = Path(download.path()).read_text().splitlines()
    assert lines[0] == ",".join(f"step_{i}" for i in range(10))
    assert len(lines) == 101 and all(re.fullmatch(r"\d(,\d){9}", line) for line in lines[1:])
    assert_no_exception(page)

    # The share link sits in a popover with a copy button; it closes again and the page goes on.
    assert expect_share_link(page, "http") == f"{e2e_server}/"
    page.get_by_role("spinbutton", name="Sequences").fill("120")
    page.get_by_role("spinbutton", name="Sequences").press("Enter")
    assert expect_share_link(page, "d.n_sequences=120").endswith("/?d.n_sequences=120")
    screenshot(page, "data_downloaded")


def open_train_with_the_seed_preset(page, server: str) -> None:
    """The seed preset loaded, then the Train page with EPOCHS epochs typed in (the share link follows)."""
    open_app(page, server)
    load_preset(page, "seed")
    assert share_link(page) == f"{server}/"  # the seed preset is the default experiment
    go_to(page, "Model & training", "Model & training")
    epochs = page.get_by_role("spinbutton", name="Epochs", exact=True)
    epochs.fill(str(EPOCHS))
    epochs.press("Enter")
    expect_share_link(page, f"t.epochs={EPOCHS}")


def test_train_watch_it_learn_stop_and_find_the_run_again(e2e_server, e2e_page):
    page = e2e_page
    open_train_with_the_seed_preset(page, e2e_server)

    page.get_by_role("button", name="Train").click()
    expect(run_status(page)).to_contain_text(re.compile("Queued|Running"))
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

    # Pause says so at once, in the sidebar and on the panel, and the time left stops counting; Resume goes on.
    page.get_by_role("button", name="Pause").click()
    expect(run_status(page)).to_contain_text(re.compile(rf"Paused at epoch \d+ of {EPOCHS}"))
    expect(page.get_by_test_id("stAlertContentInfo").filter(has_text="press Resume")).to_be_visible()
    time_left = metric_value(page, "Time left")
    expect(time_left).to_have_text("paused")
    # ... and it holds: Streamlit dispatched the click's trigger again a tick later, which resumed the run.
    page.wait_for_timeout(3000)
    expect(run_status(page)).to_contain_text(re.compile(rf"Paused at epoch \d+ of {EPOCHS}"), timeout=1)
    page.get_by_role("button", name="Resume").click()
    expect(run_status(page)).to_contain_text("Running")

    page.get_by_role("button", name="⏹ Stop").click()
    expect(run_status(page)).to_contain_text(re.compile(rf"Stopped at epoch \d+ of {EPOCHS}"))
    stopped_at = int(re.search(r"Stopped at epoch (\d+)", run_status(page).inner_text()).group(1))
    assert 0 < stopped_at < EPOCHS
    expect(epoch_metric(page)).to_have_text(f"{stopped_at} / {EPOCHS}")
    expect(page.get_by_role("button", name="Train")).to_be_enabled()
    expect(page.get_by_role("button", name="⏹ Stop")).to_be_disabled()
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
    expect(page.get_by_role("spinbutton", name="Epochs", exact=True)).to_have_value(str(EPOCHS))
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
    expect(page.get_by_role("spinbutton", name="Epochs", exact=True)).to_have_value(str(EPOCHS))
    assert_no_exception(page)


def test_pause_pressed_as_the_first_points_come_in_holds_until_resume(e2e_server, e2e_page):
    """Pause and Resume, three times each, while the chart still gains points fast: each press holds for several
    ticks (one click's trigger was dispatched again a tick later, to the button then drawn, so Pause resumed)."""
    page = e2e_page
    open_train_with_the_seed_preset(page, e2e_server)
    page.get_by_role("button", name="Train").click()
    poll_until("the first loss points", lambda: points_of(page, "Loss") > 3, FIRST_EPOCH_S)
    presses = [("Pause", r"Paused at epoch \d+"), ("Resume", r"Running")] * 3
    for (press, status), wait_ms in zip(presses, (150, 1250, 800, 400, 100, 450), strict=True):
        page.wait_for_timeout(wait_ms)  # pressed at different moments of the panel's timer
        page.get_by_role("button", name=press).click()
        expect(run_status(page)).to_contain_text(re.compile(status))
        page.wait_for_timeout(3000)  # a dozen timer ticks of the live panel
        expect(run_status(page)).to_contain_text(re.compile(status), timeout=1)
    page.get_by_role("button", name="⏹ Stop").click()
    expect(run_status(page)).to_contain_text(re.compile(rf"Stopped at epoch \d+ of {EPOCHS}"))
    assert_no_exception(page)


def test_train_pressed_the_moment_the_page_appears_starts_the_run(e2e_server, e2e_new_page):
    """Train pressed the moment it shows, three new visitors in a row: each press starts its run (a variant of the
    page that reran itself just after its first paint, to draw the empty loss chart, dropped such presses)."""
    for _ in range(3):
        page = e2e_new_page()
        page.goto(f"{e2e_server}/train?t.epochs=3")
        train = page.locator(".st-key-train button:not([disabled]):visible").first
        train.wait_for(timeout=90_000)
        train.click()
        expect(run_status(page)).to_contain_text(re.compile("Queued|Starting|Running|Finished"), timeout=10_000)
        expect(run_status(page)).to_contain_text("Finished: 3 epochs", timeout=FIRST_EPOCH_S * 1000)
        assert_no_exception(page)


PLOTLY_FETCHES_JS = ("() => performance.getEntriesByType('resource')"
                     ".filter(e => /PlotlyChart\\.[^/]*\\.js$/.test(e.name)).length")


def test_the_train_page_draws_before_plotly_which_loads_after_it_for_the_first_point(e2e_server, e2e_new_page):
    """A first visit to the Train page draws its empty loss chart without Plotly's 4.7 MB of JavaScript, then
    the browser loads that library while it is idle, once; the run's first chart uses it without a second load."""
    page = e2e_new_page()
    page.goto(f"{e2e_server}/train?t.epochs=3")
    frame = page.locator(".st-key-fig_loss svg.empty-chart")
    expect(frame).to_be_visible(timeout=90_000)
    expect(frame).to_contain_text("Loss (train and validation)")
    expect(frame).to_contain_text("epoch")
    assert page.locator("[data-testid=stPlotlyChart]").count() == 0  # nothing on the page waits for Plotly
    page.wait_for_function("window.__seqPlotlyPreload === 'loaded'", timeout=30_000)
    assert page.evaluate(PLOTLY_FETCHES_JS) == 1
    page.locator(".st-key-train button:not([disabled]):visible").first.click()
    expect(page.locator(".st-key-fig_loss .js-plotly-plot .main-svg").first).to_be_visible(
        timeout=FIRST_EPOCH_S * 1000)
    assert page.evaluate(PLOTLY_FETCHES_JS) == 1  # the chart's import found the module loaded
    expect(frame).to_have_count(0)
    assert_no_exception(page)


def test_plotly_loads_while_a_person_is_on_the_data_page_so_the_train_page_finds_it(e2e_server, e2e_new_page):
    """Most begin on the Data page, which draws no Plotly chart for the seed preset's tokens: the browser loads
    the library there, in its idle time, so a Train pressed the moment the Train page is reached does not wait
    for it (it cost the replay of a fast run its first frames)."""
    page = e2e_new_page()
    open_app(page, e2e_server)
    load_preset(page, "seed")
    assert page.locator("[data-testid=stPlotlyChart]").count() == 0
    page.wait_for_function("window.__seqPlotlyPreload === 'loaded'", timeout=30_000)
    go_to(page, "Model & training", "Model & training")
    page.locator(".st-key-train button:not([disabled]):visible").first.click()
    expect(page.locator(".st-key-fig_loss .js-plotly-plot .main-svg").first).to_be_visible(
        timeout=FIRST_EPOCH_S * 1000)
    assert page.evaluate(PLOTLY_FETCHES_JS) == 1  # loaded once, on the Data page
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
    expect(friend.get_by_role("spinbutton", name="Epochs", exact=True)).to_have_value("30")
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
    expect(page.get_by_role("spinbutton", name="Epochs", exact=True)).to_have_value("100")
    expect(page.get_by_test_id("stAlertContentWarning")).to_have_count(0)
    assert_no_exception(page)


def test_a_page_link_is_the_first_request_of_a_fresh_server(e2e_fresh_server, e2e_page):
    # A folder named pages/ starts Streamlit in its old pages-folder mode until app.py first calls
    # st.navigation: a restarted server must still open a link to a page other than the first one.
    page = e2e_page
    open_app(page, f"{e2e_fresh_server}/train?m.units=16", title="Model & training")
    expect(page.get_by_role("spinbutton", name="Units per layer")).to_have_value("16")
    expect_share_link(page, "m.units=16")
    nav = sidebar(page).get_by_test_id("stSidebarNav").get_by_role("link")
    titles = ["Data", "Model & training", "Inspect", "Runs", "Class board", "Theory"]
    expect(nav).to_have_text([re.compile(f"{re.escape(title)}$") for title in titles])  # after each icon's name
    assert_no_exception(page)
    screenshot(page, "fresh_server_train_link")


def test_another_browser_with_the_full_address_cannot_touch_the_run(e2e_server, e2e_new_page):
    """A teacher trains and pastes the whole address to the class: the students get the settings, never the run.
    The teacher's second tab (the same browser) shows the run, with its buttons."""
    teacher = e2e_new_page()
    open_app(teacher, f"{e2e_server}/train?t.epochs={EPOCHS}", title="Model & training")
    teacher.get_by_role("button", name="Train").click()
    poll_until("the teacher's first loss point", lambda: points_of(teacher, "Loss"), FIRST_EPOCH_S)
    expect(teacher).to_have_url(re.compile(r"[?&]run="))
    address = teacher.url

    second_tab = teacher.context.new_page()
    open_app(second_tab, address, title="Model & training")
    expect(run_status(second_tab)).to_contain_text("Running")
    expect(second_tab.get_by_role("button", name="⏹ Stop")).to_be_enabled()
    second_tab.close()

    student = e2e_new_page()  # another browser: its own cookies
    open_app(student, address, title="Model & training")
    expect(run_status(student)).to_contain_text("No run yet")
    expect(student.get_by_test_id("stAlertContentInfo").first).to_contain_text("another browser started")
    expect(student.get_by_role("button", name="⏹ Stop")).to_be_disabled()
    # the settings came along
    expect(student.get_by_role("spinbutton", name="Epochs", exact=True)).to_have_value(str(EPOCHS))
    expect(student.get_by_role("button", name="Model (.keras)")).to_have_count(0)
    assert_no_exception(student)
    screenshot(student, "student_with_teachers_address")

    # The student's own run neither stops nor replaces the teacher's.
    student.get_by_role("button", name="Train").click()
    poll_until("the student's own first loss point", lambda: points_of(student, "Loss"), FIRST_EPOCH_S)
    expect(run_status(teacher)).to_contain_text("Running")
    before = epochs_done(teacher)
    poll_until("the teacher's run to go on", lambda: epochs_done(teacher) > before, 30)
    student.get_by_role("button", name="⏹ Stop").click()
    expect(run_status(student)).to_contain_text("Stopped")
    expect(run_status(teacher)).to_contain_text("Running")

    teacher.get_by_role("button", name="⏹ Stop").click()
    expect(run_status(teacher)).to_contain_text("Stopped")
    assert_no_exception(teacher)


def test_a_crafted_link_shows_its_keys_and_values_as_plain_text(e2e_server, e2e_page):
    """Keys and values of a link are echoed in its warning: Markdown in them must not become a link, bold red
    text or an image fetched from another host."""
    page = e2e_page
    fetched = []
    page.on("request", lambda request: fetched.append(request.url) if urlsplit(request.url).hostname == "127.0.0.9"
            else None)
    crafted = {"[Log in again](http://127.0.0.9/login)": "1", "m.units": ":red[**Your run was deleted**]",
               "![logo](http://127.0.0.9/pixel.png)": "2"}
    query = "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in crafted.items())
    open_app(page, f"{e2e_server}/?{query}")
    warning = page.get_by_test_id("stAlertContentWarning")
    expect(warning).to_contain_text("[Log in again](http://127.0.0.9/login)")
    expect(warning).to_contain_text(":red[**Your run was deleted**]")
    expect(warning).to_contain_text("![logo](http://127.0.0.9/pixel.png)")
    expect(warning.locator("a")).to_have_count(0)
    expect(warning.locator("img")).to_have_count(0)
    expect(warning.locator("strong")).to_have_count(0)
    assert not fetched, fetched
    assert_no_exception(page)


SERIES_MAX_JS = """(part) => {
    const el = [...document.querySelectorAll('.js-plotly-plot')].find(
        e => ((e.layout && e.layout.title && e.layout.title.text) || '').includes(part));
    if (!el) return null;
    const actual = (el._fullData || el.data).find(trace => trace.name === 'actual');
    const y = Array.from((actual && actual.y) || []);
    return y.length ? Math.max(...y) : null;
}"""


def test_a_csv_run_survives_a_reload_and_keeps_its_own_data(e2e_server, e2e_page, tmp_path):
    """Reloading after training on a CSV, or uploading another file with the same column name, must neither
    break the page nor draw the run's predictions over the new file's data."""
    page = e2e_page
    first, second = tmp_path / "visits.csv", tmp_path / "visits_again.csv"
    first.write_text("visitors\n" + "".join(f"{100 + (i * 7) % 23}\n" for i in range(300)))
    second.write_text("visitors\n" + "".join(f"{5000 + (i * 7) % 23}\n" for i in range(300)))
    open_app(page, e2e_server)
    choose(page, page.get_by_role("combobox", name="Generator"), "My CSV file")
    page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(first))
    expect(page.get_by_text("Using visits.csv (300 rows).")).to_be_visible(timeout=FIRST_LOAD_MS)
    go_to(page, "Model & training", "Model & training")
    epochs = page.get_by_role("spinbutton", name="Epochs", exact=True)
    epochs.fill("3")
    epochs.press("Enter")
    expect_share_link(page, "t.epochs=3")
    page.get_by_role("button", name="Train").click()
    expect(run_status(page)).to_contain_text("Finished: 3 epochs", timeout=FIRST_EPOCH_S * 1000)

    page.reload()
    wait_ready(page, FIRST_LOAD_MS)
    expect(run_status(page)).to_contain_text("Finished: 3 epochs")
    expect(page.get_by_role("button", name="Model (.keras)")).to_be_visible()
    poll_until("the run's predictions after the reload", lambda: has_plot(page, "Validation, then forecast"), 30)
    assert_no_exception(page)

    go_to(page, "Data", "Data")
    page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(second))
    expect(page.get_by_text("Using visits_again.csv (300 rows).")).to_be_visible(timeout=FIRST_LOAD_MS)
    go_to(page, "Inspect", "Inspect")
    top = poll_until("the run's predictions on Inspect",
                     lambda: page.evaluate(SERIES_MAX_JS, "Validation, then forecast"), 30)
    assert top == 122, f"Inspect drew values up to {top} as the run's data: the first file's go up to 122"
    assert_no_exception(page)


def test_an_out_of_range_or_fractional_number_is_refused_beside_its_box(e2e_server, e2e_page):
    """Typing 99999, 0, -5 or 2.5 into Units left the value in the box beside a tiny icon, and Train ran with the
    old value (2.5 became 2): each is refused under the box with the allowed range, and Train waits."""
    page = e2e_page
    open_app(page, f"{e2e_server}/train", title="Model & training")
    units = page.get_by_role("spinbutton", name="Units per layer")
    error = page.get_by_test_id("stAlertContentError")
    for typed, words in (("99999", "model.units: 99999 is above the maximum 1024"),
                         ("0", "model.units: 0 is below the minimum 1"),
                         ("-5", "model.units: -5 is below the minimum 1"),
                         ("2.5", "model.units: 2.5 is not a whole number")):
        units.fill(typed)
        units.press("Enter")
        expect(error).to_contain_text(words)
        expect(error).to_contain_text("The last valid value is still in use")
        expect(page.get_by_role("button", name="Train")).to_be_disabled()
        expect(units).to_have_value(typed)  # what was typed stays, so the person sees what was refused
    units.fill("8")
    units.press("Enter")
    expect(error).to_have_count(0)
    expect(page.get_by_role("button", name="Train")).to_be_enabled()
    expect_share_link(page, "m.units=8")
    assert_no_exception(page)
