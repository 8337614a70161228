"""Sequence Playground benchmark: one markdown table, every number measured in this run.

    python bench/run.py               # full: more repeats and epochs (several minutes)
    python bench/run.py --quick       # the same rows, fewer repeats and epochs (aimed at 2 min on a quiet box)
    python bench/run.py --rows 1,3,5  # only some rows; 1j is row 1 on the JAX backend
    python bench/run.py --json out.json

Rows: 1 seed workload end to end (plain `model.fit` vs a seqcore job) and its arithmetic limit; 1j the same
on JAX; 2 a larger workload (job vs bare fit); 3 time to the first epoch, warm and cold; 4 first paint in a
real browser and Train -> first loss point; 5 bytes of one live update, and of the Runs page overlaying 10
runs of 1,000 epochs; 6 memory over many runs, with the run store off and on (and the store's size on disk);
7 the NumPy reference forward vs Keras predict; 8 the run store's cost per epoch and snapshot event (a real
seed run's events replayed into job records with and without a store); 9 the Runs page with 200 stored runs
on a warm server, in a real browser; 10 the adding lesson (LSTM(64), T=100) to validation MSE < 0.01, a job
against the plain tuned Keras loop; 11 steady ms per training step of LSTM, GRU and SimpleRNN(64) at T = 100 and
200, job against plain loop; 12 the share of the adding lesson's time spent on its gradients-through-time
snapshots; 13 training throughput of the text preset (LSTM(128), T=100) in characters per second, a job against
plain `model.fit`; 14 bits per character on the built-in corpus after 2 minutes of training with the text preset's
settings, against the n-gram baselines; 15 sampling 300 characters from a text snapshot in this process (NumPy).

How: everything that needs a clean process runs in one (bench/tasks.py children, seqcore workers, a
streamlit server). Children and workers import and warm up in parallel first (untimed), then the timed parts
run one after another. This process plays the server: it holds the JobManagers and never imports
TensorFlow. Progress goes to stderr, the table to stdout. Every wait has a timeout, and every process started
here is ended on the way out, errors included.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import gc
import importlib.metadata
import json
import math
import os
import platform
import queue
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import servers  # noqa: E402
from seqcore.backend import JobHandle, JobRecord  # noqa: E402
from seqcore.config import Experiment, preset  # noqa: E402
from seqcore.events import EpochEvent, SnapshotEvent  # noqa: E402
from seqcore.jobs import JobManager, intra_op_threads_for  # noqa: E402
from seqcore.limits import active_limits  # noqa: E402

TASKS_PY = Path(__file__).resolve().parent / "tasks.py"
ROW_IDS = ("1", "1j", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13", "14", "15")
EARLY_ROWS = ("4", "9")  # the browser rows, measured before anything else loads the machine (see main)
READY_TIMEOUT_S = 600.0  # a child or worker importing TensorFlow on a busy 2-core machine
RUN_TIMEOUT_S = 600.0  # one timed task or job
T0 = time.monotonic()
# The bench's managers have one slot, to time one job alone, but their workers split ops over the threads the
# app's own manager (one slot per core by default) would give them.
APP_INTRA_OP_THREADS = intra_op_threads_for(active_limits().slots)


def log(message: str) -> None:
    print(f"[bench {time.monotonic() - T0:6.1f} s] {message}", file=sys.stderr, flush=True)


# ------------------------------------------------------------------ settings


@dataclass(frozen=True)
class Plan:
    """Repeats and sizes: --quick keeps every row but does less of each."""

    quick: bool
    repeats_fit: int  # rows 1 and 2: fresh processes and whole runs
    repeats_first_epoch: int  # row 3 warm
    repeats_cold: int  # row 3 cold: a new worker each
    repeats_browser: int  # row 4: a new server each
    repeats_reference: int  # row 7: calls per timing
    large_epochs: int  # row 2
    memory_runs: int  # row 6, each of store off and store on
    memory_jobs_per_worker: int  # row 6: recycling period
    repeats_store: int  # row 8: replays of the seed run's events, each with and without the store
    repeats_runs_page: int  # row 9: timed loads of each kind
    repeats_lesson: int  # row 10: runs to MSE < 0.01 of each kind (plain loop, preset job, matched job)
    steady_epochs: int  # row 11: epochs of each job (the first compiles), and as many of the plain loop's steps
    snapshot_epochs: int  # row 12: epochs of the adding lesson
    text_epochs: int  # row 13: epochs of the job and of the plain loop each (the first compiles)
    repeats_sample: int  # row 15: timed calls of seqcore.text.sample
    runs_page_runs: int = 200  # row 9: stored runs of the browser

    @classmethod
    def make(cls, quick: bool) -> Plan:
        if quick:
            return cls(quick, repeats_fit=1, repeats_first_epoch=3, repeats_cold=1, repeats_browser=1,
                       repeats_reference=3, large_epochs=3, memory_runs=10, memory_jobs_per_worker=10,
                       repeats_store=3, repeats_runs_page=3, repeats_lesson=1, steady_epochs=3, snapshot_epochs=8,
                       text_epochs=3, repeats_sample=10)
        return cls(quick, repeats_fit=3, repeats_first_epoch=5, repeats_cold=3, repeats_browser=3,
                   repeats_reference=7, large_epochs=10, memory_runs=50, memory_jobs_per_worker=20,
                   repeats_store=7, repeats_runs_page=7, repeats_lesson=2, steady_epochs=5, snapshot_epochs=30,
                   text_epochs=7, repeats_sample=20)


def seed_experiment(backend: str = "tensorflow", **changes) -> Experiment:
    return preset("seed").with_values(**{"train.backend": backend, **changes})


def large_experiment(epochs: int) -> Experiment:
    """LSTM(128) on a noisy sine, windows of 50 steps; 2,927 points give exactly 2,000 training windows."""
    return preset("sine").with_values(**{
        "data.seq_len": 50, "data.n_points": 2927, "model.cell": "LSTM", "model.units": 128,
        "train.batch_size": 32, "train.epochs": epochs})


# ------------------------------------------------------------------ table entries


@dataclass
class Entry:
    row: str
    measure: str
    value: float | None
    unit: str
    n: int | str = 1
    note: str = ""
    target: tuple[str, float] | None = None  # ("<=", limit) or (">=", limit)
    decimals: int = 2
    details: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool | None:
        if self.target is None or self.value is None or not math.isfinite(self.value):
            return None
        op, limit = self.target
        return self.value <= limit if op == "<=" else self.value >= limit

    def value_text(self) -> str:
        if self.value is None or not math.isfinite(self.value):
            return "–"
        text = f"{self.value:,.{self.decimals}f}"
        return f"{text} {self.unit}".strip()

    def target_text(self) -> str:
        if self.target is None:
            return ""
        op, limit = self.target
        mark = {True: " ✓", False: " ✗", None: ""}[self.ok]
        limit_text = f"{limit:g}"
        return f"{'≤' if op == '<=' else '≥'} {limit_text} {self.unit}".rstrip() + mark

    def to_dict(self) -> dict:
        return {"row": self.row, "measure": self.measure, "value": self.value, "unit": self.unit, "n": self.n,
                "target": list(self.target) if self.target else None, "ok": self.ok, "note": self.note,
                "decimals": self.decimals, "details": self.details}

    @classmethod
    def from_dict(cls, data: dict) -> Entry:
        """The entry that to_dict() wrote, so that bench/report.py prints the very table this run printed."""
        if "decimals" not in data:
            raise ValueError(f"row {data.get('row')!r}: no 'decimals' in the JSON (written by an older bench/run.py); "
                             "rerun the benchmark")
        target = data["target"]
        return cls(data["row"], data["measure"], data["value"], data["unit"], data["n"], data["note"],
                   (target[0], target[1]) if target else None, data["decimals"], data["details"])


def failed_entry(row: str, err: BaseException) -> Entry:
    return Entry(row, "**failed**", None, "", n="–", note=f"{type(err).__name__}: {err}"[:300])


def print_table(header: list[str], entries: list[Entry], out=sys.stdout) -> None:
    for line in header:
        print(line, file=out)
    print(file=out)
    print("| # | Measurement | Value | Target | n | Notes |", file=out)
    print("|---|---|--:|---|--:|---|", file=out)
    for e in entries:
        cells = [e.row, e.measure, e.value_text(), e.target_text(), str(e.n), e.note]
        print("| " + " | ".join(c.replace("|", "\\|").replace("\n", " ") for c in cells) + " |", file=out)
    out.flush()


def machine_info(command: str) -> dict:
    """The machine, the software and the time of a run, taken at its start (the load average is the start's)."""
    cpu = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    versions = {}
    for name, dists in (("TensorFlow", ("tensorflow-cpu", "tensorflow")), ("Keras", ("keras",)), ("JAX", ("jax",)),
                        ("Streamlit", ("streamlit",)), ("NumPy", ("numpy",))):
        for dist in dists:
            with contextlib.suppress(importlib.metadata.PackageNotFoundError):
                versions[name] = importlib.metadata.version(dist)
                break
    return {"cpu": cpu, "cores": os.cpu_count(), "cores_usable": len(os.sched_getaffinity(0)),
            "ram_gib": psutil.virtual_memory().total / 2**30, "python": platform.python_version(),
            "versions": versions, "command": command, "load_avg_at_start": os.getloadavg(),
            "date": datetime.datetime.now().isoformat(timespec="seconds")}


def header_lines(info: dict, wall_s: float) -> list[str]:
    """The lines above the table, from machine_info() (or the JSON's "machine") and the run's wall time."""
    return [
        "### Sequence Playground benchmark",
        "",
        f"- Command: `{info['command']}` ({info['date']})",
        f"- Machine: {info['cpu']}, {info['cores']} cores ({info['cores_usable']} usable), {info['ram_gib']:.1f} GiB "
        f"RAM; load average at start {info['load_avg_at_start'][0]:.2f}",
        "- Software: Python " + info["python"] + ", " + ", ".join(f"{k} {v}" for k, v in info["versions"].items()),
        "- Values are medians over n repeats; every row was measured in this run.",
        f"- Total wall time of this run: {wall_s:.0f} s",
    ]


def write_json(path: Path, info: dict, plan: Plan, rows: list[str], wall_s: float, entries: list[Entry]) -> None:
    """--json: the run's numbers, from which bench/report.py writes docs/performance.md."""
    payload = {"machine": info, "quick": plan.quick, "rows": rows, "wall_s": wall_s,
               "entries": [e.to_dict() for e in entries]}
    Path(path).write_text(json.dumps(payload, indent=2, default=str))


# ------------------------------------------------------------------ processes


class Child:
    """A bench/tasks.py process: prepares, says READY, runs its timed part on GO, answers RESULT."""

    def __init__(self, task: str, args: dict, backend: str, log_dir: Path, env: dict | None = None):
        self.name = f"{task}[{backend}]"
        self.log_path = Path(tempfile.mkstemp(prefix=f"{task}-", suffix=".log", dir=log_dir)[1])
        env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONUNBUFFERED": "1",
               **(env or {})}
        with open(self.log_path, "wb") as stderr:
            self.process = subprocess.Popen(
                [sys.executable, str(TASKS_PY), task, json.dumps(args)], cwd=ROOT, env=env, text=True,
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr, start_new_session=True)
        self.lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True, name=f"bench-{self.name}").start()
        self.ready = False

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def _next(self, deadline: float, waiting_for: str) -> str:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"{self.name}: no {waiting_for} within the time limit")
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                continue
            if line is None:
                raise RuntimeError(f"{self.name} ended early (exit {self.process.wait(10)}): {self.log_tail()}")
            if line.startswith("ERROR "):
                raise RuntimeError(f"{self.name}: {json.loads(line[6:])}")
            if line == "READY" or line.startswith("RESULT "):
                return line

    def wait_ready(self, timeout: float = READY_TIMEOUT_S) -> None:
        if not self.ready:
            self._next(time.monotonic() + timeout, "READY")
            self.ready = True

    def run(self, timeout: float = RUN_TIMEOUT_S) -> dict:
        self.wait_ready()
        self.process.stdin.write("GO\n")
        self.process.stdin.flush()
        line = self._next(time.monotonic() + timeout, "RESULT")
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(30)
        self.close()
        return json.loads(line[len("RESULT "):])

    def log_tail(self) -> str:
        with contextlib.suppress(OSError):
            lines = self.log_path.read_text(errors="replace").strip().splitlines()
            return " / ".join(lines[-3:])[-400:]
        return ""

    def close(self) -> None:
        if self.process.poll() is None:
            servers.kill_group(self.process.pid)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(10)
        for stream in (self.process.stdin, self.process.stdout):
            with contextlib.suppress(OSError, ValueError):
                stream.close()


