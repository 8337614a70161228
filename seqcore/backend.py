"""The seam between the pages and whatever trains: a `Backend` protocol, job records, and handles for the UI.

A backend takes experiments (`submit`), runs them somewhere (worker processes on this machine today, a
cluster later), and reports each job's events into its `JobRecord`. Pages hold `JobHandle`s: they read a
consistent `JobView` and press buttons, and never learn where the job runs. Everything a page shows comes
through the record, artifacts included (as bytes, not paths on the trainer's disk), so a backend on another
machine can serve the same pages.

Locking: each record has one lock, which guards every field it holds and is held only while a field is read
or written (never while calling out). A backend that keeps its own lock may take it first and a record's
lock inside it, never the other way round: `JobHandle.view` asks the backend for the queue position before
it takes the record's lock.
"""

from __future__ import annotations

import hashlib
import logging
import math
import statistics
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from seqcore.events import FINAL_STATUSES, EndEvent, EpochEvent, SnapshotEvent, StartEvent

if TYPE_CHECKING:
    import numpy as np

    from seqcore.config import Experiment
    from seqcore.limits import Limits

log = logging.getLogger(__name__)

COMMANDS = ("stop", "pause", "resume")
MAX_SNAPSHOT_BYTES = 24 * 2**20  # per job: older snapshots are thinned out beyond this
MAX_SNAPSHOTS = 80


class QueueFull(Exception):
    """Too many runs wait already; `retry_after_s` is about when a place frees up."""

    def __init__(self, waiting: int, retry_after_s: float, pair: bool = False):
        self.waiting, self.retry_after_s = waiting, retry_after_s
        retry = f"{max(10, round(retry_after_s / 10) * 10):.0f} s"
        if pair:
            super().__init__(f"A comparison trains two runs, and {waiting} runs are waiting for a training slot "
                             f"already: while the queue is this long the server takes single runs only. Train one "
                             f"run now, or compare again in about {retry}.")
        else:
            super().__init__(f"The queue is full: {waiting} runs are waiting for a training slot. Try again in "
                             f"about {retry}.")


class Backend(Protocol):
    """What a place that trains must offer the pages."""

    slots: int  # jobs it trains at once

    def submit(self, experiment: Experiment, *, limits: Limits | None = None, uploaded: np.ndarray | None = None,
               save_artifacts: bool = True, owner: str | None = None, pair: str | None = None) -> JobHandle:
        """Queue a job and return its handle at once. Raises config.ConfigError, naming the setting, when the
        experiment exceeds `limits` (the backend's own when None) or asks for something this backend lacks;
        QueueFull when the limits' queue is full. `owner` (a browser's key) and `pair` (the other run of an A/B
        comparison) are recorded with the run."""

    def control(self, job_id: str, command: str) -> None:
        """Stop, pause or resume a job (one of COMMANDS); a command for an ended or unknown job does nothing."""

    def queue_position(self, job_id: str) -> int:
        """1-based place of a queued job, 0 once it has left the queue."""

    def estimated_wait_s(self, position: int) -> float:
        """About how long a job at this queue position waits."""

    def shutdown(self) -> None:
        """Stop every job and free what the backend holds."""


class Recorder(Protocol):
    """Where a record reports what happens to its job as it happens (the run store). Called outside the
    record's lock, from the backend's threads; a recorder that fails is logged and the run goes on."""

    def submitted(self, record: JobRecord) -> None: ...

    def started(self, record: JobRecord) -> None: ...

    def event(self, record: JobRecord, event: StartEvent | EpochEvent | SnapshotEvent) -> None: ...

    def paused(self, record: JobRecord, status: str) -> None: ...

    def ended(self, record: JobRecord, event: EndEvent) -> None: ...


TYPICAL_RUN_S = 30.0  # what a run is taken to last before any has ended


