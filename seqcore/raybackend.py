"""The Ray backend: training jobs on a Ray cluster's actors, one queue for every web server that shares it.

Chosen by `SEQCORE_BACKEND=ray` (`RAY_ADDRESS` names the cluster; without it, a Ray of this machine's own starts
inside the server). Three kinds of process take part:

- a `Scheduler` actor, named and detached, one per namespace (a deployment): the FIFO queue of the whole cluster,
  the free training slots, the recent run lengths. Every web server asks it, so a job's place in line and its
  estimated wait are the same whichever server a browser reaches, and a browser's new run stops its earlier ones
  wherever they were started (the rule one server's RunRegistry keeps locally);
- `Trainer` actors, one per training slot (one CPU each), created and owned by the scheduler: TensorFlow imported
  and the model cache kept between jobs, like a warm worker of the local pool. Ray restarts one that dies
  (`max_restarts=-1`); the job it ran fails with the reason. Recycled (killed and so restarted fresh) after
  `max_jobs_per_worker` jobs or above `recycle_above_mb`, since TensorFlow keeps memory per model;
- `RayBackend` in each web server: submits, streams each job's events into its `JobRecord` (an actor method that
  is a streaming generator: each event arrives as the trainer yields it, with no polling delay), forwards the
  buttons, and watches its own jobs' memory, deadline and Stop as the local pool does.

Ray listens on every address of the machine by default; a Ray started here for this machine alone is kept on
127.0.0.1 (RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0, see docs/scaling.md).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import itertools
import os
import queue
import secrets
import threading
import time

import numpy as np

from seqcore import limits as run_limits
from seqcore.backend import COMMANDS, JobHandle, JobRecord, QueueFull, Recorder, wait_estimate_s
from seqcore.config import ConfigError, Experiment
from seqcore.events import EndEvent
from seqcore.jobs import DEADLINE_GRACE_S, PACKAGE_PARENT, STOP_GRACE_S, intra_op_threads_for
from seqcore.training import Control


def _on_this_machine(address: str | None) -> bool:
    host = (address or "local").rsplit(":", 1)[0].removeprefix("ray://")
    return host in ("local", "auto", "127.0.0.1", "localhost", "")


# Ray reads this once, when imported: a Ray of this machine alone (none named, or one on the loopback address)
# then keeps every port on 127.0.0.1 instead of the machine's network address.
if _on_this_machine(os.environ.get("RAY_ADDRESS")):
    os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")

import ray  # noqa: E402 - after the setting above
from ray.exceptions import GetTimeoutError, RayActorError, RayError  # noqa: E402

NAMESPACE = "seqcore"
SCHEDULER = "seqcore-scheduler"
POSITIONS_FRESH_S = 0.25  # how old the queue positions a page shows may be (one request to the scheduler each)
RESTART_S = 300.0  # how long a restarting trainer may take to import Keras and warm up before it is used anyway
CALL_TIMEOUT_S = 10.0  # a scheduler that does not answer within this is taken as gone
LEASE_S = 30.0  # a running job whose web server has not called in this long is stopped (the server is gone)
# Events that come this soon after one another travel to the web server together (pages redraw every 1-2 s).
GATHER_S = 0.05


def connect(address: str | None = None, *, num_cpus: int | None = None) -> None:
    """Join the Ray cluster at `address` (or RAY_ADDRESS), or start one on this machine for this process alone
    (`address` None or "local": its `num_cpus`), on the loopback address. Nothing when already connected."""
    if ray.is_initialized():
        return
    address = address or os.environ.get("RAY_ADDRESS") or "local"
    if address == "local":
        ray.init(num_cpus=num_cpus, include_dashboard=False, log_to_driver=False, configure_logging=False)
    else:
        ray.init(address=address, log_to_driver=False, configure_logging=False)


class QueueControl(Control):
    """Stop / pause / resume for a job on a trainer actor: commands arrive from another thread of the actor. The
    job's web server also calls in every half second (`touch`); a job it has not called for LEASE_S is stopped as
    abandoned, since Ray goes on running an actor's task whose caller has died."""

    def __init__(self, deadline_s: float):
        super().__init__(deadline_s)
        self.commands: queue.SimpleQueue[str] = queue.SimpleQueue()
        self.touched = time.monotonic()
        self.abandoned = False

    def touch(self) -> None:
        self.touched = time.monotonic()

    def _lapsed(self) -> bool:
        self.abandoned = self.abandoned or time.monotonic() - self.touched > LEASE_S
        return self.abandoned

    def _read(self, timeout: float) -> str | None:
        """The strongest command waiting (stop over pause or resume; the later of those two)."""
        latest = None
        while True:
            try:
                command = self.commands.get(timeout=timeout) if timeout else self.commands.get_nowait()
            except queue.Empty:
                return latest
            timeout = 0
            if command == "stop":
                return "stop"
            latest = command

    def poll(self) -> str | None:
        command = self._read(0)
        return "stop" if self._lapsed() else command if command in ("stop", "pause") else None

    def wait_while_paused(self) -> str | None:
        while not self.timed_out():
            command = self._read(0.2)
            if command in ("stop", "resume"):
                return command
            if self._lapsed():
                return "stop"
        return None


