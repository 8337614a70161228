"""What a hostile visitor can cost a hosted server: its memory after links that ask for huge data, an upload
that bypasses the widget's limit, and the CPU a very wide CSV takes.

    python bench/hostile.py [--json hostile.json]

Starts ONE server in hosted mode (SEQCORE_HOSTED=1) on 127.0.0.1 and drives it with the system Chromium:
1. the server's RSS after its first page;
2. five links that each ask for 5000 × 200 random digits over 50 tokens (seeds 1..5), the RSS after each
   (before the hosted caps, these took a server from 373 MB to 2.4 GB);
3. a 143 MB upload sent straight to the upload endpoint, as a script would (status and RSS after);
4. a 2.7 MB CSV with 200,001 columns uploaded through the widget: the server's CPU seconds until the page
   shows its verdict (33 s before the header check).
Prints a table (and writes the numbers with --json). Every request goes to the local server only.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import servers  # noqa: E402

READY_JS = """() => {
  const app = document.querySelector('[data-testid=stApp]');
  return !!app && app.getAttribute('data-test-connection-state') === 'CONNECTED'
    && app.getAttribute('data-test-script-state') === 'notRunning' && !!document.querySelector('h1');
}"""
BIG_LINK = "/?d.generator=random_digits&d.n_sequences=5000&d.seq_len=200&d.vocab_size=50&d.seed={seed}"
UPLOAD_MB = 143
WIDE_COLUMNS = 200_001


def rss_mb(pid: int) -> float:
    return psutil.Process(pid).memory_info().rss / 2**20


def cpu_s(pid: int) -> float:
    times = psutil.Process(pid).cpu_times()
    return times.user + times.system


def open_page(browser, url: str):
    page = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
    page.goto(url)
    page.wait_for_function(READY_JS, timeout=120_000)
    return page


def choose_csv(page) -> None:
    page.get_by_role("combobox", name="Generator").click()
    page.get_by_role("option", name="My CSV file", exact=True).click()
    page.get_by_test_id("stFileUploaderDropzoneInput").wait_for(state="attached")


def measure(browser, server: servers.StreamlitServer, tmp: Path) -> dict:
    pid = server.process.pid
    first = open_page(browser, server.url)
    time.sleep(2)
    out = {"first page": rss_mb(pid)}
    for seed in range(1, 6):
        page = open_page(browser, server.url + BIG_LINK.format(seed=seed))
        refused = page.get_by_text("input values").count() > 0
        out[f"link {seed}"] = rss_mb(pid)
        out[f"link {seed} refused"] = refused
        page.context.close()

    choose_csv(first)
    uploads = []
    first.on("request", lambda r: uploads.append(r) if "/_stcore/upload_file/" in r.url and r.method == "PUT"
             else None)
    small = tmp / "small.csv"
    small.write_text("v\n" + "".join(f"{i % 13}\n" for i in range(300)))
    first.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(small))
    first.get_by_text("Using small.csv").wait_for(timeout=60_000)
    sent = uploads[-1]
    headers = {k: v for k, v in sent.headers.items() if k.lower() == "x-xsrftoken"}
    response = first.request.put(sent.url, headers=headers, timeout=120_000, multipart={
        "file": {"name": "big.csv", "mimeType": "text/csv", "buffer": b"1\n" * (UPLOAD_MB * 2**20 // 2)}})
    out["upload status"] = response.status
    time.sleep(1)
    out["after upload"] = rss_mb(pid)

    wide = tmp / "wide.csv"
    wide.write_text(",".join(f"c{i}" for i in range(WIDE_COLUMNS)) + "\n" + ",".join("1" * WIDE_COLUMNS) + "\n")
    before = cpu_s(pid)
    started = time.monotonic()
    first.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(wide))
    first.get_by_text("is too wide").wait_for(timeout=120_000)
    out["wide CSV: server CPU s"] = cpu_s(pid) - before
    out["wide CSV: wall s"] = time.monotonic() - started
    out["wide CSV size MB"] = wide.stat().st_size / 1e6
    out["end"] = rss_mb(pid)
    return out


def shown(name: str, value) -> str:
    """Server RSS in MB, seconds and sizes as they are named, the rest as it is."""
    if isinstance(value, bool) or not isinstance(value, float):
        return str(value)
    if name.endswith(" s") or name.endswith(" MB"):
        return f"{value:.2f}"
    return f"{value:.0f} MB RSS"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, help="write the numbers here")
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    tmp = Path(tempfile.mkdtemp(prefix="seqcore-hostile-"))
    env = {**os.environ, "SEQCORE_HOSTED": "1", "SEQCORE_WARM_DELAY_S": "3600"}  # no worker: the server alone
    with servers.StreamlitServer("app.py", tmp / "server.log", env) as server, sync_playwright() as playwright:
        server.wait_healthy(120)
        browser = playwright.chromium.launch(executable_path=servers.CHROMIUM, args=servers.CHROMIUM_ARGS)
        try:
            out = measure(browser, server, tmp)
        finally:
            browser.close()
    print("| measurement | value |\n| --- | --: |")
    for name, value in out.items():
        print(f"| {name} | {shown(name, value)} |")
    if args.json:
        args.json.write_text(json.dumps({"date": time.strftime("%Y-%m-%dT%H:%M:%S"), "results": out}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