class Resources:
    """Everything started for the benchmark, prepared ahead and ended on the way out."""

    def __init__(self):
        self.tmp = Path(tempfile.mkdtemp(prefix="seqcore-bench-"))
        self.prepared: dict[tuple, list[Child]] = {}
        self.children: list[Child] = []
        self.managers: dict[str, JobManager] = {}
        self.servers: list[servers.StreamlitServer] = []
        self.cleanups: list = []
        self.stores: dict = {}
        self.results: dict = {}  # what one row hands to a later one (row 14's last text snapshot, for row 15)

    # --- children ---
    def spawn(self, task: str, args: dict | None = None, backend: str = "tensorflow", env: dict | None = None) -> Child:
        child = Child(task, args or {}, backend, self.tmp, env)
        self.children.append(child)
        return child

    @staticmethod
    def _key(task, args, backend, env) -> tuple:
        return task, json.dumps(args or {}, sort_keys=True), backend, json.dumps(env or {}, sort_keys=True)

    def prepare(self, task: str, args: dict | None = None, backend: str = "tensorflow", env: dict | None = None):
        key = self._key(task, args, backend, env)
        self.prepared.setdefault(key, []).append(self.spawn(task, args, backend, env))

    def child(self, task: str, args: dict | None = None, backend: str = "tensorflow", env: dict | None = None):
        """A prepared child if one is waiting, else a new one (its preparation is not timed either)."""
        waiting = self.prepared.get(self._key(task, args, backend, env))
        child = waiting.pop(0) if waiting else self.spawn(task, args, backend, env)
        child.wait_ready()
        return child

    # --- job managers ---
    def manager(self, name: str, **kwargs) -> JobManager:
        """A named JobManager with one slot and one warm worker (created on first use)."""
        if name not in self.managers:
            self.managers[name] = JobManager(slots=1, warm=1, intra_op_threads=APP_INTRA_OP_THREADS, **kwargs)
        return self.managers[name]

    def ready_manager(self, name: str, **kwargs) -> JobManager:
        manager = self.manager(name, **kwargs)
        if not manager.wait_ready(READY_TIMEOUT_S):
            raise TimeoutError(f"the {name} worker did not get ready within {READY_TIMEOUT_S:g} s")
        return manager

    def close_manager(self, name: str) -> None:
        manager = self.managers.pop(name, None)
        if manager is not None:
            manager.shutdown()

    # --- run stores ---
    def store(self, name: str):
        """A RunStore in its own folder under this run's temp folder (created on first use, closed at the end)."""
        if name not in self.stores:
            from seqcore.store import RunStore

            self.stores[name] = RunStore(self.store_folder(name))
        return self.stores[name]

    def store_folder(self, name: str) -> Path:
        return self.tmp / f"store-{name}"

    def wait_prepared(self) -> None:
        for manager in self.managers.values():
            manager.wait_ready(READY_TIMEOUT_S)
        for children in self.prepared.values():
            for child in children:
                with contextlib.suppress(Exception):  # a failure shows again, with its message, in its row
                    child.wait_ready()

    def close(self) -> None:
        for cleanup in reversed(self.cleanups):
            with contextlib.suppress(Exception):
                cleanup()
        for name in list(self.managers):
            with contextlib.suppress(Exception):
                self.close_manager(name)
        for store in self.stores.values():  # after the managers, which record their jobs' ends
            with contextlib.suppress(Exception):
                store.close()
        for child in self.children:
            child.close()
        for server in self.servers:
            server.stop()
        # Anything still alive that this process started (a recycled worker still exiting): end it by pid.
        leftovers = psutil.Process().children(recursive=True)
        for process in leftovers:
            with contextlib.suppress(psutil.Error):
                process.kill()
        psutil.wait_procs(leftovers, timeout=10)
        shutil.rmtree(self.tmp, ignore_errors=True)


# ------------------------------------------------------------------ jobs


def wait_idle(manager: JobManager, timeout: float = RUN_TIMEOUT_S) -> None:
    """Until no job runs or waits (a finished job's worker still clears its Keras session briefly)."""
    deadline = time.monotonic() + timeout
    while manager.running() or manager.queued():
        if time.monotonic() > deadline:
            raise TimeoutError("the job manager did not become idle")
        time.sleep(0.005)


def watch(job: JobHandle, t0: float, timeout: float = RUN_TIMEOUT_S) -> dict[str, float]:
    """Seconds from t0 to: dispatch to a worker, the StartEvent, the first EpochEvent, the end (polled, 2 ms)."""
    marks: dict[str, float] = {}
    deadline = time.monotonic() + timeout
    while True:
        done = job.wait(0.002)
        now = time.perf_counter() - t0
        view = job.view()
        if "dispatched" not in marks and view.status != "queued":
            marks["dispatched"] = now
        if "start" not in marks and view.start is not None:
            marks["start"] = now
        if "first_epoch" not in marks and view.history:
            marks["first_epoch"] = now
        if done:
            marks["end"] = now
            return marks
        if time.monotonic() > deadline:
            job.stop()
            raise TimeoutError(f"job {job.id} did not end within {timeout:g} s")


def steady_epoch_ms(epoch_ends: list[float], skip: int = 10) -> float:
    """Median time between consecutive epoch ends after the first `skip` epochs (all of them if fewer)."""
    durations = np.diff(np.asarray([0.0, *epoch_ends]))
    steady = durations[skip:] if len(durations) > skip else durations
    return 1000 * float(np.median(steady)) if len(steady) else math.nan


def run_job(manager: JobManager, experiment: Experiment, timeout: float = RUN_TIMEOUT_S) -> dict:
    """Submit on an idle manager and follow the job to its end."""
    wait_idle(manager, timeout)
    t0 = time.perf_counter()
    job = manager.submit(experiment)
    marks = watch(job, t0, timeout)
    view = job.view()
    if view.status != "finished":
        raise RuntimeError(f"the job ended {view.status}: {view.reason}")
    return {**marks, "steady_epoch_ms": steady_epoch_ms([e.elapsed for e in view.history]),
            "epochs": len(view.history), "breakdown": job_breakdown(marks, view.history), "job": job}


def job_breakdown(marks: dict[str, float], history) -> dict[str, float]:
    """Where a job's time went, in seconds: building (submit -> StartEvent), the epochs themselves (training and
    validation, EpochEvent.seconds), the gaps between epochs (snapshots, event hand-off), and the tail (after
    the last EpochEvent: the last snapshot, the test pass, saving the artifacts)."""
    if not history or "start" not in marks:
        return {}
    in_epochs = sum(e.seconds for e in history)
    to_last_epoch = history[-1].elapsed
    return {"build": marks["start"], "epochs": in_epochs, "between_epochs": max(0.0, to_last_epoch - in_epochs),
            "tail": max(0.0, marks["end"] - marks["start"] - to_last_epoch)}


def breakdown_text(parts: list[dict]) -> str:
    keys = ("build", "epochs", "between_epochs", "tail")
    names = {"build": "build", "epochs": "epochs (train + validation)", "between_epochs": "between epochs "
             "(snapshots)", "tail": "last snapshot + test + save"}
    return ", ".join(f"{names[k]} {med(p.get(k) for p in parts):.2f} s" for k in keys)


def med(values) -> float:
    values = [v for v in values if v is not None and math.isfinite(v)]
    return statistics.median(values) if values else math.nan


# ------------------------------------------------------------------ arithmetic


def recurrent_forward_flops(rows: int, steps: int, features: int, units: int, outputs: int, *, gates: int = 4,
                            layers: int = 1, per_step_head: bool = True) -> float:
    """Matmul FLOPs of one forward pass: each step multiplies [x_t, h_(t-1)] by the gate kernels; then the head."""
    total, inputs = 0.0, features
    for _ in range(layers):
        total += rows * steps * 2 * (inputs + units) * gates * units
        inputs = units
    total += rows * (steps if per_step_head else 1) * 2 * units * outputs
    return total


_RATES: dict[str, float] = {}


def matmul_gflops(shape: str) -> float:
    """float32 NumPy matmul rate here: 'peak' (1024 x 1024 x 1024) or 'step' (10 x 60 @ 60 x 200, one LSTM step
    of the seed model); the best of a few timed batches, cached."""
    if shape not in _RATES:
        rng = np.random.default_rng(0)
        m, k, n, calls = (1024, 1024, 1024, 3) if shape == "peak" else (10, 60, 200, 2000)
        a, b = rng.random((m, k), dtype=np.float32), rng.random((k, n), dtype=np.float32)
        a @ b
        best = math.inf
        for _ in range(5):
            t0 = time.perf_counter()
            for _ in range(calls):
                a @ b
            best = min(best, time.perf_counter() - t0)
        _RATES[shape] = 2 * m * k * n * calls / best / 1e9
    return _RATES[shape]


# ------------------------------------------------------------------ row 1: the seed workload


def row_seed(res: Resources, plan: Plan, backend: str = "tensorflow") -> list[Entry]:
    tag, name = ("1", "TF") if backend == "tensorflow" else ("1j", "JAX")
    manager = res.ready_manager(backend, backend=backend)
    experiment = seed_experiment(backend)
    plains, jobs = [], []
    for i in range(plan.repeats_fit):
        log(f"row {tag}: plain model.fit {i + 1}/{plan.repeats_fit}")
        plains.append(res.child("plain_fit", {}, backend=backend).run())
        log(f"row {tag}: seqcore job {i + 1}/{plan.repeats_fit}")
        jobs.append(run_job(manager, experiment))
    n = plan.repeats_fit
    plain_s, job_s = med(p["total_s"] for p in plains), med(j["end"] for j in jobs)
    plain_ms, job_ms = med(p["steady_epoch_ms"] for p in plains), med(j["steady_epoch_ms"] for j in jobs)
    rows = plains[0]["rows"]
    entries = [
        Entry(tag, f"Seed [{name}]: plain `model.fit`, model build → fit end", plain_s, "s", n,
              f"the tutorial's program on all {rows} sequences, 100 epochs, batch 10, verbose=0; "
              "fresh process with Keras imported; first epoch "
              f"{med(p['first_epoch_s'] for p in plains):.2f} s"),
        Entry(tag, f"Seed [{name}]: seqcore job, `submit()` → end", job_s, "s", n,
              "warm worker; 70 train + 20 validation sequences, validation every epoch, snapshots every 5, "
              f"artifacts saved; first epoch at {med(j['first_epoch'] for j in jobs):.2f} s",
              details={"breakdown": [j["breakdown"] for j in jobs]}),
        Entry(tag, f"Seed [{name}]: job time / plain time", job_s / plain_s, "", n, "", ("<=", 0.25)),
        Entry(tag, f"Seed [{name}]: steady ms per epoch, plain fit", plain_ms, "ms", n,
              "median epoch after the first 10", decimals=1),
        Entry(tag, f"Seed [{name}]: steady ms per epoch, seqcore job", job_ms, "ms", n,
              "median epoch after the first 10 (epoch-end to epoch-end: validation and snapshots included)",
              decimals=1),
    ]
    if backend == "tensorflow":
        config = experiment.data
        forward = lambda k: recurrent_forward_flops(k, config.seq_len - 1, config.vocab_size,  # noqa: E731
                                                    experiment.model.units, config.vocab_size)
        plain_flops = 3 * forward(rows)  # forward + backward ≈ 3 × forward
        job_flops = 3 * forward(70) + forward(20)  # training rows, then the validation forward pass
        peak, step = matmul_gflops("peak"), matmul_gflops("step")
        entries += [
            Entry(tag, "Seed: arithmetic limit per epoch at peak matmul rate", plain_flops / peak / 1e6, "ms", 1,
                  f"{plain_flops / 1e6:.1f} MFLOP/epoch (plain; the job's {job_flops / 1e6:.1f}: "
                  f"{job_flops / peak / 1e6:.2f} ms) ÷ {peak:.1f} GFLOP/s (float32 NumPy 1024³ matmul)",
                  decimals=2),
            Entry(tag, "Seed: arithmetic limit per epoch at step-shaped matmul rate", plain_flops / step / 1e6,
                  "ms", 1, f"÷ {step:.1f} GFLOP/s (float32 NumPy 10×60 @ 60×200, one LSTM step of batch 10)",
                  decimals=2),
        ]
    return entries