def gathered(events: queue.SimpleQueue, done: object, window_s: float = GATHER_S) -> list:
    """The next event and those that follow it within `window_s`, up to `done`: one message to the web server for
    several epochs of a fast run. Each message costs the actor's streaming thread time under the GIL that the
    training thread waits for."""
    batch = [events.get()]
    deadline = time.monotonic() + window_s
    while batch[-1] is not done and (left := deadline - time.monotonic()) > 0:
        try:
            batch.append(events.get(timeout=left))
        except queue.Empty:
            break
    return batch


@ray.remote
class Trainer:
    """A warm trainer on one CPU of the cluster: trains one job at a time, its events streamed back. Its web server
    gives the slot back; when that server went away mid-run, the trainer ends the job and gives it back itself."""

    def __init__(self, index: int, scheduler):
        self.index, self.scheduler = index, scheduler
        # Below the web servers' CPU priority when it shares their machine, as the local pool's workers are.
        os.nice(int(os.environ.get("SEQCORE_WORKER_NICE", "5")))
        from seqcore.training import ModelCache
        from seqcore.worker import start_keras, warm_up

        start_keras()
        self.models = ModelCache()
        warm_up(self.models)
        self.controls: dict[str, QueueControl] = {}

    def ready(self) -> int:
        return os.getpid()

    def rss_mb(self) -> float:
        import psutil

        return psutil.Process().memory_info().rss / 2**20

    def heartbeat(self, job_id: str) -> float:
        """The job's web server is still there; this trainer's memory (MB) in return, for its ceiling."""
        control = self.controls.get(job_id)
        if control is not None:
            control.touch()
        return self.rss_mb()

    def command(self, job_id: str, name: str) -> None:
        control = self.controls.get(job_id)
        if control is not None:
            control.commands.put(name)

    def run(self, job_id: str, experiment: dict, uploaded: np.ndarray | None, save_artifacts: bool):
        """Train the job in a thread of this actor, yielding its events as they come (those close together in
        one list: `gathered`), the EndEvent last."""
        from seqcore.worker import run_job

        events: queue.SimpleQueue = queue.SimpleQueue()
        done = object()
        started = time.time()

        def control_for(deadline_s: float) -> QueueControl:
            self.controls[job_id] = QueueControl(deadline_s)
            return self.controls[job_id]

        def work() -> None:
            try:
                run_job(experiment, events.put, control_for, uploaded=uploaded, save_artifacts=save_artifacts,
                        models=self.models)
            finally:
                events.put(done)
                control = self.controls.get(job_id)
                if control is not None and control.abandoned:
                    # Its web server is gone and nobody else gives the slot back. The stream to the dead server
                    # may hold a thread of this actor for good: the scheduler restarts the actor afresh.
                    self.scheduler.release.remote(job_id, self.index, time.time() - started, self.rss_mb(), False,
                                                  True)

        thread = threading.Thread(target=work, name=f"seqcore-job-{job_id}", daemon=True)
        thread.start()
        streamed = False
        try:
            ended = False
            while not ended:
                batch = gathered(events, done)
                ended = batch[-1] is done
                if ended:
                    batch.pop()
                if batch:
                    yield batch
            streamed = True
        finally:
            if not streamed and job_id in self.controls:  # Ray closed the stream: its web server is gone
                self.controls[job_id].abandoned = True
                self.controls[job_id].commands.put("stop")
            thread.join()
            self.controls.pop(job_id, None)


