"""A run faster than the page (the seed preset: 100 epochs in about 1.5 s, 3 s on a busy machine) is still seen
learning: the loss curve grows through at least ten visibly different states between Train and Finished (#18),
drawn a frame a tick while it trains and replayed once it has ended, and Skip shows its end at once.

Run with `python -m pytest tests/e2e/test_replay.py -q` (fixtures in conftest.py).
"""

from __future__ import annotations

import re
import time

import pytest
from browser_helpers import (
    assert_no_exception,
    choose,
    go_to,
    load_preset,
    open_app,
    points_of,
    screenshot,
    screenshots_on_failure,
)
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e

PACE_LINE = re.compile("A fast run|Replaying")  # the line above a run drawn frame by frame, while it trains or after
RUN_S = 180  # a first run of the server also waits for its worker to import TensorFlow


def test_the_seed_preset_is_drawn_growing_between_train_and_finished(e2e_server, e2e_page):
    page = e2e_page
    with screenshots_on_failure("replay", [page]):
        open_app(page, e2e_server)
        load_preset(page, "seed")
        go_to(page, "Model & training", "Model & training")
        finished = page.get_by_test_id("stAlertContentSuccess").filter(has_text="Trained all 100 epochs")
        page.get_by_role("button", name="Train").click()
        states, paced = [], False
        deadline = time.monotonic() + RUN_S
        while not finished.is_visible():
            assert time.monotonic() < deadline, f"the run did not finish within {RUN_S} s; states seen: {states}"
            points = points_of(page, "Loss")
            if points and (not states or points != states[-1]):
                states.append(points)
            pace_line = page.get_by_test_id("stAlertContentInfo").filter(has_text=PACE_LINE)
            if not paced and pace_line.count():
                paced = True
                screenshot(page, "replay_running")
                expect(page.get_by_role("combobox", name="Replay speed")).to_have_value("normal")  # its help's default
            time.sleep(0.05)
        assert paced, "the run was never drawn frame by frame: was it slower than the page?"
        assert len(set(states)) >= 10, f"the loss chart was drawn in only {len(set(states))} states: {states}"
        assert states == sorted(states)  # growing, never back
        assert points_of(page, "Loss") >= 100
        assert_no_exception(page)
        screenshot(page, "replay_finished")

        # Skip: a second run shows its end at once.
        page.get_by_role("button", name="Train").click()
        skip = page.get_by_role("button", name="Skip")
        expect(skip).to_be_visible(timeout=RUN_S * 1000)
        skip.click()
        expect(finished).to_be_visible()
        assert_no_exception(page)


def test_play_on_inspect_steps_through_the_snapshots(e2e_server, e2e_page):
    page = e2e_page
    with screenshots_on_failure("inspect_play", [page]):
        open_app(page, e2e_server)
        load_preset(page, "seed")
        go_to(page, "Model & training", "Model & training")
        page.get_by_role("button", name="Train").click()
        page.get_by_role("button", name="Skip").click(timeout=RUN_S * 1000)
        # Skip may come while it still trains (its first epochs): Inspect's film is of the whole run.
        expect(page.get_by_test_id("stAlertContentSuccess").filter(has_text="Trained all 100 epochs")).to_be_visible(
            timeout=RUN_S * 1000)
        go_to(page, "Inspect", "Inspect")
        thumb = page.get_by_test_id("stSliderThumbValue").first
        expect(thumb).to_have_text("100")
        choose(page, page.get_by_role("combobox", name="Speed"), "fast")
        page.get_by_text("▶ Play").click()
        seen, deadline = [], time.monotonic() + 60
        while time.monotonic() < deadline and (not seen or seen[-1] != "100" or len(seen) < 2):
            value = thumb.inner_text()
            if not seen or value != seen[-1]:
                seen.append(value)
            time.sleep(0.1)
        numbers = [int(v) for v in seen]
        assert numbers[:2] == [100, 1] and numbers[-1] == 100, numbers  # from the first snapshot to the last
        assert len(numbers) >= 8 and numbers[1:] == sorted(numbers[1:]), numbers
        expect(page.get_by_role("switch", name="▶ Play")).not_to_be_checked()  # the film stops at its end
        assert_no_exception(page)
