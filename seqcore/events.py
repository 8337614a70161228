"""What a training run reports while it runs: plain, picklable records.

They cross the pipe from a worker process to the job handle in the UI
process, and the command line prints them; neither side needs Keras to read them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

FINAL_STATUSES = ("finished", "stopped", "timed_out", "failed")


@dataclass(frozen=True)
class StartEvent:
    n_train: int
    n_val: int
    n_test: int
    steps_per_epoch: int
    steps_per_execution: int
    metric: str  # 'accuracy' or 'mae'
    baselines: dict[str, float]
    probe_x: np.ndarray  # the fixed probe batch (first validation sequences) whose hidden states are recorded
    probe_y: np.ndarray
    probe_w: np.ndarray | None
    seconds_to_build: float
    xla: bool = False  # the training step is compiled with XLA (training.use_xla); runs stored before it: False
    # The network came from the worker's cache of compiled models (an earlier run of it, or compiled ahead of Train),
    # so its first epoch had nothing to trace; runs stored before it: False.
    compiled_before: bool = False
    # A text run's symbols in id order, the unknown last: its ids read back as it trained, even where its text is
    # built again from a different Python's built-in corpus. None for other runs.
    vocabulary: str | None = None


@dataclass(frozen=True)
class EpochEvent:
    epoch: int  # 1-based
    epochs: int
    loss: float
    metric: float
    val_loss: float
    val_metric: float
    seconds: float  # wall-clock time of this epoch, validation included
    samples_per_s: float
    elapsed: float  # since the job started training


@dataclass(frozen=True)
class SnapshotEvent:
    epoch: int
    weights: list[np.ndarray]
    hidden: list[np.ndarray]  # per layer: (probe, T, units) hidden states of the probe batch
    probe_output: np.ndarray  # model output on the probe batch
    val_prediction: np.ndarray | None = None  # regression: predictions on the first validation windows
    forecast: np.ndarray | None = None  # series: free-running forecast past the end of validation (scaled units)
    # ||dL/dx_t|| for each step t: how strongly the loss still reaches back to the input at t (gradients
    # through time of the trained network, mean over GRADIENT_SEQUENCES validation sequences)
    grad_norms: np.ndarray | None = None


@dataclass(frozen=True)
class EndEvent:
    status: str  # one of FINAL_STATUSES
    reason: str  # in words, for people
    epochs_done: int
    test_metrics: dict[str, float] = field(default_factory=dict)
    artifacts: dict[str, bytes] = field(default_factory=dict)  # file name -> content (training.ARTIFACT_NAMES)
