"""Classroom load test: N browser sessions press Train on one hosted server within the same minute.

    python bench/load.py --sessions 10                       # one round of 10 sessions
    python bench/load.py --sessions 10 --sessions 30 --epochs 20 --json load.json
    python bench/load.py --sessions 30 --replicas 2 --backend ray --slots 2 --json load-ray.json

With --replicas N (or --backend ray) the sessions open nginx in front of N hosted replicas on one Ray head
started here with --slots CPUs (bench/replicas.py), sharing one run store; the servers' numbers below are then
the replicas' together, and the trainers are Ray's actors.

What it does: starts ONE server in hosted mode (`SEQCORE_HOSTED=1 streamlit run app.py`, in its own process
group, killed with all its workers at the end, whatever happens), waits for `/_stcore/health`, then for each
N opens N Playwright contexts (each its own cookies, so its own Streamlit session) in ONE system Chromium
(`/usr/bin/chromium`; never `playwright install`), driven by the async API from one process. Every session
opens `/train?<the preset's settings, with train.epochs set>`, waits until the app is ready (connected, script
not running, Train visible and enabled), and once all are ready (or --ready-timeout has passed) they all click
Train at once. Each then follows its run on the page until the sidebar's status line says Finished, Stopped,
Timed out or Failed. Between rounds the browsers close and the script waits until the server is idle.

Per session it records, from the page only (the app is a black box):
- queue wait: click -> the page first shows a started run (the sidebar line leaves "Queued", or the live
  panel shows "Compiling the network" or the epochs of a run). A MutationObserver in the page time-stamps every
  change of the sidebar line and of the panel, so the times do not depend on how often this script polls
  (they do include how late the page receives and draws them);
- time per run: click -> the sidebar line shows a final status;
- the final status; `stException` elements; error alerts (e.g. "The run failed: ..."); whether Train came
  back enabled after the run (the page followed the end); the queue position and the app's own estimate of
  the wait when the session was first seen queued; changes of the connection state; console errors;
- the websocket as the browser saw it (frames each way, per 10 s), and the longest time the page got no
  message from the server while its run was unfinished: this separates a server that stopped sending from a
  browser that stopped drawing.

A session is "refused" when the app declines politely ("Cannot train ..." or a busy message) and "lost" when
it could not be followed to its end here: never ready (--ready-timeout); frozen (no message from the server
for --silence-timeout while its run is unfinished: a live page gets a redraw every second); no final status
within --run-timeout of the click; or cancelled by the round's hard --round-timeout. Lost sessions are app
problems, never hangs of this script; each one is listed under "Problems" with what its page showed, and a
screenshot (and the server's log) are kept in the artifacts folder.

Meanwhile a thread samples every second the RSS of the streamlit process and of its `seqcore.worker`
children (peak of the server, peak of any single worker, peak of all workers together), Chromium's total
RSS, and the CPU seconds each group used in the round.

Caveat when reading the numbers: the browsers run on the same machine as the server. On a 2-core machine N
Chromium renderers compete with the training workers and the server for the CPU, so times here are
pessimistic for a real class (where each browser is someone else's laptop); the CPU seconds per group in the
notes show how much of the machine went where. Other load on the machine skews them too: the notes give the
load average before and after each round.

Browsers run at nice 10 (`--browser-nice`) without the capability to raise their priority again, and with
background-tab throttling off: in a class each browser is a laptop of its own with its tab in front, while here
they share the server's cores. The README's "Classroom load test" holds the latest numbers (N=10 and N=30:
every run finished, no errors) and what changed to get there.

Exit status: 0 when every session finished or was refused politely; 1 when any was lost, failed, timed out,
showed an exception or did not re-enable Train; 2 for bad arguments or a server that never became healthy.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime
import json
import os
import re
import shlex
import shutil
import signal
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import markers, servers  # noqa: E402
from seqcore.config import ConfigError, preset  # noqa: E402

CHROMIUM_ARGS = [*servers.CHROMIUM_ARGS,
                 # Every student's tab is in the foreground: never slow a page's timers as a background tab's.
                 "--disable-background-timer-throttling", "--disable-renderer-backgrounding",
                 "--disable-backgrounding-occluded-windows"]
READY = "[data-testid=stApp][data-test-connection-state=CONNECTED]"
VIEWPORT = {"width": 1400, "height": 1000}
SERVER_START_S = 120.0  # Python, Streamlit and the app's imports on a busy two-core machine
CLICK_CONFIRM_S = 60.0  # the status line should leave "No run yet" this long after the click
CONTROLS_FOLLOW_S = 30.0  # after the final status, Train must be enabled again within this
POLL_S = 1.0
EVALUATE_TIMEOUT_S = 30.0  # one read of the page; longer means the page (or the browser) is frozen
FINAL = {"finished": "Finished", "stopped": "Stopped", "timed_out": "Timed out", "failed": "Failed"}
T0 = time.monotonic()

# Installed once per page: time-stamps (Date.now(), epoch ms) every change of the sidebar's status line, of the
# live panel's state and of the connection state, without waiting for this script's next poll.
OBSERVER_JS = """() => {
    if (window.__load) return;
    const STATUS = /^\\S*\\s*(No run yet|Queued|Starting|Running|Paused|Finished|Stopped|Timed out|Failed)\\b/;
    // The sidebar's status line: the sidebar caption that reads like one (the preset's description is one too).
    const statusLine = () => {
        for (const el of document.querySelectorAll('[data-testid=stSidebar] [data-testid=stCaptionContainer]')) {
            const text = el.textContent.trim();  // textContent: no forced layout
            if (STATUS.test(text)) return text;
        }
        return '';
    };
    // The live panel: queued (its queue message), starting, the Epoch metric, done (the downloads are there).
    const panel = () => {
        const main = document.querySelector('[data-testid=stMain]');
        if (!main) return '';
        const alerts = [...main.querySelectorAll('[data-testid=stAlertContainer]')].map(e => e.textContent);
        const queued = alerts.find(t => t.includes('Waiting for a free training slot'));
        if (queued) {  // 'queued <position> <estimate s>'
            const m = queued.match(/number (\\d+) in the queue \\((\\d+) s so far, about (\\d+) s to go\\)/);
            return m ? `queued ${m[1]} ${m[3]}` : 'queued';
        }
        if ([...main.querySelectorAll('button')].some(b => b.textContent.includes('History (CSV)'))) return 'done';
        if (alerts.some(t => t.includes('Compiling the network'))) return 'starting';
        const metric = [...main.querySelectorAll('[data-testid=stMetric]')]
            .find(e => e.textContent.trim().startsWith('Epoch'));
        const value = metric && metric.querySelector('[data-testid=stMetricValue]');
        return value ? 'epoch ' + value.textContent.trim() : '';
    };
    const connection = () => {
        const app = document.querySelector('[data-testid=stApp]');
        return app ? app.getAttribute('data-test-connection-state') || '' : '';
    };
    const load = window.__load = {log: [], conn: [], last: {}, lastConn: null};
    const note = (source, text) => {
        if (text && text !== load.last[source]) {
            load.last[source] = text;
            load.log.push([Date.now(), source, text]);
        }
    };
    const check = () => {
        note('sidebar', statusLine());
        note('panel', panel());
        const state = connection();
        if (state && state !== load.lastConn) {
            if (load.lastConn !== null) load.conn.push([Date.now(), state]);  // changes only
            load.lastConn = state;
        }
    };
    new MutationObserver(check).observe(document.body, {
        childList: true, subtree: true, characterData: true,
        attributes: true, attributeFilter: ['data-test-connection-state']});
    check();
}"""

# One read of the page: new status-line changes since the last read, and what an error would look like.
READ_JS = """() => {
    const load = window.__load || {log: [], conn: []};
    const log = load.log.splice(0), conn = load.conn.splice(0);
    const app = document.querySelector('[data-testid=stApp]');
    const text = el => el.innerText.trim().slice(0, 500);
    const train = [...document.querySelectorAll('[data-testid=stMain] button')]
        .find(b => /\\bTrain\\b/.test(b.innerText));
    return {
        log: log, conn: conn,
        connection: app ? app.getAttribute('data-test-connection-state') : null,
        script: app ? app.getAttribute('data-test-script-state') : null,
        exceptions: [...document.querySelectorAll('[data-testid=stException]')].map(text),
        errors: [...document.querySelectorAll('[data-testid=stAlertContentError]')].map(text),
        warnings: [...document.querySelectorAll('[data-testid=stAlertContentWarning]')].map(text),
        trainEnabled: train ? !train.disabled : null,
    };
}"""

REFUSAL = re.compile(r"Cannot train|too many|busy|try again later|refus", re.IGNORECASE)
QUEUED = re.compile(r"Queued: position (\d+), waiting (\d+) s \(about (\d+) s to go\)")


def log(message: str) -> None:
    print(f"[load {time.monotonic() - T0:7.1f} s] {message}", file=sys.stderr, flush=True)


def status_of(line: str) -> str:
    """The run's status from the sidebar's status line (see pages/ui/sidebar.py: status_line)."""
    for status, word in (("none", "No run yet"), ("queued", "Queued"), ("starting", "Starting"),
                         ("running", "Running"), ("paused", "Paused"), ("finished", "Finished"),
                         ("stopped", "Stopped"), ("timed_out", "Timed out"), ("failed", "Failed")):
        if word in line:
            return status
    return "unknown"


# ------------------------------------------------------------------ the server


def hosted_env(slots: int | None) -> dict[str, str]:
    """The server's environment: a hosted demo (SEQCORE_HOSTED=1), with SEQCORE_SLOTS when --slots is given."""
    env = {**os.environ, "SEQCORE_HOSTED": "1", "PYTHONUNBUFFERED": "1"}
    if slots:
        env["SEQCORE_SLOTS"] = str(slots)
    return env


