"""Runs kept by the run store, in a real browser: overlaid on the Runs page, downloaded, still there after the
server restarts, never shown to another browser; A/B pairs from the Theory page; the previous run drawn faded.

Run with `python -m pytest tests/e2e/test_runs.py -q` (fixtures in conftest.py). Screenshots of the pages seen,
and of every page open when a test fails, go to tests/e2e/screenshots/.
"""

from __future__ import annotations

import csv
import io
import json
import re
import time
import zipfile
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from browser_helpers import (
    FIRST_LOAD_MS,
    assert_no_exception,
    go_to,
    has_plot,
    heading,
    open_app,
    poll_until,
    run_status,
    screenshot,
    screenshots_on_failure,
    trace_points,
    traces_of,
    wait_ready,
)
from playwright.sync_api import Page, expect

from pages.ui.runs import XSRF_COOKIE, browser_key

pytestmark = pytest.mark.e2e

RUN_S = 240  # a short run: the first one of a server waits for its worker to import TensorFlow and compile
PAIR_S = 420  # a preset pair side by side (30 epochs of 2,000-2,100 sequences each) on two busy cores
LESSON_S = 180  # the promise: the adding lesson's pair trained within three minutes
FIRST_EPOCH_S = 150
LONG_EPOCHS = 5000  # a run still going while the test looks at it; stopped at the end
ZIP_FILES = {"model.keras", "history.csv", "experiment.json", "train_model.py"}
LOSS = "Loss"  # the live and the compare loss charts' titles start with it


# --- helpers ---

def run_id(page: Page) -> str:
    """The run the address names (?run=)."""
    ids = parse_qs(urlsplit(page.url).query).get("run")
    assert ids, f"no run in the address {page.url}"
    return ids[0]


def train_short_run(page: Page, url: str, epochs: int) -> str:
    """Open the Train page at `url` (settings in the address), press Train, wait until the run has trained its
    `epochs` (each run of a test trains a different number, so the status cannot be the run before's); its id."""
    open_app(page, url, title="Model & training")
    expect(page.get_by_role("spinbutton", name="Epochs", exact=True)).to_have_value(str(epochs))
    page.get_by_role("button", name="Train").click()
    expect(run_status(page)).to_contain_text(f"Finished: {epochs} epochs", timeout=RUN_S * 1000)
    wait_ready(page)
    return run_id(page)


def runs_grid(page: Page):
    """The Runs page's table of runs (a canvas grid; its accessible copy is a table with aria-rowcount)."""
    return page.get_by_test_id("stDataFrame").first.locator("table[role=grid]")


def expect_runs_listed(page: Page, count: int) -> None:
    expect(page.get_by_text(f"{count} run(s) of this browser")).to_be_visible()
    expect(runs_grid(page)).to_have_attribute("aria-rowcount", str(count + 1))  # the header row counts


def browser_key_of(page: Page) -> str | None:
    cookies = [c["value"] for c in page.context.cookies() if c["name"] == XSRF_COOKIE]
    return browser_key(cookies[0]) if cookies else None


def expect_overlay(page: Page, labels: list[str], epochs: list[int]) -> None:
    """Both Runs page charts hold a train and a validation curve per run, each with all its epochs."""
    for title in (LOSS, "Accuracy"):
        wanted = {f"{label}: {part}": n for label, n in zip(labels, epochs, strict=True)
                  for part in ("train", "validation")}
        poll_until(f"the {title} chart to overlay {wanted}",
                   lambda title=title, wanted=wanted: trace_points(page, title) == wanted, 30)


def run_labels(page: Page) -> list[str]:
    """The Runs page's loss chart labels (e.g. '#1 LSTM 8'), in the chart's order."""
    names = [t["name"] for t in traces_of(page, LOSS)]
    return [name.removesuffix(": train") for name in names if name.endswith(": train")]


def download_zip(page: Page, expected_name: str) -> zipfile.ZipFile:
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download (.zip)").click()
    download = download_info.value
    assert download.suggested_filename == expected_name
    archive = zipfile.ZipFile(io.BytesIO(Path(download.path()).read_bytes()))
    assert set(archive.namelist()) >= ZIP_FILES, archive.namelist()
    return archive


