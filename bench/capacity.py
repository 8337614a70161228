"""Capacity inputs for docs/scaling.md, measured: training core-seconds per run for each preset, and a hosted server's
CPU per page load, per redraw and per live session.

    python bench/capacity.py --out docs/capacity.json                 # both parts (about 5 minutes here)
    python bench/capacity.py --part train --out docs/capacity.json    # one part; the other's numbers are kept

Training (`--part train`), in a child process set up as a Ray trainer actor is (seqcore/raybackend.py: one CPU,
`SEQCORE_INTRA_OP_THREADS=1`, one BLAS thread, `seqcore.worker.start_keras`, a ModelCache and `warm_up`); CPU time is
the process's own (user + system over all its threads: `time.process_time`), so it counts core-seconds whatever else
the machine runs, where wall time on a shared machine does not:
- the trainer's start-up (Keras import and warm-up);
- the seed preset as loaded (100 epochs) and as the load test trains it (20 epochs), `--repeats` runs each, one
  after another, as a class runs it (its own train.seed): the run-length distributions bench/queue_sim.py draws
  from; and `--repeats` runs of 20 epochs whose train.seed changes every run (1, 2, ...), which costs more;
- every preset, from two short runs (a first one of its network in this trainer, 1 epoch, and a second, 2 epochs,
  snapshots every epoch): the CPU of an epoch, of a snapshot and of the rest (data, build, test pass, artifacts) from
  the time-stamps of its events, and from them the preset's whole run (its epochs, a snapshot at epoch 1, every
  `snapshot_every` and the last; the presets train every epoch: early stopping is off for the lessons' tasks). The
  seed preset's estimate sits beside its measured runs, as a check of the extrapolation.

Server (`--part server`): ONE hosted server (`SEQCORE_HOSTED=1`, one training slot, the local backend) and ONE
Chromium page (bench/load.py's settings: nice 10, foreground timers), the server process's own CPU (its threads, not
its training workers) read with psutil around each phase; a redraw is one script run of the page, counted from the
websocket (`script_finished` ForwardMsgs):
- a page load: `goto /train` until the app is ready;
- the open page with no run, `--idle-s` seconds;
- `--visits` seed runs (as loaded), each in a new session: Train to the run's end as the page shows it (the run
  ends before the page has drawn it, so the page replays it, a frame every 0.5 s);
- a live page at the hosted redraw rate: the seed preset's network on a run of 300 epochs of batch 1 over 300
  sequences (slow epochs, the same figures; the measurement stops if the page redrew faster than the hosted rate),
  measured `--running-s` seconds while it trains (the panel's status, loss, metric, predictions
  and hidden states redrawn on its timer: the per-redraw and per-live-session numbers), then paused and measured
  `--live-s` seconds more while the trainer sleeps (a page whose figures no longer change), then stopped.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime
import json
import os
import platform
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# A Ray trainer's environment (seqcore/raybackend.py: Trainer actors of num_cpus=1 on a cluster of one CPU a slot).
TRAINER_ENV = {"KERAS_BACKEND": "tensorflow", "TF_CPP_MIN_LOG_LEVEL": "2", "OPENBLAS_NUM_THREADS": "1",
               "SEQCORE_INTRA_OP_THREADS": "1"}
# The live phase's run: the seed preset's network and figures, its epochs slowed (a batch of one, three times the
# sequences: 210 steps an epoch) and as many as the hosted limits allow: expected to train well over
# pages.ui.replay.SHORT_RUN_S (about 45 s here), so the page draws it live, not frame by frame.
LIVE_SETTINGS = {"train.epochs": 300, "train.batch_size": 1, "data.n_sequences": 300}
LIVE_PAUSE_AT = 3
SETTLE_S = 2.0


# ------------------------------------------------------------------ training


def _cpu_run(experiment, models) -> dict:
    """Train once; the process's CPU seconds and wall seconds, and the CPU at each event (seconds from the call)."""
    from seqcore.training import train

    stamps: list[tuple[str, int, float]] = []
    cpu0, wall0 = time.process_time(), time.monotonic()

    def emit(event) -> None:
        stamps.append((type(event).__name__, getattr(event, "epoch", 0), time.process_time() - cpu0))

    end = train(experiment, emit, models=models, save_artifacts=True)
    return {"cpu_s": time.process_time() - cpu0, "wall_s": time.monotonic() - wall0, "epochs": end.epochs_done,
            "status": end.status, "stamps": stamps}


