"""Waits in the training queue, simulated: N sessions press Train within a minute, K training slots, first come first
served; and from it, with the measured inputs, how many slots and web replicas a class needs (docs/scaling.md).

    python bench/queue_sim.py --sessions 300 --slots 4 --runs-from docs/capacity.json --seed 1 --trials 200
    python bench/queue_sim.py --sessions 30 --slots 2 --runs-from docs/load-30.json --arrivals clicks
    python bench/queue_sim.py --plan docs/scaling.json                       # the check and the classes -> JSON
    python bench/queue_sim.py --report docs/scaling.json --into docs/scaling.md   # its generated sections

The model. Arrivals: `uniform`, each session presses Train at a time drawn uniformly within `--window-s` (a class
told "press Train now" within a minute); `together`, all at 0; `clicks`, the click times of a load test's round
(bench/load.py lets every session click once all are ready, so they fall within a second or two). Run lengths: drawn
with replacement from a measured sample, `--runs-from`:
- docs/capacity.json (bench/capacity.py): the seed preset's runs as core-seconds of one trainer (`--runs 100`: as
  loaded; `--runs 20`: as the load test trains it; `--runs 20_seed_changed`), or `--runs preset:NAME`, that preset's
  estimated core-seconds a run; divided by the cores a slot has (a Ray trainer actor has one CPU:
  seqcore/raybackend.py);
- a load test's JSON (bench/load.py): the slot-seconds a run took in that round, from each queued page's queue
  positions over time (K slots ÷ the rate at which its place in line fell), its pages with two readings or more.
The queue is the app's (seqcore/raybackend.py's Scheduler, seqcore/jobs.py's JobManager): one FIFO line, a run
starts on the slot that has been free longest, and a trainer that has served `max_jobs_per_worker` runs is restarted,
its slot away for a trainer's start-up (`--recycle-every`, `--recycle-s`; the plan takes both from the code and
docs/capacity.json). A wait is from the press to the run's start on a slot: not the page's drawing of it.
"""

from __future__ import annotations

import argparse
import datetime
import heapq
import inspect
import json
import math
import re
import shlex
import statistics
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import markers  # noqa: E402

CLASSES = (100, 300, 1000)
TARGET_WAIT_S = 60.0  # the issue's: a median wait under one minute
WINDOW_S = 60.0  # a class presses Train within one minute
AGREEMENT_FACTOR = 2.0  # a prediction "agrees" with a measured median within this factor either way
CORES_PER_SLOT = 1  # a Ray trainer actor: num_cpus=1, one intra-op thread (seqcore/raybackend.py)
REPLICA_CORES = 2  # a web replica's machine
# One Streamlit process a replica; its Python runs on one core at a time (the GIL), so a replica is planned to one
# core of server CPU and its second core is left to the OS, the websocket I/O and bursts.
REPLICA_BUDGET_CORES = 1.0
QUEUED = re.compile(r"Queued: position (\d+), waiting (\d+) s")
BEGIN, END = "<!-- bench/queue_sim.py:{}: generated, do not edit -->", "<!-- end of bench/queue_sim.py:{} -->"
SECTIONS = ("inputs", "check", "classes")


# ------------------------------------------------------------------ the queue


def simulate(arrivals, durations, slots: int, *, recycle_every: int | None = None,
             recycle_s: float = 0.0) -> np.ndarray:
    """Exact first-come-first-served queue with `slots` servers: each job's wait, in the order given.

    Jobs start in order of arrival (ties in the order given), each on the slot free longest (the one free soonest
    when none is); job i's start is max(its arrival, that slot's free time), its wait start - arrival, and the slot
    is free again at start + durations[i]. With `recycle_every`, a slot that has run that many jobs is away
    `recycle_s` more before its next (a trainer restarted after its share of jobs)."""
    arrivals, durations = np.asarray(arrivals, dtype=float), np.asarray(durations, dtype=float)
    if arrivals.shape != durations.shape:
        raise ValueError("one duration per arrival")
    if slots < 1:
        raise ValueError("at least one slot")
    if np.any(durations < 0):
        raise ValueError("durations must not be negative")
    waits = np.zeros(len(arrivals))
    free = [(0.0, slot) for slot in range(slots)]  # (free from, slot): a heap; among the free, the longest free first
    done = [0] * slots
    for i in np.argsort(arrivals, kind="stable"):
        free_at, slot = heapq.heappop(free)
        start = max(arrivals[i], free_at)
        waits[i] = start - arrivals[i]
        end = start + durations[i]
        done[slot] += 1
        if recycle_every and done[slot] >= recycle_every:
            done[slot] = 0
            end += recycle_s
        heapq.heappush(free, (end, slot))
    return waits


