"""The dashboard's side of training jobs: one backend per server, one active run per browser.

A run belongs to the browser that started it, known by the token in Streamlit's XSRF cookie: a secret that
every request of that browser carries and that an address never holds. A reload or a second tab of the same
browser finds the run again; another browser given the full address finds nothing of it. The address holds
the run's id (`?run=`) only so that a page can say what became of it (another browser's, or gone after a
restart). When the last tab of a browser closes, its queued run is dropped within seconds and its running
one stops after a grace period that a reload fits in.
"""

from __future__ import annotations

import binascii
import collections
import hashlib
import os
import secrets
import threading
import time

import numpy as np
import streamlit as st

from pages.ui import session, state
from seqcore import backends
from seqcore import limits as run_limits
from seqcore.backend import Backend, JobHandle, QueueFull
from seqcore.config import ConfigError, DataConfig, Experiment
from seqcore.data import DataError, SequenceData, build_data
from seqcore.tasks import TEXT

XSRF_COOKIE = "_streamlit_xsrf"
MAX_REMEMBERED_OWNERS = 10_000  # run ids whose owner is still known after the run was replaced


def browser_key(xsrf_cookie: str | None) -> str | None:
    """A stable key for the browser behind Streamlit's XSRF cookie, or None without one.

    The cookie is 2|mask|masked token|timestamp (Tornado's format, kept by Streamlit's server): the server
    masks the same token afresh in every response, so the key is a hash of the unmasked token."""
    if not xsrf_cookie:
        return None
    parts = xsrf_cookie.strip("\"'").split("|")
    try:
        if len(parts) == 4 and parts[0] == "2":
            mask, masked = binascii.a2b_hex(parts[1]), binascii.a2b_hex(parts[2])
            token = bytes(byte ^ mask[i % 4] for i, byte in enumerate(masked))
        elif len(parts) == 1:  # version 1: the token in hex
            token = binascii.a2b_hex(parts[0])
        else:
            return None
    except (binascii.Error, ValueError, IndexError):
        return None
    return hashlib.sha256(b"seqcore-browser:" + token).hexdigest()[:32] if len(token) >= 8 else None