# ------------------------------------------------------------------ memory and CPU


def is_trainer(process: psutil.Process) -> bool:
    """A training process: a local pool's worker, or a Ray trainer actor (which Ray names ray::Trainer)."""
    command = " ".join(process.cmdline())
    return "seqcore.worker" in command or command.startswith("ray::Trainer")


class Sampler:
    """Every second: RSS of the servers (all replicas together), of each trainer (a seqcore worker or a Ray trainer
    actor), of Chromium; CPU seconds per group."""

    def __init__(self, server_pids: list[int], every_s: float = 1.0, ray: bool = False):
        self.server_pids, self.every_s, self.ray = server_pids, every_s, ray
        self.server_peak_mb = self.worker_peak_mb = self.workers_total_peak_mb = self.chromium_peak_mb = 0.0
        self.workers_max_count = 0
        self.worker_pids: set[int] = set()
        self._cpu: dict[str, dict[int, float]] = {"server": {}, "workers": {}, "chromium": {}}
        self._cpu_start: dict[str, dict[int, float]] | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="load-sampler", daemon=True)

    def __enter__(self) -> Sampler:
        self._sample()
        self._cpu_start = {group: dict(pids) for group, pids in self._cpu.items()}
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(5)
        self._sample()

    def cpu_seconds(self) -> dict[str, float]:
        """CPU seconds each group used while sampled (a process that died keeps its last reading)."""
        start = self._cpu_start or {}
        return {group: round(sum(t - start.get(group, {}).get(pid, 0.0) for pid, t in pids.items()), 1)
                for group, pids in self._cpu.items()}

    def _run(self) -> None:
        while not self._stop.wait(self.every_s):
            self._sample()

    @staticmethod
    def _read(proc: psutil.Process) -> tuple[float, float] | None:
        try:
            with proc.oneshot():
                cpu = proc.cpu_times()
                return proc.memory_info().rss / 2**20, cpu.user + cpu.system
        except psutil.Error:
            return None

    def _sample(self) -> None:
        candidates, servers_mb = [], 0.0
        for pid in self.server_pids:
            try:
                server = psutil.Process(pid)
                candidates += server.children(recursive=True)
            except psutil.Error:
                continue
            reading = self._read(server)
            if reading:
                servers_mb += reading[0]
                self._cpu["server"][server.pid] = reading[1]
        self.server_peak_mb = max(self.server_peak_mb, servers_mb)
        if self.ray:  # Ray's trainers are children of its raylet, not of a web server
            candidates = list(psutil.process_iter())
        workers = []
        for child in candidates:
            try:
                is_worker = is_trainer(child)
            except psutil.Error:
                continue
            reading = self._read(child) if is_worker else None
            if reading:
                workers.append(reading[0])
                self.worker_pids.add(child.pid)
                self._cpu["workers"][child.pid] = reading[1]
        if workers:
            self.worker_peak_mb = max(self.worker_peak_mb, max(workers))
            self.workers_total_peak_mb = max(self.workers_total_peak_mb, sum(workers))
            self.workers_max_count = max(self.workers_max_count, len(workers))
        chromium = 0.0
        with contextlib.suppress(psutil.Error):
            for child in psutil.Process().children(recursive=True):
                try:
                    if "chrom" not in child.name():
                        continue
                except psutil.Error:
                    continue
                reading = self._read(child)
                if reading:
                    chromium += reading[0]
                    self._cpu["chromium"][child.pid] = reading[1]
        self.chromium_peak_mb = max(self.chromium_peak_mb, chromium)