def arrivals_for(kind: str, n: int, rng: np.random.Generator, window_s: float = WINDOW_S,
                 clicks: np.ndarray | None = None) -> np.ndarray:
    if kind == "uniform":
        return rng.uniform(0.0, window_s, n)
    if kind == "together":
        return np.zeros(n)
    if kind == "clicks":
        if clicks is None or len(clicks) != n:
            raise ValueError(f"--arrivals clicks needs a load test's round of {n} sessions")
        return np.asarray(clicks, dtype=float)
    raise ValueError(f"unknown arrivals {kind!r}")


def trials(n: int, slots: int, sample, *, rng: np.random.Generator, count: int, arrivals: str = "uniform",
           window_s: float = WINDOW_S, clicks=None, recycle_every: int | None = None,
           recycle_s: float = 0.0) -> dict:
    """`count` simulated classes: each its own arrivals and run lengths (drawn with replacement from `sample`).
    The class's median, 90th percentile and longest wait, each the median over the trials; and the 90th percentile
    over the trials of the class's median (a bad day)."""
    sample = np.asarray(sample, dtype=float)
    medians, p90s, maxima = [], [], []
    for _ in range(count):
        waits = simulate(arrivals_for(arrivals, n, rng, window_s, clicks), rng.choice(sample, n), slots,
                         recycle_every=recycle_every, recycle_s=recycle_s)
        medians.append(float(np.median(waits)))
        p90s.append(float(np.percentile(waits, 90)))
        maxima.append(float(waits.max()))
    return {"sessions": n, "slots": slots, "trials": count, "median_wait_s": round(statistics.median(medians), 2),
            "p90_wait_s": round(statistics.median(p90s), 2), "max_wait_s": round(statistics.median(maxima), 2),
            "median_wait_bad_day_s": round(float(np.percentile(medians, 90)), 2)}


def smallest_slots(n: int, sample, *, seed: int, count: int, target_s: float = TARGET_WAIT_S, **options) -> dict:
    """The fewest slots whose median wait (over `count` trials, the same draws for every K) is under `target_s`.
    Without restarts more slots never delay a job (the same arrivals and runs: tests/test_queue_sim.py), so a
    doubling then a bisection finds it; with them the plan shows one slot fewer beside it, as the check."""
    def run(k: int) -> dict:
        return trials(n, k, sample, rng=np.random.default_rng(seed), count=count, **options)

    high = 1
    while run(high)["median_wait_s"] >= target_s:
        high *= 2
    low = high // 2  # fails (or 0)
    while high - low > 1:
        middle = (low + high) // 2
        if run(middle)["median_wait_s"] < target_s:
            high = middle
        else:
            low = middle
    while high > 1 and run(high - 1)["median_wait_s"] < target_s:  # restarts can break the order: look below too
        high -= 1
    return run(high)


# ------------------------------------------------------------------ measured inputs


def click_offsets(load: dict, round_index: int = 0) -> np.ndarray:
    """Each session's press of Train in a load test's round, seconds after the first."""
    clicks = [s["clicked_at"] for s in load["rounds"][round_index]["per_session"] if s["clicked_at"] is not None]
    return np.asarray(clicks) - min(clicks)


def queue_readings(session: dict) -> list[tuple[float, int]]:
    """(seconds after the click, place in line) each time the page showed its place (panel or sidebar)."""
    readings = []
    for at, source, text in session["timeline"]:
        if source == "panel" and text.startswith("queued ") and len(text.split()) == 3:
            readings.append((at, int(text.split()[1])))
        match = QUEUED.search(text) if source == "sidebar" else None
        if match:
            readings.append((at, int(match.group(1))))
    return sorted(readings)