def wait_estimate_s(position: int, slots: int, recent_run_s) -> float:
    """About how long the job at this queue position waits: the runs ahead of it, a slot's worth at a time, each
    as long as the median of recent runs (TYPICAL_RUN_S before any has ended). Every backend answers with this."""
    if position <= 0:
        return 0.0
    recent = sorted(recent_run_s)
    typical = recent[len(recent) // 2] if recent else TYPICAL_RUN_S
    return math.ceil(position / max(1, slots)) * typical


def thinned(sizes: list[int], max_count: int, max_bytes: int) -> list[int]:
    """Which of a run's snapshots (their sizes, oldest first) to keep: the first and the newest always, and every
    other one in between dropped while there are more than `max_count` or they hold more than `max_bytes`."""
    kept = list(range(len(sizes)))
    while len(kept) > 2 and (len(kept) > max_count or sum(sizes[i] for i in kept) > max_bytes):
        kept = [kept[0], *kept[1:-1][1::2], kept[-1]]
    return kept


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

    def seconds_left(self) -> float | None:
        """Seconds to the planned last epoch at the median of the last five steady epochs (all but the first,
        which also compiled the network); None before the second epoch."""
        steady = self.history[1:]
        if not steady:
            return None
        return statistics.median(e.seconds for e in steady[-5:]) * max(0, self.experiment.train.epochs - self.epoch)


def snapshot_bytes(snapshot: SnapshotEvent) -> int:
    return sum(a.nbytes for a in snapshot.weights) + sum(a.nbytes for a in snapshot.hidden)


class JobRecord:
    """One job's state and its bounded buffers of events, written by a backend, read by handles."""

    def __init__(self, job_id: str, experiment: Experiment, uploaded: np.ndarray | None = None, *,
                 owner: str | None = None, pair: str | None = None, recorder: Recorder | None = None):
        # What the job trains on, kept with it: pages rebuild its data from these, never from a later upload.
        self.id, self.experiment, self.uploaded = job_id, experiment, uploaded
        self.owner, self.pair, self._recorder = owner, pair, recorder
        self.record_error: str | None = None  # the first failure of the recorder, if any
        # Hashed once here: pages key cached data by it on every redraw.
        self.upload_digest = None if uploaded is None else hashlib.sha256(uploaded.tobytes()).hexdigest()
        self._lock = threading.Lock()
        self._done = threading.Event()
        self._status, self._reason = "queued", ""
        self._start: StartEvent | None = None
        self._end: EndEvent | None = None
        self._history: list[EpochEvent] = []
        self._snapshots: list[SnapshotEvent] = []
        self.submitted_at = time.time()
        self._started_at: float | None = None
        self._stop_requested_at: float | None = None  # time.monotonic() of the first Stop
        self._ended_at: float | None = None
        self._record("submitted")

    def _record(self, what: str, *args) -> None:
        """Tell the recorder, outside the lock; a failing store (a full disk) must not end the run."""
        if self._recorder is None:
            return
        try:
            getattr(self._recorder, what)(self, *args)
        except Exception as err:  # noqa: BLE001 - any failure of the store is reported, never raised into a run
            if self.record_error is None:
                self.record_error = f"{type(err).__name__}: {err}"
                log.exception("recording %s of run %s failed", what, self.id)

    # --- written by the backend ---
    def mark_started(self) -> None:
        """A trainer took the job from the queue."""
        with self._lock:
            self._started_at = time.time()
            if self._status == "queued":
                self._status = "starting"
        self._record("started")

    def apply_command(self, command: str) -> None:
        """What a button changes at once, before the trainer acts on it (the page shows it on the next draw)."""
        with self._lock:
            if self._end is not None:
                return
            before = self._status
            if command == "stop" and self._stop_requested_at is None:
                self._stop_requested_at = time.monotonic()
            elif command == "pause" and self._status in ("starting", "running"):
                self._status = "paused"
            elif command == "resume" and self._status == "paused":
                self._status = "running"
            after = self._status
        if after != before:
            self._record("paused", after)

    def apply(self, event) -> None:
        """One event from the trainer (none after its end: a killed trainer's late words are ignored)."""
        with self._lock:
            if self._end is not None:
                return
            if isinstance(event, StartEvent):
                self._start = event
                if self._status == "starting":
                    self._status = "running"
            elif isinstance(event, EpochEvent):
                self._history.append(event)
            elif isinstance(event, SnapshotEvent):
                self._snapshots.append(event)
                kept = thinned([snapshot_bytes(s) for s in self._snapshots], MAX_SNAPSHOTS, MAX_SNAPSHOT_BYTES)
                self._snapshots = [self._snapshots[i] for i in kept]
        if isinstance(event, EndEvent):
            self.finish(event)
        else:
            self._record("event", event)

    def finish(self, event: EndEvent) -> None:
        """The job ended (the first end counts: a late one from a killed trainer is ignored)."""
        with self._lock:
            first = self._end is None
            if first:
                self._end, self._status, self._reason = event, event.status, event.reason
                self._ended_at = time.time()
        if first:
            self._record("ended", event)  # recorded before waiters wake: a page that waited finds it stored
            self._done.set()

    # --- read by anyone ---
    @property
    def done(self) -> bool:
        return self._done.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        return self._done.wait(timeout)

    @property
    def started_at(self) -> float | None:
        with self._lock:
            return self._started_at

    @property
    def stop_requested_at(self) -> float | None:
        with self._lock:
            return self._stop_requested_at

    @property
    def epochs_done(self) -> int:
        with self._lock:
            return len(self._history)

    @property
    def nbytes(self) -> int:
        """About how much memory the record holds: its snapshots, artifacts and inputs."""
        with self._lock:
            held = sum(map(snapshot_bytes, self._snapshots))
            held += sum(map(len, self._end.artifacts.values())) if self._end else 0
        return held + (self.uploaded.nbytes if self.uploaded is not None else 0)

    @property
    def ended_at(self) -> float | None:
        with self._lock:
            return self._ended_at

    def view(self, queue_position: int = 0, estimated_wait_s: float = 0.0) -> JobView:
        with self._lock:
            return JobView(id=self.id, experiment=self.experiment, status=self._status, reason=self._reason,
                           queue_position=queue_position, start=self._start, history=tuple(self._history),
                           snapshot_epochs=tuple(s.epoch for s in self._snapshots),
                           latest_snapshot=self._snapshots[-1] if self._snapshots else None, end=self._end,
                           submitted_at=self.submitted_at,
                           waited_s=(self._started_at or time.time()) - self.submitted_at,
                           estimated_wait_s=estimated_wait_s,
                           stopping=self._stop_requested_at is not None and self._status not in FINAL_STATUSES)

    def snapshot(self, epoch: int) -> SnapshotEvent | None:
        """The recorded snapshot nearest to `epoch`."""
        with self._lock:
            if not self._snapshots:
                return None
            return min(self._snapshots, key=lambda s: abs(s.epoch - epoch))


class JobHandle:
    """The pages' side of one job: read its view, press its buttons. Thread-safe; knows no backend's insides."""

    def __init__(self, record: JobRecord, backend: Backend):
        self.record, self._backend = record, backend

    @property
    def id(self) -> str:
        return self.record.id

    @property
    def experiment(self) -> Experiment:
        return self.record.experiment

    @property
    def uploaded(self) -> np.ndarray | None:
        """The uploaded values this job trains on (None for generated data)."""
        return self.record.uploaded

    @property
    def upload_digest(self) -> str | None:
        return self.record.upload_digest

    def stop(self) -> None:
        self._backend.control(self.id, "stop")

    def pause(self) -> None:
        self._backend.control(self.id, "pause")

    def resume(self) -> None:
        self._backend.control(self.id, "resume")

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the job has ended; True if it has."""
        return self.record.wait(timeout)

    @property
    def done(self) -> bool:
        return self.record.done

    def view(self) -> JobView:
        position = self._backend.queue_position(self.id)  # before the record's lock: see the module's docstring
        return self.record.view(position, self._backend.estimated_wait_s(position))

    def snapshot(self, epoch: int) -> SnapshotEvent | None:
        return self.record.snapshot(epoch)

    @property
    def nbytes(self) -> int:
        return self.record.nbytes

    @property
    def ended_at(self) -> float | None:
        return self.record.ended_at