class RunRegistry:
    """Which browser owns which run, and which of its tabs are open; shared by every session of this server.

    Retention: an ended run is kept (for its charts, Inspect and downloads) until it is `max_age_s` old, or until
    the ended runs together hold more than `max_bytes`, the oldest going first."""

    def __init__(self, max_age_s: float = 24 * 3600.0, max_bytes: int = 2 * 2**30):
        self.max_age_s, self.max_bytes = max_age_s, max_bytes
        self._lock = threading.Lock()
        self._latest: dict[str, JobHandle] = {}  # browser -> its latest run
        self._partner: dict[str, JobHandle] = {}  # browser -> the other run of its latest A/B comparison
        self._owners: collections.OrderedDict[str, str] = collections.OrderedDict()  # run id -> browser
        self._open: dict[str, set[str]] = {}  # browser -> its open sessions (tabs)

    def open_session(self, browser: str, session_id: str) -> None:
        with self._lock:
            self._open.setdefault(browser, set()).add(session_id)

    def add(self, browser: str, job: JobHandle, partner: JobHandle | None = None) -> None:
        """The browser's new run (with `partner`, the other run of an A/B comparison); its earlier ones stop if
        they still run, and are forgotten here (the run store keeps them)."""
        with self._lock:
            previous = [self._latest.get(browser), self._partner.pop(browser, None)]
            self._latest[browser] = job
            if partner is not None:
                self._partner[browser] = partner
            for run in (job, partner):
                if run is not None:
                    self._owners[run.id] = browser
            while len(self._owners) > MAX_REMEMBERED_OWNERS:
                self._owners.popitem(last=False)
        for run in previous:
            if run is not None and not run.done:
                run.stop()
        self.prune()

    def partner(self, browser: str) -> JobHandle | None:
        with self._lock:
            return self._partner.get(browser)

    def prune(self, now: float | None = None) -> list[str]:
        """Forget ended runs past the retention limits; the ids forgotten."""
        now = time.time() if now is None else now
        with self._lock:
            ended = sorted(((job.ended_at, browser, job, job.nbytes + self._partner_bytes(browser))
                            for browser, job in self._latest.items()
                            if job.done and job.ended_at is not None and self._partner_done(browser)),
                           key=lambda item: item[0])
            total = sum(nbytes for *_, nbytes in ended)
            forgotten = []
            for ended_at, browser, job, nbytes in ended:
                if now - ended_at <= self.max_age_s and total <= self.max_bytes:
                    break  # the oldest left is young enough, and the rest fit
                total -= nbytes
                del self._latest[browser]
                self._partner.pop(browser, None)
                forgotten.append(job.id)
        return forgotten

    def _partner_done(self, browser: str) -> bool:
        partner = self._partner.get(browser)
        return partner is None or partner.done

    def _partner_bytes(self, browser: str) -> int:
        partner = self._partner.get(browser)
        return partner.nbytes if partner is not None else 0

    def latest(self, browser: str) -> JobHandle | None:
        with self._lock:
            return self._latest.get(browser)

    def owner(self, job_id: str) -> str | None:
        """The browser a run belongs to, if this server still knows the run."""
        with self._lock:
            return self._owners.get(job_id)

    def release_session(self, browser: str, session_id: str, *, grace_s: float, queued_grace_s: float) -> None:
        """A tab is gone. If no other tab of its browser is open `queued_grace_s` later, a queued run is
        dropped; if none is open after `grace_s`, a running one stops and is forgotten. A reload opens a new
        session within seconds and keeps both."""
        with self._lock:
            self._open.get(browser, set()).discard(session_id)

        def stop_if_abandoned(only_queued: bool):
            with self._lock:
                if self._open.get(browser):
                    return
                jobs = [j for j in (self._latest.get(browser), self._partner.get(browser))
                        if j is not None and not j.done and not (only_queued and j.view().status != "queued")]
                if not jobs:
                    return
                if not only_queued:
                    self._latest.pop(browser, None)
                    self._partner.pop(browser, None)
            for job in jobs:
                job.stop()

        for delay, only_queued in ((queued_grace_s, True), (grace_s, False)):
            timer = threading.Timer(delay, stop_if_abandoned, args=(only_queued,))
            timer.daemon = True
            timer.start()


# The warm worker imports TensorFlow and trains a warm-up, a few CPU-seconds: started with the server's first
# page, it slowed that page's first paint from 3 to 4.4 s. Nobody presses Train within seconds of arriving.
WARM_WORKER_DELAY_S = float(os.environ.get("SEQCORE_WARM_DELAY_S", "4"))


# How long the run store keeps ended runs and how much it may hold (SEQCORE_STORE_RETENTION_H, SEQCORE_STORE_MB):
# hosted, a class's runs for the day and a half around a lesson; locally, three months.
STORE_RETENTION_H = {"local": 90 * 24.0, "hosted": 36.0}
STORE_MB = {"local": 4096.0, "hosted": 1024.0}


class StoreOnFirstUse:
    """The server's run store, opened when first needed: SQLAlchemy's import (0.3 s) stays out of the first
    page a visitor waits for. Recorder calls from the backend open it too. When it cannot be opened (a store
    written by a newer version, say), `error` says why and runs go on unrecorded."""

    def __init__(self, limits_name: str):
        self.limits_name = limits_name
        self.error: str | None = None
        self._store = None
        self._lock = threading.Lock()

    def get(self):
        """The RunStore, or None when it cannot be opened (see `error`)."""
        with self._lock:
            if self._store is None and self.error is None:
                from seqcore.store import RunStore, StoreError

                hours = float(os.environ.get("SEQCORE_STORE_RETENTION_H", STORE_RETENTION_H[self.limits_name]))
                megabytes = float(os.environ.get("SEQCORE_STORE_MB", STORE_MB[self.limits_name]))
                try:
                    self._store = RunStore(max_age_s=hours * 3600, max_bytes=int(megabytes * 2**20))
                except (StoreError, OSError, ValueError) as err:
                    self.error = str(err)
                except Exception as err:  # noqa: BLE001 - any database driver's error: the app works on without it
                    self.error = f"{type(err).__name__}: {err}"
            return self._store

    def __getattr__(self, name):  # the Recorder methods: submitted, started, event, paused, ended
        store = self.get()
        if store is None:
            raise RuntimeError(f"the run store is not open: {self.error}")
        return getattr(store, name)


