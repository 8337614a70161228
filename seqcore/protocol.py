"""The messages between the local backend and its worker processes, one frozen dataclass each.

They cross a pipe (multiprocessing.connection, pickled); neither side needs Keras to read them. The worker's
events themselves are seqcore.events, carried inside `JobEvent`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np


# --- to a worker ---
@dataclass(frozen=True)
class RunJob:
    job_id: str
    experiment: dict  # Experiment.to_dict(): plain values, so the worker validates them again
    uploaded: np.ndarray | None
    save_artifacts: bool


@dataclass(frozen=True)
class CompileAhead:
    """Compile this network while idle, so that a run of it soon starts without tracing; any message that
    arrives meanwhile cuts it short."""
    experiment: dict  # Experiment.to_dict()
    uploaded: np.ndarray | None


@dataclass(frozen=True)
class Command:
    name: str  # 'stop', 'pause' or 'resume' (backend.COMMANDS)


@dataclass(frozen=True)
class Exit:
    pass


# --- from a worker ---
@dataclass(frozen=True)
class Ready:
    pid: int
    keras_backend: str


@dataclass(frozen=True)
class JobEvent:
    job_id: str
    event: Any  # a seqcore.events record


@dataclass(frozen=True)
class CompiledAhead:
    compiled: bool  # False: compiled before, no data to build, cut short before it began, or failed
    seconds: float


@dataclass(frozen=True)
class Idle:
    at: float  # time.time() when the worker finished its job