def round_slot_seconds(load: dict, round_index: int = 0, least_span_s: float = 5.0) -> np.ndarray:
    """The slot-seconds a run took in a load test's round, one value per queued page that read its place in line
    at least twice `least_span_s` apart and saw it fall: K slots ÷ (places gained per second)."""
    slots = load["meta"]["slots"]
    values = []
    for session in load["rounds"][round_index]["per_session"]:
        readings = queue_readings(session)
        if len(readings) < 2:
            continue
        (t0, p0), (t1, p1) = readings[0], readings[-1]
        if t1 - t0 >= least_span_s and p0 > p1:
            values.append(slots / ((p0 - p1) / (t1 - t0)))
    return np.asarray(values)


def capacity_runs(capacity: dict, label: str) -> np.ndarray:
    """Run lengths of one slot: the seed preset's measured trainer core-seconds ÷ the cores a slot has; with
    `preset:NAME`, that preset's estimated core-seconds a run (one value)."""
    if label.startswith("preset:"):
        name = label.split(":", 1)[1]
        rows = [p for p in capacity["training"]["presets"] if p["preset"] == name]
        if not rows:
            raise ValueError(f"no preset {name!r} in the capacity JSON")
        return np.asarray([rows[0]["run_core_s"]]) / CORES_PER_SLOT
    runs = capacity["training"]["seed_runs"][label]
    return np.asarray([run["cpu_s"] for run in runs]) / CORES_PER_SLOT


def run_lengths(path: Path, label: str | None = None) -> tuple[np.ndarray, str]:
    payload = json.loads(path.read_text())
    if "training" in payload:
        label = label or str(seed_epochs())
        what = (f"the {label.split(':', 1)[1]} preset's core-seconds a run" if label.startswith("preset:")
                else f"the seed preset's runs ({label})")
        return capacity_runs(payload, label), f"{what} in {path}"
    if "rounds" in payload:
        return round_slot_seconds(payload), f"slot-seconds a run in the round of {path}"
    raise ValueError(f"{path} is neither bench/capacity.py's JSON nor bench/load.py's")


def seed_epochs() -> int:
    from seqcore.config import preset

    return preset("seed").train.epochs


def recycling() -> dict:
    """After how many runs the app restarts a trainer (the Ray backend's default; the local pool's, if Ray's
    module cannot be imported here)."""
    try:
        from seqcore.raybackend import RayBackend as backend
    except Exception:  # noqa: BLE001 - Ray not installed: the local pool has the same rule
        from seqcore.jobs import JobManager as backend
    parameter = inspect.signature(backend.__init__).parameters["max_jobs_per_worker"]
    return {"every": parameter.default, "from": f"{backend.__module__}.{backend.__name__}"}


# ------------------------------------------------------------------ the plan


def describe(sample) -> dict:
    sample = np.asarray(sample, dtype=float)
    return {"n": len(sample), "median": round(float(np.median(sample)), 3), "min": round(float(sample.min()), 3),
            "max": round(float(sample.max()), 3)}


def verdict(predicted: float, measured: float, factor: float = AGREEMENT_FACTOR) -> dict:
    ratio = measured / predicted if predicted > 0 else math.inf
    return {"ratio": round(ratio, 2), "within_factor": 1 / factor <= ratio <= factor}