# ------------------------------------------------------------------ one session


@dataclass
class Session:
    index: int
    outcome: str = "lost"  # finished, stopped, timed_out, failed, refused, lost
    final_line: str = ""  # the status line at the end
    last_line: str = ""  # the latest status line seen
    lost_reason: str = ""
    ready_s: float | None = None  # goto -> ready
    clicked_at: float | None = None  # epoch seconds
    queue_wait_s: float | None = None  # click -> the sidebar or the panel first shows a started run
    run_s: float | None = None  # click -> the sidebar shows a final status
    sidebar_left_queue_s: float | None = None  # click -> the sidebar's line first left "Queued"
    panel_done_s: float | None = None  # click -> the panel shows the run's downloads (it ended)
    first_queue_position: int | None = None
    first_estimate_s: float | None = None
    seen_queued: bool = False
    statuses: list[str] = field(default_factory=list)  # the distinct statuses in order
    timeline: list[tuple[float, str, str]] = field(default_factory=list)  # (s after the click, source, text)
    exceptions: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # error alerts, any kind
    warnings: list[str] = field(default_factory=list)
    connection_changes: list[str] = field(default_factory=list)
    controls_followed: bool | None = None  # Train enabled again after the run
    slow_reads: int = 0  # page reads that took longer than EVALUATE_TIMEOUT_S
    # The websocket as the browser saw it: ForwardMsgs received from the server, BackMsgs sent to it.
    frames_received: int = 0
    bytes_received: int = 0
    frames_sent: int = 0
    last_frame_received_s: float | None = None  # seconds after the click (before it: negative)
    frames_received_after_end: int = 0  # after the sidebar showed the final status
    frames_before_click: int = 0
    longest_silence_s: float = 0.0  # after the click, until the end: the longest time without a frame from the server
    click_unconfirmed: bool = False  # the page still said "No run yet" CLICK_CONFIRM_S after the click
    frames_per_10s: dict[int, int] = field(default_factory=dict)  # after the click: 10-s bucket -> frames received
    bytes_per_10s: dict[int, int] = field(default_factory=dict)
    console_errors: list[str] = field(default_factory=list)
    clicks: int = 0
    screenshot: str = ""

    @property
    def run_failed_alert(self) -> bool:
        return any("run failed" in e.lower() for e in self.errors)