def snapshots_in(epochs: int, every: int) -> int:
    """Snapshots in a run that trains every epoch: epoch 1, every `every` epochs and the last (seqcore.training)."""
    return len({1, epochs} | set(range(every, epochs + 1, every)))


def split_probe(stamps: list[tuple[str, int, float]], total_cpu: float) -> dict:
    """A probe run with a snapshot after every epoch: the CPU of its last epoch, of a snapshot (median), and the
    rest (everything but its epochs and snapshots: data, build, first-step set-up, test pass, artifacts)."""
    epochs, snaps, previous = {}, [], 0.0
    for kind, epoch, cpu in stamps:
        if kind == "EpochEvent":
            epochs[epoch] = cpu - previous
        elif kind == "SnapshotEvent":
            snaps.append(cpu - previous)
        previous = cpu
    epoch_cpu = epochs[max(epochs)]
    snapshot_cpu = statistics.median(snaps)
    return {"epoch_cpu_s": epoch_cpu, "snapshot_cpu_s": snapshot_cpu,
            "rest_cpu_s": total_cpu - len(epochs) * epoch_cpu - len(snaps) * snapshot_cpu,
            "first_epoch_extra_cpu_s": epochs[min(epochs)] - epoch_cpu}


def estimate_run(probe: dict, epochs: int, every: int) -> float:
    """Core-seconds of a whole run from a probe's split: the rest, every epoch, every snapshot."""
    return probe["rest_cpu_s"] + epochs * probe["epoch_cpu_s"] + snapshots_in(epochs, every) * probe["snapshot_cpu_s"]


def measure_training(repeats: int, presets: list[str]) -> dict:
    """In this process, which must have TRAINER_ENV (see main's child): the training part's numbers."""
    from seqcore.config import PRESETS, preset
    from seqcore.limits import HOSTED
    from seqcore.training import ModelCache
    from seqcore.worker import start_keras, warm_up

    cpu0, wall0 = time.process_time(), time.monotonic()
    start_keras()
    models = ModelCache()
    warm_up(models)
    startup = {"cpu_s": round(time.process_time() - cpu0, 3), "wall_s": round(time.monotonic() - wall0, 3)}
    print(f"[capacity] trainer start-up: {startup['cpu_s']:.1f} core-s", file=sys.stderr, flush=True)

    seed_runs = {}

    def seed_series(label: str, epochs: int, seeds: list[int | None]) -> None:
        runs = []
        for seed in seeds:
            changes = {"train.epochs": epochs, **({"train.seed": seed} if seed is not None else {})}
            run = _cpu_run(preset("seed").with_values(**changes), models)
            runs.append({key: (round(value, 4) if isinstance(value, float) else value)
                         for key, value in run.items() if key != "stamps"})
        seed_runs[label] = runs
        print(f"[capacity] seed, {label}: core-s {[r['cpu_s'] for r in runs]}", file=sys.stderr, flush=True)

    # As a class runs it: the preset as loaded, its own train.seed, one run after another on one trainer.
    seed_series(str(preset("seed").train.epochs), preset("seed").train.epochs, [None] * repeats)
    seed_series("20", 20, [None] * repeats)

    rows = []
    for name in presets:
        experiment = PRESETS[name][1]
        train_cfg = experiment.train
        probe_settings = {"train.snapshot_every": 1, "train.early_stopping": "off"}
        first = _cpu_run(experiment.with_values(**probe_settings, **{"train.epochs": 1}), models)
        second = _cpu_run(experiment.with_values(**probe_settings, **{"train.epochs": 2}), models)
        split = split_probe(second["stamps"], second["cpu_s"])
        estimate = estimate_run(split, train_cfg.epochs, train_cfg.snapshot_every)
        warm_one_epoch = split["rest_cpu_s"] + split["epoch_cpu_s"] + split["snapshot_cpu_s"]
        row = {"preset": name, "epochs": train_cfg.epochs, "snapshot_every": train_cfg.snapshot_every,
               "cell": experiment.model.cell, "units": experiment.model.units,
               "run_core_s": round(estimate, 3),
               "epoch_core_s": round(split["epoch_cpu_s"], 4), "snapshot_core_s": round(split["snapshot_cpu_s"], 4),
               "rest_core_s": round(split["rest_cpu_s"], 4),
               "first_epoch_extra_core_s": round(split["first_epoch_extra_cpu_s"], 4),
               # A first run of this network in a trainer traces (and with XLA compiles) its graphs once.
               "first_run_extra_core_s": round(first["cpu_s"] - warm_one_epoch, 3),
               "probe_core_s": round(first["cpu_s"] + second["cpu_s"], 3),
               "over_hosted_time_limit": estimate > HOSTED.time_limit_s}
        rows.append(row)
        print(f"[capacity] {name}: {estimate:.2f} core-s a run ({row['epoch_core_s']:.3f} an epoch), probes "
              f"{row['probe_core_s']:.1f} core-s", file=sys.stderr, flush=True)
    # A train.seed other than the last run's resets TensorFlow's global seed, which clears its kernel caches
    # (seqcore.models.seed_randomness): runs whose seeds differ one after another, last so as not to slow the rest.
    seed_series("20_seed_changed", 20, list(range(1, repeats + 1)))
    return {"trainer_startup": startup, "seed_runs": seed_runs, "presets": rows,
            "hosted_time_limit_s": HOSTED.time_limit_s, "repeats": repeats, "env": TRAINER_ENV,
            "cpu_s": round(time.process_time() - cpu0, 1), "wall_s": round(time.monotonic() - wall0, 1)}