def round_check(capacity: dict, load: dict, *, seed: int, count: int, recycle: dict) -> dict:
    """The measured round's setting (its sessions, click times, slots, epochs) simulated with two samples of run
    lengths, beside the round's measured median wait."""
    meta, row = load["meta"], load["rounds"][0]
    clicks = click_offsets(load)
    measured = row["queue_wait_median_s"]
    startup = capacity["training"]["trainer_startup"]["cpu_s"]
    samples = {
        "trainer": (capacity_runs(capacity, str(meta["epochs"])),
                    f"trainer core-seconds of the seed preset at the round's {meta['epochs']} epochs "
                    "(docs/capacity.json), a dedicated CPU a slot"),
        "round": (round_slot_seconds(load), "slot-seconds a run took in the round itself (how fast its pages' "
                                            "places in line fell)"),
    }
    rows = []
    for name, (sample, text) in samples.items():
        result = trials(len(clicks), meta["slots"], sample, rng=np.random.default_rng(seed), count=count,
                        arrivals="clicks", clicks=clicks, recycle_every=recycle["every"], recycle_s=startup)
        rows.append({"model": name, "runs": text, "run_s": describe(sample), "predicted": result,
                     "measured_median_s": measured, **verdict(result["median_wait_s"], measured)})
    return {"sessions": len(clicks), "slots": meta["slots"], "epochs": meta["epochs"], "preset": meta["preset"],
            "click_spread_s": round(float(clicks.max()), 2), "measured_median_s": measured,
            "measured_max_s": row["queue_wait_max_s"], "factor": AGREEMENT_FACTOR, "rows": rows}


def web_plan(n: int, server: dict, drain_s: float, window_s: float = WINDOW_S) -> dict:
    """The web cores a class needs, two ways, and the replicas for the larger.

    While the queue drains (`drain_s`: from the first press to the last run's start): every page follows its run
    once (a seed run followed on its page: its replay, the run's events, the end), spread over the drain, plus
    every page redrawing without new epochs, as a paused page does, the whole time (queued pages redraw less often
    than that, every 3-15 s: an upper bound). And the whole class opening the app within `window_s`."""
    cores = {"drain": n * server["seed_run_visit_cpu_s"] / drain_s + n * server["paused_session_cores"],
             "open_minute": n * server["page_load_cpu_s"] / window_s}
    return {"cores": {k: round(v, 2) for k, v in cores.items()}, "drain_s": round(drain_s, 1),
            "replicas": max(1, math.ceil(max(cores.values()) / REPLICA_BUDGET_CORES - 1e-9))}


def shown(path: Path) -> str:
    """A path as the page names it: from the project's root when it is inside."""
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def epoch_of(metric: str) -> int | None:
    """12 from the Epoch metric's text "Epoch12 / 300"."""
    match = re.match(r"Epoch\s*(\d+)", metric or "")
    return int(match.group(1)) if match else None


def make_plan(capacity_path: Path, load_path: Path, *, seed: int, count: int, command: str) -> dict:
    capacity, load = json.loads(capacity_path.read_text()), json.loads(load_path.read_text())
    recycle = recycling()
    startup = capacity["training"]["trainer_startup"]["cpu_s"]
    label = str(seed_epochs())
    sample = capacity_runs(capacity, label)
    classes = []
    for n in CLASSES:
        found = smallest_slots(n, sample, seed=seed, count=count, arrivals="uniform",
                               recycle_every=recycle["every"], recycle_s=startup)
        fewer = (trials(n, found["slots"] - 1, sample, rng=np.random.default_rng(seed), count=count,
                        recycle_every=recycle["every"], recycle_s=startup) if found["slots"] > 1 else None)
        drain_s = WINDOW_S + found["max_wait_s"]  # the last press, at most a window in, plus the longest wait
        classes.append({**found, "training_cores": found["slots"] * CORES_PER_SLOT, "one_fewer": fewer,
                        "web": web_plan(n, capacity["server"], drain_s)})
    row = load["rounds"][0]
    return {
        "command": command, "date": datetime.datetime.now().isoformat(timespec="seconds"),
        "inputs": {"capacity": shown(capacity_path), "load": shown(load_path),
                   "capacity_command": capacity["training"]["command"], "capacity_date": capacity["training"]["date"],
                   "server_command": capacity["server"]["command"], "server_date": capacity["server"]["date"],
                   "load_command": load["meta"].get("command"), "load_date": load["meta"].get("date"),
                   "capacity_machine": capacity["training"]["machine"], "load_cores": load["meta"]["cores"]},
        "model": {"seed": seed, "trials": count, "window_s": WINDOW_S, "target_wait_s": TARGET_WAIT_S,
                  "cores_per_slot": CORES_PER_SLOT, "replica_cores": REPLICA_CORES,
                  "replica_budget_cores": REPLICA_BUDGET_CORES, "recycle_every": recycle["every"],
                  "recycle_from": recycle["from"], "recycle_s": startup, "runs": label},
        "measured": {
            "seed_runs": {key: describe([r["cpu_s"] for r in runs])
                          for key, runs in capacity["training"]["seed_runs"].items()},
            "trainer_startup_core_s": startup,
            "presets": capacity["training"]["presets"],
            "hosted_time_limit_s": capacity["training"]["hosted_time_limit_s"],
            "server": {key: value for key, value in capacity["server"].items()
                       if key not in ("command", "date", "machine", "server_log")},
            "round": {"sessions": row["sessions"], "finished": row["finished"], "lost": row["lost"],
                      "slots": load["meta"]["slots"], "cores": load["meta"]["cores"],
                      "queue_wait_median_s": row["queue_wait_median_s"], "queue_wait_max_s": row["queue_wait_max_s"],
                      "queue_wait_min_s": min(s["queue_wait_s"] for s in row["per_session"]
                                              if s["queue_wait_s"] is not None),
                      "cpu_seconds": row["cpu_seconds"], "wall_s": row["wall_s"],
                      "longest_silence_median_s": row["longest_silence_median_s"],
                      "worker_rss_peak_mb": row["worker_rss_peak_mb"], "server_rss_peak_mb": row["server_rss_peak_mb"],
                      "server_cpu_per_session_s": round(row["cpu_seconds"]["server"] / row["sessions"], 2),
                      "workers_cpu_per_run_s": round(row["cpu_seconds"]["workers"] / row["sessions"], 2)},
        },
        "check": round_check(capacity, load, seed=seed, count=count, recycle=recycle),
        "classes": classes,
    }