def check_zip(archive: zipfile.ZipFile, units: int, epochs: int) -> None:
    experiment = json.loads(archive.read("experiment.json"))
    assert experiment["model"]["units"] == units and experiment["train"]["epochs"] == epochs, experiment
    history = list(csv.DictReader(io.StringIO(archive.read("history.csv").decode())))
    assert [int(row["epoch"]) for row in history] == list(range(1, epochs + 1)), history
    assert archive.read("model.keras")[:2] == b"PK"  # a .keras file is itself a zip
    assert f"LSTM({units}" in archive.read("train_model.py").decode()


def check_runs_page(page: Page, newest: str) -> None:
    """The Runs page of test 1: two runs, both overlaid, model.units in the diff, the zip of the newest."""
    expect_runs_listed(page, 2)
    expect(page.get_by_text("Showing your latest runs")).to_be_visible()
    expect_overlay(page, ["#1 LSTM 8", "#2 LSTM 50"], [4, 3])
    diff = page.get_by_test_id("stDataFrame").filter(has_text="model.units").locator("table[role=grid]")
    expect(diff).to_contain_text("model.units")
    expect(diff).to_contain_text("train.epochs")
    check_zip(download_zip(page, f"{newest}.zip"), units=8, epochs=4)
    assert_no_exception(page)


def pick_rows(page: Page, rows: list[int]) -> None:
    """Tick the checkboxes of these rows (0 = the first) in the Runs table: a canvas, clicked at the row marker
    column on the left. Rows are 35 px high below a 35 px header, as in Streamlit's own selection tests."""
    canvas = page.get_by_test_id("stDataFrame").first.get_by_test_id("data-grid-canvas")
    for row in rows:
        canvas.scroll_into_view_if_needed()
        box = canvas.bounding_box()  # the grid's scroller lies over its canvas and takes the clicks
        page.mouse.click(box["x"] + 12, box["y"] + 35 + 35 * row + 17)
        expect(canvas.locator(f"tr[aria-rowindex='{row + 2}']")).to_have_attribute("aria-selected", "true")
        wait_ready(page)


def scroll_grid_right(page: Page) -> None:
    """The grid draws (and copies into its accessible table) only the columns in view: scroll to the last ones."""
    page.get_by_test_id("stDataFrame").first.locator(".dvn-scroller").evaluate(
        "el => { el.scrollLeft = el.scrollWidth; el.dispatchEvent(new Event('scroll')); }")


CHARTS_SHOWN_JS = """() => [...document.querySelectorAll('.js-plotly-plot')].every(
    el => el.getBoundingClientRect().width === 0 || getComputedStyle(el).visibility === 'visible')"""


def shot_of_charts(page: Page, name: str) -> None:
    """A screenshot once no chart is hidden: Plotly hides a chart while it redraws it, which a live page does
    every second, and a screenshot taken then shows blank charts."""
    poll_until("the charts to be drawn", lambda: page.evaluate(CHARTS_SHOWN_JS), 10, every_s=0.05)
    screenshot(page, name)


# --- tests ---

def test_two_runs_are_kept_overlaid_survive_a_server_restart_and_another_browser_sees_neither(
        e2e_restartable_server, e2e_new_page):
    server = e2e_restartable_server
    page = e2e_new_page()
    seen = [page]
    with screenshots_on_failure("runs_restart", seen):
        oldest = train_short_run(page, f"{server.url}/train?t.epochs=3", epochs=3)
        newest = train_short_run(page, f"{server.url}/train?t.epochs=4&m.units=8", epochs=4)
        assert oldest != newest

        go_to(page, "Runs", "Runs")
        check_runs_page(page, newest)
        # Picking both rows by their checkboxes overlays the same two runs, without the "latest runs" caption.
        pick_rows(page, [0, 1])
        expect(page.get_by_text("Showing your latest runs")).to_have_count(0)
        expect_overlay(page, ["#1 LSTM 8", "#2 LSTM 50"], [4, 3])
        screenshot(page, "runs_before_restart")
        key = browser_key_of(page)
        assert key is not None

        # The server restarts on the same store (and port) with a new random cookie secret; the browser keeps
        # its XSRF cookie, whose token (unsigned) is the browser's key, so the runs are still this browser's.
        server.restart()
        page.reload()
        wait_ready(page, FIRST_LOAD_MS)
        expect(heading(page, "Runs")).to_be_visible(timeout=FIRST_LOAD_MS)
        assert browser_key_of(page) == key, "the browser's key changed across the restart: its runs are lost"
        check_runs_page(page, newest)
        assert run_labels(page) == ["#1 LSTM 8", "#2 LSTM 50"]
        screenshot(page, "runs_after_restart")

        # The older run, named by the address, opens on the Train page from the store.
        open_app(page, f"{server.url}/train?run={oldest}", title="Model & training")
        expect(run_status(page)).to_contain_text("Finished: 3 epochs")
        expect(page.get_by_role("button", name="Model (.keras)")).to_be_visible()
        assert_no_exception(page)

        # Another browser sees none of them, not even with the address of one.
        other = e2e_new_page()
        seen.append(other)
        open_app(other, f"{server.url}/runs", title="Runs")
        expect(other.get_by_text("No runs yet")).to_be_visible()
        expect(other.get_by_test_id("stDataFrame")).to_have_count(0)
        assert browser_key_of(other) != key
        open_app(other, f"{server.url}/train?run={oldest}", title="Model & training")
        expect(other.get_by_test_id("stAlertContentInfo").first).to_contain_text("another browser started")
        expect(run_status(other)).to_contain_text("No run yet")
        expect(other.get_by_role("button", name="Model (.keras)")).to_have_count(0)
        go_to(other, "Runs", "Runs")
        expect(other.get_by_text("No runs yet")).to_be_visible()
        assert_no_exception(other)
        screenshot(other, "runs_other_browser")