# ------------------------------------------------------------------ row 2: the larger workload


def row_large(res: Resources, plan: Plan) -> list[Entry]:
    experiment = large_experiment(plan.large_epochs)
    manager = res.ready_manager("tensorflow", backend="tensorflow")
    bares, jobs = [], []
    for i in range(plan.repeats_fit):
        log(f"row 2: bare model.fit {i + 1}/{plan.repeats_fit}")
        bares.append(res.child("bare_fit", {"experiment": experiment.to_dict()}).run())
        log(f"row 2: seqcore job {i + 1}/{plan.repeats_fit}")
        jobs.append(run_job(manager, experiment))
    n, epochs = plan.repeats_fit, plan.large_epochs
    bare_s, job_s = med(b["total_s"] for b in bares), med(j["end"] for j in jobs)
    train_flops = 3 * recurrent_forward_flops(2000, 50, 1, 128, 1, per_step_head=False)
    val_flops = recurrent_forward_flops(535, 50, 1, 128, 1, per_step_head=False)
    what = f"sine regression, LSTM(128), T=50, 2,000 training windows, batch 32, {epochs} epochs"
    return [
        Entry("2", "Large: bare `model.fit`, no callbacks", bare_s, "s", n,
              f"{what}; NumPy arrays, same model (seqcore.models.build_model); process warmed up like a worker; "
              f"{1000 * bare_s / epochs:.0f} ms/epoch"),
        Entry("2", "Large: seqcore job with live events, `submit()` → end", job_s, "s", n,
              f"warm worker; validation on 535 windows each epoch (≈ {100 * val_flops / train_flops:.0f} % "
              f"of the training arithmetic), snapshots, test pass and artifacts included; "
              f"{1000 * job_s / epochs:.0f} ms/epoch; of which {breakdown_text([j['breakdown'] for j in jobs])}",
              details={"breakdown": [j["breakdown"] for j in jobs]}),
        Entry("2", "Large: job overhead over bare fit", 100 * (job_s / bare_s - 1), "%", n, "", ("<=", 5.0),
              decimals=1),
    ]


# ------------------------------------------------------------------ row 3: time to the first epoch


def row_first_epoch(res: Resources, plan: Plan) -> list[Entry]:
    experiment = seed_experiment(**{"train.epochs": 3})
    manager = res.ready_manager("tensorflow", backend="tensorflow")
    warm = []
    for i in range(plan.repeats_first_epoch):
        log(f"row 3: warm first epoch {i + 1}/{plan.repeats_first_epoch}")
        warm.append(run_job(manager, experiment))
    # A network this worker has not compiled yet (the worker keeps compiled models by architecture): a
    # different width each time, so none is cached.
    new = []
    for i in range(plan.repeats_first_epoch):
        log(f"row 3: warm worker, new architecture {i + 1}/{plan.repeats_first_epoch}")
        new.append(run_job(manager, experiment.with_values(**{"model.units": 41 + i})))
    cold = []
    for i in range(plan.repeats_cold):
        log(f"row 3: cold first epoch {i + 1}/{plan.repeats_cold}")
        t0 = time.perf_counter()
        fresh = JobManager(slots=1, warm=1, intra_op_threads=APP_INTRA_OP_THREADS)
        res.cleanups.append(fresh.shutdown)
        try:
            job = fresh.submit(experiment)
            marks = watch(job, t0)
            if job.view().status != "finished":
                raise RuntimeError(f"the cold job ended {job.view().status}: {job.view().reason}")
            cold.append(marks)
        finally:
            fresh.shutdown()
    return [
        Entry("3", "First epoch, warm worker: `submit()` → first EpochEvent", med(w["first_epoch"] for w in warm),
              "s", plan.repeats_first_epoch,
              f"seed preset, its model already compiled in this worker (a run of the same network before, or "
              f"the default one from the warm-up); StartEvent at {med(w['start'] for w in warm):.2f} s",
              ("<=", 2.0)),
        Entry("3", "First epoch, warm worker, a network it has not compiled", med(n["first_epoch"] for n in new),
              "s", plan.repeats_first_epoch,
              f"seed preset with 41-{40 + plan.repeats_first_epoch} units: tracing the train and test graphs; "
              f"StartEvent at {med(n['start'] for n in new):.2f} s", ("<=", 2.0)),
        Entry("3", "First epoch, cold: `JobManager()` + `submit()` → first EpochEvent",
              med(c["first_epoch"] for c in cold), "s", plan.repeats_cold,
              f"worker ready (TensorFlow import + warm-up) at {med(c['dispatched'] for c in cold):.1f} s, "
              f"StartEvent at {med(c['start'] for c in cold):.1f} s"),
    ]


# ------------------------------------------------------------------ row 4: the browser


APP_READY_JS = """() => {
  const app = document.querySelector('[data-testid="stApp"]');
  return !!app && app.getAttribute('data-test-connection-state') === 'CONNECTED'
    && app.getAttribute('data-test-script-state') === 'notRunning' && (%s);
}"""
SCRIPT_DONE_JS = APP_READY_JS % "true"
# The Data page drawn: its preview (an HTML table for token data, a Plotly chart for series), the settings, the
# download button, the sidebar's share button and the page's last element, the link to the next page.
DATA_PAGE_JS = APP_READY_JS % " && ".join(f"!!document.querySelector('{selector}')" for selector in (
    ".st-key-data_preview table, .st-key-data_preview .js-plotly-plot", "[data-testid=stNumberInput] input",
    "[data-testid=stDownloadButton] button", "[data-testid=stSidebar] [data-testid=stPopover] button",
    "[data-testid=stPageLink-NavLink]"))
FLOOR_APP = "bench/floor_app.py"
VIEWPORT = {"width": 1400, "height": 1000}  # a laptop-sized window for every page row 4 opens
FLOOR_PAGE_JS = APP_READY_JS % ("!!document.querySelector('h1') && "
                                "document.querySelectorAll('[data-testid=stSidebarNavLink]').length >= 4")
# Any other page drawn: its title, every chart drawn by Plotly, every table by its canvas, no placeholder left.
PAGE_DRAWN_JS = APP_READY_JS % ("!!document.querySelector('h1') && "
                                "!document.querySelector('[data-testid=stSkeleton]') && "
                                "Array.from(document.querySelectorAll('[data-testid=stPlotlyChart]'))"
                                ".every(el => el.querySelector('.main-svg')) && "
                                "Array.from(document.querySelectorAll('[data-testid=stDataFrame]'))"
                                ".every(el => el.querySelector('canvas'))")
# The app's pages a first visit may open (a shared link names any), beside the Data page: (URL path, name).
OTHER_PAGES = (("train", "Model & training"), ("inspect", "Inspect"), ("runs", "Runs"), ("board", "Class board"),
               ("theory", "Theory"))
NEW_NETWORK_UNITS = 37  # row 4's changed setting: a size the seed preset (50 units) never builds
TYPED_UNITS = 43  # and the one a person types into the page, another size no run here has built
# A person who has typed a value takes this long at least to reach for Train (pointing at a button: about a second).
PERSON_PAUSE_S = 1.0
TRAIN_PAGE_JS = APP_READY_JS % "!!document.querySelector('.st-key-train button:not([disabled])')"
# The Train page redrawn after units were typed: its network picture shows them (%d: the units), Train enabled.
TYPED_UNITS_JS = APP_READY_JS % ("!!document.querySelector('.st-key-train button:not([disabled])') && "
                                 "(document.querySelector('.st-key-fig_network svg') || {}).textContent"
                                 "?.includes('%d units')")
# The loss chart's first point.
LOSS_POINT_JS = """() => Array.from(document.querySelectorAll('.st-key-fig_loss .js-plotly-plot')).some(el => {
  const trace = el.data && el.data[0];
  if (!trace) return false;
  const count = v => v == null ? 0 : (typeof v.length === 'number' ? v.length : (v.bdata ? 1 : 0));
  return Math.max(count(trace.x), count(trace.y)) >= 1;
})"""


def start_app(res: Resources, script: str, log_name: str, env: dict | None = None) -> servers.StreamlitServer:
    """`streamlit run SCRIPT` from the project root on a free port, stopped with the other resources at the end;
    `env`: variables set for it besides this process's."""
    # A run store of its own, empty, as a fresh install has (the default, ./runs, holds whatever ran here before:
    # the Class board drew a chart of earlier runs).
    inherited = {k: v for k, v in os.environ.items() if k != "SEQCORE_STORE_URL"}
    env = {**inherited, "TF_CPP_MIN_LOG_LEVEL": "2", "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false",
           "SEQCORE_STORE": str(res.tmp / f"store-{log_name}"), **(env or {})}
    # Python's bytecode cache as a person's machine has it (this sandbox sets PYTHONDONTWRITEBYTECODE): the
    # first start after a clone compiles the app's modules once, about 0.2 s of its first script run.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    server = servers.StreamlitServer(script, res.tmp / f"streamlit-{log_name}.log", env)
    res.servers.append(server)
    return server


def first_paint_once(res: Resources, browser, index: int, script: str, page_js: str,
                     second_visit: bool = False, path: str = "") -> dict:
    """Start a server, open its page at `path` (its first page by default) in a new browser context and time it
    until `page_js` holds."""
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    out = {}
    server = start_app(res, script, f"{Path(script).stem}-{path or 'first'}-{index}")
    url, t0 = server.url, server.started
    try:
        server.wait_healthy(60, poll_s=0.02)
        out["health_s"] = time.perf_counter() - t0
        page.goto(f"{url}/{path}", timeout=60_000)
        page.wait_for_function(SCRIPT_DONE_JS, timeout=60_000, polling=20)
        out["script_done_s"] = time.perf_counter() - t0
        page.wait_for_function(page_js, timeout=60_000, polling=20)
        out["first_page_s"] = time.perf_counter() - t0
        if second_visit:  # the same page for a second visitor (a new context: its own cache), the server running
            other = browser.new_context(viewport=VIEWPORT)
            try:
                t1 = time.perf_counter()
                other_page = other.new_page()
                other_page.goto(url + "/", timeout=60_000)
                other_page.wait_for_function(page_js, timeout=60_000, polling=20)
                out["second_visit_s"] = time.perf_counter() - t1
            finally:
                other.close()
    finally:
        with contextlib.suppress(Exception):
            context.close()
        server.stop()
    return out


def train_latency_once(res: Resources, browser, index: int) -> dict:
    """Pressing Train on a new server's Train page: while its worker still starts, then on the warm worker, then
    for a new network on the warm worker: a shared link naming it, Train pressed the moment the page is ready,
    and a person who types new units into the box and presses Train PERSON_PAUSE_S later (the page compiles
    the settings on screen in the worker's idle time)."""
    out = {}
    server = start_app(res, "app.py", f"train-{index}")
    url, t0 = server.url, server.started

    def press_train(query: str = "", typed_units: int | None = None) -> tuple[float, float]:
        """A new visitor (a browser context of its own: the app shows a returning browser its last run) presses
        Train: (seconds from the press to the loss chart's first point, seconds from the server's start to it)."""
        context = browser.new_context(viewport=VIEWPORT)
        try:
            page = context.new_page()
            page.goto(f"{url}/train{query}", timeout=60_000)
            page.wait_for_function(TRAIN_PAGE_JS, timeout=60_000, polling=20)
            if typed_units is not None:
                box = page.get_by_role("spinbutton", name="Units per layer")
                box.fill(str(typed_units))
                box.press("Enter")
                # The page took the value: its network picture says so, and the script has ended.
                page.wait_for_function(TYPED_UNITS_JS % typed_units, timeout=60_000, polling=20)
                time.sleep(PERSON_PAUSE_S)
            started = time.perf_counter()
            page.locator(".st-key-train button:visible").first.click(timeout=30_000)
            page.wait_for_function(LOSS_POINT_JS, timeout=RUN_TIMEOUT_S * 1000, polling=20)
            took = time.perf_counter() - started
            page.wait_for_function(TRAIN_PAGE_JS, timeout=RUN_TIMEOUT_S * 1000, polling=100)  # the run has ended
        finally:
            with contextlib.suppress(Exception):
                context.close()
        time.sleep(2.0)  # let the worker report idle, so the next run does not start a second worker
        return took, started - t0

    try:
        server.wait_healthy(60, poll_s=0.02)
        # Train right away: the app's worker (started by the first visit) may still be importing TensorFlow.
        out["first_point_cold_s"], out["first_press_after_s"] = press_train()
        out["first_point_warm_s"], _ = press_train()
        out["first_point_new_network_link_s"], _ = press_train(f"?m.units={NEW_NETWORK_UNITS}")
        out["first_point_new_network_s"], _ = press_train(typed_units=TYPED_UNITS)
    finally:
        server.stop()
    return out