# ------------------------------------------------------------------ the page


def fmt(value: float, digits: int = 2) -> str:
    """A number as the tables show it: `digits` significant digits, at least the units."""
    if value == 0:
        return "0"
    decimals = max(0, digits - 1 - int(math.floor(math.log10(abs(value)))))
    return f"{value:,.{decimals}f}"


def inputs_section(plan: dict) -> str:
    m, inputs, model = plan["measured"], plan["inputs"], plan["model"]
    server, rnd = m["server"], m["round"]
    phases = server["phases"]
    running = phases["live_running"]
    first, last = epoch_of(running.get("epoch_metric_from", "")), epoch_of(running["epoch_metric"])
    arrived = last - first if first is not None and last is not None else "its"
    seed = m["seed_runs"]
    label = model["runs"]
    lines = [
        f"Measured by `{inputs['capacity_command']}` ({inputs['capacity_date']}; training part) and "
        f"`{inputs['server_command']}` ({inputs['server_date']}; server part) into `{inputs['capacity']}`, on "
        f"{inputs['capacity_machine']['cores']} shared cores; the load round by `{inputs['load_command']}` "
        f"({inputs['load_date']}) into `{inputs['load']}`, on {inputs['load_cores']} cores.",
        "",
        "| input | measured | how |",
        "|---|--:|---|",
        f"| training: a seed run as loaded ({label} epochs), core-seconds | {fmt(seed[label]['median'])} "
        f"(min {fmt(seed[label]['min'])}, max {fmt(seed[label]['max'])}, {seed[label]['n']} runs) | one trainer "
        "as Ray's (one CPU, one intra-op thread, model cache), one run after another, its process CPU time |",
        f"| training: a seed run of 20 epochs (the load round's), core-seconds | {fmt(seed['20']['median'])} "
        f"({seed['20']['n']} runs) | the same |",
        f"| training: the same when train.seed changes every run, core-seconds | "
        f"{fmt(seed['20_seed_changed']['median'])} ({seed['20_seed_changed']['n']} runs) | a new global seed "
        "clears TensorFlow's kernel caches |",
        "| training: a trainer's start-up (Keras import, warm-up), core-seconds | "
        f"{fmt(m['trainer_startup_core_s'])} | "
        f"paid again each time a trainer is restarted, after {model['recycle_every']} runs ({model['recycle_from']}) |",
        f"| server: CPU a redraw of a live page | {fmt(server['server_cpu_per_redraw_s'] * 1000)} ms | "
        f"{running['redraws']} redraws in {fmt(running['wall_s'])} s of a training run at the hosted rate (a redraw "
        f"every {fmt(server['hosted_refresh_s'])} s), the server receiving and recording the run's events meanwhile "
        f"({arrived} epochs) |",
        f"| server: cores a live page uses | {fmt(server['live_session_cores'], 2)} | the same window's server CPU "
        "÷ its seconds |",
        f"| server: CPU a redraw of a paused page | {fmt(server['paused_cpu_per_redraw_s'] * 1000)} ms | "
        f"{phases['live_paused']['redraws']} redraws in {fmt(phases['live_paused']['wall_s'])} s: figures that no "
        "longer change |",
        f"| server: CPU of a page load (`/train` until ready) | {fmt(server['page_load_cpu_s'])} s | a new session |",
        f"| server: CPU of one seed run followed on its page, Train to the end | "
        f"{fmt(server['seed_run_visit_cpu_s'])} s ({fmt(server['seed_run_visit_redraws'])} redraws) | median of "
        f"{len(phases['seed_runs'])} new sessions; the run ends before the page has drawn it, so the page replays "
        f"it (a frame every {fmt(server['hosted_replay_frame_s'])} s) |",
        f"| server: CPU of an open page with no run | {fmt(phases['idle']['server_cpu_s'])} s in "
        f"{fmt(phases['idle']['wall_s'])} s | nothing redraws without a run |",
        f"| load round: server CPU a session | {fmt(rnd['server_cpu_per_session_s'])} s | the round's server "
        f"CPU-seconds ({fmt(rnd['cpu_seconds']['server'])}) ÷ its {rnd['sessions']} sessions, page loads included |",
        f"| load round: workers' CPU a run | {fmt(rnd['workers_cpu_per_run_s'])} s | its workers' CPU-seconds "
        f"({fmt(rnd['cpu_seconds']['workers'])}) ÷ {rnd['sessions']}, their start-ups included |",
        f"| load round: a trainer's memory at its peak | {rnd['worker_rss_peak_mb']} MB | its largest worker RSS |",
        "",
        "Training core-seconds a run, each preset at its own settings (early stopping is off for the lessons' tasks, "
        "so every run trains all its epochs), from two short runs on the same trainer (see bench/capacity.py):",
        "",
        "| preset | network | epochs | core-seconds a run | an epoch | first run of the network: more | "
        f"over the hosted time limit ({fmt(m['hosted_time_limit_s'])} s) |",
        "|---|---|--:|--:|--:|--:|---|",
    ]
    for p in m["presets"]:
        lines.append(f"| {p['preset']} | {p['cell']}({p['units']}) | {p['epochs']} | {fmt(p['run_core_s'])} | "
                     f"{fmt(p['epoch_core_s'])} | {fmt(p['first_run_extra_core_s'])} | "
                     f"{'yes: it stops there' if p['over_hosted_time_limit'] else 'no'} |")
    seed_row = next(p for p in m["presets"] if p["preset"] == "seed")
    lines += ["", f"The seed preset's estimate from its short runs, {fmt(seed_row['run_core_s'])} core-seconds, "
                  f"beside its measured whole runs' median, {fmt(seed[label]['median'])}: the check of the estimate."]
    return "\n".join(lines)


