"""Training jobs in worker processes: submit, watch events, stop / pause / resume.

Why processes (see DESIGN.md): a rerun, page switch or closed tab must not
kill or leak a run; TensorFlow leaks memory per model, so workers are
recycled; a runaway job can be killed without taking the server down; and the
UI process never imports TensorFlow. A `JobManager` keeps warm workers (Keras
already imported), a FIFO queue for jobs beyond its slots, and a monitor that
kills a worker past its memory ceiling or its job's deadline.
"""

from __future__ import annotations

import collections
import contextlib
import itertools
import math
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path

import numpy as np

from seqcore.config import Experiment
from seqcore.events import FINAL_STATUSES, EndEvent, EpochEvent, SnapshotEvent, StartEvent

PROJECT_ROOT = Path(__file__).resolve().parent.parent
MAX_SNAPSHOT_BYTES = 24 * 2**20  # per job: older snapshots are thinned out beyond this
MAX_SNAPSHOTS = 80
DEADLINE_GRACE_S = 30.0  # a worker that ignores its deadline this long (stuck in a compile) is killed
# A worker polls for Stop after every compiled step, so a stop takes a second or less, unless the run is still
# tracing its graph (seconds; tens of seconds on a loaded server). Past this, the worker is killed and replaced:
# the person sees their run stop, and the CPU the rest of the compile would take goes to the others.
STOP_GRACE_S = 10.0


@dataclass(frozen=True)
class JobView:
    """A consistent, read-only picture of a job at one moment, for drawing."""

    id: str
    experiment: Experiment
    status: str  # queued, starting, running, paused, finished, stopped, timed_out, failed
    reason: str
    queue_position: int  # 1-based while queued, else 0
    start: StartEvent | None
    history: tuple[EpochEvent, ...]
    snapshot_epochs: tuple[int, ...]
    latest_snapshot: SnapshotEvent | None
    end: EndEvent | None
    submitted_at: float
    waited_s: float  # time spent queued
    estimated_wait_s: float  # while queued: a rough estimate of the wait left, from recent run lengths
    stopping: bool = False  # Stop was pressed and the run has not ended yet

    @property
    def done(self) -> bool:
        return self.status in FINAL_STATUSES

    @property
    def epoch(self) -> int:
        return self.history[-1].epoch if self.history else 0