PAIR = ("A · cell LSTM", "B · cell SimpleRNN")  # the delay preset against delay_simplernn: only the cell differs


def expect_pair_trains(page: Page, started: float, *, epochs: int = 30, limit_s: float = PAIR_S) -> None:
    """The Train page after a Theory pair was started: both lines, one loss chart with both runs, a heatmap
    each, both to the end; then the Runs page lists them, marked A/B."""
    expect(heading(page, "Model & training")).to_be_visible(timeout=FIRST_LOAD_MS)
    # the preset was loaded
    expect(page.get_by_role("spinbutton", name="Epochs", exact=True)).to_have_value(str(epochs))
    main = page.get_by_test_id("stMain")
    for label in PAIR:
        expect(main).to_contain_text(f"{label}:")
    expect(run_status(page)).to_contain_text("A/B comparison")

    # One loss chart with both runs' curves, and a hidden-state heatmap for each.
    poll_until("both runs' curves on one loss chart",
               lambda: all(trace_points(page, LOSS).get(f"{label}: train", 0) > 0 for label in PAIR),
               FIRST_EPOCH_S + 60)
    names = set(trace_points(page, LOSS))
    assert names >= {f"{label}: {part}" for label in PAIR for part in ("train", "validation")}, names
    poll_until("the heatmaps of A and B", lambda: all(has_plot(page, f"{label}: hidden state") for label in PAIR),
               FIRST_EPOCH_S)
    assert_no_exception(page)
    shot_of_charts(page, "pair_running")

    # Both train to the end.
    for label in PAIR:
        left = max(1.0, limit_s - (time.monotonic() - started))
        expect(main).to_contain_text(f"{label}: finished, {epochs} of {epochs} epochs", timeout=left * 1000)
    print(f"the pair trained in {time.monotonic() - started:.0f} s")
    wait_ready(page)
    poll_until(f"{epochs} epochs of each on the loss chart",
               lambda: all(trace_points(page, LOSS).get(f"{label}: train") == epochs for label in PAIR), 30)
    expect(page.get_by_role("link", name=re.compile("Both runs are on the Runs page"))).to_be_visible()
    assert_no_exception(page)
    shot_of_charts(page, "pair_finished")


def expect_pair_listed(page: Page, units: int) -> None:
    """The Runs page lists both runs of the pair, marked A/B, and overlays them."""
    go_to(page, "Runs", "Runs")
    expect_runs_listed(page, 2)
    grid = runs_grid(page)
    expect(grid).to_contain_text("LSTM")
    expect(grid).to_contain_text("SimpleRNN")
    scroll_grid_right(page)
    expect(grid.locator("td", has_text=re.compile(r"^A/B$"))).to_have_count(2)
    poll_until("both runs on the Runs page's chart",
               lambda: sorted(run_labels(page)) == [f"#1 SimpleRNN {units}", f"#2 LSTM {units}"], 30)
    diff = page.get_by_test_id("stDataFrame").filter(has_text="model.cell").locator("table[role=grid]")
    expect(diff).to_contain_text("model.cell")
    assert_no_exception(page)
    screenshot(page, "pair_on_runs_page")