def check_section(plan: dict) -> str:
    check, rnd = plan["check"], plan["measured"]["round"]
    cpu = rnd["cpu_seconds"]
    lines = [
        f"The round's setting: {check['sessions']} sessions of the `{check['preset']}` preset at {check['epochs']} "
        f"epochs clicking Train within {fmt(check['click_spread_s'])} s (its measured click times), "
        f"{check['slots']} slots, {plan['model']['trials']} trials. A prediction agrees when the measured median is "
        f"within a factor of {fmt(check['factor'])} of it.",
        "",
        "| run lengths | run length, median | predicted median wait | measured median wait | measured ÷ predicted "
        "| agrees |",
        "|---|--:|--:|--:|--:|---|",
    ]
    for row in check["rows"]:
        lines.append(f"| {row['runs']} | {fmt(row['run_s']['median'])} s | {fmt(row['predicted']['median_wait_s'])} s "
                     f"| {fmt(row['measured_median_s'])} s | {fmt(row['ratio'])} | "
                     f"{'yes' if row['within_factor'] else 'no'} |")
    agrees = [row for row in check["rows"] if row["within_factor"]]
    if agrees:
        lines += ["", "Within the factor: " + ", ".join(row["model"] for row in agrees) + "."]
    else:
        ratios = [row["ratio"] for row in check["rows"]]
        how = ("shorter waits than the round's pages saw" if min(ratios) > 1 else
               "longer waits than the round's pages saw" if max(ratios) < 1 else "waits off either way")
        lines += ["", f"**The model misses the measured round with either sample of run lengths** (by more than a "
                      f"factor of {fmt(check['factor'])}): it predicts {how}."]
    own = next(row for row in check["rows"] if row["model"] == "round")
    trainer = next(row for row in check["rows"] if row["model"] == "trainer")
    held = own["run_s"]["median"] / trainer["run_s"]["median"]
    unexplained = check["measured_median_s"] - own["predicted"]["median_wait_s"]
    lines += ["", f"With the round's own slot-seconds a run, the queue accounts for "
                  f"{fmt(own['predicted']['median_wait_s'])} s of the measured median wait of "
                  f"{fmt(check['measured_median_s'])} s; the other {fmt(unexplained)} s are not the queue's."]
    lines += ["", f"What the round's JSON says of why: its {rnd['cores']} cores also ran the "
                  f"{rnd['sessions']} browsers (CPU-seconds: Chromium {fmt(cpu['chromium'])}, server "
                  f"{fmt(cpu['server'])}, workers {fmt(cpu['workers'])} in {fmt(rnd['wall_s'])} s), and a run "
                  f"held its slot {fmt(held)} times its trainer core-seconds; and a page showed its run late: the "
                  f"shortest measured wait was {fmt(rnd['queue_wait_min_s'])} s, and a page's longest time without a "
                  f"message from the server had a median of {fmt(rnd['longest_silence_median_s'])} s. The measured "
                  "wait is press → the page shows the run started; the simulated one is press → the run starts on a "
                  "slot, without the page's lag."]
    return "\n".join(lines)