@st.cache_resource(show_spinner=False)
def store_access() -> StoreOnFirstUse:
    return StoreOnFirstUse(state.limits().name)


def store():
    """This server's RunStore, or None when it cannot be opened (`store_access().error` says why)."""
    return store_access().get()


@st.cache_resource(show_spinner=False)
def _backend_or_reason() -> tuple[Backend | None, str | None]:
    """Made once per server, a failure too: a cluster that does not answer must not cost every page seconds."""
    limits = state.limits()
    try:
        return backends.configured(slots=limits.slots, limits=limits, store=store_access(),
                                   warm_delay_s=WARM_WORKER_DELAY_S), None
    except backends.BackendUnavailable as err:
        return None, str(err)


def backend() -> Backend:
    """Where this server's runs train (SEQCORE_BACKEND: the local worker pool, or Ray), recording into the run
    store. Raises seqcore.backends.BackendUnavailable, with the reason, when the configured one cannot be had."""
    made, reason = _backend_or_reason()
    if made is None:
        raise backends.BackendUnavailable(reason)
    return made


# Ended runs kept in memory for their charts and downloads: a class's runs for the day (SEQCORE_RUN_RETENTION_H),
# within a memory budget (SEQCORE_RUN_MEMORY_MB; by default 512 MB hosted, 2 GB locally).
RUN_MEMORY_MB = {"local": 2048, "hosted": 512}


@st.cache_resource(show_spinner=False)
def run_registry() -> RunRegistry:
    hours = float(os.environ.get("SEQCORE_RUN_RETENTION_H", "24"))
    megabytes = float(os.environ.get("SEQCORE_RUN_MEMORY_MB", RUN_MEMORY_MB[state.limits().name]))
    return RunRegistry(max_age_s=hours * 3600, max_bytes=int(megabytes * 2**20))


RECONNECT_GRACE_S = float(os.environ.get("SEQCORE_RECONNECT_GRACE_S", "60"))
QUEUED_GRACE_S = 5.0  # a queued run of a closed browser frees its place in line at once, bar a reload


class _Tab:
    """This session and the browser it belongs to (the session itself when the browser sent no XSRF cookie)."""

    def __init__(self, session_id: str, browser: str):
        self.session_id, self.browser = session_id, browser


def _release(tab: _Tab) -> None:
    run_registry().release_session(tab.browser, tab.session_id, grace_s=RECONNECT_GRACE_S,
                                   queued_grace_s=QUEUED_GRACE_S)


@st.cache_resource(scope="session", on_release=_release, show_spinner=False)
def _tab() -> _Tab:
    session_id = secrets.token_hex(8)
    tab = _Tab(session_id, browser_key(st.context.cookies.get(XSRF_COOKIE)) or f"session:{session_id}")
    run_registry().open_session(tab.browser, tab.session_id)
    return tab


def browser() -> str:
    """The key of this tab's browser (its session's own key without an XSRF cookie)."""
    return _tab().browser


def current_job() -> JobHandle | None:
    """The run on screen: the one the address names if it is this browser's (a past run opened from the Runs
    page, or any run after a server restart, read from the store), else this browser's latest run."""
    return current_runs()[0]