def run_training_child(repeats: int, presets: list[str]) -> dict:
    """The training part in a fresh process with a trainer's environment (no TensorFlow in this one)."""
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as handle:
        out = Path(handle.name)
    try:
        subprocess.run([sys.executable, str(Path(__file__).resolve()), "--train-child", str(out),
                        "--repeats", str(repeats), *(f"--preset={p}" for p in presets)],
                       env={**os.environ, **TRAINER_ENV}, cwd=ROOT, check=True)
        return json.loads(out.read_text())
    finally:
        out.unlink(missing_ok=True)


# ------------------------------------------------------------------ server


def server_cpu(pid: int) -> float:
    """The server process's own CPU seconds (its threads; not its children, the training workers)."""
    import psutil

    times = psutil.Process(pid).cpu_times()
    return times.user + times.system


def settle_tree(pid: int, quiet_cores: float = 0.2, limit_s: float = 180.0) -> float:
    """Seconds until the server and its children together use under `quiet_cores` over 2 s (at most `limit_s`)."""
    import psutil

    def total() -> float:
        processes = [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)]
        seconds = 0.0
        for process in processes:
            with contextlib.suppress(psutil.Error):
                times = process.cpu_times()
                seconds += times.user + times.system
        return seconds

    started = time.monotonic()
    while time.monotonic() - started < limit_s:
        before = total()
        time.sleep(2.0)
        if (total() - before) / 2.0 < quiet_cores:
            break
    return round(time.monotonic() - started, 1)


class Redraws:
    """Script runs of one page, counted from the websocket: one `script_finished` ForwardMsg ends each."""

    def __init__(self):
        self.count = self.frames = self.bytes = 0

    def on_websocket(self, ws) -> None:
        if "_stcore/stream" in ws.url:
            ws.on("framereceived", self._received)

    def _received(self, payload) -> None:
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        self.frames += 1
        if isinstance(payload, bytes | bytearray):
            self.bytes += len(payload)
            with contextlib.suppress(Exception):
                if ForwardMsg.FromString(bytes(payload)).WhichOneof("type") == "script_finished":
                    self.count += 1


class Phase:
    """Server CPU seconds, redraws and wall seconds over a `with` block."""

    def __init__(self, pid: int, redraws: Redraws):
        self.pid, self.redraws = pid, redraws

    def __enter__(self) -> Phase:
        self.cpu0, self.redraws0, self.frames0, self.bytes0 = (server_cpu(self.pid), self.redraws.count,
                                                               self.redraws.frames, self.redraws.bytes)
        self.wall0 = time.monotonic()
        return self

    def __exit__(self, *exc) -> None:
        self.result = {"server_cpu_s": round(server_cpu(self.pid) - self.cpu0, 3),
                       "redraws": self.redraws.count - self.redraws0, "frames": self.redraws.frames - self.frames0,
                       "bytes": self.redraws.bytes - self.bytes0, "wall_s": round(time.monotonic() - self.wall0, 2)}


async def _ready(page, url: str, timeout_s: float) -> None:
    from bench import load

    await page.goto(url, timeout=timeout_s * 1000)
    await page.locator(load.READY).wait_for(state="visible", timeout=timeout_s * 1000)
    await page.wait_for_function(
        f"""() => {{
            const app = document.querySelector('{load.READY}');
            const train = [...document.querySelectorAll('[data-testid=stMain] button')]
                .find(b => /\\bTrain\\b/.test(b.innerText));
            return app && app.getAttribute('data-test-script-state') === 'notRunning' && train && !train.disabled;
        }}""", timeout=timeout_s * 1000, polling=250)


