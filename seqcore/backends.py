"""Which backend trains this server's runs: `SEQCORE_BACKEND` picks one from `BACKENDS`.

`local` (the default): worker processes on this machine (seqcore.jobs). `ray`: a Ray cluster (seqcore.raybackend;
`RAY_ADDRESS` names it, else one starts on this machine; `pip install -r requirements-ray.txt`).
"""

from __future__ import annotations

import os
import socket

from seqcore.backend import Backend

BACKENDS = ("local", "ray")
CONNECT_TIMEOUT_S = 3.0


class BackendUnavailable(Exception):
    """The configured backend cannot be used: the message says which setting, what it holds and what to do."""


def chosen() -> str:
    name = os.environ.get("SEQCORE_BACKEND", "local").strip().lower() or "local"
    if name not in BACKENDS:
        raise BackendUnavailable(f"SEQCORE_BACKEND is {name!r}; allowed: {', '.join(BACKENDS)}.")
    return name


def configured(*, slots: int | None, limits, store, warm_delay_s: float = 0.0) -> Backend:
    """The backend SEQCORE_BACKEND names, made for this server (BackendUnavailable, with the reason, if it
    cannot be)."""
    if chosen() == "local":
        from seqcore.jobs import JobManager

        return JobManager(slots=slots, limits=limits, warm=1, warm_delay_s=warm_delay_s, store=store)
    try:
        from seqcore.raybackend import RayBackend
    except ImportError as err:
        raise BackendUnavailable(f"SEQCORE_BACKEND is 'ray' but Ray is not installed here ({err}): run "
                                 f"pip install -r requirements-ray.txt, or unset SEQCORE_BACKEND.") from err
    address = os.environ.get("RAY_ADDRESS", "").strip()
    _check_reachable(address)
    return RayBackend(slots=slots, address=address or None, limits=limits, store=store,
                      namespace=os.environ.get("SEQCORE_RAY_NAMESPACE", "seqcore"))


def _check_reachable(address: str) -> None:
    """Fail at once, not after Ray's minutes of retries, when nothing answers at a host:port RAY_ADDRESS."""
    if not address or address in ("auto", "local") or "://" in address or ":" not in address:
        return
    host, port = address.rsplit(":", 1)
    try:
        with socket.create_connection((host, int(port)), timeout=CONNECT_TIMEOUT_S):
            pass
    except (OSError, ValueError) as err:
        raise BackendUnavailable(f"SEQCORE_BACKEND is 'ray' but no Ray cluster answers at RAY_ADDRESS={address!r} "
                                 f"({err}). Start one (ray start --head) or correct RAY_ADDRESS.") from err
