"""The character-level language model (#16) in a real browser: a person pastes a text of their own on the Data
page, sees it previewed as text (never as Markdown or HTML), trains a small network on it, watches a sample at
every snapshot, and on Inspect continues a prompt and looks for units that mean something.

Run with `python -m pytest tests/e2e/test_text.py -q` (fixtures in conftest.py: one server, one system Chromium).
Screenshots of the pages seen, and of the page open when the test fails, go to tests/e2e/screenshots/.
"""

from __future__ import annotations

import re

import pytest
from browser_helpers import (
    assert_no_exception,
    choose,
    expect_share_link,
    go_to,
    has_plot,
    open_app,
    plots,
    poll_until,
    run_status,
    screenshot,
    screenshots_on_failure,
    wait_ready,
)
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.e2e

RUN_S = 240  # the first run of a server waits for its worker to import TensorFlow and compile the model
EPOCHS = 4
MARKUP = "Markup stays text: <b>not bold</b> and **not bold** either."
PROMPT = "The cat "

# Sample captions ("Epoch N · validation …") of the Train page, each with the text of the code block after it.
SAMPLES_JS = """() => {
    const parts = document.querySelectorAll(
        '[data-testid=stMain] [data-testid=stCaptionContainer], [data-testid=stMain] [data-testid=stCode]');
    const samples = [];
    let caption = null;
    for (const el of parts) {
        if (el.getAttribute('data-testid') === 'stCaptionContainer') {
            const text = el.innerText.trim();
            caption = /^Epoch \\d+ · validation /.test(text) ? text : null;
        } else if (caption !== null) {
            samples.push({caption: caption, text: el.innerText.trim()});
            caption = null;
        }
    }
    return samples;
}"""


def own_text() -> str:
    """A few thousand characters of English: one paragraph, repeated with variations, and a line of markup."""
    animals = ["cat", "dog", "fox", "hen", "owl", "bee", "elk", "ant"]
    places = ["garden", "kitchen", "meadow", "river", "station", "library"]
    lines = [MARKUP]
    for i in range(48):
        animal, place = animals[i % len(animals)], places[i % len(places)]
        lines.append(f"The {animal} walked to the {place} in the morning, and the {animal} sat there until noon. "
                     f"Day {i + 1}: it was {'sunny' if i % 3 else 'raining'}, so it went home again.")
    return "\n".join(lines) + "\n"


def set_number(page: Page, label: str, value: int | float) -> None:
    box = page.get_by_role("spinbutton", name=label, exact=True)
    box.fill(str(value))
    box.press("Enter")
    wait_ready(page)
    expect(box).to_have_value(str(value))


def samples(page: Page) -> list[dict]:
    return page.evaluate(SAMPLES_JS)


def sample_epochs(page: Page) -> list[int]:
    return [int(re.match(r"Epoch (\d+)", s["caption"]).group(1)) for s in samples(page)]


# --- the test ---