def current_runs() -> tuple[JobHandle | None, JobHandle | None]:
    """The run on screen and, for an A/B comparison, the other run of its pair."""
    tab = _tab()
    st.session_state[session.BROWSER] = tab.browser
    job = run_registry().latest(tab.browser)
    # A page link drops the address's parameters: the run opened from the Runs page stays on screen anyway.
    named = st.query_params.get(session.RUN_PARAM) or st.session_state.get(session.SHOWN_RUN)
    if named and (job is None or named != job.id):
        partner = run_registry().partner(tab.browser)
        if partner is not None and partner.id == named:
            return partner, job
        stored = _stored_run(named, tab.browser)
        if stored is not None:
            st.session_state[session.SHOWN_RUN] = named
            st.query_params[session.RUN_PARAM] = named
            return stored, _stored_partner(stored)
        st.session_state.pop(session.SHOWN_RUN, None)
        _explain_named_run(named)
    if job is not None and named != job.id:
        st.query_params[session.RUN_PARAM] = job.id
    elif job is None and named:
        del st.query_params[session.RUN_PARAM]
    return job, run_registry().partner(tab.browser) if job is not None else None


def _stored_run(run_id: str, owner: str):
    """The stored run `run_id` if this browser owns it, else None. An ended one is read once per session: every
    rerun of the page would otherwise read its history, snapshot and files again."""
    memo = st.session_state.get(session.STORED_MEMO)
    if memo is not None and memo.id == run_id and memo.summary.owner == owner and memo.store.exists(run_id):
        return memo
    opened = store()
    if opened is None or opened.owner(run_id) != owner:
        return None
    found = opened.stored_run(run_id)
    if found is not None and found.done:
        st.session_state[session.STORED_MEMO] = found
    return found


def _stored_partner(run):
    pair = run.summary.pair
    if not pair:
        return None
    others = [r for r in store().runs(run.summary.owner, pair=pair) if r.id != run.id]
    return store().stored_run(others[0].id) if others else None


def _explain_named_run(job_id: str) -> None:
    """Say why the run the address names is not shown (once per session and id)."""
    told = st.session_state.setdefault(session.RUNS_EXPLAINED, set())
    if job_id in told:
        return
    told.add(job_id)
    opened = store()
    owner = run_registry().owner(job_id) or (opened.owner(job_id) if opened is not None else None)
    if owner is not None and owner != _tab().browser:
        state.notice("info", "This address names a run that another browser started. Runs belong to the browser "
                             "that started them, so only the settings in the address were opened here.")
    elif opened is None:
        state.notice("info", "The run this address names cannot be shown: the run store is not available "
                             f"({store_access().error}). Its settings were opened; press Train to run it again.")
    else:
        state.notice("info", "The run this address names is no longer kept (the run store deletes old runs after "
                             "a while, and runs can be deleted on the Runs page). Its settings were opened; press "
                             "Train to run it again.")


def start_run(experiment: Experiment, uploaded: np.ndarray | None) -> JobHandle:
    """Submit under this server's limits (ConfigError names what is over them) and make it the session's run."""
    job = backend().submit(experiment, limits=state.limits(), uploaded=uploaded, owner=_tab().browser)
    run_registry().add(_tab().browser, job)
    st.session_state.pop(session.SHOWN_RUN, None)
    st.query_params[session.RUN_PARAM] = job.id
    return job


def compile_ahead(experiment: Experiment) -> None:
    """On one person's machine (limits.compile_ahead), have an idle worker compile the network of the settings on
    screen once per change of them, so that the Train pressed next shows its first point without that compile (2 s
    or more for a new network). Only while the session has no run: its own run holds the worker."""
    if not state.limits().compile_ahead or state.pending_errors() or (
            st.session_state.get(session.COMPILED_AHEAD) == experiment):
        return
    latest = run_registry().latest(_tab().browser)
    if latest is not None and not latest.done:
        return
    made, _ = _backend_or_reason()
    try:
        values, _ = state.uploaded()
    except DataError:
        return  # the page says what is wrong with the data; nothing worth compiling
    if made is None or state.missing_upload():
        return
    if made.compile_ahead(experiment, limits=state.limits(), uploaded=values):
        st.session_state[session.COMPILED_AHEAD] = experiment