@ray.remote(num_cpus=0)
class Scheduler:
    """The cluster's one queue and its training slots. Every method is a coroutine: they all run on the actor's one
    event loop, so they need no locks, and a future set by one wakes a `wait_turn` awaiting it."""

    def __init__(self, slots: int, max_jobs_per_worker: int, recycle_above_mb: float, env: dict[str, str]):
        self.slots = slots
        self.max_jobs_per_worker, self.recycle_above_mb = max_jobs_per_worker, recycle_above_mb
        itself = ray.get_runtime_context().current_actor
        self.trainers = [Trainer.options(num_cpus=1, max_restarts=-1, max_task_retries=0, max_concurrency=4,
                                         runtime_env={"env_vars": env}).remote(i, itself) for i in range(slots)]
        self.free = collections.deque(range(slots))
        self.jobs_done = [0] * slots
        self.queue: collections.OrderedDict[str, tuple[str | None, str | None]] = collections.OrderedDict()
        self.turns: dict[str, asyncio.Future] = {}  # job -> its turn, until its server has learnt it
        self.running: dict[str, tuple[int, str | None, str | None]] = {}  # job -> (trainer, owner, pair)
        self.durations: collections.deque[float] = collections.deque(maxlen=20)

    async def info(self) -> dict:
        return {"slots": self.slots, "trainers": self.trainers}

    async def enqueue(self, job_id: str, owner: str | None, pair: str | None, max_queued: int | None) -> dict:
        """Put a job in line. Refused when `max_queued` wait already; else the owner's earlier jobs (bar the other
        run of its pair) are stopped, as a browser's new run stops its last one."""
        if max_queued is not None and len(self.queue) >= max_queued:
            return {"full": True, "waiting": len(self.queue), "retry_s": self.wait_s(len(self.queue))}
        if owner is not None:
            for other, (other_owner, other_pair) in list(self.queue.items()):
                if other_owner == owner and not (pair and other_pair == pair):
                    await self.control(other, "stop")
            for other, (trainer, other_owner, other_pair) in list(self.running.items()):
                if other_owner == owner and not (pair and other_pair == pair):
                    self.trainers[trainer].command.remote(other, "stop")
        self.queue[job_id] = (owner, pair)
        self.turns[job_id] = asyncio.get_running_loop().create_future()
        self._dispatch()
        return {"full": False}

    async def wait_turn(self, job_id: str) -> tuple:
        """("run", trainer index, trainer) once a slot is the job's, or ("stopped", reason)."""
        turn = self.turns.get(job_id)
        if turn is None:
            return ("stopped", "Stopped while waiting in the queue.")
        try:
            return await turn
        finally:
            self.turns.pop(job_id, None)

    async def control(self, job_id: str, command: str) -> str:
        """A queued job's Stop takes it out of line; a running job's command goes to its trainer."""
        if job_id in self.queue:
            if command == "stop":
                del self.queue[job_id]
                self._tell(job_id, ("stopped", "Stopped while waiting in the queue."))
                return "dequeued"
            return "queued"
        if job_id in self.running:
            self.trainers[self.running[job_id][0]].command.remote(job_id, command)
            return "sent"
        return "unknown"

    async def release(self, job_id: str, trainer: int, run_s: float | None, rss_mb: float, died: bool,
                      abandoned: bool = False) -> None:
        """A job's trainer is free again (told by the job's web server once its stream has ended, or by the trainer
        when that server is gone; a second word on a job is ignored): recycled first when it has served enough
        jobs or holds too much memory (a dead one Ray restarts by itself)."""
        if self.running.get(job_id, (None,))[0] != trainer:
            return
        del self.running[job_id]
        if run_s is not None:
            self.durations.append(run_s)
        self.jobs_done[trainer] += 1
        recycle = abandoned or self.jobs_done[trainer] >= self.max_jobs_per_worker or rss_mb > self.recycle_above_mb
        if recycle and not died:
            ray.kill(self.trainers[trainer], no_restart=False)
        if recycle or died:
            self.jobs_done[trainer] = 0
            asyncio.get_running_loop().create_task(self._free_when_ready(trainer))
        else:
            self.free.append(trainer)
            self._dispatch()

    async def _free_when_ready(self, trainer: int) -> None:
        """Give a restarting trainer its next job once it is up again (a call while Ray restarts it fails)."""
        deadline = time.monotonic() + RESTART_S
        while time.monotonic() < deadline:
            try:
                await self.trainers[trainer].ready.remote()
                break
            except RayActorError:
                await asyncio.sleep(0.5)
        self.free.append(trainer)
        self._dispatch()

    async def positions(self) -> dict:
        return {"positions": {job_id: i for i, job_id in enumerate(self.queue, start=1)},
                "durations": list(self.durations), "slots": self.slots, "running": len(self.running)}

    def wait_s(self, position: int) -> float:
        return wait_estimate_s(position, self.slots, self.durations)

    def _dispatch(self) -> None:
        while self.free and self.queue:
            job_id, (owner, pair) = self.queue.popitem(last=False)
            trainer = self.free.popleft()
            self.running[job_id] = (trainer, owner, pair)
            self._tell(job_id, ("run", trainer, self.trainers[trainer]))

    def _tell(self, job_id: str, turn: tuple) -> None:
        future = self.turns.get(job_id)
        if future is not None and not future.done():
            future.set_result(turn)


