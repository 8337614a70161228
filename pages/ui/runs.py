"""The dashboard's side of training jobs: one job manager per server, one active run per browser session.

A run is found again after a reload through an unguessable token in the URL
(`?run=...`), which share links leave out. When a session ends (Streamlit
releases it after its reconnect grace period), the runs it still owns stop.
"""

from __future__ import annotations

import os
import secrets
import threading

import numpy as np
import streamlit as st

from pages.ui import session, state
from seqcore.backend import Backend, JobHandle
from seqcore.config import DataConfig, Experiment
from seqcore.data import SequenceData, build_data
from seqcore.jobs import JobManager


class RunRegistry:
    """token -> job, and which session owns it; shared by every session of this server."""

    def __init__(self):
        self._lock = threading.Lock()
        self._runs: dict[str, tuple[JobHandle, str]] = {}

    def add(self, job: JobHandle, session_id: str) -> str:
        """Register the session's new run; its earlier runs are forgotten (their snapshots freed)."""
        token = secrets.token_urlsafe(12)
        with self._lock:
            for old in [t for t, (_, owner) in self._runs.items() if owner == session_id]:
                self._runs.pop(old)[0].stop()
            self._runs[token] = (job, session_id)
        return token

    def attach(self, token: str, session_id: str) -> JobHandle | None:
        with self._lock:
            entry = self._runs.get(token)
            if entry is None:
                return None
            self._runs[token] = (entry[0], session_id)
            return entry[0]

    def release_session(self, session_id: str, grace_s: float) -> None:
        """The session's tab is gone. After `grace_s`, stop the runs it still owns: a reload of the
        same URL re-attaches its run to the new session within the grace period and keeps it going."""
        def stop_orphans():
            with self._lock:
                owned = [t for t, (_, owner) in self._runs.items() if owner == session_id]
                jobs = [self._runs.pop(t)[0] for t in owned]  # nobody can open them again: free them
            for job in jobs:
                job.stop()

        timer = threading.Timer(grace_s, stop_orphans)
        timer.daemon = True
        timer.start()


# The warm worker imports TensorFlow and trains a warm-up, a few CPU-seconds: started with the server's first
# page, it slowed that page's first paint from 3 to 4.4 s. Nobody presses Train within seconds of arriving.
WARM_WORKER_DELAY_S = float(os.environ.get("SEQCORE_WARM_DELAY_S", "4"))


@st.cache_resource(show_spinner=False)
def backend() -> Backend:
    """Where this server's runs train: the local worker pool."""
    limits = state.limits()
    return JobManager(slots=limits.slots, limits=limits, warm=1, warm_delay_s=WARM_WORKER_DELAY_S)


@st.cache_resource(show_spinner=False)
def run_registry() -> RunRegistry:
    return RunRegistry()


class _SessionToken:
    def __init__(self, session_id: str):
        self.session_id = session_id


RECONNECT_GRACE_S = float(os.environ.get("SEQCORE_RECONNECT_GRACE_S", "60"))


def _release(token: _SessionToken) -> None:
    run_registry().release_session(token.session_id, RECONNECT_GRACE_S)


@st.cache_resource(scope="session", on_release=_release, show_spinner=False)
def _session() -> _SessionToken:
    return _SessionToken(secrets.token_hex(8))


def current_job() -> JobHandle | None:
    """This session's latest run, re-attached from the URL after a reload."""
    token = st.session_state.get(session.RUN_TOKEN) or st.query_params.get(session.RUN_PARAM)
    if not token:
        return None
    job = run_registry().attach(token, _session().session_id)
    if job is None:
        st.session_state.pop(session.RUN_TOKEN, None)
        return None
    st.session_state[session.RUN_TOKEN] = token
    if st.query_params.get(session.RUN_PARAM) != token:
        st.query_params[session.RUN_PARAM] = token
    return job


def start_run(experiment: Experiment, csv_values: np.ndarray | None) -> JobHandle:
    """Submit under this server's limits (ConfigError names what is over them) and make it the session's run."""
    job = backend().submit(experiment, limits=state.limits(), csv_values=csv_values)
    token = run_registry().add(job, _session().session_id)
    st.session_state[session.RUN_TOKEN] = token
    st.query_params[session.RUN_PARAM] = token
    return job


@st.cache_resource(max_entries=16, show_spinner=False)
def _data(config: DataConfig, csv_digest: str | None, _csv_values: np.ndarray | None) -> SequenceData:
    return build_data(config, _csv_values)


def session_data() -> SequenceData:
    """The data of the session's experiment (NumPy only, cached); raises DataError for bad CSV input."""
    values, digest = state.csv_values()
    return _data(state.experiment().data, digest, values)


def data_for(experiment: Experiment) -> SequenceData:
    """The data a run trained on (the same generator, seed and split), rebuilt in this process."""
    values, digest = state.csv_values() if experiment.data.generator == "csv" else (None, None)
    return _data(experiment.data, digest, values)
