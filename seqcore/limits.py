"""Limits on what one run may ask for: generous locally, tight on a shared hosted demo.

The config's own bounds say what makes sense; these say what a server can
afford for one person when thirty share two cores. Turn hosted limits on
with the environment variable SEQCORE_HOSTED=1 (or `hosted = true` in
.streamlit/secrets.toml, read by the app).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace

from seqcore.config import SECTIONS, ConfigError, Experiment


@dataclass(frozen=True)
class Limits:
    name: str
    units: int
    layers: int
    seq_len: int
    n_sequences: int
    n_points: int
    epochs: int
    batch_size: int
    time_limit_s: float
    upload_mb: int
    slots: int | None  # concurrent training jobs; None: one per core


# Where each limit applies in the experiment.
LIMITED_FIELDS = {
    "units": "model.units", "layers": "model.layers", "seq_len": "data.seq_len",
    "n_sequences": "data.n_sequences", "n_points": "data.n_points", "epochs": "train.epochs",
    "batch_size": "train.batch_size", "time_limit_s": "train.time_limit_s",
}

LOCAL = Limits(name="local", units=1024, layers=4, seq_len=1000, n_sequences=100_000, n_points=200_000,
               epochs=10_000, batch_size=4096, time_limit_s=86_400.0, upload_mb=200, slots=None)
HOSTED = Limits(name="hosted", units=128, layers=2, seq_len=200, n_sequences=5_000, n_points=20_000,
                epochs=300, batch_size=512, time_limit_s=120.0, upload_mb=5, slots=None)


def hosted_from_env() -> bool:
    return os.environ.get("SEQCORE_HOSTED", "").strip().lower() in ("1", "true", "yes", "on")


def active_limits(hosted: bool | None = None) -> Limits:
    """HOSTED or LOCAL; SEQCORE_SLOTS overrides the number of training slots in either."""
    limits = HOSTED if (hosted_from_env() if hosted is None else hosted) else LOCAL
    slots = os.environ.get("SEQCORE_SLOTS", "").strip()
    return replace(limits, slots=int(slots)) if slots.isdigit() and int(slots) > 0 else limits


def limit_for(key: str, limits: Limits) -> float | None:
    """The limit on one 'section.field', or None."""
    for name, target in LIMITED_FIELDS.items():
        if target == key:
            return getattr(limits, name)
    return None


def check(experiment: Experiment, limits: Limits) -> None:
    """Raise ConfigError naming every setting above this server's limits."""
    problems = []
    for name, key in LIMITED_FIELDS.items():
        section, field = key.split(".")
        value, cap = getattr(getattr(experiment, section), field), getattr(limits, name)
        if value > cap:
            problems.append((key, value, f"is above this server's {limits.name} limit of {cap:g}"))
    data = experiment.data
    steps = data.task.steps(data)
    if not problems and steps > limits.seq_len:  # a task may read more steps than data.seq_len (copy memory)
        problems.append(("data.seq_len", data.seq_len, f"gives {steps} steps for the {data.task.label.lower()}, "
                                                       f"above this server's {limits.name} limit of {limits.seq_len}"))
    if problems:
        raise ConfigError(problems)


def clamp(experiment: Experiment, limits: Limits) -> tuple[Experiment, list[str]]:
    """The experiment with every setting above a limit lowered to it, and what was lowered.

    If lowering breaks a rule between settings (e.g. a lag no longer shorter than the sequence),
    the defaults are used instead, and the message says so.
    """
    changes, messages = {}, []
    for name, key in LIMITED_FIELDS.items():
        section, field = key.split(".")
        value, cap = getattr(getattr(experiment, section), field), getattr(limits, name)
        if value > cap:
            changes[key] = type(value)(cap)
            if value != SECTIONS[section].spec(field)["default"]:  # lowering a default is not news
                messages.append(f"{key}: {value!r} is above this server's {limits.name} limit, so {cap:g} is used")
    if not changes:
        return experiment, []
    try:
        return experiment.with_values(**changes), messages
    except ConfigError as err:
        return Experiment(), [*messages, f"{err}; the default experiment is used instead"]

