"""The local backend: training jobs in worker processes on this machine.

Why processes (docs/design.md): a rerun, page switch or closed tab must not
kill or leak a run; TensorFlow leaks memory per model, so workers are
recycled; a runaway job can be killed without taking the server down; and the
UI process never imports TensorFlow. A `JobManager` keeps warm workers (Keras
already imported), a FIFO queue for jobs beyond its slots, and a monitor that
kills a worker past its memory ceiling or its job's deadline. It implements
`seqcore.backend.Backend`; its workers speak `seqcore.protocol`.
"""

from __future__ import annotations

import collections
import itertools
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
import time
from multiprocessing.connection import Connection
from pathlib import Path

import numpy as np

from seqcore import limits as run_limits
from seqcore.backend import COMMANDS, JobHandle, JobRecord, QueueFull, Recorder, wait_estimate_s
from seqcore.config import ConfigError, Experiment
from seqcore.events import EndEvent
from seqcore.models import installed_backends
from seqcore.protocol import Command, CompileAhead, CompiledAhead, Exit, Idle, JobEvent, Ready, RunJob

# The folder that holds the seqcore package in use (a checkout or site-packages): workers start there, so
# `python -m seqcore.worker` imports this very copy of the engine.
PACKAGE_PARENT = Path(__file__).resolve().parent.parent
DEADLINE_GRACE_S = 30.0  # a worker that ignores its deadline this long (stuck in a compile) is killed
# A worker polls for Stop after every compiled step, so a stop takes a second or less, unless the run is still
# tracing its graph (seconds; tens of seconds on a loaded server). Past this, the worker is killed and replaced:
# the person sees their run stop, and the CPU the rest of the compile would take goes to the others.
STOP_GRACE_S = 10.0


class _Job:
    """What the pool keeps of a job besides its record: what the worker needs to run it."""

    def __init__(self, record: JobRecord, uploaded: np.ndarray | None, save_artifacts: bool):
        self.record, self.uploaded, self.save_artifacts = record, uploaded, save_artifacts