def paired_gap(pages: list[dict], floors: list[dict]) -> float:
    """The median of each repeat's first paint less the floor's measured beside it."""
    return med(p["first_page_s"] - f["first_page_s"] for p, f in zip(pages, floors, strict=True))


def row_browser(res: Resources, plan: Plan) -> list[Entry]:
    from playwright.sync_api import sync_playwright

    n = plan.repeats_browser
    # Every first paint of a repeat, each on a new server: (name, script, URL path, drawn when, second visit).
    paints = [("floor", FLOOR_APP, "", FLOOR_PAGE_JS, False), ("floor_chart", FLOOR_APP, "chart", PAGE_DRAWN_JS, False),
              ("data", "app.py", "", DATA_PAGE_JS, True),
              *((path, "app.py", path, PAGE_DRAWN_JS, False) for path, _ in OTHER_PAGES)]
    results = {name: [] for name, *_ in paints}
    trains = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=servers.CHROMIUM, args=servers.CHROMIUM_ARGS,
                                             headless=True)
        try:
            # First paints before any training (it leaves the machine slower for a while), the order turned each
            # repeat so that every page and the floor see the same drift of this machine's speed.
            for i in range(n):
                log(f"row 4: first paint of the floor app and of each of the app's pages {i + 1}/{n}")
                turn = i % len(paints)
                for name, script, path, page_js, second_visit in paints[turn:] + paints[:turn]:
                    results[name].append(first_paint_once(res, browser, i, script, page_js, second_visit, path))
            for i in range(n):
                log(f"row 4: Train to the first loss point {i + 1}/{n}")
                trains.append(train_latency_once(res, browser, i))
        finally:
            browser.close()
    apps, floors = results["data"], results["floor"]
    first_page, floor_page = med(r["first_page_s"] for r in apps), med(r["first_page_s"] for r in floors)
    chart_gap = paired_gap(results["floor_chart"], floors)
    entries = [
        Entry("4", "First paint: `streamlit run` → Data page rendered", first_page, "s", n,
              f"headless Chromium; CONNECTED, notRunning and the whole Data page drawn; health check answered at "
              f"{med(r['health_s'] for r in apps):.2f} s, script done at {med(r['script_done_s'] for r in apps):.2f} "
              "s (the rest is the browser drawing)", ("<=", 3.0)),
        Entry("4", "First paint of a bare Streamlit app (the floor)", floor_page, "s", n,
              f"`{FLOOR_APP}`: the same config and four pages, a title on each, timed the same way, in the same "
              f"repeats as the app's pages; health check at {med(r['health_s'] for r in floors):.2f} s"),
        Entry("4", "Data page's first paint over the floor", paired_gap(apps, floors), "s", n,
              "each repeat's Data page less the floor measured beside it, the median", ("<=", 0.5)),
        Entry("4", "The floor's page with one small Plotly chart, over the floor", chart_gap, "s", n,
              "what Plotly's own JavaScript (4.7 MB) costs a first visit to any page that draws a chart"),
    ]
    for path, name in OTHER_PAGES:
        pages = results[path]
        entries.append(Entry(
            "4", f"{name} page's first paint over the floor", paired_gap(pages, floors), "s", n,
            f"`/{path}` opened first on a new server: {med(r['first_page_s'] for r in pages):.2f} s to its title, "
            f"every chart and table drawn (script done at {med(r['script_done_s'] for r in pages):.2f} s)",
            ("<=", 1.5)))
    entries += [
        Entry("4", "Data page, server already running: `goto` → rendered", med(r["second_visit_s"] for r in apps),
              "s", n, "a second visitor (new browser context, empty cache)"),
        Entry("4", "Train → first loss point, worker still starting", med(r["first_point_cold_s"] for r in trains),
              "s", n, f"pressed {med(r['first_press_after_s'] for r in trains):.1f} s after the server started; "
              "includes the rest of the app's worker start-up (TensorFlow import + warm-up)"),
        Entry("4", "Train → first loss point, warm worker", med(r["first_point_warm_s"] for r in trains), "s", n,
              "a new session after the first run ended; seed preset"),
        Entry("4", "Train → first loss point, a new network on the warm worker",
              med(r["first_point_new_network_s"] for r in trains), "s", n,
              f"a person types {TYPED_UNITS} units (a network the worker has not built) into the Train page's box "
              f"and presses Train {PERSON_PAUSE_S:g} s later; the page has the idle worker compile it meanwhile",
              ("<=", 2.5)),
        Entry("4", "Train → first loss point, a new network from a shared link, pressed at once",
              med(r["first_point_new_network_link_s"] for r in trains), "s", n,
              f"`/train?m.units={NEW_NETWORK_UNITS}` opened and Train pressed the moment it is enabled: the compile "
              "begun as the page was drawn is still under way"),
    ]
    return entries


# ------------------------------------------------------------------ row 5: bytes to the browser


OVERLAY_RUNS, OVERLAY_EPOCHS = 10, 1000  # row 5: the Runs page's most runs overlaid, each of a long run


def overlay_args(res: Resources) -> dict:
    return {"folder": str(res.store_folder("overlay")), "runs": OVERLAY_RUNS, "epochs": OVERLAY_EPOCHS}


def row_bytes(res: Resources, plan: Plan) -> list[Entry]:
    result = res.child("update_bytes").run()
    entries = []
    for case in result["cases"]:
        parts = ", ".join(f"{k} {v / 1000:.1f}" for k, v in case["figures"].items())
        entries.append(Entry("5", f"Live update JSON: {case['label']}", case["total_bytes"] / 1000, "kB", 1,
                             f"sum of plots.figure_size_bytes over panels.live_figures (kB: {parts})",
                             ("<=", 300.0), decimals=1, details=case))
    try:
        entries.append(overlay_entry(res.child("overlay_bytes", overlay_args(res)).run()))
    except Exception as err:  # the live updates' entries stand without it
        log(f"row 5 overlay failed: {type(err).__name__}: {err}")
        entries.append(failed_entry("5", err))
    return entries


def overlay_entry(r: dict) -> Entry:
    parts = ", ".join(f"{k} {v / 1000:.1f}" for k, v in r["figures"].items())
    full = ", ".join(f"{k} {v / 1000:.1f}" for k, v in r["unthinned_figures"].items())
    budget = r["constants"]["POINTS_PER_OVERLAY"]
    return Entry("5", f"Runs page overlay JSON: {r['runs']} runs × {r['epochs']:,} epochs", r["total_bytes"] / 1000,
                 "kB", 1, f"panels.compare_panels of {r['runs']} stored runs (seed data, widths 16-"
                 f"{16 + 8 * (r['runs'] - 1)}), each history thinned to {r['points_per_run']} points as pages/runs.py "
                 f"asks the store for them (RunStore.history(max_points=POINTS_PER_OVERLAY {budget:,} // "
                 f"{r['runs']})); kB: {parts}. Unthinned ({r['unthinned_points']:,} epochs; plots' own cap of 2,000 "
                 f"points a curve still applies): {r['unthinned_bytes'] / 1000:.1f} kB ({full})", ("<=", 300.0),
                 decimals=1, details=r)


# ------------------------------------------------------------------ row 6: memory


def rss_mb(pid: int) -> float:
    try:
        return psutil.Process(pid).memory_info().rss / 2**20
    except psutil.Error:
        return 0.0


def folder_mb(folder: Path) -> float:
    return sum(f.stat().st_size for f in Path(folder).iterdir() if f.is_file()) / 2**20


def memory_runs(res: Resources, plan: Plan, name: str, label: str, **manager_kwargs) -> dict:
    """plan.memory_runs seed runs of 5 epochs on the named manager, its job handles kept as the app keeps them;
    this process's RSS before and after, the workers' largest RSS and the worker processes seen."""
    per_worker = plan.memory_jobs_per_worker
    manager = res.ready_manager(name, backend="tensorflow", max_jobs_per_worker=per_worker, **manager_kwargs)
    experiment = seed_experiment(**{"train.epochs": 5})
    pids: set[int] = set()
    worker_max = [0.0]
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            for pid in manager.worker_pids():
                pids.add(pid)
                worker_max[0] = max(worker_max[0], rss_mb(pid))
            stop.wait(0.25)

    gc.collect()
    server_start = rss_mb(os.getpid())
    sampler = threading.Thread(target=sample, daemon=True, name="bench-rss")
    sampler.start()
    kept = []  # the app keeps every job in its RunRegistry: so do we
    try:
        for i in range(plan.memory_runs):
            if i % 10 == 0:
                log(f"row 6 ({label}): run {i + 1}/{plan.memory_runs}")
            kept.append(run_job(manager, experiment)["job"])
        wait_idle(manager)  # the last worker's recycling (and its replacement) happens after the job's end
        pids.update(manager.worker_pids())
    finally:
        stop.set()
        sampler.join(5)
    gc.collect()
    errors = [job.record.record_error for job in kept if job.record.record_error]
    return {"server_start": server_start, "server_end": rss_mb(os.getpid()), "worker_max": worker_max[0],
            "pids": len(pids), "record_errors": errors}


def row_memory(res: Resources, plan: Plan) -> list[Entry]:
    per_worker, runs = plan.memory_jobs_per_worker, plan.memory_runs
    store = res.store("memory")  # opened (SQLAlchemy imported) before either set's first RSS reading
    off = memory_runs(res, plan, "memory", "store off")
    res.close_manager("memory")  # its fresh replacement worker would import TensorFlow during the next set
    on = memory_runs(res, plan, "memory_store", "store on", store=store)
    res.close_manager("memory_store")
    if on["record_errors"]:
        raise RuntimeError(f"the store failed to record {len(on['record_errors'])} run(s): {on['record_errors'][0]}")
    stored = store.runs(any_owner=True)
    epochs = sum(r.epochs_done for r in stored)
    disk = folder_mb(res.store_folder("memory"))
    files = ", ".join(f"{f.name} {f.stat().st_size / 2**20:.1f}" for f in sorted(res.store_folder("memory").iterdir()))
    expected = math.ceil(runs / per_worker) + (runs % per_worker == 0)
    growth = lambda r: r["server_end"] - r["server_start"]  # noqa: E731
    held = "job handles kept as the app's RunRegistry keeps them"
    return [
        Entry("6", f"Server RSS growth over {runs} runs, store off", growth(off), "MB", 1,
              f"this process holds the JobManager: {off['server_start']:.0f} → {off['server_end']:.0f} MB; seed "
              f"preset, 5 epochs each; {held}", ("<=", 50.0), decimals=1),
        Entry("6", f"Server RSS growth over {runs} runs, store on", growth(on), "MB", 1,
              f"the same runs, right after, on a JobManager recording every job into a RunStore (SQLite, WAL, temp "
              f"folder): {on['server_start']:.0f} → {on['server_end']:.0f} MB; {held}; worker RSS max "
              f"{on['worker_max']:.0f} MB, {on['pids']} worker processes", ("<=", 50.0), decimals=1),
        Entry("6", f"Run store on disk after {runs} runs", disk, "MB", 1,
              f"{len(stored)} runs, {epochs} epochs, snapshots and artifacts (model.keras) each; "
              f"{1024 * disk / max(1, len(stored)):.0f} kB a run; files (MB): {files}; the store's own count "
              f"{store.total_bytes() / 2**20:.1f} MB", decimals=1),
        Entry("6", "Worker RSS, max", off["worker_max"], "MB", 1, "sampled every 0.25 s over all workers, store off",
              decimals=0),
        Entry("6", "Worker processes seen", float(off["pids"]), "", 1,
              f"max_jobs_per_worker={per_worker}: {runs} runs should use {expected} (the last one a fresh "
              "replacement); store off", (">=", 2.0), decimals=0),
    ]


# ------------------------------------------------------------------ row 7: reference speed


ONE_BLAS_THREAD = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def reference_args(plan: Plan, keras: bool = True) -> dict:
    return {"repeats": plan.repeats_reference, "budget_s": 5.0 if plan.quick else 30.0, "keras": keras}