class _Job:
    """A job this server submitted, and what the server's watcher needs to know of it."""

    def __init__(self, record: JobRecord, uploaded: np.ndarray | None, save_artifacts: bool):
        self.record, self.uploaded, self.save_artifacts = record, uploaded, save_artifacts
        self.trainer = None  # the actor's handle once the job has a slot
        self.trainer_index: int | None = None
        self.kill_reason: str | None = None
        self.kill_status = "failed"
        self.rss_mb = 0.0


class RayBackend:
    """The `Backend` on a Ray cluster: this web server's jobs, queued and trained cluster-wide."""

    def __init__(self, slots: int | None = None, *, address: str | None = None, namespace: str = NAMESPACE,
                 limits: run_limits.Limits = run_limits.LOCAL, store: Recorder | None = None,
                 max_jobs_per_worker: int = 20, worker_memory_limit_mb: float | None = None,
                 recycle_above_mb: float = 1500.0, stop_grace_s: float = STOP_GRACE_S,
                 intra_op_threads: int | None = None):
        """Joins (or starts) the cluster and the namespace's scheduler; the first server to come creates it, with
        `slots` trainers (default: the cluster's CPUs), and later ones share it whatever `slots` they ask."""
        connect(address, num_cpus=slots)
        self.namespace = namespace
        self.limits, self.store, self.stop_grace_s = limits, store, stop_grace_s
        self.worker_memory_limit_mb = worker_memory_limit_mb or limits.worker_memory_mb
        wanted = slots or max(1, int(ray.cluster_resources().get("CPU", 1)))
        python_path = os.pathsep.join(p for p in (str(PACKAGE_PARENT), os.environ.get("PYTHONPATH", "")) if p)
        env = {"KERAS_BACKEND": "tensorflow", "TF_CPP_MIN_LOG_LEVEL": "2", "OPENBLAS_NUM_THREADS": "1",
               "SEQCORE_INTRA_OP_THREADS": str(intra_op_threads or intra_op_threads_for(wanted)),
               "PYTHONPATH": python_path}
        self.scheduler = Scheduler.options(
            name=SCHEDULER, namespace=namespace, lifetime="detached", get_if_exists=True,
            runtime_env={"env_vars": {"PYTHONPATH": python_path}}).remote(
            wanted, max_jobs_per_worker, recycle_above_mb, env)
        info = ray.get(self.scheduler.info.remote(), timeout=120)
        self.slots, self._trainers = info["slots"], info["trainers"]
        self._lock = threading.Lock()
        self._jobs: dict[str, _Job] = {}  # this server's jobs not yet ended
        self._positions: dict = {"positions": {}, "durations": [], "slots": self.slots, "running": 0}
        self._positions_at = 0.0
        self._ids = itertools.count(1)
        self._prefix = f"{int(time.time()):x}{secrets.token_hex(4)}"
        self._closed = False
        self._monitor = threading.Thread(target=self._watch, name="seqcore-ray-monitor", daemon=True)
        self._monitor.start()

    # --- the Backend protocol ---
    def submit(self, experiment: Experiment, *, limits: run_limits.Limits | None = None,
               uploaded: np.ndarray | None = None, save_artifacts: bool = True, owner: str | None = None,
               pair: str | None = None) -> JobHandle:
        limits = limits or self.limits
        run_limits.check(experiment, limits, uploaded=uploaded)
        if experiment.train.backend != "tensorflow":
            raise ConfigError([("train.backend", experiment.train.backend,
                                "is not installed on this cluster's trainers; allowed: tensorflow")])
        if self._closed:
            raise RuntimeError("this RayBackend has been shut down")
        job_id = f"job-{self._prefix}-{next(self._ids)}"
        placed = ray.get(self.scheduler.enqueue.remote(job_id, owner, pair, limits.max_queued),
                         timeout=CALL_TIMEOUT_S)
        if placed["full"]:
            raise QueueFull(placed["waiting"], placed["retry_s"])
        self._positions_at = 0.0  # the next view asks the scheduler afresh
        record = JobRecord(job_id, experiment, uploaded, owner=owner, pair=pair, recorder=self.store)
        job = _Job(record, uploaded, save_artifacts)
        with self._lock:
            self._jobs[job_id] = job
        threading.Thread(target=self._run, args=(job,), name=f"seqcore-ray-{job_id}", daemon=True).start()
        return JobHandle(record, self)

    def compile_ahead(self, experiment: Experiment, *, limits: run_limits.Limits | None = None,
                      uploaded: np.ndarray | None = None) -> bool:
        """Nothing, on a cluster: which trainer takes the next run is the scheduler's choice at that moment, so a
        guess would compile on one trainer and train on another, taking a slot that people's runs share."""
        return False

    def control(self, job_id: str, command: str) -> None:
        if command not in COMMANDS:
            raise ValueError(f"command {command!r} is not one of {', '.join(COMMANDS)}")
        with self._lock:
            job = self._jobs.get(job_id)
            trainer = None if job is None else job.trainer
        if job is not None and job.record.done:
            return
        if trainer is not None:
            job.record.apply_command(command)
            trainer.command.remote(job_id, command)  # straight to its trainer: a stop lands within a batch
            return
        with contextlib.suppress(RayError):  # a scheduler gone: the job's own thread ends the job
            ray.get(self.scheduler.control.remote(job_id, command), timeout=CALL_TIMEOUT_S)
        self._positions_at = 0.0

    def queue_position(self, job_id: str) -> int:
        with self._lock:
            job = self._jobs.get(job_id)
        if job is None or job.trainer is not None:
            return 0
        return self._fresh_positions()["positions"].get(job_id, 0)

    def estimated_wait_s(self, position: int) -> float:
        known = self._positions
        return wait_estimate_s(position, known["slots"], known["durations"])

    def shutdown(self) -> None:
        """Stop this server's jobs; the cluster's scheduler and trainers stay for the other servers."""
        self._closed = True
        with self._lock:
            jobs = list(self._jobs.values())
        for job in jobs:
            self.control(job.record.id, "stop")
        for job in jobs:
            job.record.wait(self.stop_grace_s + 5)

    def tear_down(self) -> None:
        """Shut down, and end the namespace's scheduler and with it its trainers (the last server of a
        deployment, tests and benchmarks)."""
        self.shutdown()
        with contextlib.suppress(RayError):
            ray.kill(self.scheduler)

    # --- for tests, benchmarks and the status of the server ---
    def queued(self) -> int:
        """Jobs waiting for a slot in the whole cluster."""
        return len(self._fresh_positions(max_age_s=0)["positions"])

    def running(self) -> int:
        return self._fresh_positions(max_age_s=0)["running"]

    def worker_pids(self) -> list[int]:
        """The trainers' process ids (those that answer within a few seconds; one restarting does not)."""
        refs = [trainer.ready.remote() for trainer in self._trainers]
        ready, _ = ray.wait(refs, num_returns=len(refs), timeout=5.0)
        pids = []
        for ref in ready:
            with contextlib.suppress(RayError):
                pids.append(ray.get(ref))
        return pids

    def wait_ready(self, timeout: float = 60.0) -> bool:
        """Block until every trainer has imported Keras and warmed up."""
        try:
            ray.get([trainer.ready.remote() for trainer in self._trainers], timeout=timeout)
            return True
        except (GetTimeoutError, RayError):
            return False

    # --- internals ---
    def _fresh_positions(self, max_age_s: float = POSITIONS_FRESH_S) -> dict:
        if time.monotonic() - self._positions_at > max_age_s:
            try:
                self._positions = ray.get(self.scheduler.positions.remote(), timeout=CALL_TIMEOUT_S)
                self._positions_at = time.monotonic()
            except RayError:
                pass
        return self._positions

    def _run(self, job: _Job) -> None:
        """One job from the queue to its end, in a thread of its own."""
        record = job.record
        try:
            turn = ray.get(self.scheduler.wait_turn.remote(record.id))
        except RayError as err:
            self._end(job, EndEvent(status="failed", reason=f"The cluster's scheduler is gone: {_short(err)}",
                                    epochs_done=0))
            return
        if turn[0] == "stopped":
            self._end(job, EndEvent(status="stopped", reason=turn[1], epochs_done=0))
            return
        _, trainer_index, trainer = turn
        with self._lock:  # together, as `control` reads them: a Pause between the two was sent but not shown
            record.mark_started()
            job.trainer_index, job.trainer = trainer_index, trainer
        self._positions_at = 0.0
        died = False
        try:
            events = trainer.run.options(num_returns="streaming").remote(
                record.id, record.experiment.to_dict(), job.uploaded, job.save_artifacts)
            for ref in events:
                for event in ray.get(ref):
                    record.apply(event)
        except RayActorError as err:
            died = True
            record.finish(EndEvent(status=job.kill_status,
                                   reason=job.kill_reason or f"The worker process died ({_short(err)}).",
                                   epochs_done=record.epochs_done))
        except RayError as err:
            record.finish(EndEvent(status="failed", reason=f"Training failed on the cluster: {_short(err)}",
                                   epochs_done=record.epochs_done))
        if not record.done:
            record.finish(EndEvent(status="failed", reason="The worker ended the job without a result.",
                                   epochs_done=record.epochs_done))
        # After the stream has ended, so that recycling the trainer cannot cut off its last events.
        run_s = time.time() - record.started_at if record.started_at else None
        with contextlib.suppress(RayError):
            ray.get(self.scheduler.release.remote(record.id, job.trainer_index, run_s, job.rss_mb, died),
                    timeout=CALL_TIMEOUT_S)
        with self._lock:
            self._jobs.pop(record.id, None)

    def _end(self, job: _Job, event: EndEvent) -> None:
        job.record.finish(event)
        with self._lock:
            self._jobs.pop(job.record.id, None)

    def _kill(self, job: _Job, reason: str, status: str = "failed") -> None:
        job.kill_reason, job.kill_status = reason, status
        with contextlib.suppress(RayError):
            ray.kill(job.trainer, no_restart=False)  # Ray starts a fresh one in its place

    def _watch(self) -> None:
        """Kill a trainer past its memory ceiling, well past its job's deadline, or slow to honour a Stop."""
        while not self._closed:
            time.sleep(0.5)
            with self._lock:
                busy = [job for job in self._jobs.values() if job.trainer is not None and not job.record.done]
            for job in busy:
                if job.kill_reason:
                    continue
                record, limit_s = job.record, job.record.experiment.train.time_limit_s
                with contextlib.suppress(GetTimeoutError, RayError):  # busy or restarting: the rest still applies
                    job.rss_mb = ray.get(job.trainer.heartbeat.remote(record.id), timeout=2.0)
                if job.rss_mb > self.worker_memory_limit_mb:
                    self._kill(job, f"The run ran out of memory: its worker used {job.rss_mb:.0f} MB, above the "
                                    f"limit of {self.worker_memory_limit_mb:.0f} MB. Use fewer units, steps or "
                                    f"sequences.")
                elif record.started_at and time.time() - record.started_at > limit_s + DEADLINE_GRACE_S:
                    self._kill(job, f"The run reached its time limit of {limit_s:g} s and was ended.", "timed_out")
                elif record.stop_requested_at and time.monotonic() - record.stop_requested_at > self.stop_grace_s:
                    self._kill(job, "Stopped by the user. Its worker was busy (compiling the model, most likely), "
                                    "so it was restarted.", "stopped")


def _short(err: Exception) -> str:
    """The first line of a Ray error, which goes on for paragraphs."""
    text = str(err).strip().splitlines()
    return (text[0] if text else type(err).__name__)[:300]