def test_the_long_memory_lesson_trains_lstm_and_simplernn_side_by_side(e2e_server, e2e_page):
    """One click on the Theory page (after choosing T = 50, to be quicker than the T = 100 the bench measures)
    trains the adding lesson's LSTM(64) against a SimpleRNN(64) and opens the Train page, without an exception
    (the sidebar's preset picker is already drawn when the button's code runs, so the preset it shows may only
    change in a callback): the LSTM's test MSE ends below 0.01, the SimpleRNN's near the mean baseline (0.16),
    and the gradients-through-time chart draws a line for each."""
    page = e2e_page
    with screenshots_on_failure("runs_pair", [page]):
        open_app(page, f"{e2e_server}/theory", title="Theory")
        page.get_by_role("tab", name="Long sequences").click()
        slider = page.get_by_test_id("stSlider").filter(has_text="Sequence length T").get_by_role("slider")
        slider.focus()
        page.keyboard.press("ArrowLeft")  # 100 -> 50
        button = page.get_by_role("button", name="Adding problem, 50 steps: LSTM and SimpleRNN side by side")
        expect(button).to_be_visible()
        wait_ready(page)
        started = time.monotonic()
        button.click()
        exception = page.get_by_test_id("stException")
        expect(heading(page, "Model & training").or_(exception)).to_be_visible(timeout=FIRST_LOAD_MS)
        if exception.count():
            pytest.fail("the Theory page's pair button raised an exception (its traceback is in the server log, "
                        "tests/e2e/screenshots/server.log)", pytrace=False)
        expect_pair_trains(page, started, limit_s=LESSON_S)
        elapsed = time.monotonic() - started
        text = page.get_by_test_id("stMain").inner_text()
        tests = dict(re.findall(r"(A|B) · cell \w+: finished, 30 of 30 epochs; test loss ([0-9.]+)", text))
        assert float(tests["A"]) < 0.01, f"the LSTM's test MSE is {tests['A']} after {elapsed:.0f} s"
        # Always guessing the mean scores about 0.16 (the lesson's JSON: 0.160 at T = 50).
        assert abs(float(tests["B"]) - 0.16) < 0.03, f"the SimpleRNN's test MSE is {tests['B']}, not near the mean's"
        gradients = trace_points(page, "Gradients through time")
        assert all(gradients.get(label, 0) == 50 for label in PAIR), gradients  # one point per input step
        screenshot(page, "lesson_pair_finished")
        expect_pair_listed(page, units=64)


def test_the_previous_run_stays_on_screen_faded_after_a_new_one_starts(e2e_server, e2e_page):
    page = e2e_page
    with screenshots_on_failure("runs_previous", [page]):
        first = train_short_run(page, f"{e2e_server}/train?t.epochs=3", epochs=3)
        # The first run of this browser has nothing to compare with.
        expect(page.get_by_text("Grey: your previous run")).to_have_count(0)
        assert not any(name.startswith("previous run") for name in trace_points(page, LOSS))

        open_app(page, f"{e2e_server}/train?t.epochs={LONG_EPOCHS}&m.units=8", title="Model & training")
        page.get_by_role("button", name="Train").click()
        expect(run_status(page)).to_contain_text(re.compile("Queued|Running"))
        # The first run's chart has no previous run: one with it is the new run's.
        poll_until("the new run's first loss point, over the previous run",
                   lambda: "previous run, train" in (points := trace_points(page, LOSS)) and points.get("train"),
                   FIRST_EPOCH_S)
        assert run_id(page) != first
        expect(run_status(page)).to_contain_text("Running")
        expect(page.get_by_text("Grey: your previous run (LSTM 50)")).to_be_visible()
        previous = {t["name"]: t for t in traces_of(page, LOSS) if t["name"].startswith("previous run")}
        assert set(previous) == {"previous run, train", "previous run, validation"}, previous
        assert all(t["points"] == 3 and t["opacity"] < 1 for t in previous.values()), previous
        # It stays while the new curve grows.
        grown = trace_points(page, LOSS)["train"]
        poll_until("more points of the new run",
                   lambda: trace_points(page, LOSS).get("train", 0) > grown
                   and trace_points(page, LOSS).get("previous run, train") == 3, 60)
        assert_no_exception(page)
        shot_of_charts(page, "previous_run_faded")

        page.get_by_role("button", name="⏹ Stop").click()
        expect(run_status(page)).to_contain_text("Stopped")
        wait_ready(page)
        expect(page.get_by_text("Grey: your previous run (LSTM 50)")).to_be_visible()
        poll_until("the previous run after Stop", lambda: trace_points(page, LOSS).get("previous run, train") == 3,
                   15)
        assert_no_exception(page)