class Round:
    """N sessions that press Train together."""

    def __init__(self, browser, url: str, n: int, query: str, args, artifacts: Path):
        self.browser, self.n, self.args, self.artifacts = browser, n, args, artifacts
        self.page_url = f"{url}/train?{query}" if query else f"{url}/train"
        self.sessions = [Session(i) for i in range(n)]
        self.go = asyncio.Event()
        self.ready_count = 0
        self.not_ready_count = 0  # sessions that gave up before they were ready: nobody waits for them
        self.contexts = []

    async def run(self) -> None:
        tasks = [asyncio.create_task(self._session(s), name=f"session-{s.index}") for s in self.sessions]
        starter = asyncio.create_task(self._starter())
        done, pending = await asyncio.wait(tasks, timeout=self.args.round_timeout)
        for task in pending:
            task.cancel()
        if pending:
            log(f"N={self.n}: the round timeout of {self.args.round_timeout:g} s cancelled {len(pending)} sessions")
            await asyncio.wait(pending, timeout=30)
        starter.cancel()
        for task in done:
            if task.exception() is not None:
                log(f"N={self.n}: {task.get_name()} raised {task.exception()!r}")
        await asyncio.gather(*(self._close(c) for c in self.contexts), return_exceptions=True)

    @staticmethod
    async def _close(context) -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(context.close(), 30)

    async def _starter(self) -> None:
        """Let everyone click once all are ready, or when the ready timeout has passed for the slow ones."""
        deadline = time.monotonic() + self.args.ready_timeout
        while self.ready_count + self.not_ready_count < self.n and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
        log(f"N={self.n}: {self.ready_count} of {self.n} sessions ready; all click Train now")
        self.go.set()

    async def _session(self, s: Session) -> None:
        page, ready = None, False
        try:
            context = await self.browser.new_context(viewport=VIEWPORT)
            self.contexts.append(context)
            context.set_default_timeout(self.args.ready_timeout * 1000)
            page = await context.new_page()
            self._watch_traffic(page, s)
            await self._until_ready(page, s)
            ready = True
            self.ready_count += 1
            await self.go.wait()
            await self._click_and_follow(page, s)
        except asyncio.CancelledError:
            s.outcome, s.lost_reason = "lost", s.lost_reason or (
                f"cancelled by the round timeout of {self.args.round_timeout:g} s; last status: {s.last_line!r}")
            await self._last_look(page, s)
            raise
        except Exception as err:  # a Playwright timeout or a closed page: this session is lost, the others go on
            self.not_ready_count += not ready
            s.outcome = "lost"
            detail = f"{type(err).__name__}: {(str(err).splitlines() or [''])[0][:300]}"
            s.lost_reason = f"{s.lost_reason}: {detail}" if s.lost_reason else detail
            await self._last_look(page, s)
        if s.outcome in ("lost", "failed", "timed_out") or s.exceptions or s.errors:
            await self._screenshot(page, s)

    @staticmethod
    def _watch_traffic(page, s: Session) -> None:
        """Count the websocket frames each way and keep the page's console errors: when a page stops changing,
        this tells a server that stopped sending from a browser that stopped drawing."""
        def received(payload) -> None:
            s.frames_received += 1
            s.bytes_received += len(payload)
            previous = s.last_frame_received_s
            s.last_frame_received_s = round(time.time() - (s.clicked_at or time.time()), 2)
            if s.clicked_at is not None and s.run_s is None:
                gap = round(s.last_frame_received_s - max(0.0, previous or 0.0), 2)
                s.longest_silence_s = max(s.longest_silence_s, gap)
            if s.clicked_at is not None:
                bucket = int(s.last_frame_received_s // 10) * 10
                s.frames_per_10s[bucket] = s.frames_per_10s.get(bucket, 0) + 1
                s.bytes_per_10s[bucket] = s.bytes_per_10s.get(bucket, 0) + len(payload)
            if s.run_s is not None:
                s.frames_received_after_end += 1

        def sent(_payload) -> None:
            s.frames_sent += 1

        def on_websocket(ws) -> None:
            if "_stcore/stream" in ws.url:
                ws.on("framereceived", received)
                ws.on("framesent", sent)

        def on_console(message) -> None:
            url = (message.location or {}).get("url", "")
            # Opened at /train, Streamlit's frontend first looks for its server under /train/_stcore/ (404s).
            if "/_stcore/host-config" in url or "/_stcore/health" in url:
                return
            if message.type == "error" and len(s.console_errors) < 20:
                s.console_errors.append(f"{message.text[:300]} ({url})" if url else message.text[:300])

        page.on("websocket", on_websocket)
        page.on("console", on_console)

    async def _last_look(self, page, s: Session) -> None:
        """A lost session: keep what the page shows (exceptions, errors) and a screenshot."""
        if page is not None:
            with contextlib.suppress(Exception):
                await self._read(page, s)
        await self._screenshot(page, s)

    async def _screenshot(self, page, s: Session) -> None:
        if page is None or s.screenshot:
            return
        path = self.artifacts / f"n{self.n}-session{s.index:02d}.png"
        with contextlib.suppress(Exception):
            await asyncio.wait_for(page.screenshot(path=str(path)), 45)
            s.screenshot = str(path)

    async def _until_ready(self, page, s: Session) -> None:
        started = time.monotonic()
        timeout_ms = self.args.ready_timeout * 1000
        s.lost_reason = "never ready"
        await page.goto(self.page_url, timeout=timeout_ms)
        app = page.locator(READY)
        await app.wait_for(state="visible", timeout=timeout_ms)
        train = page.get_by_test_id("stMain").get_by_role("button", name="Train")
        await train.wait_for(state="visible", timeout=timeout_ms)
        remaining = max(1.0, self.args.ready_timeout - (time.monotonic() - started))
        await page.wait_for_function(
            f"""() => {{
                const app = document.querySelector('{READY}');
                const train = [...document.querySelectorAll('[data-testid=stMain] button')]
                    .find(b => /\\bTrain\\b/.test(b.innerText));
                return app && app.getAttribute('data-test-script-state') === 'notRunning' && train && !train.disabled;
            }}""", timeout=remaining * 1000, polling=250)
        await page.evaluate(OBSERVER_JS)
        s.ready_s = round(time.monotonic() - started, 2)
        s.lost_reason = ""

    async def _read(self, page, s: Session) -> dict | None:
        started = time.monotonic()
        try:
            state = await asyncio.wait_for(page.evaluate(READ_JS), EVALUATE_TIMEOUT_S)
        except TimeoutError:
            s.slow_reads += 1
            return None
        if time.monotonic() - started > EVALUATE_TIMEOUT_S / 2:
            s.slow_reads += 1
        for stamp_ms, source, text in state["log"]:
            self._on_change(s, stamp_ms / 1000, source, text)
        for stamp_ms, conn in state["conn"]:
            s.connection_changes.append(f"{stamp_ms / 1000 - (s.clicked_at or stamp_ms / 1000):+.1f} s {conn}")
        for kind in ("exceptions", "errors", "warnings"):
            seen = getattr(s, kind)
            seen.extend(t for t in state[kind] if t not in seen)
        return state

    @staticmethod
    def _on_change(s: Session, at: float, source: str, text: str) -> None:
        """A change of the sidebar's status line or of the live panel, time-stamped in the page."""
        after = round(at - (s.clicked_at or at), 2)
        if len(s.timeline) < 600:
            s.timeline.append((after, source, text[:160]))
        if s.clicked_at is None:
            return
        if source == "panel":
            if text.startswith("queued"):
                s.seen_queued = True
                numbers = text.split()[1:]
                if len(numbers) == 2 and s.first_queue_position is None:
                    s.first_queue_position, s.first_estimate_s = int(numbers[0]), float(numbers[1])
            elif s.queue_wait_s is None and (text in ("starting", "done") or text.startswith("epoch")):
                s.queue_wait_s = after  # the panel left the queue (it shows the epochs of a started run)
            if text == "done" and s.panel_done_s is None:
                s.panel_done_s = after
            return
        s.last_line = text
        status = status_of(text)
        if not s.statuses or s.statuses[-1] != status:
            s.statuses.append(status)
        if status == "queued":
            s.seen_queued = True
            match = QUEUED.search(text)
            if match and s.first_queue_position is None:
                s.first_queue_position, s.first_estimate_s = int(match.group(1)), float(match.group(3))
            return
        if status in ("none", "unknown"):
            return
        if s.sidebar_left_queue_s is None:
            s.sidebar_left_queue_s = after
        s.queue_wait_s = after if s.queue_wait_s is None else min(s.queue_wait_s, after)
        if status in FINAL and s.run_s is None:
            s.run_s, s.final_line = after, text

    async def _click_and_follow(self, page, s: Session) -> None:
        train = page.get_by_test_id("stMain").get_by_role("button", name="Train")
        await self._read(page, s)  # drop the lines seen before the click
        s.clicked_at = time.time()
        s.frames_before_click = s.frames_received
        s.clicks += 1
        await train.click(timeout=CLICK_CONFIRM_S * 1000)
        clicked = time.monotonic()
        deadline = clicked + self.args.run_timeout
        while True:
            await asyncio.sleep(POLL_S)
            state = await self._read(page, s)
            if s.run_s is not None:
                s.outcome = status_of(s.final_line)
                break
            if state and any(REFUSAL.search(t) for t in state["errors"] + state["warnings"]):
                s.outcome = "refused"
                return
            if s.statuses[-1:] in (["none"], []) and time.monotonic() - clicked > CLICK_CONFIRM_S:
                s.click_unconfirmed = True  # keep waiting: a late page shows the run late (see silence below)
            since = s.last_frame_received_s if s.last_frame_received_s is not None else 0.0
            silent = time.time() - s.clicked_at - max(0.0, since)
            if silent > self.args.silence_timeout:
                s.longest_silence_s = max(s.longest_silence_s, round(silent, 1))
                s.lost_reason = (f"the page froze: no message from the server for {silent:.0f} s while it says "
                                 f"{s.last_line!r}")
                return
            if s.panel_done_s is not None and time.time() - s.clicked_at - s.panel_done_s > CLICK_CONFIRM_S:
                s.lost_reason = (f"the panel showed the end of the run, but {CLICK_CONFIRM_S:g} s later the sidebar "
                                 f"still says {s.last_line!r}")
                return
            if time.monotonic() > deadline:
                s.lost_reason = f"no final status {self.args.run_timeout:g} s after the click: {s.last_line!r}"
                return
        # The page should follow the end of the run: Train enabled again (the rerun after the run ended).
        follow_deadline = time.monotonic() + CONTROLS_FOLLOW_S
        s.controls_followed = False
        while time.monotonic() < follow_deadline:
            state = await self._read(page, s)
            if state and state["trainEnabled"] and state["script"] == "notRunning":
                s.controls_followed = True
                break
            await asyncio.sleep(POLL_S)


# ------------------------------------------------------------------ the report


def summarize(n: int, sessions: list[Session], sampler: Sampler, wall_s: float, load: tuple, extra: dict) -> dict:
    def stats(values):
        values = [v for v in values if v is not None]
        return (round(statistics.median(values), 1), round(max(values), 1)) if values else (None, None)

    counts = {k: sum(s.outcome == k for s in sessions) for k in ("finished", "stopped", "timed_out", "failed",
                                                                  "refused", "lost")}
    errors_seen = sum(bool(s.exceptions) or s.run_failed_alert for s in sessions)
    waits = stats(s.queue_wait_s for s in sessions)
    runs = stats(s.run_s for s in sessions if s.outcome == "finished")
    estimates = [(s.first_estimate_s, s.queue_wait_s) for s in sessions
                 if s.first_estimate_s is not None and s.queue_wait_s is not None]
    return {
        "sessions": n, **counts, "errors_seen": errors_seen,
        "exceptions": sum(len(s.exceptions) for s in sessions),
        "run_failed_alerts": sum(s.run_failed_alert for s in sessions),
        "queue_wait_median_s": waits[0], "queue_wait_max_s": waits[1],
        "run_median_s": runs[0], "run_max_s": runs[1],
        "ready_median_s": stats(s.ready_s for s in sessions)[0], "ready_max_s": stats(s.ready_s for s in sessions)[1],
        "seen_queued": sum(s.seen_queued for s in sessions),
        "max_queue_position": max((s.first_queue_position or 0 for s in sessions), default=0),
        "estimate_vs_wait": estimates,
        "controls_not_following": sum(s.controls_followed is False for s in sessions),
        "clicks_unconfirmed": sum(s.click_unconfirmed for s in sessions),
        "longest_silence_median_s": stats(s.longest_silence_s for s in sessions if s.clicked_at)[0],
        "longest_silence_max_s": stats(s.longest_silence_s for s in sessions if s.clicked_at)[1],
        "frozen_pages": sum(s.lost_reason.startswith("the page froze") for s in sessions),
        "connection_changes": sum(len(s.connection_changes) for s in sessions),
        "slow_reads": sum(s.slow_reads for s in sessions),
        "server_rss_peak_mb": round(sampler.server_peak_mb), "worker_rss_peak_mb": round(sampler.worker_peak_mb),
        "workers_total_rss_peak_mb": round(sampler.workers_total_peak_mb),
        "workers_max_count": sampler.workers_max_count, "worker_processes_seen": len(sampler.worker_pids),
        "chromium_rss_peak_mb": round(sampler.chromium_peak_mb), "cpu_seconds": sampler.cpu_seconds(),
        "wall_s": round(wall_s, 1), "load_before": load[0], "load_after": load[1], **extra,
        "per_session": [asdict(s) for s in sessions],
    }


def fmt(value, unit: str = "") -> str:
    return "–" if value is None else f"{value:g}{unit}"


def table(rows: list[dict]) -> str:
    head = ("| sessions | finished | refused politely | lost | errors seen | queue wait median / max | "
            "time per run median / max | server RSS peak | worker RSS peak | wall time |")
    lines = [head, "|" + " --- |" * 10]
    for r in rows:
        not_finished = r["stopped"] + r["timed_out"] + r["failed"]
        finished = f"{r['finished']}" + (f" (+{not_finished} not: see notes)" if not_finished else "")
        lines.append(
            f"| {r['sessions']} | {finished} | {r['refused']} | {r['lost']} | {r['errors_seen']} | "
            f"{fmt(r['queue_wait_median_s'], ' s')} / {fmt(r['queue_wait_max_s'], ' s')} | "
            f"{fmt(r['run_median_s'], ' s')} / {fmt(r['run_max_s'], ' s')} | {r['server_rss_peak_mb']} MB | "
            f"{r['worker_rss_peak_mb']} MB | {r['wall_s']:g} s |")
    return "\n".join(lines)


def notes(rows: list[dict], meta: dict) -> str:
    lines = [f"Preset `{meta['preset']}`, {meta['epochs']} epochs, hosted limits, {meta['slots']} training slots, "
             f"{meta['cores']} cores; browsers on the same machine (one Chromium, a context per session)."]
    for r in rows:
        cpu = r["cpu_seconds"]
        lines.append(
            f"- N={r['sessions']}: ready median/max {fmt(r['ready_median_s'], ' s')} / {fmt(r['ready_max_s'], ' s')};"
            f" {r['seen_queued']} saw the queue (deepest position {r['max_queue_position']});"
            f" {r['workers_max_count']} workers at once, {r['worker_processes_seen']} worker processes in all,"
            f" all workers together {r['workers_total_rss_peak_mb']} MB at peak; Chromium {r['chromium_rss_peak_mb']}"
            f" MB; CPU seconds: server {cpu['server']:g}, workers {cpu['workers']:g}, Chromium {cpu['chromium']:g};"
            f" load average {r['load_before']:.1f} before, {r['load_after']:.1f} after;"
            f" stopped {r['stopped']}, timed out {r['timed_out']}, failed {r['failed']},"
            f" exceptions {r['exceptions']}, page reads over {EVALUATE_TIMEOUT_S / 2:g} s {r['slow_reads']},"
            f" Train not re-enabled after the run {r['controls_not_following']},"
            f" connection-state changes {r['connection_changes']};"
            f" longest time a page got no message from the server, median/max"
            f" {fmt(r['longest_silence_median_s'], ' s')} / {fmt(r['longest_silence_max_s'], ' s')};"
            f" frozen pages {r['frozen_pages']}; clicks that showed nothing for {CLICK_CONFIRM_S:g} s"
            f" {r['clicks_unconfirmed']}; the server was quiet {fmt(r.get('server_settle_s'), ' s')} after the"
            " browsers closed.")
    return "\n".join(lines)


def side_by_side(files: list[Path]) -> str:
    """The rounds of several load JSONs in one table, each with its setting (servers, backend, slots), for
    docs/scaling.md: e.g. the single-server round beside the replicas-on-Ray round."""
    lines = ["| setting | sessions | finished | refused politely | lost | errors seen | queue wait median / max | "
             "time per run median / max | servers' RSS peak | trainer RSS peak | CPU s: servers / trainers / "
             "Chromium | load average before |", "|" + " --- |" * 12]
    commands = []
    for path in files:
        data = json.loads(Path(path).read_text())
        meta = data["meta"]
        replicas, backend = meta.get("replicas", 1), meta.get("backend", "local")
        setting = (f"{replicas} replica{'s' if replicas > 1 else ''} on Ray" if backend == "ray"
                   else "one server, worker pool") + f", {meta['slots']} slots"
        commands.append(f"`{meta['command']}` ({meta['date'][:10]})")
        for r in data["rounds"]:
            cpu = r["cpu_seconds"]
            lines.append(
                f"| {setting} | {r['sessions']} | {r['finished']} | {r['refused']} | {r['lost']} | "
                f"{r['errors_seen']} | {fmt(r['queue_wait_median_s'], ' s')} / {fmt(r['queue_wait_max_s'], ' s')} | "
                f"{fmt(r['run_median_s'], ' s')} / {fmt(r['run_max_s'], ' s')} | {r['server_rss_peak_mb']} MB | "
                f"{r['worker_rss_peak_mb']} MB | {cpu['server']:g} / {cpu['workers']:g} / {cpu['chromium']:g} | "
                f"{r['load_before']:.1f} |")
    return "\n".join(lines) + "\n\nMeasured by " + "; ".join(commands) + ", the browsers on the same 2 cores.\n"


def problems(rows: list[dict]) -> list[str]:
    found = []
    for r in rows:
        for s in r["per_session"]:
            bad = s["outcome"] not in ("finished", "refused") or s["exceptions"] or s["controls_followed"] is False
            if bad or any("run failed" in e.lower() for e in s["errors"]):
                found.append(f"N={r['sessions']} session {s['index']}: {s['outcome']}"
                             f"{' (' + s['lost_reason'] + ')' if s['lost_reason'] else ''}; "
                             f"statuses {' -> '.join(s['statuses'])}; last line {s['last_line']!r}; "
                             f"exceptions {s['exceptions'][:2]}; errors {s['errors'][:2]}; "
                             f"controls followed {s['controls_followed']}; "
                             f"connection {s['connection_changes'][:4]}; frames from the server after the click "
                             f"{s['frames_received'] - s['frames_before_click']}, the last at "
                             f"{fmt(s['last_frame_received_s'], ' s')}, longest silence {s['longest_silence_s']:g} s; "
                             f"console errors {s['console_errors'][:2]}; screenshot {s['screenshot'] or '-'}")
    return found


# ------------------------------------------------------------------ main


class Target:
    """What the sessions load: one server, or replicas behind a balancer (`url` is what browsers open)."""

    def __init__(self, url: str, replicas: list[servers.StreamlitServer], ray: bool = False):
        self.url, self.replicas, self.ray = url, replicas, ray

    @property
    def pids(self) -> list[int]:
        return [r.process.pid for r in self.replicas]

    def exited(self) -> list[servers.StreamlitServer]:
        return [r for r in self.replicas if r.process.poll() is not None]


async def run_rounds(args, server: Target, query: str, artifacts: Path) -> list[dict]:
    from playwright.async_api import async_playwright

    rows = []
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(browser_command(args, artifacts)),
                                                   args=CHROMIUM_ARGS)
        try:
            for number, n in enumerate(args.sessions):
                log(f"N={n}: opening {n} sessions on {server.url}/train")
                load_before = os.getloadavg()[0]
                started = time.monotonic()
                round_ = Round(browser, server.url, n, query, args, artifacts)
                with Sampler(server.pids, ray=server.ray) as sampler:
                    await round_.run()
                wall = time.monotonic() - started
                row = summarize(n, round_.sessions, sampler, wall, (load_before, os.getloadavg()[0]),
                                {"server_alive": not server.exited()})
                rows.append(row)
                log(f"N={n}: {row['finished']} finished, {row['lost']} lost in {wall:.0f} s")
                if server.exited():
                    for gone in server.exited():
                        log(f"a server exited with code {gone.process.returncode}:\n"
                            f"{servers.log_tail(gone.log_path, 30)}")
                    break
                row["server_settle_s"] = max([await asyncio.to_thread(settle, pid) for pid in server.pids])
                log(f"N={n}: the server was quiet {row['server_settle_s']:g} s after the round's browsers closed")
                if number < len(args.sessions) - 1:
                    await asyncio.sleep(args.pause)  # let the released sessions go before the next round
        finally:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(browser.close(), 30)
    return rows


