"""Two web replicas behind nginx, on one Ray cluster and one PostgreSQL run store (bench/replicas.py), in a real
browser: a run trained through replica A is there when the browser's reload lands on replica B.

Run with `python -m pytest tests/e2e/test_replicas.py -q`: it starts a Ray head, PostgreSQL (tests/conftest.py's
`postgres_url`), two Streamlit servers and nginx, all on 127.0.0.1.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from browser_helpers import (
    FIRST_LOAD_MS,
    assert_no_exception,
    go_to,
    heading,
    run_status,
    screenshot,
    screenshots_on_failure,
    wait_ready,
)
from playwright.sync_api import expect

from bench.replicas import REPLICA_HEADER, ROUTE_COOKIE, deployment

pytestmark = pytest.mark.e2e

RUN_S = 300  # the cluster's trainers import TensorFlow and warm up while the first run waits
EPOCHS = 3


@pytest.fixture
def two_replicas(postgres_url, tmp_path):
    with deployment(2, store_url=postgres_url, log_dir=tmp_path) as running:
        yield running


def test_a_run_trained_on_one_replica_is_there_when_the_reload_lands_on_the_other(two_replicas, e2e_new_page):
    cluster = two_replicas
    page = e2e_new_page()
    with screenshots_on_failure("replicas", [page]):
        response = page.goto(f"{cluster.url}/train?t.epochs={EPOCHS}", timeout=FIRST_LOAD_MS)
        first = response.headers[REPLICA_HEADER.lower()]
        wait_ready(page, FIRST_LOAD_MS)
        expect(heading(page, "Model & training")).to_be_visible(timeout=FIRST_LOAD_MS)
        page.get_by_role("button", name="Train").click()
        expect(run_status(page)).to_contain_text(f"Finished: {EPOCHS} epochs", timeout=RUN_S * 1000)
        wait_ready(page)
        run = parse_qs(urlsplit(page.url).query)["run"][0]

        # The balancer moves this browser to the other replica (as when A is taken out): a routing key that nginx
        # hashes to B. The browser keeps its other cookies, Streamlit's XSRF one among them.
        other = None
        for n in range(64):
            page.context.add_cookies([{"name": ROUTE_COOKIE, "value": f"moved-{n}", "url": cluster.url}])
            other = page.request.get(f"{cluster.url}/_stcore/health").headers[REPLICA_HEADER.lower()]
            if other != first:
                break
        assert other not in (None, first), "no routing key sends this browser to the other replica"
        response = page.reload(timeout=FIRST_LOAD_MS)
        assert response.headers[REPLICA_HEADER.lower()] == other
        wait_ready(page, FIRST_LOAD_MS)
        expect(heading(page, "Model & training")).to_be_visible(timeout=FIRST_LOAD_MS)
        assert parse_qs(urlsplit(page.url).query)["run"][0] == run
        expect(run_status(page)).to_contain_text(f"Finished: {EPOCHS} epochs", timeout=30_000)
        expect(page.get_by_role("button", name="Model (.keras)")).to_be_visible()
        go_to(page, "Runs", "Runs")
        expect(page.get_by_text("1 run(s) of this browser")).to_be_visible()
        screenshot(page, "replicas_runs_on_b")
        assert_no_exception(page)