def start_pair(first: Experiment, second: Experiment, uploaded: np.ndarray | None) -> tuple[JobHandle, JobHandle]:
    """Two runs side by side (an A/B comparison), queued as two jobs; QueueFull (or ConfigError) for either
    leaves neither running. Hosted, a pair is refused while the queue is already long (`limits.max_pair_queue`)."""
    limits = state.limits()
    queued = getattr(backend(), "queued", lambda: 0)()
    if limits.max_pair_queue is not None and queued >= limits.max_pair_queue:
        raise QueueFull(queued, backend().estimated_wait_s(queued), pair=True)
    pair = f"pair-{secrets.token_hex(6)}"
    job = backend().submit(first, limits=limits, uploaded=uploaded, owner=_tab().browser, pair=pair)
    try:
        partner = backend().submit(second, limits=limits, uploaded=uploaded, owner=_tab().browser, pair=pair)
    except Exception:
        job.stop()
        raise
    run_registry().add(_tab().browser, job, partner)
    st.session_state.pop(session.SHOWN_RUN, None)
    st.query_params[session.RUN_PARAM] = job.id
    return job, partner


class DataCache:
    """Built data by (settings, CSV digest), least recently used first out, bounded by bytes, not entries: one
    link may ask for hundreds of megabytes, and every session of the server shares this cache."""

    def __init__(self, max_bytes: int):
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._entries: collections.OrderedDict[tuple, SequenceData] = collections.OrderedDict()

    @staticmethod
    def size(data: SequenceData) -> int:
        return sum(a.nbytes for a in vars(data).values() if isinstance(a, np.ndarray))

    def get(self, config: DataConfig, uploaded: np.ndarray | None, digest: str | None = None) -> SequenceData:
        """The data of `config` (with `uploaded`, whose `digest` the caller may know already), built once."""
        if uploaded is not None and digest is None:
            digest = hashlib.sha256(uploaded.tobytes()).hexdigest()
        key = (config, digest)
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
                return self._entries[key]
        data = build_data(config, uploaded)  # outside the lock: other sessions keep their cached data meanwhile
        with self._lock:
            self._entries[key] = data
            while len(self._entries) > 1 and sum(map(self.size, self._entries.values())) > self.max_bytes:
                self._entries.popitem(last=False)
        return data

    @property
    def bytes(self) -> int:
        with self._lock:
            return sum(map(self.size, self._entries.values()))


DATA_CACHE_BYTES = {"local": 2 * 2**30, "hosted": 256 * 2**20}


@st.cache_resource(show_spinner=False)
def data_cache() -> DataCache:
    return DataCache(DATA_CACHE_BYTES[state.limits().name])


def session_data() -> SequenceData:
    """The data of the session's experiment (NumPy only, cached); raises DataError for bad CSV input and
    ConfigError for data larger than this server builds."""
    values, digest = state.uploaded()
    run_limits.check_size(state.experiment(), state.limits(), uploaded=values)  # before building it here
    return data_cache().get(state.experiment().data, values, digest)


def data_sizes() -> tuple[int, int] | None:
    """(features, outputs) of the session's data where they depend on the data itself (a text's vocabulary),
    so the parameter counts are those of the network that will train; None where the settings say."""
    if state.experiment().data.task.kind is not TEXT:
        return None
    try:
        data = session_data()
    except (ConfigError, DataError):  # the counts then use the cap; the Data page says what is wrong
        return None
    return data.n_features, data.n_outputs


def data_for(job: JobHandle) -> SequenceData:
    """The data a run trained on (the same generator, seed and split, and its own CSV values), rebuilt here."""
    return data_cache().get(job.experiment.data, job.uploaded, job.upload_digest)