def browser_command(args, artifacts: Path) -> Path:
    """Chromium, started at a lower CPU priority (`--browser-nice`): in a class each browser runs on its own
    laptop, not on the server's cores; here they share them, and at normal priority thirty renderers take most
    of the CPU from the server they are testing. Children (the renderers) inherit the priority."""
    if args.browser_nice <= 0:
        return Path(args.chromium)
    # Run as root, Chromium raises its own threads' priority again (to -8 and 0, seen here): without the
    # capability to do so (setpriv drops it for the exec) the niceness holds.
    drop = "setpriv --bounding-set=-sys_nice " if shutil.which("setpriv") else ""
    wrapper = artifacts / "chromium-niced"
    wrapper.write_text(f'#!/bin/sh\nexec {drop}nice -n {args.browser_nice} {args.chromium} "$@"\n')
    wrapper.chmod(0o755)
    return wrapper


def settle(pid: int, quiet_cpu: float = 0.2, limit_s: float = 180.0) -> float:
    """Seconds until the server uses under `quiet_cpu` of a core over 2 s (at most `limit_s`): a round must not
    leave work behind for the next one, and how long the server stays busy after its browsers left is a finding."""
    started = time.monotonic()
    try:
        process = psutil.Process(pid)
        while time.monotonic() - started < limit_s:
            if process.cpu_percent(interval=2.0) / 100 < quiet_cpu:
                break
    except psutil.Error:
        pass
    return round(time.monotonic() - started, 1)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sessions", type=int, action="append", help="browser sessions in a round (repeatable)")
    parser.add_argument("--preset", default="seed")
    parser.add_argument("--epochs", type=int, default=20, help="train.epochs for every run")
    parser.add_argument("--port", type=int, default=None, help="server port (default: a free one)")
    parser.add_argument("--slots", type=int, default=None, help="SEQCORE_SLOTS for the server (default: the app's)")
    parser.add_argument("--replicas", type=int, default=1,
                        help="web servers behind nginx (bench/replicas.py); more than 1 trains on Ray")
    parser.add_argument("--backend", choices=["local", "ray"], default=None,
                        help="where runs train: the server's worker pool (default for one server) or a Ray head "
                             "started here with --slots CPUs (default for replicas)")
    parser.add_argument("--store-url", default=None,
                        help="the replicas' shared run store (an SQLAlchemy URL); default: a folder of the round's")
    parser.add_argument("--json", type=Path, default=None, help="write every number and every session here")
    parser.add_argument("--report", type=Path, nargs="+", default=None,
                        help="run nothing: print the rounds of these JSONs side by side (with --into: between the "
                             "ray-load markers of that file)")
    parser.add_argument("--into", type=Path, default=None)
    parser.add_argument("--ready-timeout", type=float, default=240.0, help="seconds for one page to become ready")
    parser.add_argument("--run-timeout", type=float, default=780.0, help="seconds from a click to a final status")
    parser.add_argument("--round-timeout", type=float, default=900.0, help="hard limit on one round, seconds")
    parser.add_argument("--silence-timeout", type=float, default=180.0,
                        help="a page with an unfinished run that gets no message from the server this long is lost")
    parser.add_argument("--pause", type=float, default=5.0, help="seconds between rounds")
    parser.add_argument("--chromium", default=servers.CHROMIUM)
    parser.add_argument("--browser-nice", type=int, default=10,
                        help="CPU niceness of the browsers (0: same priority as the server); see browser_command")
    parser.add_argument("--artifacts", type=Path, default=None,
                        help="folder for the server log and screenshots of bad sessions (default: a temp folder)")
    args = parser.parse_args(argv)
    args.sessions = args.sessions or [10]
    args.backend = args.backend or ("local" if args.replicas == 1 else "ray")
    if args.replicas < 1:
        parser.error("--replicas must be at least 1")
    if args.replicas > 1 and args.backend == "local":
        parser.error("--replicas above 1 share one Ray cluster: --backend ray")
    if any(n < 1 for n in args.sessions):
        parser.error("--sessions must be at least 1")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.report:  # no round: the rounds of earlier JSONs side by side
        text = side_by_side(args.report)
        print(text)
        if args.into:
            markers.write_block(args.into, "<!-- ray-load:start -->", "<!-- ray-load:end -->", text)
        return 0
    command = shlex.join(["python", "bench/load.py", *(sys.argv[1:] if argv is None else argv)])
    date = datetime.datetime.now().isoformat(timespec="seconds")
    try:
        query = preset(args.preset).with_values(**{"train.epochs": args.epochs}).to_query()
    except ConfigError as err:
        print(f"bad --preset or --epochs: {err}", file=sys.stderr)
        return 2
    if not os.access(args.chromium, os.X_OK):
        print(f"no Chromium at {args.chromium} (Debian: apt-get install chromium); Playwright's own browser "
              "downloads are not used", file=sys.stderr)
        return 2
    artifacts = args.artifacts or Path(tempfile.mkdtemp(prefix="seqcore-load-"))
    artifacts.mkdir(parents=True, exist_ok=True)
    # A TERM (e.g. a CI timeout) becomes SystemExit, so that the finally below still ends the server's group.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    from seqcore.limits import active_limits

    slots = args.slots or active_limits(hosted=True).slots or os.cpu_count()
    started = time.monotonic()
    with contextlib.ExitStack() as stack:
        try:
            if args.replicas == 1 and args.backend == "local":
                server = stack.enter_context(servers.StreamlitServer("app.py", artifacts / "server.log",
                                                                     hosted_env(args.slots), args.port))
                log(f"server pid {server.process.pid} at {server.url} (hosted mode); log and screenshots in "
                    f"{artifacts}")
                server.wait_healthy(SERVER_START_S, tail_lines=30)
                target = Target(server.url, [server])
            else:
                from bench.replicas import deployment

                servers.ray_environment()
                log(f"{args.replicas} replicas on Ray ({slots} CPUs) behind nginx (hosted mode); logs in {artifacts}")
                extra = {"SEQCORE_HOSTED": "1", "PYTHONUNBUFFERED": "1"}
                running = stack.enter_context(deployment(
                    args.replicas, store_url=args.store_url, store_dir=artifacts / "store", log_dir=artifacts,
                    extra_env=extra, num_cpus=slots, port=args.port, healthy_s=SERVER_START_S))
                target = Target(running.url, running.replicas, ray=True)
            rows = asyncio.run(run_rounds(args, target, query, artifacts))
        except (RuntimeError, servers.ServerError) as err:
            print(err, file=sys.stderr)
            return 2
    log(f"servers stopped; total {time.monotonic() - started:.0f} s")
    logs = [str(r.log_path) for r in target.replicas]
    meta = {"command": command, "date": date, "preset": args.preset, "epochs": args.epochs, "query": query,
            "slots": slots, "replicas": args.replicas, "backend": args.backend,
            "browser_nice": args.browser_nice,
            "cores": os.cpu_count(), "server_log": logs[0] if len(logs) == 1 else logs, "artifacts": str(artifacts)}
    print(table(rows))
    print()
    print(notes(rows, meta))
    found = problems(rows)
    for replica in target.replicas:
        server_errors = [line for line in servers.log_tail(replica.log_path, 100_000).splitlines()
                         if re.search(r"Traceback|Error|Exception", line)]
        meta.setdefault("server_log_error_lines", []).extend(server_errors[:50])
        if server_errors:
            found.append(f"the server log has {len(server_errors)} error lines ({replica.log_path}), the first: "
                         f"{server_errors[0][:300]!r}")
    if found:
        print("\nProblems:\n" + "\n".join(f"- {p}" for p in found))
    if args.json:
        args.json.write_text(json.dumps({"meta": meta, "rounds": rows}, indent=1, default=str))
        log(f"wrote {args.json}")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