def row_reference(res: Resources, plan: Plan) -> list[Entry]:
    log("row 7: reference.forward and Keras predict")
    result = res.child("reference", reference_args(plan)).run()
    log("row 7: reference.forward with one BLAS thread")
    single = res.child("reference", reference_args(plan, keras=False), env=ONE_BLAS_THREAD).run()
    entries = []
    for batch, r in result["batches"].items():
        one = single["batches"][batch]
        label = f"2×LSTM(128), {result['steps']} steps, batch {batch}"
        entries += [
            Entry("7", f"`reference.forward`, {label}", r["reference_ms"], "ms", r["reference_n"],
                  f"{r['reference_ms'] / r['predict_ms']:.2f}× the time of Keras predict; max |Δ| "
                  f"{r['max_abs_diff']:.1e}; NumPy's default BLAS threads", decimals=1),
            Entry("7", f"`reference.forward`, {label}, one BLAS thread", one["reference_ms"], "ms",
                  one["reference_n"], f"{one['reference_ms'] / r['predict_ms']:.2f}× Keras predict; "
                  "OPENBLAS_NUM_THREADS=1", decimals=1),
            Entry("7", f"Keras `predict`, {label}", r["predict_ms"], "ms", r["predict_n"],
                  f"same weights; first call {r['predict_first_ms']:.0f} ms (tracing)", decimals=1),
        ]
    return entries


# ------------------------------------------------------------------ row 8: the run store's cost per event


def seed_events_args(res: Resources) -> dict:
    return {"out": str(res.tmp / "seed-events.pkl")}


def percentile(values, q: float) -> float:
    values = [v for v in values if v is not None and math.isfinite(v)]
    return float(np.percentile(values, q)) if values else math.nan


def replay_timings(experiment: Experiment, events: list, store, repeats: int, tag: str = "bench8") -> dict:
    """Each `JobRecord.apply(event)` timed, replaying `events` (a run's, in order) `repeats` times into a record
    with `store` as its recorder and as often into one without, alternating which goes first. Seconds per
    event by mode ('store', 'none') and kind ('epoch', 'snapshot'), and each replay's total over both kinds."""
    kinds = {EpochEvent: "epoch", SnapshotEvent: "snapshot"}
    times = {mode: {"epoch": [], "snapshot": [], "totals": []} for mode in ("store", "none")}
    for r in range(repeats):
        for mode in ("store", "none") if r % 2 == 0 else ("none", "store"):
            record = JobRecord(f"{tag}-{r}-{mode}", experiment, owner="bench",
                               recorder=store if mode == "store" else None)
            record.mark_started()
            total = 0.0
            for event in events:
                kind = kinds.get(type(event))
                t0 = time.perf_counter()
                record.apply(event)
                elapsed = time.perf_counter() - t0
                if kind is not None:
                    times[mode][kind].append(elapsed)
                    total += elapsed
            times[mode]["totals"].append(total)
            if record.record_error:
                raise RuntimeError(f"the store failed to record a replay: {record.record_error}")
    return times


def row_store(res: Resources, plan: Plan) -> list[Entry]:
    import pickle

    from seqcore import codec

    made = res.child("seed_events", seed_events_args(res)).run()
    saved = pickle.loads(Path(made["path"]).read_bytes())  # written by our own child a moment ago
    experiment, events = Experiment.from_dict(saved["experiment"]), saved["events"]
    log(f"row 8: replaying the seed run's {len(events)} events {plan.repeats_store}× with and without a store")
    store = res.store("overhead")
    times = replay_timings(experiment, events, store, plan.repeats_store)
    ms = {mode: {kind: [1000 * t for t in values] for kind, values in kinds.items()} for mode, kinds in times.items()}
    epochs, snapshots = made["counts"]["epoch"], made["counts"]["snapshot"]
    snapshot_kb = med(len(codec.encode(e)) / 1000 for e in events if isinstance(e, SnapshotEvent))
    on, off = ms["store"], ms["none"]
    per_epoch = med(a - b for a, b in zip(on["totals"], off["totals"], strict=True)) / epochs
    n = plan.repeats_store
    how = (f"alternating, {n} replays each way, with a RunStore (SQLite, WAL) in a temp folder as recorder and "
           "without one")
    return [
        Entry("8", "Run store: `JobRecord.apply` per epoch event, store on", med(on["epoch"]), "ms",
              f"{n}×{epochs}", f"the seed preset's {epochs} epochs from a real training run (bench child, "
              f"`training.train`), {how}: {med(off['epoch']):.3f} ms without, so the store adds "
              f"{med(on['epoch']) - med(off['epoch']):.3f} ms; 95th percentile {percentile(on['epoch'], 95):.3f} ms "
              f"on, {percentile(off['epoch'], 95):.3f} ms off; mean {statistics.fmean(on['epoch']):.3f} ms, max "
              f"{max(on['epoch']):.1f} ms on", ("<=", 1.0),
              decimals=3),
        Entry("8", "Run store: `JobRecord.apply` per snapshot event, store on", med(on["snapshot"]), "ms",
              f"{n}×{snapshots}", f"the same run's {snapshots} snapshots (epoch 1 and every "
              f"{experiment.train.snapshot_every}), {snapshot_kb:.0f} kB each in the store's codec; "
              f"{med(off['snapshot']):.3f} ms without; 95th percentile {percentile(on['snapshot'], 95):.3f} ms on, "
              f"{percentile(off['snapshot'], 95):.3f} ms off. Epochs and snapshots together, the store adds "
              f"{per_epoch:.3f} ms per epoch", decimals=3),
    ]


# ------------------------------------------------------------------ row 9: the Runs page with many runs


def runs_page_js(rows: int) -> str:
    """The Runs page drawn: its table (Glide's accessible grid under the canvas) listing `rows` runs, and both
    overlay charts plotted (a trace with points in each)."""
    return APP_READY_JS % (
        "(() => {"
        " const frame = document.querySelector('.st-key-runs_table [data-testid=stDataFrame]');"
        " const grid = frame && frame.querySelector('table[aria-rowcount]');"
        " if (!grid || !frame.querySelector('canvas')) return false;"
        f" if (+grid.getAttribute('aria-rowcount') < {rows + 1}) return false;"
        " return ['runs_loss', 'runs_metric'].every(key => {"
        "  const el = document.querySelector('.st-key-' + key + ' .js-plotly-plot');"
        "  return !!el && !!el.querySelector('.main-svg') && (el._fullData || []).some(t => t._length > 0);"
        " });"
        "})()")


RUNS_EMPTY_JS = APP_READY_JS % ("Array.from(document.querySelectorAll('h1')).some(h => h.innerText.trim() === 'Runs') "
                                "&& !!document.querySelector('[data-testid=stMain] [data-testid=stAlert]')")
# The script has run to its end: a heading drawn (only a running script draws one) and the script not running.
HEADING_DONE_JS = APP_READY_JS % "!!document.querySelector('[data-testid=stMain] h1')"
BROWSER_KEY_PY = "import sys; from pages.ui.runs import browser_key; print(browser_key(sys.argv[1]))"


def browser_key_of(context) -> str:
    """The Runs page's key for this browser context (pages.ui.runs.browser_key of its XSRF cookie), computed in
    a subprocess: importing the page module imports Streamlit, which would grow this process (row 6 measures it)."""
    cookies = {c["name"]: c["value"] for c in context.cookies()}
    if "_streamlit_xsrf" not in cookies:
        raise RuntimeError(f"no XSRF cookie after the first page (cookies: {sorted(cookies)})")
    out = subprocess.run([sys.executable, "-c", BROWSER_KEY_PY, cookies["_streamlit_xsrf"]], cwd=ROOT,
                         capture_output=True, text=True, timeout=120)
    key = out.stdout.strip()
    if out.returncode or not key or key == "None":
        raise RuntimeError(f"browser_key failed: {out.stderr[-300:]}")
    return key


def timed_goto(page, url: str, done_js: str) -> dict:
    t0 = time.perf_counter()
    page.goto(url, timeout=60_000)
    page.wait_for_function(HEADING_DONE_JS, timeout=60_000, polling=20)
    script = time.perf_counter() - t0
    page.wait_for_function(done_js, timeout=60_000, polling=20)
    return {"drawn_s": time.perf_counter() - t0, "script_done_s": script}


def row_runs_page(res: Resources, plan: Plan) -> list[Entry]:
    from playwright.sync_api import sync_playwright

    from bench import synthetic

    n, runs = plan.repeats_runs_page, plan.runs_page_runs
    folder = res.store_folder("runs-page")
    # No warm worker: its TensorFlow import and warm-up would land in the timed loads; the Runs page needs none.
    server = start_app(res, "app.py", "runs", {"SEQCORE_STORE": str(folder), "SEQCORE_WARM_DELAY_S": "36000"})
    page_js = runs_page_js(runs)
    loads, clicks, empties = [], [], []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=servers.CHROMIUM, args=servers.CHROMIUM_ARGS,
                                             headless=True)
        try:
            server.wait_healthy(60, poll_s=0.05)
            context = browser.new_context(viewport=VIEWPORT)
            page = context.new_page()
            page.goto(server.url + "/", timeout=60_000)
            page.wait_for_function(DATA_PAGE_JS, timeout=60_000, polling=50)
            key = browser_key_of(context)
            log(f"row 9: recording {runs} runs for this browser")
            t0 = time.perf_counter()
            store = res.store("runs-page")
            synthetic.fill_store(store, key, runs)
            fill_s = time.perf_counter() - t0
            reads = []
            for _ in range(3):
                t0 = time.perf_counter()
                listed = store.runs(key, limit=500)
                reads.append(time.perf_counter() - t0)
            if len(listed) != runs:
                raise RuntimeError(f"the store lists {len(listed)} runs of this browser, not {runs}")
            overlaid = sum(r.metric == listed[0].metric for r in listed[:2])  # the page's default overlay
            first = timed_goto(page, server.url + "/runs", page_js)  # untimed: the server's first Runs page
            other = browser.new_context(viewport=VIEWPORT)  # another browser: no runs, the page's floor
            empty_page = other.new_page()
            timed_goto(empty_page, server.url + "/runs", RUNS_EMPTY_JS)
            for i in range(n):
                log(f"row 9: the Runs page, loaded and from the sidebar, {i + 1}/{n}")
                loads.append(timed_goto(page, server.url + "/runs", page_js))
                empties.append(timed_goto(empty_page, server.url + "/runs", RUNS_EMPTY_JS))
                page.locator("[data-testid=stSidebarNav] a", has_text="Data").first.click(timeout=30_000)
                page.wait_for_function(DATA_PAGE_JS, timeout=60_000, polling=20)
                t0 = time.perf_counter()
                page.locator("[data-testid=stSidebarNav] a", has_text="Runs").first.click(timeout=30_000)
                page.wait_for_function(page_js, timeout=60_000, polling=20)
                clicks.append(time.perf_counter() - t0)
            other.close()
            context.close()
        finally:
            browser.close()
            server.stop()
    drawn = med(r["drawn_s"] for r in loads)
    return [
        Entry("9", f"Runs page, {runs} runs, warm server: `goto` → table and both charts drawn", drawn, "s", n,
              f"headless Chromium, the browser's {runs} stored runs (bench/synthetic.py: {len(synthetic.PRESETS)} "
              f"presets × {len(synthetic.CELL_CHOICES)} cells × {len(synthetic.UNIT_CHOICES)} widths, "
              f"{synthetic.MIN_EPOCHS}-{synthetic.MAX_EPOCHS} epochs, {synthetic.SNAPSHOTS + 1} snapshots each, "
              f"every {synthetic.STOPPED_EVERY}th stopped early; recorded through JobRecords in {fill_s:.0f} s); "
              f"the table lists all {runs} and the charts overlay the latest {overlaid} (the page's default: the "
              f"latest two, those of the newest one's metric); script done at "
              f"{med(r['script_done_s'] for r in loads):.2f} s; the server's first Runs page (untimed) "
              f"{first['drawn_s']:.2f} s; `store.runs()` of the {runs} here {1000 * med(reads):.0f} ms; the server "
              "without a warm worker", ("<=", 1.0)),
        Entry("9", "Runs page of a browser with no runs: `goto` → drawn", med(r["drawn_s"] for r in empties), "s", n,
              f"the same server, another browser context (its own XSRF key): the floor of a page load here; "
              f"{runs} runs add {drawn - med(r['drawn_s'] for r in empties):.2f} s"),
        Entry("9", f"Runs page, {runs} runs: sidebar link from the Data page → drawn", med(clicks), "s", n,
              "the same session, no page load: the page's own cost"),
    ]