async def _sidebar_says(page, word: str, timeout_s: float) -> None:
    await page.wait_for_function(
        """(word) => [...document.querySelectorAll('[data-testid=stSidebar] [data-testid=stCaptionContainer]')]
            .some(el => el.textContent.includes(word))""", arg=word, timeout=timeout_s * 1000, polling=200)


async def _quiet(page) -> None:
    """The page's script has finished and a moment has passed."""
    await page.wait_for_function(
        """() => document.querySelector('[data-testid=stApp]')?.getAttribute('data-test-script-state')
            === 'notRunning'""", timeout=60_000, polling=200)
    await asyncio.sleep(SETTLE_S)


async def server_phases(url: str, pid: int, args) -> dict:
    from playwright.async_api import async_playwright

    from bench import load
    from seqcore.config import preset

    browser_args = SimpleNamespace(browser_nice=10, chromium=args.chromium)
    phases: dict[str, dict] = {}
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(load.browser_command(browser_args, Path(tempfile.mkdtemp(prefix="capacity-")))),
            args=load.CHROMIUM_ARGS)
        try:
            # A page load, the open page with no run, and a seed run as loaded, followed to its end.
            redraws = Redraws()
            context = await browser.new_context(viewport=load.VIEWPORT)
            page = await context.new_page()
            page.on("websocket", redraws.on_websocket)
            query = preset("seed").to_query()
            with Phase(pid, redraws) as phase:
                await _ready(page, f"{url}/train?{query}" if query else f"{url}/train", 240)
                await _quiet(page)
            phases["page_load"] = phase.result
            with Phase(pid, redraws) as phase:
                await asyncio.sleep(args.idle_s)
            phases["idle"] = phase.result
            await context.close()
            visits = []
            for _ in range(args.visits):
                redraws = Redraws()
                context = await browser.new_context(viewport=load.VIEWPORT)
                page = await context.new_page()
                page.on("websocket", redraws.on_websocket)
                await _ready(page, f"{url}/train?{query}" if query else f"{url}/train", 240)
                await _quiet(page)
                with Phase(pid, redraws) as phase:
                    await page.get_by_test_id("stMain").get_by_role("button", name="Train").click()
                    await _sidebar_says(page, "Finished", 240)
                    await page.get_by_role("button", name="History (CSV)").wait_for(state="visible", timeout=120_000)
                    await _quiet(page)
                visits.append(phase.result)
                await context.close()
            phases["seed_runs"] = visits

            # A live page at the hosted redraw rate: a long run, paused once it has epochs to draw.
            redraws = Redraws()
            context = await browser.new_context(viewport=load.VIEWPORT)
            page = await context.new_page()
            page.on("websocket", redraws.on_websocket)
            query = preset("seed").with_values(**LIVE_SETTINGS).to_query()
            await _ready(page, f"{url}/train?{query}", 240)
            await page.get_by_test_id("stMain").get_by_role("button", name="Train").click()
            # Paused once the panel draws epochs (its figures then are a live run's), long before the run's end.
            await page.wait_for_function(
                """(least) => {
                    const metric = [...document.querySelectorAll('[data-testid=stMain] [data-testid=stMetric]')]
                        .find(e => e.textContent.trim().startsWith('Epoch'));
                    const value = metric && metric.querySelector('[data-testid=stMetricValue]');
                    const pause = [...document.querySelectorAll('[data-testid=stMain] button')]
                        .find(b => b.innerText.includes('Pause'));
                    return value && parseInt(value.textContent) >= least && pause && !pause.disabled;
                }""", arg=LIVE_PAUSE_AT, timeout=120_000, polling=100)
            epoch_js = """() => [...document.querySelectorAll('[data-testid=stMain] [data-testid=stMetric]')]
                .map(e => e.textContent.trim()).find(t => t.startsWith('Epoch')) || ''"""
            first = await page.evaluate(epoch_js)
            with Phase(pid, redraws) as phase:
                await asyncio.sleep(args.running_s)
            # The window's server CPU also receives the run's events (its epochs, snapshots) and records them.
            phases["live_running"] = {**phase.result, "epoch_metric_from": first,
                                      "epoch_metric": await page.evaluate(epoch_js)}
            await page.get_by_role("button", name="Pause").click()
            await _sidebar_says(page, "Paused", 60)
            await _quiet(page)
            with Phase(pid, redraws) as phase:
                await asyncio.sleep(args.live_s)
            phases["live_paused"] = {**phase.result, "epoch_metric": await page.evaluate(epoch_js)}
            await page.get_by_role("button", name="Stop").click()
            await _sidebar_says(page, "Stopped", 60)
            await context.close()
        finally:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(browser.close(), 30)
    return phases