class JobHandle:
    """The UI side of one job. Thread-safe: a reader thread fills it, pages read `view()`."""

    def __init__(self, job_id: str, experiment: Experiment, manager: JobManager, owner: str | None,
                 csv_values: np.ndarray | None, out_dir: str | None):
        self.id, self.experiment, self.owner = job_id, experiment, owner
        self._manager, self._csv_values, self._out_dir = manager, csv_values, out_dir
        self._lock = threading.Lock()
        self._done = threading.Event()
        self.status, self.reason = "queued", ""
        self.start: StartEvent | None = None
        self.end: EndEvent | None = None
        self.history: list[EpochEvent] = []
        self.snapshots: list[SnapshotEvent] = []
        self.submitted_at = time.time()
        self.started_at: float | None = None
        self.stop_requested_at: float | None = None  # time.monotonic() of the first Stop

    # --- controls ---
    def stop(self) -> None:
        self._manager._control(self, "stop")

    def pause(self) -> None:
        self._manager._control(self, "pause")

    def resume(self) -> None:
        self._manager._control(self, "resume")

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the job has ended; True if it has."""
        return self._done.wait(timeout)

    @property
    def done(self) -> bool:
        return self._done.is_set()

    # --- reading ---
    def view(self) -> JobView:
        # Asked before taking the job's lock: the manager takes its lock, then the job's (in _dispatch),
        # so taking them in the other order here could deadlock.
        queue_position = self._manager.queue_position(self)
        estimate = self._manager.estimated_wait_s(queue_position)
        with self._lock:
            return JobView(id=self.id, experiment=self.experiment, status=self.status, reason=self.reason,
                           queue_position=queue_position, start=self.start,
                           history=tuple(self.history), snapshot_epochs=tuple(s.epoch for s in self.snapshots),
                           latest_snapshot=self.snapshots[-1] if self.snapshots else None, end=self.end,
                           submitted_at=self.submitted_at,
                           waited_s=(self.started_at or time.time()) - self.submitted_at,
                           estimated_wait_s=estimate,
                           stopping=self.stop_requested_at is not None and self.status not in FINAL_STATUSES)

    def snapshot(self, epoch: int) -> SnapshotEvent | None:
        """The recorded snapshot nearest to `epoch`."""
        with self._lock:
            if not self.snapshots:
                return None
            return min(self.snapshots, key=lambda s: abs(s.epoch - epoch))

    # --- filled by the manager ---
    def _on_event(self, event) -> None:
        with self._lock:
            if isinstance(event, StartEvent):
                self.start = event
                if self.status == "starting":
                    self.status = "running"
            elif isinstance(event, EpochEvent):
                self.history.append(event)
            elif isinstance(event, SnapshotEvent):
                self.snapshots.append(event)
                self._thin_snapshots()
            elif isinstance(event, EndEvent):
                self._finish(event)

    def _finish(self, event: EndEvent) -> None:
        if self.end is None:
            self.end, self.status, self.reason = event, event.status, event.reason
            self._done.set()

    def _thin_snapshots(self) -> None:
        """Keep the first and the newest; drop every other one in between while over the budget."""
        def size(s):
            return sum(a.nbytes for a in s.weights) + sum(a.nbytes for a in s.hidden)
        while len(self.snapshots) > 2 and (len(self.snapshots) > MAX_SNAPSHOTS
                                           or sum(size(s) for s in self.snapshots) > MAX_SNAPSHOT_BYTES):
            middle = self.snapshots[1:-1]
            self.snapshots = [self.snapshots[0], *middle[1::2], self.snapshots[-1]]


class _Worker:
    """One worker process and the thread that reads its pipe."""

    def __init__(self, manager: JobManager, backend: str):
        self.manager, self.backend = manager, backend
        self.job: JobHandle | None = None
        self.jobs_done = 0
        self.ready = threading.Event()
        self.kill_reason: str | None = None
        self.kill_status = "failed"  # what the job of a killed worker ends as
        self.retiring = False
        child_in, self.to_child = os.pipe()
        self.from_child, child_out = os.pipe()
        # The worker's own output (TensorFlow's logs, tracebacks) goes to a file; its last line explains a death.
        self.log = tempfile.NamedTemporaryFile(prefix="seqcore-worker-", suffix=".log", delete=False)  # noqa: SIM115
        # One BLAS thread: the NumPy reference (snapshots, forecasts) does many tiny matmuls, and waking a
        # thread pool for each was measured 3-14x slower; TensorFlow keeps its own thread pools.
        env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "2", "OPENBLAS_NUM_THREADS": "1",
               "SEQCORE_INTRA_OP_THREADS": str(manager.intra_op_threads),
               "PYTHONPATH": os.pathsep.join([str(PROJECT_ROOT), os.environ.get("PYTHONPATH", "")])}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "seqcore.worker", str(child_in), str(child_out)],
            pass_fds=(child_in, child_out), env=env, cwd=str(PROJECT_ROOT),
            stdin=subprocess.DEVNULL, stdout=self.log, stderr=subprocess.STDOUT)
        os.close(child_in)
        os.close(child_out)
        self.inbox = Connection(self.from_child, writable=False)
        self.outbox = Connection(self.to_child, readable=False)
        self.send_lock = threading.Lock()
        self.thread = threading.Thread(target=self._read, name=f"seqcore-worker-{self.process.pid}", daemon=True)
        self.thread.start()

    def send(self, message) -> bool:
        try:
            with self.send_lock:
                self.outbox.send(message)
            return True
        except (OSError, ValueError):
            return False

    def rss_mb(self) -> float:
        import psutil  # here, not at the top: the app's first page imports this module (0.03-0.08 s)

        try:
            return psutil.Process(self.process.pid).memory_info().rss / 2**20
        except psutil.Error:
            return 0.0

    def kill(self, reason: str, status: str = "failed") -> None:
        self.kill_reason, self.kill_status = reason, status
        self.process.kill()

    def _read(self) -> None:
        while True:
            try:
                message = self.inbox.recv()
            except (EOFError, OSError):
                break
            kind = message[0]
            if kind == "ready":
                self.ready.set()
                self.manager._dispatch()
            elif kind == "event":
                job = self.job
                if job is not None and job.id == message[1]:
                    job._on_event(message[2])
            elif kind == "idle":
                self.manager._worker_idle(self)
        self.process.wait()
        self.manager._worker_died(self)

    def last_log_line(self) -> str:
        try:
            lines = Path(self.log.name).read_text(errors="replace").strip().splitlines()
        except OSError:
            return ""
        return lines[-1][-300:] if lines else ""


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def intra_op_threads_for(slots: int | None) -> int:
    """The cores shared out among the training slots: the threads TensorFlow may split one op over.

    Busy slots then do not fight over the cores, and on this 2-core machine one thread per op trained about
    20 % faster than TensorFlow's default of one per core even for a lone job, for the seed preset and for an
    LSTM(128) alike: the matrices of these networks are too small to split profitably (README, Performance)."""
    cores = os.cpu_count() or 1
    return max(1, cores // (slots or cores))


class JobManager:
    """A pool of warm workers with a FIFO queue of jobs beyond its slots."""

    def __init__(self, slots: int | None = None, *, warm: int = 1, backend: str = "tensorflow",
                 max_jobs_per_worker: int = 20, worker_memory_limit_mb: float = 3000.0,
                 recycle_above_mb: float = 1500.0, runs_dir: str | os.PathLike | None = None,
                 warm_delay_s: float = 0.0, stop_grace_s: float = STOP_GRACE_S,
                 intra_op_threads: int | None = None):
        """`warm` workers start (importing TensorFlow, then a warm-up) after `warm_delay_s`; a job submitted
        before then starts its worker at once. A worker that has not ended its job `stop_grace_s` after Stop
        is killed and replaced. `intra_op_threads`: TensorFlow's threads per op in each worker (default:
        `intra_op_threads_for(slots)`)."""
        self.slots = slots or os.cpu_count() or 1
        self.intra_op_threads = intra_op_threads or intra_op_threads_for(self.slots)
        self.backend = backend
        self.max_jobs_per_worker = max_jobs_per_worker
        self.worker_memory_limit_mb = worker_memory_limit_mb
        self.recycle_above_mb = recycle_above_mb
        self.stop_grace_s = stop_grace_s
        self.runs_dir = Path(runs_dir) if runs_dir else Path(tempfile.mkdtemp(prefix="seqcore-runs-"))
        self._lock = threading.RLock()
        self._queue: collections.deque[JobHandle] = collections.deque()
        self._durations: collections.deque[float] = collections.deque(maxlen=20)  # seconds of recent runs
        self._workers: list[_Worker] = []
        self._ids = itertools.count(1)
        self._closed = False
        self._warm = min(warm, self.slots)
        if warm_delay_s > 0:
            timer = threading.Timer(warm_delay_s, self._start_warm)
            timer.daemon = True
            timer.start()
        else:
            self._start_warm()
        self._monitor = threading.Thread(target=self._watch, name="seqcore-monitor", daemon=True)
        self._monitor.start()

    def _start_warm(self) -> None:
        with self._lock:
            while not self._closed and len(self._workers) < self._warm:
                self._workers.append(_Worker(self, self.backend))

    # --- public ---
    def submit(self, experiment: Experiment, *, owner: str | None = None, csv_values: np.ndarray | None = None,
               save_artifacts: bool = True) -> JobHandle:
        """Queue a job and return its handle at once."""
        with self._lock:
            if self._closed:
                raise RuntimeError("this JobManager has been shut down")
            job_id = f"job-{os.getpid()}-{next(self._ids)}"
            out_dir = str(self.runs_dir / job_id) if save_artifacts else None
            job = JobHandle(job_id, experiment, self, owner, csv_values, out_dir)
            self._queue.append(job)
        self._dispatch()
        return job

    def queue_position(self, job: JobHandle) -> int:
        with self._lock:
            try:
                return self._queue.index(job) + 1
            except ValueError:
                return 0

    def estimated_wait_s(self, position: int) -> float:
        """About how long the job at this queue position waits: the runs ahead of it, a slot's worth at
        a time, each as long as the median of recent runs (30 s before any has ended)."""
        if position <= 0:
            return 0.0
        with self._lock:
            recent = sorted(self._durations)
        typical = recent[len(recent) // 2] if recent else 30.0
        return math.ceil(position / self.slots) * typical

    def queued(self) -> int:
        with self._lock:
            return len(self._queue)

    def running(self) -> list[JobHandle]:
        with self._lock:
            return [w.job for w in self._workers if w.job is not None]

    def worker_pids(self) -> list[int]:
        with self._lock:
            return [w.process.pid for w in self._workers]

    def wait_ready(self, timeout: float = 60.0) -> bool:
        """Block until every started worker has imported Keras (for benchmarks and tests)."""
        deadline = time.monotonic() + timeout
        return all(w.ready.wait(max(0.0, deadline - time.monotonic())) for w in list(self._workers))

    def shutdown(self) -> None:
        with self._lock:
            self._closed = True
            queued, self._queue = list(self._queue), collections.deque()
            workers = list(self._workers)
        for job in queued:
            job._finish(EndEvent(status="stopped", reason="The server shut down before the job started.",
                                 epochs_done=0))
        for worker in workers:
            worker.retiring = True
            worker.send(("exit",))
        for worker in workers:
            try:
                worker.process.wait(5)
            except subprocess.TimeoutExpired:
                worker.kill("shutdown")

    # --- internals ---
    def _control(self, job: JobHandle, command: str) -> None:
        with self._lock:
            if job in self._queue:
                if command == "stop":
                    self._queue.remove(job)
                    job._finish(EndEvent(status="stopped", reason="Stopped while waiting in the queue.",
                                         epochs_done=0))
                return
            worker = next((w for w in self._workers if w.job is job), None)
        if worker is None or job.done:
            return
        with job._lock:
            if command == "stop" and job.stop_requested_at is None:
                job.stop_requested_at = time.monotonic()
            if command == "pause" and job.status in ("starting", "running"):  # the worker pauses at its first poll
                job.status = "paused"
            elif command == "resume" and job.status == "paused":
                job.status = "running"
        worker.send((command,))

    def _dispatch(self) -> None:
        """Give queued jobs to idle ready workers, starting or swapping workers as needed."""
        with self._lock:
            if self._closed:
                return
            while self._queue:
                job = self._queue[0]
                backend = job.experiment.train.backend
                idle = [w for w in self._workers if w.job is None and not w.retiring]
                worker = next((w for w in idle if w.backend == backend and w.ready.is_set()), None)
                if worker is None:
                    starting = any(w.backend == backend and not w.ready.is_set() for w in idle)
                    if not starting and len(self._workers) < self.slots:
                        self._workers.append(_Worker(self, backend))
                    elif not starting and idle:  # a free slot held by a worker of the other backend
                        self._retire(idle[0])
                        self._workers.append(_Worker(self, backend))
                    return
                self._queue.popleft()
                worker.job = job
                job.started_at = time.time()
                with job._lock:
                    job.status = "starting"
                sent = worker.send(("run", job.id, job.experiment.to_dict(), job._csv_values, job._out_dir))
                if not sent:
                    worker.kill("the worker could not be reached")

    def _retire(self, worker: _Worker) -> None:
        worker.retiring = True
        self._workers.remove(worker)
        worker.send(("exit",))

    def _worker_idle(self, worker: _Worker) -> None:
        with self._lock:
            job, worker.job = worker.job, None
            worker.jobs_done += 1
            if job is not None and job.started_at:
                self._durations.append(time.time() - job.started_at)
            if job is not None and not job.done:  # the worker ended without an EndEvent
                job._finish(EndEvent(status="failed", reason="The worker ended the job without a result.",
                                     epochs_done=len(job.history)))
            if worker.jobs_done >= self.max_jobs_per_worker or worker.rss_mb() > self.recycle_above_mb:
                self._retire(worker)  # TensorFlow keeps memory per model: a fresh process frees it
                if not self._closed:
                    self._workers.append(_Worker(self, worker.backend))
        self._dispatch()

    def _worker_died(self, worker: _Worker) -> None:
        with self._lock:
            if worker in self._workers:
                self._workers.remove(worker)
            job, worker.job = worker.job, None
            replace = not self._closed and not worker.retiring
        if job is not None and not job.done:
            code = worker.process.returncode
            if code is not None and code < 0:  # killed by a signal: its log's last line is unrelated noise
                reason = worker.kill_reason or f"The worker process died (killed by {_signal_name(-code)})."
            else:
                reason = worker.kill_reason or (
                    f"The worker process died (exit code {code}). {worker.last_log_line()}".strip())
            job._finish(EndEvent(status=worker.kill_status, reason=reason, epochs_done=len(job.history)))
        with contextlib.suppress(OSError):
            os.unlink(worker.log.name)
        if replace:
            with self._lock:
                if not self._closed and len(self._workers) < self.slots:  # shutdown may have begun meanwhile
                    self._workers.append(_Worker(self, worker.backend))
        self._dispatch()

    def _watch(self) -> None:
        """Kill a worker past its memory ceiling, well past its job's deadline, or slow to honour a Stop."""
        while not self._closed:
            time.sleep(0.5)
            with self._lock:
                busy = [w for w in self._workers if w.job is not None]
            for worker in busy:
                job = worker.job
                if job is None:
                    continue
                rss = worker.rss_mb()
                if rss > self.worker_memory_limit_mb:
                    worker.kill(f"The run ran out of memory: its worker used {rss:.0f} MB, above the limit of "
                                f"{self.worker_memory_limit_mb:.0f} MB. Use fewer units, steps or sequences.")
                elif job.started_at and time.time() - job.started_at > (
                        job.experiment.train.time_limit_s + DEADLINE_GRACE_S):
                    worker.kill(f"The run reached its time limit of {job.experiment.train.time_limit_s:g} s "
                                "and was ended.", status="timed_out")
                elif job.stop_requested_at and time.monotonic() - job.stop_requested_at > self.stop_grace_s:
                    worker.kill("Stopped by the user. Its worker was busy (compiling the model, most likely), so "
                                "it was restarted.", status="stopped")