def test_own_text_trains_samples_live_and_is_inspected(e2e_server, e2e_page):
    page = e2e_page
    with screenshots_on_failure("text", [page]):
        # Data: the text task, the person's own text pasted, previewed as text.
        open_app(page, e2e_server)
        choose(page, page.get_by_role("combobox", name="Generator"), "Text (next character)")
        wait_ready(page)
        source = page.get_by_role("combobox", name="Text", exact=True)
        choose(page, source, "My own text (paste or upload)")
        wait_ready(page)
        expect(source).to_have_value("My own text (paste or upload)")
        expect(page.get_by_text("The preview shows your text once it is pasted or uploaded.")).to_be_visible()

        text = own_text()
        assert 3000 < len(text) < 10_000
        box = page.get_by_role("textbox", name="Paste your text")
        box.fill(text)
        box.press("Control+Enter")  # the text area hands its value over on Ctrl+Enter (or on blur)
        expect(page.get_by_text(f"Learning the pasted text: {len(text):,} characters.")).to_be_visible()
        preview = page.locator(".st-key-data_preview")
        expect(preview).to_contain_text("The start of the training text")
        expect(preview).to_contain_text("distinct characters")
        start = preview.get_by_test_id("stCode").first
        expect(start).to_contain_text("<b>not bold</b>")
        expect(start).to_contain_text("**not bold**")
        expect(page.locator("b", has_text="not bold")).to_have_count(0)
        expect(page.locator("strong", has_text="not bold")).to_have_count(0)
        assert_no_exception(page)
        screenshot(page, "text_data_own")

        # Small settings through the widgets (a link never carries the pasted text).
        set_number(page, "Window T (characters)", 30)
        set_number(page, "Stride (characters, 0 = T)", 5)
        expect_share_link(page, re.compile(r"d\.seq_len=30.*d\.stride=5"))
        expect(preview).to_contain_text("The start of the training text")

        go_to(page, "Model & training", "Model & training")
        set_number(page, "Units per layer", 32)
        set_number(page, "Epochs", EPOCHS)
        set_number(page, "Learning rate", 0.01)
        page.get_by_text("Training", exact=True).click()  # the expander of the less-changed settings
        set_number(page, "Batch size", 32)
        page.get_by_text("More training settings").click()
        set_number(page, "Snapshot every (epochs)", 1)
        link = expect_share_link(page, "t.snapshot_every=1")
        for setting in ("d.generator=text", "d.text_source=own", "m.units=32", f"t.epochs={EPOCHS}"):
            assert setting in link, (setting, link)

        # Train: a sample at every snapshot, newest first, changing as the network learns.
        page.get_by_role("button", name="▶️ Train").click()
        expect(run_status(page)).to_contain_text(re.compile("Queued|Running|Finished"))
        poll_until("a first live sample", lambda: sample_epochs(page), RUN_S)
        screenshot(page, "text_live_samples")
        expect(page.get_by_test_id("stAlertContentSuccess")).to_contain_text(f"Trained all {EPOCHS} epochs",
                                                                             timeout=RUN_S * 1000)
        wait_ready(page)
        poll_until("a sample for every epoch", lambda: sample_epochs(page) == list(range(EPOCHS, 0, -1)), 30)
        shown = samples(page)
        for sample in shown:
            assert "bits/char" in sample["caption"], sample
            assert sample["text"], sample
        assert len({s["text"] for s in shown}) == len(shown), [s["text"] for s in shown]
        assert has_plot(page, "Bits per character")
        assert_no_exception(page)
        screenshot(page, "text_trained")

        # Inspect: continue a prompt, then the units that follow a pattern.
        go_to(page, "Inspect", "Inspect")
        expect(page.get_by_role("heading", name="Continue a prompt")).to_be_visible()
        prompt = page.get_by_role("textbox", name="Prompt", exact=True)
        prompt.fill(PROMPT)
        prompt.press("Enter")
        continuation = page.get_by_test_id("stCode").filter(has_text=PROMPT.strip()).first
        poll_until("the continuation to start with the prompt",
                   lambda: continuation.is_visible() and continuation.inner_text().startswith(PROMPT), 30)
        wait_ready(page)  # the code block comes mid-run: let the rerun end before the next widget is touched
        assert len(continuation.inner_text()) > len(PROMPT)
        poll_until("the continuation chart", lambda: has_plot(
            page, f"The continuation, each character coloured by the probability the network gave it (epoch {EPOCHS})"),
            30)
        expect(page.get_by_role("heading", name="Cells that mean something")).to_be_visible()
        # The default pattern, inside double quotes, matches nothing in this text: pick one that does.
        pattern = page.get_by_role("combobox", name="Pattern", exact=True)
        pattern.scroll_into_view_if_needed()  # a scroll right after the click closes the dropdown it opened
        choose(page, pattern, "start of a word")
        wait_ready(page)
        poll_until("the unit view", lambda: any(re.match(r"Unit \d+ of layer 1", p["title"])
                                               for p in plots(page)), 30)
        expect(page.locator("table th", has_text="correlation")).to_be_visible()
        assert_no_exception(page)
        screenshot(page, "text_inspect")