# ------------------------------------------------------------------ rows 10-12: the long-memory lesson


LESSON_MSE = 0.01  # row 10: the validation MSE the adding lesson is timed to
# The plain tuned Keras loop (bench/tasks.py plain_adding): fresh sequences every step, Adam 2e-3 with clipnorm 1, XLA.
PLAIN_ADDING = {"cell": "LSTM", "units": 64, "seq_len": 100, "batch": 64, "learning_rate": 2e-3, "clipnorm": 1.0,
                "jit_compile": True}
STEADY_CELLS, STEADY_SEQ_LENS = ("LSTM", "GRU", "SimpleRNN"), (100, 200)  # row 11
# The CPU priority seqcore workers run at (seqcore/worker.py): rows 10-12 run their children at it too, so that the
# machine's other load (this one is shared) slows both sides of a ratio alike.
WORKER_NICE = int(os.environ.get("SEQCORE_WORKER_NICE", "5"))


def lesson_experiments() -> dict[str, Experiment]:
    """Row 10's jobs: the adding_lstm preset as a student loads it, and the same lesson with the plain loop's
    settings (a new training draw every epoch, batch 64, Adam 2e-3, clipnorm 1), given epochs enough."""
    lesson = preset("adding_lstm")
    return {"preset": lesson,
            "matched": lesson.with_values(**{"data.fresh_data": True, "train.batch_size": 64,
                                             "train.learning_rate": 0.002, "train.clipnorm": 1.0,
                                             "train.epochs": 200})}


def plain_lesson_args(repeat: int) -> dict:
    return {**PLAIN_ADDING, "until_mse": LESSON_MSE, "n_val": 1000, "eval_every": 50, "max_s": RUN_TIMEOUT_S - 60,
            "seed": repeat, "nice": WORKER_NICE}


def watch_until(job: JobHandle, t0: float, reached, timeout: float = RUN_TIMEOUT_S) -> dict:
    """Seconds from t0 to the StartEvent and to the first EpochEvent for which `reached(event)` holds (polled,
    5 ms); then the job is stopped and followed to its end."""
    marks: dict = {}
    seen = 0
    deadline = time.monotonic() + timeout
    while True:
        done = job.wait(0.005)
        now = time.perf_counter() - t0
        view = job.view()
        if "start" not in marks and view.start is not None:
            marks["start"] = now
        for event in view.history[seen:]:
            if reached(event):
                marks.update(reached_s=now, epoch=event.epoch, val_loss=event.val_loss)
                break
        seen = len(view.history)
        if "reached_s" in marks or done:
            break
        if time.monotonic() > deadline:
            break
    job.stop()
    if not job.wait(60):
        raise TimeoutError(f"job {job.id} did not end within 60 s of Stop")
    view = job.view()
    if view.status == "failed":
        raise RuntimeError(f"the job failed: {view.reason}")
    marks.update(view=view, history=view.history, xla=view.start.xla if view.start else None,
                 steps_per_epoch=view.start.steps_per_epoch if view.start else 0)
    return marks


def lesson_job(manager: JobManager, experiment: Experiment, until_mse: float = LESSON_MSE) -> dict:
    """Submit on an idle manager; seconds to the first EpochEvent with validation MSE below `until_mse`."""
    wait_idle(manager)
    t0 = time.perf_counter()
    marks = watch_until(manager.submit(experiment), t0, lambda e: e.val_loss < until_mse)
    history = marks["history"]
    steady = [e.seconds for e in history[1:]]
    epoch, per_epoch = marks.get("epoch") or 0, marks["steps_per_epoch"]
    after_first = math.nan  # from the end of the first epoch to the EpochEvent under the threshold, a step
    if epoch > 1 and history:
        after_first = 1000 * (marks["reached_s"] - marks["start"] - history[0].seconds) / ((epoch - 1) * per_epoch)
    return {"reached": "reached_s" in marks, "time_s": marks.get("reached_s", math.nan), "epoch": marks.get("epoch"),
            "steps": epoch * per_epoch, "xla": marks["xla"], "after_first_ms_per_step": after_first,
            "start_s": marks.get("start", math.nan), "first_epoch_s": history[0].seconds if history else math.nan,
            "epoch_s": med(steady), "ms_per_step": 1000 * med(steady) / max(1, marks["steps_per_epoch"]),
            "epochs_done": len(history), "best_val_loss": min((e.val_loss for e in history), default=math.nan)}


def lesson_text(job: dict) -> str:
    if not job["reached"]:
        return f"not reached: best validation MSE {job['best_val_loss']:.4f} in {job['epochs_done']} epochs"
    return (f"epoch {job['epoch']} ({job['steps']:,} steps), XLA {'on' if job['xla'] else 'off'}; StartEvent at "
            f"{job['start_s']:.1f} s, first epoch {job['first_epoch_s']:.1f} s, then {job['epoch_s']:.2f} s an epoch "
            f"({job['ms_per_step']:.1f} ms a step, validation included)")


def row_lesson(res: Resources, plan: Plan) -> list[Entry]:
    n, variants = plan.repeats_lesson, lesson_experiments()
    plains, jobs = [], {name: [] for name in variants}
    for i in range(n):
        # A fresh warm worker each repeat: the lesson's network is new to it, as it is to the plain loop's process.
        manager = res.ready_manager(f"lesson-{i}", backend="tensorflow")
        order = ["plain", *variants] if i % 2 == 0 else [*variants, "plain"]
        for kind in order:
            log(f"row 10: {kind} to validation MSE < {LESSON_MSE:g}, {i + 1}/{n}")
            if kind == "plain":
                plains.append(res.child("plain_adding", plain_lesson_args(i)).run())
            else:
                jobs[kind].append(lesson_job(manager, variants[kind]))
    log("row 10: the preset again on the same worker (its network compiled there)")
    again = lesson_job(res.ready_manager(f"lesson-{n - 1}", backend="tensorflow"), variants["preset"])
    for i in range(n):
        res.close_manager(f"lesson-{i}")
    unreached = [p for p in plains if not p["reached"]]
    if unreached:
        raise RuntimeError(f"the plain loop did not reach MSE < {LESSON_MSE:g}: {unreached[0]['final_mse']:.4f} "
                           f"after {unreached[0]['steps']} steps")
    plain_s = med(p["time_s"] for p in plains)
    loop = (f"{PLAIN_ADDING['cell']}({PLAIN_ADDING['units']}) → Dense(1), T={PLAIN_ADDING['seq_len']}, fresh "
            f"sequences every step (`train_on_batch`), batch {PLAIN_ADDING['batch']}, Adam "
            f"{PLAIN_ADDING['learning_rate']:g}, clipnorm {PLAIN_ADDING['clipnorm']:g}, jit_compile=True")
    entries = [
        Entry("10", f"Adding lesson, plain Keras loop: model build → validation MSE < {LESSON_MSE:g}", plain_s, "s", n,
              f"{loop}; MSE of 1,000 fixed held-out sequences every 50 steps; a fresh process at the workers' "
              f"nice {WORKER_NICE}, TensorFlow's default threads; reached after "
              f"{med(p['steps'] for p in plains):,.0f} steps, first step (compile) "
              f"{med(p['first_step_s'] for p in plains):.1f} s, then {med(p['ms_per_step'] for p in plains):.1f} ms "
              "a step (evaluations included)", details={"plain": plains}),
    ]
    labels = {"preset": "the `adding_lstm` preset as loaded (3,000 sequences: 2,100 train, 600 validation; batch "
                        "32, Adam 0.005, no clipping; snapshots every 2 epochs)",
              "matched": "the `adding_lstm` preset with the plain loop's settings: `data.fresh_data` (a new draw "
                         "of 2,100 training sequences every epoch), batch 64, Adam 0.002, clipnorm 1, up to 200 "
                         "epochs; 600 validation sequences every epoch, snapshots every 2"}
    for kind, runs in jobs.items():
        reached = [j for j in runs if j["reached"]]
        job_s = med(j["time_s"] for j in reached) if len(reached) == len(runs) else math.nan
        entries += [
            Entry("10", f"Adding lesson, job ({kind}): `submit()` → EpochEvent with validation MSE < {LESSON_MSE:g}",
                  job_s, "s", n, f"{labels[kind]}; warm worker new to the network, `train.xla` auto; "
                  + "; ".join(lesson_text(j) for j in runs), details={"jobs": runs}),
            Entry("10", f"Adding lesson, job ({kind}) / plain loop, time to MSE < {LESSON_MSE:g}", job_s / plain_s,
                  "", n, "same bench run; the job includes building its data, its live events (validation every "
                  "epoch, snapshots with hidden states and gradients through time) and the hand-off to this process",
                  ("<=", 1.0)),
        ]
    matched = jobs["matched"]
    job_step, plain_step = med(j["after_first_ms_per_step"] for j in matched), med(p["ms_per_step"] for p in plains)
    entries.append(Entry(
        "10", "Adding lesson, job (matched) / plain loop, time a step on the way to MSE < 0.01", job_step / plain_step,
        "", n, f"the same settings, so the same work a step: the job's {job_step:.1f} ms a step from the end of its "
        f"first epoch to the EpochEvent under the threshold (validation, snapshots and their hand-off included) "
        f"against the plain loop's {plain_step:.1f} ms after its first step (its evaluations included). Steps to "
        f"MSE < {LESSON_MSE:g}: job {med(j['steps'] for j in matched):,.0f}, plain "
        f"{med(p['steps'] for p in plains):,.0f} (other seeds, other draws); first epoch "
        f"{med(j['first_epoch_s'] for j in matched):.1f} s against the plain loop's first step "
        f"{med(p['first_step_s'] for p in plains):.1f} s", ("<=", 1.0)))
    entries.append(Entry("10", f"Adding lesson, job (preset) again on the same worker → MSE < {LESSON_MSE:g}",
                         again["time_s"], "s", 1, f"its network compiled there by the run before (ModelCache); "
                         f"{lesson_text(again)}", details={"job": again}))
    return entries


def steady_experiment(cell: str, seq_len: int, epochs: int) -> Experiment:
    """Row 11's job: the plain loop's model and settings on fresh data, STEADY_STEPS(seq_len) full batches an
    epoch, 5 % validation and 5 % test, snapshots only at the first and last epoch, XLA on."""
    from seqcore import splits

    steps, batch = steady_steps(seq_len), PLAIN_ADDING["batch"]
    start = math.floor(steps * batch / 0.9) - 5
    # exactly `steps` full batches of training sequences, as the plain loop's steps are
    n = next(n for n in range(start, start + 50) if splits.sequence_rows(n, 0.05, 0.05)[0] == steps * batch)
    return preset("adding_lstm").with_values(**{
        "data.seq_len": seq_len, "data.n_sequences": n, "data.val_fraction": 0.05, "data.test_fraction": 0.05,
        "data.fresh_data": True, "model.cell": cell, "model.units": PLAIN_ADDING["units"],
        "train.batch_size": batch, "train.learning_rate": PLAIN_ADDING["learning_rate"],
        "train.clipnorm": PLAIN_ADDING["clipnorm"], "train.epochs": epochs, "train.snapshot_every": 1000,
        "train.xla": "on"})