def classes_section(plan: dict) -> str:
    model = plan["model"]
    lines = [
        f"Each class presses Train within {fmt(model['window_s'])} s (uniform), runs drawn from the seed preset's "
        f"measured runs as loaded ({model['runs']} epochs), a trainer restarted after {model['recycle_every']} runs "
        f"({fmt(model['recycle_s'])} s away), {model['trials']} trials of each, seed {model['seed']}. Slots: the "
        f"fewest with a median wait under {fmt(model['target_wait_s'])} s; each slot is one trainer actor of "
        f"{model['cores_per_slot']} CPU, so training cores = slots. Web replicas: {model['replica_cores']} cores "
        f"each, planned to {fmt(model['replica_budget_cores'])} core of server CPU (one Streamlit process), enough "
        "for the larger of two loads: while the queue drains (the window plus the longest wait), every page follows "
        "its run once (a seed run followed on its page, above) and every page redraws as a paused page does (queued "
        "pages redraw less often: an upper bound); and the whole class opening the app within one minute.",
        "",
        "| class | training slots (cores) | median wait | 90th percentile | longest | median, 1 trial in 10 | "
        "with one slot fewer | web cores: draining / opening | web replicas |",
        "|--:|--:|--:|--:|--:|--:|--:|---|--:|",
    ]
    for c in plan["classes"]:
        fewer = c["one_fewer"]
        cores = c["web"]["cores"]
        lines.append(
            f"| {c['sessions']:,} | {c['slots']} ({c['training_cores']}) | {fmt(c['median_wait_s'])} s | "
            f"{fmt(c['p90_wait_s'])} s | {fmt(c['max_wait_s'])} s | {fmt(c['median_wait_bad_day_s'])} s | "
            f"{(fmt(fewer['median_wait_s']) + ' s median') if fewer else '–'} | "
            f"{fmt(cores['drain'])} in {fmt(c['web']['drain_s'])} s / {fmt(cores['open_minute'])} | "
            f"{c['web']['replicas']} |")
    largest = plan["classes"][-1]
    server, seed = plan["measured"]["server"], plan["measured"]["seed_runs"][model["runs"]]
    web = max(largest["web"]["cores"].values())
    larger = "web tier" if web > largest["training_cores"] else "training"
    lines += ["", f"For a class of {largest['sessions']:,} the {larger} is the larger cost: {fmt(web)} cores of server "
                  f"CPU against {largest['training_cores']} training cores. A page that follows one seed run costs "
                  f"its server {fmt(server['seed_run_visit_cpu_s'])} s of CPU, the run its trainer "
                  f"{fmt(seed['median'])} core-seconds: the run ends before the page has drawn it, and the page "
                  "replays it frame by frame."]
    return "\n".join(lines)