class _Worker:
    """One worker process and the thread that reads its pipe."""

    def __init__(self, manager: JobManager, backend: str):
        self.manager, self.backend = manager, backend
        self.job: _Job | None = None
        self.jobs_done = 0
        self.ready = threading.Event()
        self.kill_reason: str | None = None
        self.kill_status = "failed"  # what the job of a killed worker ends as
        self.retiring = False
        child_in, self.to_child = os.pipe()
        self.from_child, child_out = os.pipe()
        # The worker's own output (TensorFlow's logs, tracebacks) goes to a file; its last line explains a death.
        # An unnamed one: the system frees it with the last process that holds it, even if the server is killed.
        self.log = tempfile.TemporaryFile(prefix="seqcore-worker-", suffix=".log")  # noqa: SIM115
        # One BLAS thread: the NumPy reference (snapshots, forecasts) does many tiny matmuls, and waking a
        # thread pool for each was measured 3-14x slower; TensorFlow keeps its own thread pools.
        env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "2", "OPENBLAS_NUM_THREADS": "1",
               "SEQCORE_INTRA_OP_THREADS": str(manager.intra_op_threads)}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "seqcore.worker", str(child_in), str(child_out)],
            pass_fds=(child_in, child_out), env=env, cwd=str(PACKAGE_PARENT),
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
            if isinstance(message, Ready):
                self.ready.set()
                self.manager._dispatch()
            elif isinstance(message, JobEvent):
                job = self.job
                if job is not None and job.record.id == message.job_id:
                    job.record.apply(message.event)
            elif isinstance(message, Idle):
                self.manager._worker_idle(self)
            elif isinstance(message, CompiledAhead):
                self.manager.compiled_ahead.append(message)
        self.process.wait()
        self.manager._worker_died(self)

    def last_log_line(self) -> str:
        try:
            self.log.seek(0)
            lines = self.log.read().decode(errors="replace").strip().splitlines()
        except (OSError, ValueError):
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
    """The local backend: a pool of warm workers with a FIFO queue of jobs beyond its slots."""

    def __init__(self, slots: int | None = None, *, warm: int = 1, backend: str = "tensorflow",
                 limits: run_limits.Limits = run_limits.LOCAL, max_jobs_per_worker: int = 20,
                 worker_memory_limit_mb: float | None = None, recycle_above_mb: float = 1500.0,
                 warm_delay_s: float = 0.0, stop_grace_s: float = STOP_GRACE_S, intra_op_threads: int | None = None,
                 store: Recorder | None = None):
        """`warm` workers start (importing TensorFlow, then a warm-up) after `warm_delay_s`; a job submitted
        before then starts its worker at once. `limits`: what `submit` accepts unless told otherwise; a worker
        above `worker_memory_limit_mb` (default: the limits' worker memory) fails its job and is replaced. A worker
        that has not ended its job `stop_grace_s` after Stop is killed and replaced. `intra_op_threads`:
        TensorFlow's threads per op in each worker (default: `intra_op_threads_for(slots)`). `store`: where every
        job is recorded as it goes (a `seqcore.store.RunStore`), or None."""
        self.slots = slots or os.cpu_count() or 1
        self.intra_op_threads = intra_op_threads or intra_op_threads_for(self.slots)
        self.backend = backend
        self.limits = limits
        self.max_jobs_per_worker = max_jobs_per_worker
        self.worker_memory_limit_mb = worker_memory_limit_mb or limits.worker_memory_mb
        self.recycle_above_mb = recycle_above_mb
        self.stop_grace_s = stop_grace_s
        self.store = store
        self._lock = threading.RLock()
        self._queue: collections.deque[_Job] = collections.deque()
        self._jobs: dict[str, _Job] = {}  # every job not yet ended, by id
        self._durations: collections.deque[float] = collections.deque(maxlen=20)  # seconds of recent runs
        self._workers: list[_Worker] = []
        self._ids = itertools.count(1)
        self._prefix = f"{int(time.time()):x}{secrets.token_hex(4)}"  # unique across replicas too
        self._closed = False
        self.compiled_ahead: collections.deque[CompiledAhead] = collections.deque(maxlen=100)  # workers' reports
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

    # --- the Backend protocol ---
    def submit(self, experiment: Experiment, *, limits: run_limits.Limits | None = None,
               uploaded: np.ndarray | None = None, save_artifacts: bool = True, owner: str | None = None,
               pair: str | None = None) -> JobHandle:
        """Queue a job and return its handle at once; ConfigError if it exceeds the limits or needs a Keras
        backend this machine lacks."""
        limits = limits or self.limits
        run_limits.check(experiment, limits, uploaded=uploaded)
        keras_backend = experiment.train.backend
        if keras_backend not in installed_backends():
            raise ConfigError([("train.backend", keras_backend, "is not installed on this server; allowed: "
                                + ", ".join(installed_backends()))])
        with self._lock:
            if self._closed:
                raise RuntimeError("this JobManager has been shut down")
            if limits.max_queued is not None and len(self._queue) >= limits.max_queued:
                raise QueueFull(len(self._queue), self.estimated_wait_s(len(self._queue)))
        # Made outside the lock: the record writes its first row to the store. Ids stay unique across restarts
        # of the server, since the store keeps the runs of earlier processes.
        record = JobRecord(f"job-{self._prefix}-{next(self._ids)}", experiment, uploaded, owner=owner, pair=pair,
                           recorder=self.store)
        job = _Job(record, uploaded, save_artifacts)
        with self._lock:
            if self._closed:
                record.finish(EndEvent(status="stopped", reason="The server shut down before the job started.",
                                       epochs_done=0))
                raise RuntimeError("this JobManager has been shut down")
            self._jobs[record.id] = job
            self._queue.append(job)
        self._dispatch()
        return JobHandle(record, self)

    def compile_ahead(self, experiment: Experiment, *, limits: run_limits.Limits | None = None,
                      uploaded: np.ndarray | None = None) -> bool:
        """Have the worker that would take the next job compile this network while it is idle; False (nothing
        sent) when no worker is idle and ready, jobs are waiting, or the experiment is over the limits."""
        try:
            run_limits.check(experiment, limits or self.limits, uploaded=uploaded)
        except ConfigError:
            return False
        with self._lock:
            if self._closed or self._queue:
                return False
            backend = experiment.train.backend
            # The worker _dispatch would pick: the first idle, ready one of this Keras backend.
            worker = next((w for w in self._workers if w.job is None and not w.retiring and w.backend == backend
                           and w.ready.is_set()), None)
            return worker is not None and worker.send(CompileAhead(experiment.to_dict(), uploaded))

    def control(self, job_id: str, command: str) -> None:
        if command not in COMMANDS:
            raise ValueError(f"command {command!r} is not one of {', '.join(COMMANDS)}")
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None:
                return
            if job in self._queue:
                if command == "stop":
                    self._queue.remove(job)
                    self._end(job, EndEvent(status="stopped", reason="Stopped while waiting in the queue.",
                                            epochs_done=0))
                return
            worker = next((w for w in self._workers if w.job is job), None)
        if worker is None or job.record.done:
            return
        job.record.apply_command(command)
        worker.send(Command(command))

    def queue_position(self, job_id: str) -> int:
        with self._lock:
            for position, job in enumerate(self._queue, start=1):
                if job.record.id == job_id:
                    return position
            return 0

    def estimated_wait_s(self, position: int) -> float:
        with self._lock:
            recent = list(self._durations)
        return wait_estimate_s(position, self.slots, recent)

    def shutdown(self) -> None:
        with self._lock:
            self._closed = True
            queued, self._queue = list(self._queue), collections.deque()
            workers = list(self._workers)
        for job in queued:
            self._end(job, EndEvent(status="stopped", reason="The server shut down before the job started.",
                                    epochs_done=0))
        for worker in workers:
            worker.retiring = True
            worker.send(Exit())
        for worker in workers:
            try:
                worker.process.wait(5)
            except subprocess.TimeoutExpired:
                worker.kill("shutdown")

    # --- for tests, benchmarks and the status of the server ---
    def queued(self) -> int:
        with self._lock:
            return len(self._queue)

    def running(self) -> int:
        with self._lock:
            return sum(w.job is not None for w in self._workers)

    def worker_pids(self) -> list[int]:
        with self._lock:
            return [w.process.pid for w in self._workers]

    def wait_ready(self, timeout: float = 60.0) -> bool:
        """Block until every started worker has imported Keras (for benchmarks and tests)."""
        deadline = time.monotonic() + timeout
        return all(w.ready.wait(max(0.0, deadline - time.monotonic())) for w in list(self._workers))

    # --- internals ---
    def _end(self, job: _Job, event: EndEvent) -> None:
        job.record.finish(event)
        with self._lock:
            self._jobs.pop(job.record.id, None)

    def _dispatch(self) -> None:
        """Give queued jobs to idle ready workers, starting or swapping workers as needed."""
        with self._lock:
            if self._closed:
                return
            while self._queue:
                job = self._queue[0]
                backend = job.record.experiment.train.backend
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
                job.record.mark_started()
                sent = worker.send(RunJob(job_id=job.record.id, experiment=job.record.experiment.to_dict(),
                                          uploaded=job.uploaded, save_artifacts=job.save_artifacts))
                if not sent:
                    worker.kill("the worker could not be reached")

    def _retire(self, worker: _Worker) -> None:
        worker.retiring = True
        self._workers.remove(worker)
        worker.send(Exit())

    def _worker_idle(self, worker: _Worker) -> None:
        with self._lock:
            job, worker.job = worker.job, None
            worker.jobs_done += 1
            if job is not None:
                if job.record.started_at:
                    self._durations.append(time.time() - job.record.started_at)
                if not job.record.done:  # the worker ended without an EndEvent
                    job.record.finish(EndEvent(status="failed", reason="The worker ended the job without a result.",
                                               epochs_done=job.record.epochs_done))
                self._jobs.pop(job.record.id, None)
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
        if job is not None and not job.record.done:
            code = worker.process.returncode
            if code is not None and code < 0:  # killed by a signal: its log's last line is unrelated noise
                reason = worker.kill_reason or f"The worker process died (killed by {_signal_name(-code)})."
            else:
                reason = worker.kill_reason or (
                    f"The worker process died (exit code {code}). {worker.last_log_line()}".strip())
            self._end(job, EndEvent(status=worker.kill_status, reason=reason, epochs_done=job.record.epochs_done))
        elif job is not None:  # it had ended before its worker did
            with self._lock:
                self._jobs.pop(job.record.id, None)
        worker.log.close()
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
                record, limit_s = job.record, job.record.experiment.train.time_limit_s
                rss = worker.rss_mb()
                if rss > self.worker_memory_limit_mb:
                    worker.kill(f"The run ran out of memory: its worker used {rss:.0f} MB, above the limit of "
                                f"{self.worker_memory_limit_mb:.0f} MB. Use fewer units, steps or sequences.")
                elif record.started_at and time.time() - record.started_at > limit_s + DEADLINE_GRACE_S:
                    worker.kill(f"The run reached its time limit of {limit_s:g} s and was ended.",
                                status="timed_out")
                elif record.stop_requested_at and time.monotonic() - record.stop_requested_at > self.stop_grace_s:
                    worker.kill("Stopped by the user. Its worker was busy (compiling the model, most likely), so "
                                "it was restarted.", status="stopped")