def steady_steps(seq_len: int) -> int:
    return max(10, 4000 // seq_len)


def plain_steady_args(plan: Plan) -> dict:
    cases = [{"cell": cell, "seq_len": t, "warm_steps": 5, "steps": (plan.steady_epochs - 1) * steady_steps(t)}
             for cell in STEADY_CELLS for t in STEADY_SEQ_LENS]
    return {**PLAIN_ADDING, "cases": cases, "nice": WORKER_NICE}


def row_steady(res: Resources, plan: Plan) -> list[Entry]:
    log("row 11: the plain loop's steady steps, 3 cells × 2 lengths")
    plain = {(c["cell"], c["seq_len"]): c for c in res.child("plain_adding", plain_steady_args(plan)).run()["cases"]}
    manager = res.ready_manager("tensorflow", backend="tensorflow")
    entries = []
    for cell in STEADY_CELLS:
        for seq_len in STEADY_SEQ_LENS:
            log(f"row 11: job, {cell}(64) T={seq_len}")
            experiment = steady_experiment(cell, seq_len, plan.steady_epochs)
            run = run_job(manager, experiment)
            view = run["job"].view()
            steps = view.start.steps_per_epoch
            job_ms = 1000 * med(e.seconds for e in view.history[1:]) / steps
            p = plain[(cell, seq_len)]
            what = f"{cell}(64), batch 64, T={seq_len}"
            entries += [
                Entry("11", f"Steady ms per step, {what}: plain loop", p["ms_per_step"], "ms", p["steps"],
                      f"`train_on_batch` on a fresh batch, jit_compile=True, median step after {p['warm_steps']} "
                      f"(the first compiles: {p['warm_s']:.1f} s); TensorFlow's default threads, nice {WORKER_NICE}",
                      decimals=1),
                Entry("11", f"Steady ms per step, {what}: seqcore job", job_ms, "ms",
                      f"{len(view.history) - 1}×{steps}",
                      f"{job_ms / p['ms_per_step']:.2f}× the plain loop's; median epoch after the first ÷ its {steps} "
                      f"steps (fresh data, 5 % validation included), train.xla=on (XLA "
                      f"{'on' if view.start.xla else 'off'} in its StartEvent), warm worker, first epoch "
                      f"{view.history[0].seconds:.1f} s", decimals=1,
                      details={"ratio": job_ms / p["ms_per_step"], "plain": p}),
            ]
    return entries


def row_snapshot_cost(res: Resources, plan: Plan) -> list[Entry]:
    log("row 12: the adding lesson with its snapshots timed")
    r = res.child("snapshot_cost", snapshot_cost_args(plan)).run()
    gradients, snapshots, total = sum(r["gradient_s"]), sum(r["snapshot_s"]), r["total_s"]
    later = r["gradient_s"][1:] or r["gradient_s"]
    per_snapshot = med(r["snapshot_s"][1:] or r["snapshot_s"])
    # The app's default rate (train.snapshot_every 5): fewer snapshots of the same cost in the same run.
    at_five = 1 + sum(1 for e in range(2, r["epochs"] + 1) if e % 5 == 0 or e == r["epochs"])
    fewer = r["snapshots"] - at_five
    five_share = (gradients - fewer * med(later)) / (total - fewer * per_snapshot)
    what = (f"the `adding_lstm` preset ({r['epochs']} epochs, T=100, snapshots every {r['snapshot_every']} epochs: "
            f"{r['snapshots']} of them), `training.train` in a process set up as a warm worker, XLA "
            f"{'on' if r['xla'] else 'off'}; run {total:.1f} s")
    return [
        Entry("12", "Adding lesson: gradients-through-time pass, share of the run's time", 100 * gradients / total, "%",
              1, f"{what}; the pass (`input_gradient_norms`, 32 sequences) {gradients:.2f} s in all: first "
              f"{1000 * r['gradient_s'][0]:.0f} ms (tracing), then {1000 * med(later):.0f} ms each. At the app's "
              f"default rate (every 5 epochs: {at_five} snapshots) it would be {100 * five_share:.1f} %",
              ("<=", 10.0), decimals=1, details=r),
        Entry("12", "Adding lesson: whole snapshots (gradients included), share of the run's time",
              100 * snapshots / total, "%", 1,
              f"`make_snapshot`: weights, the NumPy reference's hidden states of 4 probe sequences, 400 validation "
              f"predictions and the gradient pass; {snapshots:.2f} s in all, {1000 * per_snapshot:.0f} ms each after "
              "the first", ("<=", 10.0), decimals=1),
    ]


def snapshot_cost_args(plan: Plan) -> dict:
    return {"preset": "adding_lstm", "changes": {"train.epochs": plan.snapshot_epochs},
            "intra_op_threads": APP_INTRA_OP_THREADS, "nice": WORKER_NICE}


# ------------------------------------------------------------------ rows 13-15: the text task


TEXT_TIME_LIMIT_S = 120.0  # row 14: its training time (train.time_limit_s; the hosted demo's limit as well)
TEXT_BITS_EPOCHS = 200  # row 14: more epochs than 2 minutes train, so that the time limit ends the run
TEXT_SAMPLE = {"length": 300, "temperature": 0.8}  # row 15: the Inspect page's continuation as it opens
TEXT_REFERENCE = ("The issue's reference point (#16): a plain Keras LSTM(32) with XLA reached about 1.76 bits/char in "
                  "60 s on 175,000 lower-cased letters and spaces (27 symbols), measured on training windows; this "
                  "corpus has {symbols} symbols, with punctuation, capitals and code")


def text_xla() -> bool:
    """Whether train.xla=auto compiles the text preset's network with XLA on a worker that has not trained it
    (seqcore.training.use_xla, which needs no TensorFlow)."""
    from seqcore import training
    from seqcore.data import build_data

    experiment = preset("text")
    return training.use_xla(experiment, build_data(experiment.data), cached=False)


def plain_text_args(plan: Plan, jit_compile: bool, intra_op_threads: int | None = None) -> dict:
    """Row 13's plain loop (bench/tasks.py plain_text): the text preset's network and settings, `jit_compile` as
    the job got it; TensorFlow's default threads unless `intra_op_threads` is given."""
    experiment = preset("text")
    args = {"preset": "text", "units": experiment.model.units, "batch": experiment.train.batch_size,
            "learning_rate": experiment.train.learning_rate, "epochs": plan.text_epochs,
            "jit_compile": bool(jit_compile), "nice": WORKER_NICE}
    return args if intra_op_threads is None else {**args, "intra_op_threads": intra_op_threads}


def load_text(at_start: float) -> str:
    """The machine's 1-minute load average at a row's start and now: this machine is shared, and the header's load
    average is the run's start only."""
    return f"load average (1 min) {at_start:.2f} at the row's start, {os.getloadavg()[0]:.2f} at its end"


def row_text_throughput(res: Resources, plan: Plan) -> list[Entry]:
    experiment, epochs = preset("text"), plan.text_epochs
    load_at_start = os.getloadavg()[0]
    try:
        manager = res.ready_manager("text", backend="tensorflow")
        log(f"row 13: job, the text preset until its epoch {epochs}")
        wait_idle(manager)
        t0 = time.perf_counter()
        # The preset's own 20 epochs, so that train.xla=auto decides as it does for a person's run; stopped after
        # `epochs` of them.
        marks = watch_until(manager.submit(experiment), t0, lambda e: e.epoch >= epochs)
    finally:
        res.close_manager("text")
    view, history = marks["view"], marks["history"][:epochs]
    if len(history) < epochs:
        raise RuntimeError(f"the job ended after {len(history)} epochs: {view.status}, {view.reason}")
    windows, seq_len = view.start.n_train, experiment.data.seq_len
    ends = [e.elapsed for e in history]
    job_epoch_s = med(np.diff(ends))  # epoch end to epoch end after the first: training, validation, snapshot
    inside_s = med(e.seconds for e in history[1:])  # from the epoch's start to its EpochEvent
    job_rate = windows * seq_len / job_epoch_s
    log(f"row 13: plain model.fit, {epochs} epochs, jit_compile={marks['xla']}")
    plain = res.child("plain_text", plain_text_args(plan, marks["xla"])).run()
    log(f"row 13: plain model.fit again, {APP_INTRA_OP_THREADS} intra-op thread(s) as the job's worker")
    plain_app = res.child("plain_text", plain_text_args(plan, marks["xla"], APP_INTRA_OP_THREADS)).run()
    for p in (plain, plain_app):
        if p["windows"] != windows or p["seq_len"] != seq_len:
            raise RuntimeError(f"the plain loop trained on {p['windows']} windows of {p['seq_len']}, the job on "
                               f"{windows} of {seq_len}")
    xla = "on" if marks["xla"] else "off"
    what = (f"the `text` preset's data: {windows:,} training windows of T={seq_len} ({windows * seq_len:,} "
            f"characters an epoch), {plain['val_windows']} validation windows, {plain['vocabulary']} symbols")
    return [
        Entry("13", "Text preset: plain `model.fit`, training characters per second", plain["chars_per_s"],
              "chars/s", epochs - 1,
              f"{what}; Input(({seq_len},), int32) → CategoryEncoding one-hot → LSTM({plain['units']}, "
              f"return_sequences) → Dense({plain['vocabulary']}, softmax), sparse categorical cross-entropy, Adam "
              f"{plain['learning_rate']:g}, batch {plain['batch']}, jit_compile={plain['jit_compile']} (as the job "
              f"got), `validation_data` the validation windows (a pass after each epoch, as the job's); windows × T "
              f"÷ the median epoch after the first ({plain['steady_epoch_s']:.2f} s of "
              f"{seconds_text(plain['epoch_s'][1:])}; first epoch, build and compile included, "
              f"{plain['first_epoch_s']:.1f} s; the first batch of each epoch, where a compile shows: "
              f"{seconds_text(plain['first_batch_s'])}); a fresh process at the workers' nice {WORKER_NICE}, "
              "TensorFlow's default threads", decimals=0, details={"plain": plain}),
        Entry("13", "Text preset: seqcore job, training characters per second", job_rate, "chars/s", epochs - 1,
              f"the preset as loaded (20 epochs, so that train.xla=auto decides as for a person's run: XLA {xla} in "
              f"its StartEvent), stopped after epoch {epochs}; warm worker new to the network, "
              f"{APP_INTRA_OP_THREADS} intra-op thread(s) as the app's workers; windows × T ÷ the median time from "
              f"one EpochEvent to the next after the first ({job_epoch_s:.2f} s of {seconds_text(np.diff(ends))}: "
              f"training, validation on "
              f"{view.start.n_val} windows and the snapshot every epoch); within the epoch alone (EpochEvent.seconds,"
              f" {inside_s:.2f} s) {windows * seq_len / inside_s:,.0f} chars/s; StartEvent at "
              f"{marks['start']:.1f} s, first epoch {history[0].seconds:.1f} s",
              decimals=0, details={"epoch_ends": ends, "epoch_seconds": [e.seconds for e in history],
                                   "xla": marks["xla"], "start_s": marks["start"]}),
        Entry("13", "Text preset: job / plain loop, training characters per second", job_rate / plain["chars_per_s"],
              "", epochs - 1, f"same bench run, the same windows and network, XLA {xla} on both sides; the job's "
              "events (validation, snapshots, hand-off to this process) included. The job's worker splits an op over "
              f"{APP_INTRA_OP_THREADS} thread(s), the plain loop over TensorFlow's default (one per core): on a "
              f"machine with other load that also sets their shares of the CPU; {load_text(load_at_start)}",
              (">=", 0.9)),
        Entry("13", f"Text preset: plain `model.fit` with {APP_INTRA_OP_THREADS} intra-op thread(s), training "
              "characters per second", plain_app["chars_per_s"], "chars/s", epochs - 1,
              f"the same plain loop in another fresh process, run after the first, with TensorFlow's intra-op "
              f"threads set to the job's worker's {APP_INTRA_OP_THREADS} (`tf.config.threading`): median epoch "
              f"after the first {plain_app['steady_epoch_s']:.2f} s of {seconds_text(plain_app['epoch_s'][1:])} "
              f"(first batches {seconds_text(plain_app['first_batch_s'])}); "
              f"the job's rate is {job_rate / plain_app['chars_per_s']:.2f}× this one's, the default threads' "
              f"{plain['chars_per_s'] / plain_app['chars_per_s']:.2f}×", decimals=0, details={"plain": plain_app}),
    ]


def row_text_bits(res: Resources, plan: Plan) -> list[Entry]:
    from seqcore.text import nats_to_bits

    experiment = preset("text").with_values(**{"train.time_limit_s": TEXT_TIME_LIMIT_S,
                                                "train.epochs": TEXT_BITS_EPOCHS})
    load_at_start = os.getloadavg()[0]
    try:
        manager = res.ready_manager("text-bits", backend="tensorflow")
        log(f"row 14: the text preset for {TEXT_TIME_LIMIT_S:g} s")
        wait_idle(manager)
        t0 = time.perf_counter()
        job = manager.submit(experiment)
        marks = watch(job, t0, TEXT_TIME_LIMIT_S + RUN_TIMEOUT_S)
    finally:
        res.close_manager("text-bits")
    view = job.view()
    if view.status not in ("timed_out", "finished") or not view.history or "loss" not in view.end.test_metrics:
        raise RuntimeError(f"the job ended {view.status}: {view.reason}")
    history, snapshot = view.history, view.latest_snapshot
    last = history[-1]
    val_bits, train_bits = nats_to_bits(last.val_loss), nats_to_bits(last.loss)
    test_bits = nats_to_bits(view.end.test_metrics["loss"])
    baselines = {name.removesuffix(" bits/char"): bits for name, bits in view.start.baselines.items()
                 if name.endswith(" bits/char")}
    beaten = [name for name, bits in baselines.items() if val_bits < bits]
    symbols = len(snapshot.weights[-1])  # the head's bias: one per symbol
    res.results["text_snapshot"] = {"weights": snapshot.weights, "epoch": snapshot.epoch, "val_bits": val_bits}
    done = view.end.epochs_done
    cut = ", the last one cut short by the time limit" if view.status == "timed_out" else ""
    beats = (f"beats the {', '.join(beaten)} baseline{'s' if len(beaten) > 1 else ''}" if beaten
             else "beats none of the baselines")
    steady = med(e.seconds for e in history[1:])
    later = (f", then {steady:.1f} s an epoch (median of {seconds_text(e.seconds for e in history[1:])})"
             if math.isfinite(steady) else "")
    details = {"status": view.status, "epochs_done": done, "xla": view.start.xla, "start_s": marks["start"],
               "end_s": marks["end"], "val_bits": [nats_to_bits(e.val_loss) for e in history],
               "train_bits": [nats_to_bits(e.loss) for e in history], "epoch_seconds": [e.seconds for e in history],
               "baselines": baselines, "beaten": beaten}
    model, train = experiment.model, experiment.train
    how = (f"the `text` preset ({model.cell}({model.units}), T={experiment.data.seq_len}, batch {train.batch_size}, "
           f"Adam {train.learning_rate:g}, snapshots every "
           f"{'epoch' if train.snapshot_every == 1 else f'{train.snapshot_every} epochs'}) with "
           f"train.time_limit_s={TEXT_TIME_LIMIT_S:g} and train.epochs={TEXT_BITS_EPOCHS}, a job on a warm worker new "
           f"to the network; the limit counts from the run's start in the worker (data, baselines and compiling "
           f"included)")
    entries = [
        Entry("14", f"Text, {TEXT_TIME_LIMIT_S:g} s of training: validation bits/char at the end", val_bits,
              "bits/char", 1,
              f"{how}: {view.status} after {done} epochs{cut}; XLA {'on' if view.start.xla else 'off'}; StartEvent "
              f"at {marks['start']:.1f} s, first epoch {history[0].seconds:.1f} s{later}; "
              f"{beats} (validation: {', '.join(f'{n} {b:.3f}' for n, b in baselines.items())}); training "
              f"bits/char at the end {train_bits:.3f} (the last epoch's mean over its batches); "
              f"{load_text(load_at_start)}. " + TEXT_REFERENCE.format(symbols=symbols), decimals=3, details=details),
        Entry("14", f"Text, {TEXT_TIME_LIMIT_S:g} s of training: test bits/char at the end", test_bits,
              "bits/char", 1, f"the test part (the corpus's last 10 %, {view.start.n_test} windows), evaluated once "
              "after the run (EndEvent.test_metrics loss ÷ ln 2)", decimals=3),
        Entry("14", f"Text, {TEXT_TIME_LIMIT_S:g} s of training: epochs done", float(done), "", 1,
              f"{view.start.n_train:,} training windows ({view.start.steps_per_epoch} batches) an epoch{cut}",
              decimals=0),
    ]
    for name, bits in baselines.items():
        entries.append(Entry("14", f"Text: {name} baseline, validation bits/char", bits, "bits/char", 1,
                             f"StartEvent.baselines (add-k counts on the training part, scored on validation); the "
                             f"network's validation bits/char at the end {val_bits - bits:+.3f} from it", decimals=3))
    return entries


def seconds_text(values) -> str:
    """'8.6, 10.5, 9.0 s': each epoch's seconds, to show how steady a machine shared with other load kept them."""
    return ", ".join(f"{v:.1f}" for v in values) + " s"


def random_text_weights(symbols: int, units: int, seed: int = 0) -> list[np.ndarray]:
    """Random weights of the text network's shapes, in Keras' order (build_model's get_weights: the LSTM's kernel
    (V, 4U), recurrent kernel (U, 4U) and bias (4U,), the head's kernel (U, V) and bias (V,))."""
    rng = np.random.default_rng(seed)
    shapes = [(symbols, 4 * units), (units, 4 * units), (4 * units,), (units, symbols), (symbols,)]
    return [rng.normal(0.0, 0.1, shape).astype(np.float32) for shape in shapes]


def time_samples(weights: list, vocabulary, prompt: str, calls: int, length: int, temperature: float) -> list[float]:
    """Seconds of each of `calls` calls of seqcore.text.sample (seeds 0, 1, …), each checked for its length."""
    from seqcore import text as texts

    times = []
    for seed in range(calls):
        t0 = time.perf_counter()
        drawn = texts.sample(weights, vocabulary, prompt, length, cell="LSTM", temperature=temperature, seed=seed)
        times.append(time.perf_counter() - t0)
        if len(drawn.ids) != length:
            raise RuntimeError(f"sample gave {len(drawn.ids)} characters, not {length}")
    return times


def row_text_sample(res: Resources, plan: Plan) -> list[Entry]:
    from seqcore.data import build_data

    experiment = preset("text")
    data = build_data(experiment.data)
    kept = res.results.get("text_snapshot")
    if kept is not None:
        weights, source = kept["weights"], f"row 14's last snapshot (epoch {kept['epoch']})"
    else:
        weights = random_text_weights(data.vocabulary.size, experiment.model.units)
        source = "random weights of the network's shapes (row 14 did not run before it)"
    prompt, length, temperature = data.text.prompt(), TEXT_SAMPLE["length"], TEXT_SAMPLE["temperature"]
    log(f"row 15: {plan.repeats_sample} samples of {length} characters")
    times = time_samples(weights, data.vocabulary, prompt, plan.repeats_sample, length, temperature)
    if "tensorflow" in sys.modules:
        raise RuntimeError("TensorFlow was imported in this process: sampling must need NumPy only")
    value = med(times)
    return [Entry("15", f"Text: `seqcore.text.sample` of {length} characters, LSTM({experiment.model.units}), in "
                        "this process", value, "s", plan.repeats_sample,
                  f"{source}, {data.vocabulary.size} symbols; the Inspect page's continuation as it opens (the start "
                  f"of a validation line as prompt, {len(prompt)} characters; temperature {temperature:g}; seeds 0-"
                  f"{plan.repeats_sample - 1}); {1000 * value / (len(prompt) + length):.2f} ms a step (the prompt "
                  f"read, then {length} characters drawn), first call {times[0]:.3f} s, slowest {max(times):.3f} s; "
                  "NumPy only: 'tensorflow' not in sys.modules after the calls (this process, like the app's UI "
                  "process, never imports it)", ("<=", 0.3), decimals=3,
                  details={"times_s": times, "source": source})]


# ------------------------------------------------------------------ main


ROWS = {"1": row_seed, "1j": lambda res, plan: row_seed(res, plan, "jax"), "2": row_large, "3": row_first_epoch,
        "4": row_browser, "5": row_bytes, "6": row_memory, "7": row_reference, "8": row_store, "9": row_runs_page,
        "10": row_lesson, "11": row_steady, "12": row_snapshot_cost, "13": row_text_throughput, "14": row_text_bits,
        "15": row_text_sample}


def prepare(res: Resources, plan: Plan, rows: list[str]) -> None:
    """Start (untimed) everything the chosen rows need at once: workers and children import in parallel."""
    wanted = set(rows)
    if "1" in wanted:
        matmul_gflops("peak"), matmul_gflops("step")  # before the workers load the cores
    if wanted & {"1", "2", "3", "11"}:
        res.manager("tensorflow", backend="tensorflow")
    if "10" in wanted:
        for i in range(plan.repeats_lesson):
            res.manager(f"lesson-{i}", backend="tensorflow")
            res.prepare("plain_adding", plain_lesson_args(i))
    if "11" in wanted:
        res.prepare("plain_adding", plain_steady_args(plan))
    if "12" in wanted:
        res.prepare("snapshot_cost", snapshot_cost_args(plan))
    if "13" in wanted:
        res.manager("text", backend="tensorflow")
        res.prepare("plain_text", plain_text_args(plan, text_xla()))
        res.prepare("plain_text", plain_text_args(plan, text_xla(), APP_INTRA_OP_THREADS))
    if "14" in wanted:
        res.manager("text-bits", backend="tensorflow")
    if "1j" in wanted:
        res.manager("jax", backend="jax")
    if "6" in wanted:
        res.manager("memory", backend="tensorflow", max_jobs_per_worker=plan.memory_jobs_per_worker)
        res.manager("memory_store", backend="tensorflow", max_jobs_per_worker=plan.memory_jobs_per_worker,
                    store=res.store("memory"))
    if "1" in wanted:
        res.prepare("plain_fit")
    if "1j" in wanted:
        res.prepare("plain_fit", backend="jax")
    if "2" in wanted:
        res.prepare("bare_fit", {"experiment": large_experiment(plan.large_epochs).to_dict()})
    if "5" in wanted:  # their measurements have no timed part: they run during preparation
        res.prepare("update_bytes")
        res.prepare("overlay_bytes", overlay_args(res))
    if "8" in wanted:  # trains the seed preset once, during preparation; its events are replayed in the row
        res.prepare("seed_events", seed_events_args(res))
    if "7" in wanted:
        res.prepare("reference", reference_args(plan))
        res.prepare("reference", reference_args(plan, keras=False), env=ONE_BLAS_THREAD)
    res.wait_prepared()


def parse_rows(text: str | None) -> list[str]:
    if not text:
        import importlib.util

        if importlib.util.find_spec("jax") is None:  # an optional backend: its row needs `pip install jax`
            print("row 1j skipped: JAX is not installed", file=sys.stderr)
            return [r for r in ROW_IDS if r != "1j"]
        return list(ROW_IDS)
    rows = [r.strip().lower() for r in text.split(",") if r.strip()]
    unknown = [r for r in rows if r not in ROW_IDS]
    if unknown:
        raise SystemExit(f"--rows: {', '.join(unknown)} not among {', '.join(ROW_IDS)}")
    return [r for r in ROW_IDS if r in rows]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer repeats and epochs, the same rows")
    parser.add_argument("--rows", help=f"comma-separated rows to run, of {','.join(ROW_IDS)} (default: all)")
    parser.add_argument("--json", metavar="FILE", help="also write the numbers to FILE as JSON")
    args = parser.parse_args(argv)
    rows, plan = parse_rows(args.rows), Plan.make(args.quick)
    command = shlex.join(["python", "bench/run.py", *(sys.argv[1:] if argv is None else argv)])
    info = machine_info(command)

    def terminate(signum, frame):
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, terminate)
    res = Resources()
    by_row: dict[str, list[Entry]] = {}

    def measure(row: str) -> None:
        try:
            by_row[row] = ROWS[row](res, plan)
        except Exception as err:  # one broken row must not hide the others
            log(f"row {row} failed: {type(err).__name__}: {err}")
            by_row[row] = [failed_entry(row, err)]
        # Done with these: the JAX worker holds a lot of memory, and the memory row's fresh replacement
        # worker would import TensorFlow while later rows are timed.
        for name in {"1j": ("jax",), "6": ("memory", "memory_store")}.get(row, ()):
            res.close_manager(name)

    try:
        # The browser row first, before the preparation and the training rows load both cores for minutes: this
        # machine then runs slower for a while (first paint 3.40 s rested, 3.99 s right after 150 s of both cores
        # busy, 3.69 s 90 s later), and a person starting the app has not just trained networks for ten minutes.
        early = [row for row in rows if row in EARLY_ROWS]
        for row in early:
            measure(row)
        later = [row for row in rows if row not in early]
        if later:
            log(f"preparing workers and child processes for rows {','.join(later)}")
            prepare(res, plan, later)
            log("prepared; measuring")
        for row in later:
            measure(row)
    finally:
        res.close()
    entries = [entry for row in rows if row in by_row for entry in by_row[row]]
    total = time.monotonic() - T0
    print_table(header_lines(info, total), entries)
    if args.json:
        write_json(args.json, info, plan, rows, total, entries)
    return 1 if any(e.measure == "**failed**" for e in entries) else 0


if __name__ == "__main__":
    sys.exit(main())
