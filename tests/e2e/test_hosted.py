"""The hosted demo in a real browser (SEQCORE_HOSTED=1, one training slot): limits on links and uploads, the
queue, and sessions that see only their own runs.

The classroom-sized version of the queue (30 sessions) is `bench/load.py`; these check what one student sees.
"""

from __future__ import annotations

import re

import pytest
from browser_helpers import (
    FIRST_LOAD_MS,
    assert_no_exception,
    choose,
    epoch_metric,
    expect_share_link,
    go_to,
    open_app,
    run_status,
    screenshot,
    wait_ready,
)
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.e2e

RUN_S = 240  # a queued run waits for the first one, which may be compiling while the machine is busy


def panel_text(page: Page) -> str:
    return page.get_by_test_id("stMain").inner_text()


def help_of(page: Page, label: str) -> str:
    """The tooltip text of a number input: hover its help icon."""
    page.get_by_test_id("stNumberInput").filter(has_text=label).get_by_test_id("stTooltipIcon").hover()
    tooltip = page.get_by_test_id("stTooltipContent")
    expect(tooltip).to_be_visible()
    return tooltip.inner_text()


def test_a_link_above_the_demo_limits_opens_lowered_and_says_why(e2e_hosted_server, e2e_page):
    page = e2e_page
    open_app(page, f"{e2e_hosted_server}/train?m.units=512&t.epochs=5000", title="Model & training")
    warning = page.get_by_test_id("stAlertContentWarning")
    expect(warning).to_contain_text("model.units: 512 is above this server's hosted limit, so 128 is used")
    expect(warning).to_contain_text("train.epochs: 5000 is above this server's hosted limit, so 300 is used")
    expect(page.get_by_role("spinbutton", name="Units per layer")).to_have_value("128")
    expect(page.get_by_role("spinbutton", name="Epochs", exact=True)).to_have_value("300")
    expect_share_link(page, "m.units=128")
    assert "This server allows at most 128" in help_of(page, "Units per layer")
    assert_no_exception(page)
    screenshot(page, "hosted_lowered_link")


def test_a_csv_over_the_upload_limit_is_refused_and_the_app_goes_on(e2e_hosted_server, e2e_page, tmp_path):
    page = e2e_page
    open_app(page, e2e_hosted_server)
    choose(page, page.get_by_role("combobox", name="Generator"), "My CSV file")
    expect(page.get_by_text("CSV file (up to 5 MB)")).to_be_visible()
    big = tmp_path / "big.csv"
    row = "1.0,2.0,3.0\n"
    big.write_text("a,b,c\n" + row * (6 * 2**20 // len(row)))  # 6 MB
    page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(big))
    # Refused in the browser before a byte reaches the server: the file is marked, with the reason on hover.
    expect(page.get_by_test_id("stFileChip")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_test_id("stFileUploader")).to_contain_text("File must be 5.0MB or smaller")
    assert_no_exception(page)
    screenshot(page, "hosted_csv_too_big")

    small = tmp_path / "small.csv"
    small.write_text("day,visitors\n" + "".join(f"{i},{100 + (i * 7) % 23}\n" for i in range(300)))
    uploads = []
    page.on("request", lambda request: uploads.append(request) if "/_stcore/upload_file/" in request.url
            and request.method == "PUT" else None)
    page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(small))
    expect(page.get_by_text("Using small.csv (300 rows).")).to_be_visible(timeout=FIRST_LOAD_MS)
    assert_no_exception(page)

    # The server refuses it too: the same request as the browser's, with 6 MB in it, as a script would send.
    assert uploads, "the browser sent no upload"
    sent = uploads[-1]
    headers = {k: v for k, v in sent.headers.items() if k.lower() == "x-xsrftoken"}
    response = page.request.put(sent.url, headers=headers, multipart={
        "file": {"name": "big.csv", "mimeType": "text/csv", "buffer": big.read_bytes()}})
    assert response.status == 413, (response.status, response.text()[:200])


def test_a_second_session_queues_for_the_one_slot_and_starts_when_it_frees(e2e_hosted_server, e2e_new_page):
    first, second = e2e_new_page(), e2e_new_page()
    # A long first run holds the server's only training slot.
    long_run = "d.n_sequences=2000&m.units=128&t.epochs=300"  # minutes: far longer than this test
    open_app(first, f"{e2e_hosted_server}/train?{long_run}", title="Model & training")
    first.get_by_role("button", name="Train").click()
    expect(run_status(first)).to_contain_text(re.compile("Queued|Running"))

    # Another student: nothing of the first one's run is visible, and their own run waits its turn.
    open_app(second, f"{e2e_hosted_server}/train?t.epochs=3", title="Model & training")
    expect(second.get_by_text("Press Train to start")).to_be_visible()
    expect(second.get_by_test_id("stMetric")).to_have_count(0)
    second.get_by_role("button", name="Train").click()
    expect(second.get_by_test_id("stAlertContentInfo")).to_contain_text(
        re.compile(r"Waiting for a free training slot: you are number 1 in the queue"), timeout=RUN_S * 1000)
    expect(second.get_by_role("button", name="Train")).to_be_disabled()  # one active run per session
    assert_no_exception(second)
    screenshot(second, "hosted_queued")

    # The first stops: the slot frees, the queued run starts by itself and finishes.
    first.get_by_role("button", name="⏹ Stop").click()
    # Said at once; done within a few seconds, or (a worker still compiling on a busy machine) by replacing it.
    expect(run_status(first)).to_contain_text(re.compile("Stopping at epoch|Stopped at epoch"))
    expect(run_status(first)).to_contain_text("Stopped at epoch", timeout=60_000)
    expect(run_status(second)).to_contain_text("Finished: 3 epochs", timeout=RUN_S * 1000)
    expect(epoch_metric(second)).to_have_text("3 / 3")
    wait_ready(second)
    expect(second.get_by_role("button", name="Train")).to_be_enabled()
    assert_no_exception(second)
    screenshot(second, "hosted_after_queue")

    # Each session still sees only its own run.
    go_to(first, "Model & training", "Model & training")
    # The other's "3 / 3" as a whole: the first's own run may have stopped at "3 / 300".
    assert not re.search(r"(?<!\d)3 / 3(?!\d)", panel_text(first))
    expect(run_status(first)).to_contain_text("Stopped at epoch")