def render(plan: dict) -> dict[str, str]:
    return {"inputs": inputs_section(plan), "check": check_section(plan), "classes": classes_section(plan)}


def write_into(path: Path, sections: dict[str, str]) -> None:
    content = path.read_text(encoding="utf-8")
    for name, text in sections.items():
        content = markers.replace_block(content, BEGIN.format(name), END.format(name), text + "\n")
    path.write_text(content, encoding="utf-8")


# ------------------------------------------------------------------ main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sessions", type=int, help="N: sessions that press Train")
    parser.add_argument("--slots", type=int, help="K: training slots")
    parser.add_argument("--runs-from", type=Path, help="docs/capacity.json or a load test's JSON: the run lengths")
    parser.add_argument("--runs", help="with a capacity JSON: which seed runs (100, 20, 20_seed_changed), or "
                                       "preset:NAME for that preset's core-seconds a run")
    parser.add_argument("--arrivals", choices=("uniform", "together", "clicks"), default="uniform",
                        help="clicks: the --runs-from load test's click times")
    parser.add_argument("--window-s", type=float, default=WINDOW_S)
    parser.add_argument("--recycle-every", type=int, default=None, help="restart a slot's trainer after this many runs")
    parser.add_argument("--recycle-s", type=float, default=0.0, help="seconds a restarting trainer is away")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--trials", type=int, default=200)
    parser.add_argument("--plan", type=Path, help="write the check and the classes' plan (docs/scaling.json) here")
    parser.add_argument("--capacity", type=Path, default=ROOT / "docs" / "capacity.json")
    parser.add_argument("--load", type=Path, default=ROOT / "docs" / "load-30.json")
    parser.add_argument("--report", type=Path, help="a plan written by --plan, to print or write into --into")
    parser.add_argument("--into", type=Path, help="with --report: replace the generated sections of this Markdown")
    args = parser.parse_args(argv)
    command = shlex.join(["python", "bench/queue_sim.py", *(sys.argv[1:] if argv is None else argv)])
    if args.plan:
        plan = make_plan(args.capacity, args.load, seed=args.seed, count=args.trials, command=command)
        args.plan.write_text(json.dumps(plan, indent=1) + "\n")
        print(f"wrote {args.plan}", file=sys.stderr)
        return 0
    if args.report:
        sections = render(json.loads(args.report.read_text()))
        if args.into:
            write_into(args.into, sections)
            print(f"wrote {args.into}", file=sys.stderr)
        else:
            print("\n\n".join(sections.values()))
        return 0
    if not (args.sessions and args.slots and args.runs_from):
        parser.error("give --sessions, --slots and --runs-from (or --plan, or --report)")
    sample, source = run_lengths(args.runs_from, args.runs)
    clicks = click_offsets(json.loads(args.runs_from.read_text())) if args.arrivals == "clicks" else None
    result = trials(args.sessions, args.slots, sample, rng=np.random.default_rng(args.seed), count=args.trials,
                    arrivals=args.arrivals, window_s=args.window_s, clicks=clicks,
                    recycle_every=args.recycle_every, recycle_s=args.recycle_s)
    print(json.dumps({**result, "arrivals": args.arrivals, "window_s": args.window_s, "runs": source,
                      "run_s": describe(sample), "seed": args.seed}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