def measure_server(args) -> dict:
    from bench import load, servers
    from pages.ui import refresh, replay
    from seqcore.limits import HOSTED

    artifacts = Path(tempfile.mkdtemp(prefix="seqcore-capacity-"))
    server = servers.StreamlitServer("app.py", artifacts / "server.log", load.hosted_env(1))
    try:
        server.wait_healthy(load.SERVER_START_S)
        settle_tree(server.process.pid)  # its warm worker started too: the runs below find it ready
        phases = asyncio.run(server_phases(server.url, server.process.pid, args))
    finally:
        server.stop()
    live, paused = phases["live_running"], phases["live_paused"]
    refresh_s = refresh.REFRESH_S[HOSTED.name]
    if live["redraws"] > live["wall_s"] / refresh_s + 1:  # one tick may fall on each edge of the window
        raise SystemExit(f"the live phase redrew {live['redraws']} times in {live['wall_s']} s, more than the hosted "
                         f"rate of one every {refresh_s:g} s: it measured frame-by-frame drawing, not a live page "
                         f"(server log: {server.log_path})")
    result = {
        "phases": phases,
        "server_cpu_per_redraw_s": round(live["server_cpu_s"] / max(1, live["redraws"]), 4),
        "live_session_cores": round(live["server_cpu_s"] / live["wall_s"], 4),
        "redraws_per_s": round(live["redraws"] / live["wall_s"], 3),
        "paused_cpu_per_redraw_s": round(paused["server_cpu_s"] / max(1, paused["redraws"]), 4),
        "paused_session_cores": round(paused["server_cpu_s"] / paused["wall_s"], 4),
        "page_load_cpu_s": phases["page_load"]["server_cpu_s"],
        "seed_run_visit_cpu_s": statistics.median(v["server_cpu_s"] for v in phases["seed_runs"]),
        "seed_run_visit_redraws": statistics.median(v["redraws"] for v in phases["seed_runs"]),
        "hosted_refresh_s": refresh_s, "hosted_replay_frame_s": replay.FRAME_S[HOSTED.name],
        "server_log": str(server.log_path),
    }
    print(f"[capacity] server: {result['server_cpu_per_redraw_s'] * 1000:.0f} ms CPU a redraw, "
          f"{result['live_session_cores']:.3f} cores a live session, page load {result['page_load_cpu_s']:.2f} s",
          file=sys.stderr, flush=True)
    return result


# ------------------------------------------------------------------ main


def machine() -> dict:
    import psutil

    return {"cores": os.cpu_count(), "cpu": platform.processor() or platform.machine(), "python":
            platform.python_version(), "ram_gib": round(psutil.virtual_memory().total / 2**30, 1),
            "load_avg_at_start": list(os.getloadavg())}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, help="the JSON to write (a part not measured keeps its numbers there)")
    parser.add_argument("--part", choices=("train", "server", "both"), default="both")
    parser.add_argument("--repeats", type=int, default=5, help="runs of the seed preset at each epoch count")
    parser.add_argument("--preset", action="append", help="presets to measure (default: all)")
    parser.add_argument("--idle-s", type=float, default=10.0, help="seconds the open page with no run is measured")
    parser.add_argument("--running-s", type=float, default=10.0,
                        help="seconds the live page is measured while its run trains (that many of training)")
    parser.add_argument("--live-s", type=float, default=20.0, help="seconds the live page is measured once paused")
    parser.add_argument("--visits", type=int, default=3, help="seed runs followed on a page, each a new session")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--train-child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    from seqcore.config import PRESETS

    presets = args.preset or list(PRESETS)
    if args.train_child:  # the training part, in the process run_training_child started
        args.train_child.write_text(json.dumps(measure_training(args.repeats, presets)))
        return 0
    if not args.out:
        parser.error("give --out")
    command = shlex.join(["python", "bench/capacity.py", *(sys.argv[1:] if argv is None else argv)])
    report = json.loads(args.out.read_text()) if args.out.exists() else {}
    now = datetime.datetime.now().isoformat(timespec="seconds")
    if args.part in ("server", "both"):
        report["server"] = {**measure_server(args), "command": command, "date": now, "machine": machine()}
    if args.part in ("train", "both"):
        report["training"] = {**run_training_child(args.repeats, presets), "command": command, "date": now,
                              "machine": machine()}
    args.out.write_text(json.dumps(report, indent=1) + "\n")
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
