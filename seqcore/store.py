"""The run store: every run on disk as it goes, so runs outlast the server and can be compared.

One database through SQLAlchemy Core: an SQLite file by default (`runs/store.sqlite`, or the folder in
`SEQCORE_STORE`), in WAL mode so pages read while the server's reader threads write; any SQLAlchemy URL
(`SEQCORE_STORE_URL`, PostgreSQL for several web servers) with the same code. A run's row is written when it
is submitted, each epoch when it arrives (one transaction each, so a crash keeps every epoch reported),
snapshots thinned to a byte budget, and the end with its test metrics and artifacts. A run left unfinished by
a server process that is gone is marked failed, with its curve: on the same machine as soon as a store is opened
there (the process is looked up); a server on another machine (a replica on one PostgreSQL store) once its
heartbeat is stale, by whichever replica sweeps next (on opening, and every SWEEP_S while pages list runs).

Several processes may share one store (replicas of the app on one PostgreSQL database, or on one SQLite file):
the schema is created or migrated by one of them at a time (PostgreSQL: an advisory lock; SQLite: an immediate
transaction); a process writes only the runs it submitted itself (a run id another one took is refused, not
overwritten); each write locks the run's row first, and a delete takes the row before what it holds, so a run
deleted by one server while another records it leaves nothing behind; two servers pruning at once delete each
doomed run once. PostgreSQL's connections are checked before use (a restarted server costs no failed write).

The backend calls the four recorder methods (`submitted`, `started`, `event`, `ended`, see
`seqcore.backend.Recorder`); pages and the command line read `runs`, `view`, `snapshot`, `artifacts`.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
import socket
import threading
import time
import weakref
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import sqlalchemy as sa

from seqcore import codec
from seqcore.backend import JobRecord, JobView, thinned
from seqcore.config import ConfigError, Experiment
from seqcore.events import FINAL_STATUSES, EndEvent, EpochEvent, SnapshotEvent, StartEvent

log = logging.getLogger(__name__)

SCHEMA_VERSION = 4  # 1: runs, epochs, snapshots, artifacts; 2: board names and A/B pairs; 3: baselines as JSON;
# 4: the servers' heartbeats
HEARTBEAT_S = 10.0  # how often a server that has recorded a run says it is alive
# A server silent this long is taken for gone: six beats missed, far more than a busy replica's pauses.
STALE_S = 60.0
SWEEP_S = 30.0  # how often a store looks for the runs of servers gone elsewhere while pages list runs
SERVER_ROWS_KEPT_S = 86_400.0  # a heartbeat row silent for a day is deleted (its runs were marked long before)
MAX_STORED_SNAPSHOTS = 40  # per run, the first and the newest always among them
MAX_STORED_SNAPSHOT_BYTES = 8 * 2**20
EPOCH_COLUMNS = ("loss", "metric", "val_loss", "val_metric", "seconds", "samples_per_s", "elapsed")

metadata = sa.MetaData()
store_version = sa.Table("store_version", metadata, sa.Column("version", sa.Integer, nullable=False))
runs_table = sa.Table(
    "runs", metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("owner", sa.String(80), index=True),  # the browser's key (pages.ui.runs.browser_key) or None
    sa.Column("server", sa.String(200)),  # host:pid:start of the process that records it (crash recovery)
    sa.Column("submitted_at", sa.Float, nullable=False),
    sa.Column("started_at", sa.Float),
    sa.Column("ended_at", sa.Float),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("reason", sa.Text, nullable=False, default=""),
    sa.Column("experiment", sa.Text, nullable=False),  # experiment.json, with its schema version
    sa.Column("data_key", sa.String(64), index=True),  # the data settings (and CSV) it trained on, hashed
    sa.Column("metric", sa.String(16)),
    sa.Column("epochs_done", sa.Integer, nullable=False, default=0),
    sa.Column("start", sa.LargeBinary),  # the StartEvent (codec)
    sa.Column("test_metrics", sa.Text),  # JSON
    # What was uploaded (.npy: a CSV column, or a text's UTF-8 bytes; named before text could be), so Inspect can
    # rebuild the data.
    sa.Column("csv_values", sa.LargeBinary),
    sa.Column("csv_digest", sa.String(64)),
    sa.Column("nbytes", sa.BigInteger, nullable=False, default=0),
    sa.Column("pair", sa.String(64), index=True),  # schema 2: the id the two runs of an A/B comparison share
    sa.Column("baselines", sa.Text),  # schema 3: the StartEvent's baselines as JSON, so a listing reads no blob
)
epochs_table = sa.Table(
    "epochs", metadata,
    sa.Column("run_id", sa.String(64), primary_key=True),
    sa.Column("epoch", sa.Integer, primary_key=True),
    sa.Column("epochs", sa.Integer, nullable=False),
    *(sa.Column(name, sa.Float) for name in EPOCH_COLUMNS),
)
snapshots_table = sa.Table(
    "snapshots", metadata,
    sa.Column("run_id", sa.String(64), primary_key=True),
    sa.Column("epoch", sa.Integer, primary_key=True),
    sa.Column("nbytes", sa.Integer, nullable=False),
    sa.Column("body", sa.LargeBinary, nullable=False),
)
artifacts_table = sa.Table(
    "artifacts", metadata,
    sa.Column("run_id", sa.String(64), primary_key=True),
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("body", sa.LargeBinary, nullable=False),
)
servers_table = sa.Table(  # schema 4: when each server that recorded runs was last seen alive (its own clock)
    "servers", metadata,
    sa.Column("server", sa.String(200), primary_key=True),  # host:pid:start, as runs.server
    sa.Column("seen_at", sa.Float, nullable=False),
)
names_table = sa.Table(  # schema 2: the name a browser shows on the class board
    "board_names", metadata,
    sa.Column("owner", sa.String(80), primary_key=True),
    sa.Column("name", sa.String(40), nullable=False, unique=True),
)

# Each step takes a store from the version before it to its own; the tables of the newest are `metadata`.
MIGRATIONS = {
    2: ("ALTER TABLE runs ADD COLUMN pair VARCHAR(64)",
        "CREATE INDEX ix_runs_pair ON runs (pair)",
        "CREATE TABLE board_names (owner VARCHAR(80) PRIMARY KEY, name VARCHAR(40) NOT NULL UNIQUE)"),
    3: ("ALTER TABLE runs ADD COLUMN baselines TEXT",),  # older rows keep NULL: read from their StartEvent
    4: ("CREATE TABLE servers (server VARCHAR(200) PRIMARY KEY, seen_at FLOAT NOT NULL)",),
}


_EPOCH_UPDATE = (runs_table.update().where(runs_table.c.id == sa.bindparam("run"),
                                           runs_table.c.server == sa.bindparam("by"))
                 .values(epochs_done=sa.bindparam("epoch"), nbytes=runs_table.c.nbytes + 128))
_EPOCH_INSERT = epochs_table.insert()


class StoreError(RuntimeError):
    """A store this version cannot open (written by a newer one, or not a store)."""


def default_location() -> str:
    """The store in force: `SEQCORE_STORE_URL` (any SQLAlchemy URL), else `SEQCORE_STORE` (a folder), else
    `runs/` beside the app (or in the working folder, for the engine installed as a package)."""
    if os.environ.get("SEQCORE_STORE_URL"):
        return os.environ["SEQCORE_STORE_URL"]
    project = Path(__file__).resolve().parent.parent
    beside = project if (project / "app.py").is_file() else Path.cwd()
    return os.environ.get("SEQCORE_STORE") or str(beside / "runs")


# Held (PostgreSQL) while one process creates or migrates the schema: replicas that start together wait in turn.
_SCHEMA_LOCK = int.from_bytes(hashlib.sha256(b"seqcore run store schema").digest()[:8], "big", signed=True)


def _url(location: str | os.PathLike) -> str:
    text = str(location)
    if "://" in text:
        for plain in ("postgresql://", "postgres://"):  # libpq's form: SQLAlchemy would want psycopg2, not installed
            if text.startswith(plain):
                return "postgresql+psycopg://" + text[len(plain):]
        return text
    folder = Path(text)
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{(folder / 'store.sqlite').resolve()}"


def redacted(url: str) -> str:
    """The URL without its password (in its user part, or a `password=` query parameter), for messages."""
    try:
        parsed = sa.engine.make_url(url)
    except sa.exc.ArgumentError:
        return url
    hidden = {key: "***" for key in parsed.query if key.lower() in ("password", "sslpassword")}
    return parsed.update_query_dict(hidden).render_as_string(hide_password=True).replace("%2A%2A%2A", "***")


def _process_start(pid: int) -> float | None:
    import psutil

    try:
        return psutil.Process(pid).create_time()
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return None


def this_server() -> str:
    """host:pid:start time of this process: a later process can tell whether it still runs."""
    return f"{socket.gethostname()}:{os.getpid()}:{_process_start(os.getpid()) or 0:.2f}"


def _host(server: str | None) -> str | None:
    """The machine of a `this_server()` string (None for one this module did not write)."""
    parts = (server or "").rsplit(":", 2)
    return parts[0] if len(parts) == 3 else None


def _server_alive(server: str | None) -> bool:
    """False only when `server` names a process on this machine that has ended (elsewhere we cannot tell)."""
    try:
        host, pid, started = (server or "").rsplit(":", 2)
        pid, started = int(pid), float(started)
    except ValueError:
        return True
    if host != socket.gethostname():
        return True
    actual = _process_start(pid)
    return actual is not None and abs(actual - started) < 1.0


def _lost_reason(server: str | None, seen_at: float | None, done: int, now: float) -> str | None:
    """Why a run still open in the store cannot finish: its server ended on this machine, or one elsewhere has
    been silent for STALE_S; None while it may still be training (a server of schema 3 or before never beats:
    elsewhere it is left as it is)."""
    kept = f"the {done} epoch(s) it had reported are kept." if done else "it had not finished an epoch."
    if _host(server) == socket.gethostname() or seen_at is None:
        if _server_alive(server):
            return None
        return (f"The server stopped while this run was training; {kept}" if done
                else "The server stopped before this run had finished an epoch.")
    if now - seen_at <= STALE_S:
        return None
    since = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(seen_at))
    return f"The server that trained this run ({_host(server)}) stopped: no sign of it since {since}; {kept}"


def data_key(experiment: Experiment, upload_digest: str | None) -> str:
    """Runs on the same data (settings, seed and CSV) share this key: the class board ranks them together."""
    text = json.dumps(experiment.to_dict()["data"], sort_keys=True) + (upload_digest or "")
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def _npy(values: np.ndarray | None) -> bytes | None:
    if values is None:
        return None
    import io

    buffer = io.BytesIO()
    np.save(buffer, values, allow_pickle=False)
    return buffer.getvalue()


def _text(text: str) -> str:
    """Text as every database stores it: PostgreSQL's text holds no NUL character (SQLite's does)."""
    return text.replace("\x00", "\ufffd")


def _number(value) -> float | None:
    """An epoch's value as stored: NaN as NULL (what SQLite makes of it; PostgreSQL would keep the NaN)."""
    value = float(value)
    return None if value != value else value


def _from_npy(blob: bytes | None) -> np.ndarray | None:
    if blob is None:
        return None
    import io

    return np.load(io.BytesIO(blob), allow_pickle=False)


@dataclass(frozen=True)
class RunSummary:
    """One run's row, without its curves and blobs: what the Runs table and `runs list` show."""

    id: str
    owner: str | None
    submitted_at: float
    started_at: float | None
    ended_at: float | None
    status: str
    reason: str
    experiment: Experiment
    data_key: str | None
    metric: str | None
    epochs_done: int
    test_metrics: dict[str, float]
    baselines: dict[str, float]
    last: EpochEvent | None  # the last epoch's metrics
    nbytes: int
    pair: str | None

    @property
    def done(self) -> bool:
        return self.status in FINAL_STATUSES

    @property
    def seconds(self) -> float | None:
        """Training time: from leaving the queue to the end (or to the last epoch reported)."""
        if self.started_at is None:
            return None
        end = self.ended_at or (self.started_at + (self.last.elapsed if self.last else 0.0))
        return max(0.0, end - self.started_at)

    def test_metric(self) -> float | None:
        """The test value of the run's metric (accuracy or MAE), None before its end."""
        if not self.test_metrics or self.metric is None:
            return None
        return self.test_metrics.get(f"test_{self.metric}", self.test_metrics.get(self.metric))


class RunStore:
    """The runs of this app on disk (see the module's docstring); safe to use from many threads at once."""

    def __init__(self, location: str | os.PathLike | None = None, *, max_age_s: float | None = None,
                 max_bytes: int | None = None, recover: bool = True):
        """Open (creating or migrating) the store at `location`, a folder or an SQLAlchemy URL (default:
        `default_location()`). Retention: ended runs older than `max_age_s`, and the oldest beyond `max_bytes`
        of stored runs, are deleted by `prune` (None: kept)."""
        self.url = _url(location or default_location())
        self.max_age_s, self.max_bytes = max_age_s, max_bytes
        self.server = this_server()
        sqlite = self.url.startswith("sqlite")
        self.dialect = sa.engine.make_url(self.url).get_backend_name()
        if sqlite:
            self.engine = sa.create_engine(self.url, connect_args={"timeout": 30})
            sa.event.listen(self.engine, "connect", _sqlite_pragmas)
        elif self.dialect == "postgresql":
            # A database server restarts or drops idle connections: each is checked when taken from the pool
            # (one round trip) and renewed after half an hour. Each store holds up to 5 idle + 10 more.
            self.engine = sa.create_engine(self.url, pool_pre_ping=True, pool_recycle=1800,
                                           connect_args={"connect_timeout": 10, "application_name": "seqcore"})
        else:
            self.engine = sa.create_engine(self.url)
        self._bytes_lock = threading.Lock()
        self._heartbeat: threading.Thread | None = None
        self._heartbeat_lock = threading.Lock()
        self._closed = threading.Event()
        self._swept_at = time.monotonic()
        self._create_or_migrate()
        if recover:
            self.recover()

    def __repr__(self) -> str:
        return f"RunStore({redacted(self.url)!r})"

    # --- schema ---
    @staticmethod
    def _version(conn) -> int | None:
        if not sa.inspect(conn).has_table("store_version"):
            return None
        return conn.execute(sa.select(store_version.c.version)).scalar_one()

    def _create_or_migrate(self) -> None:
        with self.engine.connect() as conn:  # the common case: the store is as this version writes it
            if self._version(conn) == SCHEMA_VERSION:
                return
        with self.engine.begin() as conn:
            # One process at a time from here (the others wait, then find the schema made): replicas that start
            # together on an empty or older database would otherwise create or alter the same tables twice.
            if self.dialect == "postgresql":
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _SCHEMA_LOCK})
            elif self.dialect == "sqlite":
                conn.exec_driver_sql("BEGIN IMMEDIATE")  # the write lock now, before the tables are looked at
            inspector = sa.inspect(conn)
            if not inspector.has_table("store_version"):
                if inspector.has_table("runs"):
                    raise StoreError(f"{redacted(self.url)} has a runs table but no store version: not a run store")
                metadata.create_all(conn)
                conn.execute(store_version.insert().values(version=SCHEMA_VERSION))
                return
            version = conn.execute(sa.select(store_version.c.version)).scalar_one()
            if version > SCHEMA_VERSION:
                raise StoreError(f"The run store {redacted(self.url)} was written by a newer version of Sequence "
                                 f"Playground (store schema {version}; this one reads up to {SCHEMA_VERSION}).")
            for step in range(version + 1, SCHEMA_VERSION + 1):
                for statement in MIGRATIONS[step]:
                    conn.execute(sa.text(statement))
                conn.execute(store_version.update().values(version=step))
                log.info("run store %s migrated to schema %d", redacted(self.url), step)

    def schema_version(self) -> int:
        with self.engine.connect() as conn:
            return conn.execute(sa.select(store_version.c.version)).scalar_one()

    def integrity(self) -> str:
        """SQLite's own check of the file ('ok' when intact); 'ok' for other databases."""
        if not self.url.startswith("sqlite"):
            return "ok"
        with self.engine.connect() as conn:
            return "; ".join(row[0] for row in conn.exec_driver_sql("PRAGMA integrity_check"))

    def close(self) -> None:
        self._closed.set()  # the heartbeat stops: this store records no more runs
        self.engine.dispose()

    # --- the heartbeat: how replicas on other machines tell that this server still runs ---
    def beat(self, now: float | None = None) -> None:
        """Say this server is alive (its row in `servers`; only this process writes it)."""
        seen = {"seen_at": time.time() if now is None else now}
        servers = servers_table.c
        try:
            with self.engine.begin() as conn:
                if not conn.execute(servers_table.update().where(servers.server == self.server)
                                    .values(**seen)).rowcount:
                    conn.execute(servers_table.insert().values(server=self.server, **seen))
        except sa.exc.IntegrityError:  # another store of this process wrote the first row at the same moment
            pass

    def _start_heartbeat(self) -> None:
        """From the first run this store records on: a thread that beats every HEARTBEAT_S until the store is
        closed or dropped (it holds the store weakly, so a store no one uses stops beating)."""
        with self._heartbeat_lock:
            if self._heartbeat is not None:
                return
            self._heartbeat = threading.Thread(target=_beat_until_closed, args=(weakref.ref(self), self._closed),
                                               name="run-store-heartbeat", daemon=True)
        self.beat()
        self._heartbeat.start()

    # --- the recorder: written by a backend's threads as events arrive ---
    def submitted(self, record: JobRecord) -> None:
        self._start_heartbeat()  # before the run's row: no replica ever sees a run of a server with no beat
        digest = record.upload_digest
        upload_blob = _npy(record.uploaded)
        try:
            with self.engine.begin() as conn:
                conn.execute(runs_table.insert().values(
                    id=record.id, owner=record.owner, server=self.server, submitted_at=record.submitted_at,
                    status="queued", reason="", experiment=record.experiment.to_json(),
                    data_key=data_key(record.experiment, digest), epochs_done=0, csv_values=upload_blob,
                    csv_digest=digest, nbytes=len(upload_blob or b""), pair=record.pair))
        except sa.exc.IntegrityError:  # the id is the only unique column
            raise StoreError(f"run id {record.id} is taken in {redacted(self.url)} (another server recorded a run "
                             "under it): this run is not recorded, the other is left as it is") from None

    def _mine(self, record: JobRecord):
        """The run's row, if this process submitted it: writes never touch a run another one recorded."""
        return sa.and_(runs_table.c.id == record.id, runs_table.c.server == self.server)

    def started(self, record: JobRecord) -> None:
        with self.engine.begin() as conn:
            conn.execute(runs_table.update().where(self._mine(record), runs_table.c.ended_at.is_(None))
                         .values(started_at=record.started_at, status="starting"))

    def event(self, record: JobRecord, event) -> None:
        run = runs_table.c
        # Each write updates the run's row first (on PostgreSQL that locks it until the commit): a run deleted
        # while it trains takes no more rows.
        with self.engine.begin() as conn:
            if isinstance(event, EpochEvent):  # the hot path: statements built once (building them cost 0.7 ms)
                mine = {"run": record.id, "by": self.server, "epoch": event.epoch}
                if conn.execute(_EPOCH_UPDATE, mine).rowcount:
                    conn.execute(_EPOCH_INSERT, {"run_id": record.id, "epoch": event.epoch, "epochs": event.epochs,
                                                 **{name: _number(getattr(event, name)) for name in EPOCH_COLUMNS}})
            elif isinstance(event, SnapshotEvent):
                body = codec.encode(event)
                if conn.execute(runs_table.update().where(self._mine(record))
                                .values(nbytes=run.nbytes + len(body))).rowcount:
                    conn.execute(snapshots_table.insert().values(run_id=record.id, epoch=event.epoch,
                                                                 nbytes=len(body), body=body))
                    self._thin(conn, record.id)
            elif isinstance(event, StartEvent):
                body = codec.encode(event)
                conn.execute(runs_table.update().where(self._mine(record), run.ended_at.is_(None)).values(
                    start=body, metric=event.metric, status="running", nbytes=run.nbytes + len(body),
                    baselines=json.dumps(event.baselines)))

    def paused(self, record: JobRecord, status: str) -> None:
        """Pause and resume change the stored status too, so another replica's page says Paused."""
        with self.engine.begin() as conn:
            conn.execute(runs_table.update().where(self._mine(record), runs_table.c.ended_at.is_(None))
                         .values(status=status))

    def ended(self, record: JobRecord, event: EndEvent) -> None:
        artifacts = {name: body for name, body in event.artifacts.items()}
        with self.engine.begin() as conn:
            if conn.execute(runs_table.update().where(self._mine(record)).values(
                    status=event.status, reason=_text(event.reason), ended_at=record.ended_at or time.time(),
                    epochs_done=max(event.epochs_done, record.epochs_done),
                    test_metrics=json.dumps(event.test_metrics),
                    nbytes=runs_table.c.nbytes + sum(map(len, artifacts.values())))).rowcount:
                for name, body in artifacts.items():
                    conn.execute(artifacts_table.insert().values(run_id=record.id, name=name, body=body))
        self.prune()

    def _thin(self, conn, run_id: str) -> None:
        rows = conn.execute(sa.select(snapshots_table.c.epoch, snapshots_table.c.nbytes)
                            .where(snapshots_table.c.run_id == run_id).order_by(snapshots_table.c.epoch)).all()
        kept = set(thinned([nbytes for _, nbytes in rows], MAX_STORED_SNAPSHOTS, MAX_STORED_SNAPSHOT_BYTES))
        dropped = [(epoch, nbytes) for i, (epoch, nbytes) in enumerate(rows) if i not in kept]
        if dropped:
            conn.execute(snapshots_table.delete().where(snapshots_table.c.run_id == run_id,
                                                        snapshots_table.c.epoch.in_([e for e, _ in dropped])))
            conn.execute(runs_table.update().where(runs_table.c.id == run_id)
                         .values(nbytes=runs_table.c.nbytes - sum(n for _, n in dropped)))

    # --- after a crash ---
    def recover(self, now: float | None = None) -> list[str]:
        """Mark failed the unfinished runs whose server is gone (see `_lost_reason`); their ids. Heartbeat rows
        silent for SERVER_ROWS_KEPT_S are deleted afterwards."""
        now = time.time() if now is None else now
        run, servers = runs_table.c, servers_table.c
        with self.engine.connect() as conn:
            open_runs = conn.execute(
                sa.select(run.id, run.server, run.epochs_done, servers.seen_at)
                .select_from(runs_table.outerjoin(servers_table, servers.server == run.server))
                .where(run.ended_at.is_(None), run.server != self.server)).all()
        # In id order: two servers recovering at once lock the rows in the same order.
        lost = sorted((run_id, reason) for run_id, server, done, seen_at in open_runs
                      if (reason := _lost_reason(server, seen_at, done, now)) is not None)
        with self.engine.begin() as conn:
            for run_id, reason in lost:
                conn.execute(runs_table.update().where(run.id == run_id, run.ended_at.is_(None)).values(
                    status="failed", ended_at=now, reason=reason))
            conn.execute(servers_table.delete().where(servers.seen_at < now - SERVER_ROWS_KEPT_S,
                                                      servers.server != self.server))
        return [run_id for run_id, _ in lost]

    def _sweep_now_and_then(self) -> None:
        """While pages list runs: look for the runs of gone servers every SWEEP_S (a replica elsewhere that
        stopped leaves its runs open; no server of that machine will start to mark them)."""
        if time.monotonic() - self._swept_at < SWEEP_S:
            return
        self._swept_at = time.monotonic()
        try:
            self.recover()
        except sa.exc.SQLAlchemyError as err:  # a listing still shows what is there; the next sweep tries again
            log.warning("looking for the runs of stopped servers in %s failed: %s", redacted(self.url), err)

    # --- retention ---
    def prune(self, now: float | None = None) -> list[str]:
        """Delete ended runs older than `max_age_s`, then the oldest while the store holds over `max_bytes`."""
        if self.max_age_s is None and self.max_bytes is None:
            return []
        now = time.time() if now is None else now
        run = runs_table.c
        # The ended runs and the total in one statement, so from one snapshot of the database; another server
        # pruning at the same time finds the same runs doomed, and each is deleted by whichever comes first.
        total = sa.select(sa.func.coalesce(sa.func.sum(run.nbytes), 0)).scalar_subquery()
        with self._bytes_lock, self.engine.connect() as conn:
            ended = conn.execute(sa.select(run.id, run.ended_at, run.nbytes, total.label("total"))
                                 .where(run.ended_at.is_not(None)).order_by(run.ended_at, run.id)).all()
        total = int(ended[0].total) if ended else 0
        doomed = []
        for run_id, ended_at, nbytes, _ in ended:
            too_old = self.max_age_s is not None and now - ended_at > self.max_age_s
            too_big = self.max_bytes is not None and total > self.max_bytes
            if not (too_old or too_big):
                break
            doomed.append(run_id)
            total -= nbytes
        return [run_id for run_id in doomed if self.delete(run_id)]  # those this call deleted

    def delete(self, run_id: str) -> bool:
        """Remove a run and all it holds; False if there was none."""
        with self.engine.begin() as conn:
            # The run's row first: a writer of the run holds it until its commit, and finds it gone afterwards,
            # so what it wrote is deleted below and it writes nothing more (the order writers lock in, too).
            found = conn.execute(runs_table.delete().where(runs_table.c.id == run_id)).rowcount > 0
            for table in (epochs_table, snapshots_table, artifacts_table):
                conn.execute(table.delete().where(table.c.run_id == run_id))
            return found

    # --- reads ---
    _SUMMARY = (runs_table.c.id, runs_table.c.owner, runs_table.c.submitted_at, runs_table.c.started_at,
                runs_table.c.ended_at, runs_table.c.status, runs_table.c.reason, runs_table.c.experiment,
                runs_table.c.data_key, runs_table.c.metric, runs_table.c.epochs_done, runs_table.c.test_metrics,
                runs_table.c.baselines, runs_table.c.nbytes, runs_table.c.pair,
                # Schema 1-2 rows have no baselines column value: only theirs need the StartEvent's blob.
                sa.case((runs_table.c.baselines.is_(None), runs_table.c.start), else_=sa.null()).label("start"))

    def runs(self, owner: str | None = None, *, data: str | None = None, ids: list[str] | None = None,
             pair: str | None = None, limit: int | None = None, any_owner: bool = False) -> list[RunSummary]:
        """Runs, newest first: one browser's (`owner`), or everyone's with `any_owner`; optionally only those
        on one data key, of one A/B pair or with the given ids."""
        self._sweep_now_and_then()
        run = runs_table.c
        query = sa.select(*self._SUMMARY).order_by(run.submitted_at.desc(), run.id.desc())
        if not any_owner:
            query = query.where(run.owner == owner)
        if data is not None:
            query = query.where(run.data_key == data)
        if ids is not None:
            query = query.where(run.id.in_(ids))
        if pair is not None:
            query = query.where(run.pair == pair)
        if limit is not None:
            query = query.limit(limit)
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
            last = self._last_epochs(conn, [row.id for row in rows])
        return [self._summary(row, last.get(row.id)) for row in rows]

    def run(self, run_id: str) -> RunSummary | None:
        found = self.runs(ids=[run_id], any_owner=True)
        return found[0] if found else None

    def owner(self, run_id: str) -> str | None:
        with self.engine.connect() as conn:
            return conn.execute(sa.select(runs_table.c.owner).where(runs_table.c.id == run_id)).scalar()

    def exists(self, run_id: str) -> bool:
        with self.engine.connect() as conn:
            return conn.execute(sa.select(runs_table.c.id).where(runs_table.c.id == run_id)).first() is not None

    @staticmethod
    def _last_epochs(conn, run_ids: list[str]) -> dict[str, EpochEvent]:
        if not run_ids:
            return {}
        epochs = epochs_table.c
        latest = (sa.select(epochs.run_id, sa.func.max(epochs.epoch).label("epoch"))
                  .where(epochs.run_id.in_(run_ids)).group_by(epochs.run_id).subquery())
        rows = conn.execute(sa.select(epochs_table).join(
            latest, sa.and_(epochs.run_id == latest.c.run_id, epochs.epoch == latest.c.epoch))).all()
        return {row.run_id: _epoch(row) for row in rows}

    @staticmethod
    def _summary(row, last: EpochEvent | None) -> RunSummary:
        if row.baselines is not None:
            baselines = json.loads(row.baselines)
        else:
            start = _start(row.start)
            baselines = dict(start.baselines) if start else {}
        return RunSummary(id=row.id, owner=row.owner, submitted_at=row.submitted_at, started_at=row.started_at,
                          ended_at=row.ended_at, status=row.status, reason=row.reason or "",
                          experiment=_experiment(row.experiment), data_key=row.data_key, metric=row.metric,
                          epochs_done=row.epochs_done or 0, test_metrics=json.loads(row.test_metrics or "{}"),
                          baselines=baselines, last=last, nbytes=row.nbytes or 0,
                          pair=row.pair)

    def history(self, run_id: str, max_points: int | None = None) -> tuple[EpochEvent, ...]:
        """The run's epochs in order; with `max_points`, evenly thinned to about that many (the last kept)."""
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(epochs_table).where(epochs_table.c.run_id == run_id)
                                .order_by(epochs_table.c.epoch)).all()
        history = tuple(map(_epoch, rows))
        if max_points is not None and len(history) > max_points:
            picks = np.unique(np.linspace(0, len(history) - 1, max_points).round().astype(int))
            history = tuple(history[i] for i in picks)
        return history

    def snapshot_epochs(self, run_id: str) -> tuple[int, ...]:
        with self.engine.connect() as conn:
            return tuple(conn.execute(sa.select(snapshots_table.c.epoch).where(snapshots_table.c.run_id == run_id)
                                      .order_by(snapshots_table.c.epoch)).scalars())

    def snapshot(self, run_id: str, epoch: int) -> SnapshotEvent | None:
        """The stored snapshot nearest to `epoch`."""
        epochs = self.snapshot_epochs(run_id)
        if not epochs:
            return None
        nearest = min(epochs, key=lambda e: abs(e - epoch))
        with self.engine.connect() as conn:
            body = conn.execute(sa.select(snapshots_table.c.body).where(
                snapshots_table.c.run_id == run_id, snapshots_table.c.epoch == nearest)).scalar()
        return codec.decode(body) if body is not None else None

    def artifacts(self, run_id: str) -> dict[str, bytes]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(artifacts_table.c.name, artifacts_table.c.body)
                                .where(artifacts_table.c.run_id == run_id)).all()
        return {name: bytes(body) for name, body in rows}

    def artifact_sizes(self, run_id: str) -> dict[str, int]:
        """The artifacts' names and sizes in bytes, without reading them."""
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(artifacts_table.c.name, sa.func.length(artifacts_table.c.body))
                                .where(artifacts_table.c.run_id == run_id)).all()
        return dict(rows)

    def uploaded(self, run_id: str) -> tuple[np.ndarray | None, str | None]:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(runs_table.c.csv_values, runs_table.c.csv_digest)
                               .where(runs_table.c.id == run_id)).first()
        return (None, None) if row is None else (_from_npy(row.csv_values), row.csv_digest)

    def view(self, run_id: str, *, with_artifacts: bool = True) -> JobView | None:
        """The run as a page draws it (the same `JobView` a live run gives), from disk."""
        summary = self.run(run_id)
        if summary is None:
            return None
        with self.engine.connect() as conn:
            start = _start(conn.execute(sa.select(runs_table.c.start).where(runs_table.c.id == run_id)).scalar())
        epochs = self.snapshot_epochs(run_id)
        end = None
        if summary.done:
            end = EndEvent(status=summary.status, reason=summary.reason, epochs_done=summary.epochs_done,
                           test_metrics=summary.test_metrics,
                           artifacts=self.artifacts(run_id) if with_artifacts else {})
        started = summary.started_at or summary.submitted_at
        return JobView(id=run_id, experiment=summary.experiment, status=summary.status, reason=summary.reason,
                       queue_position=0, start=start, history=self.history(run_id), snapshot_epochs=epochs,
                       latest_snapshot=self.snapshot(run_id, epochs[-1]) if epochs else None, end=end,
                       submitted_at=summary.submitted_at, waited_s=started - summary.submitted_at,
                       estimated_wait_s=0.0)

    def stored_run(self, run_id: str) -> StoredRun | None:
        """A past run as a handle for the pages (None when the store no longer has it)."""
        view, summary = self.view(run_id), self.run(run_id)
        return StoredRun(self, view, summary) if view is not None and summary is not None else None

    def total_bytes(self) -> int:
        with self.engine.connect() as conn:  # int(): PostgreSQL's SUM of a BIGINT is a NUMERIC (a Decimal)
            return int(conn.execute(sa.select(sa.func.coalesce(sa.func.sum(runs_table.c.nbytes), 0))).scalar_one())

    # --- the class board ---
    def board(self, data: str, limit: int = 100) -> list[tuple[str, RunSummary]]:
        """Ended runs on one data key with a test metric, best first, each with its owner's board name."""
        runs = [r for r in self.runs(data=data, any_owner=True) if r.done and r.test_metric() is not None]
        names = self.board_names({r.owner for r in runs if r.owner})
        higher_better = {r.metric: r.metric == "accuracy" for r in runs}
        runs.sort(key=lambda r: -r.test_metric() if higher_better[r.metric] else r.test_metric())
        return [(names.get(r.owner, "anonymous"), r) for r in runs[:limit]]

    def board_names(self, owners: set[str]) -> dict[str, str]:
        if not owners:
            return {}
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(names_table).where(names_table.c.owner.in_(sorted(owners)))).all()
        return {row.owner: row.name for row in rows}

    def board_name(self, owner: str, proposed: str) -> str:
        """The owner's board name, recorded as `proposed` (or a numbered variant of it) the first time."""
        proposed = _text(proposed)
        with self.engine.begin() as conn:
            name = conn.execute(sa.select(names_table.c.name).where(names_table.c.owner == owner)).scalar()
            if name is not None:
                return name
        for attempt in range(1, 1000):
            candidate = proposed if attempt == 1 else f"{proposed} {attempt}"
            try:
                with self.engine.begin() as conn:
                    conn.execute(names_table.insert().values(owner=owner, name=candidate))
                return candidate
            except sa.exc.IntegrityError:
                with self.engine.connect() as conn:  # another tab of the same browser may have named it meanwhile
                    name = conn.execute(sa.select(names_table.c.name).where(names_table.c.owner == owner)).scalar()
                if name is not None:
                    return name
        raise StoreError("no free board name")

    def rename(self, owner: str, name: str) -> None:
        """Give the owner a new board name; ConfigError when it is empty, too long or taken."""
        name = _text(" ".join(name.split()))
        if not 1 <= len(name) <= 40:
            raise ConfigError([("board name", name, "must have 1 to 40 characters")])
        taken_error = ConfigError([("board name", name, "is taken by someone else on this board; choose another")])
        try:
            with self.engine.begin() as conn:
                taken = conn.execute(sa.select(names_table.c.owner).where(names_table.c.name == name)).scalar()
                if taken is not None and taken != owner:
                    raise taken_error
                conn.execute(names_table.delete().where(names_table.c.owner == owner))
                conn.execute(names_table.insert().values(owner=owner, name=name))
        except sa.exc.IntegrityError:  # someone on another server took it meanwhile
            raise taken_error from None


def _beat_until_closed(store_ref: weakref.ref, closed: threading.Event) -> None:
    failing = False
    while not closed.wait(HEARTBEAT_S):
        store = store_ref()
        if store is None:
            return
        try:
            store.beat()
            failing = False
        except Exception as err:  # noqa: BLE001 - a database away for a while: beat again later, say so once
            if not failing:
                log.warning("heartbeat to the run store %s failed: %s", redacted(store.url), err)
            failing = True
        del store  # held weakly between beats


def _sqlite_pragmas(connection, _record) -> None:
    """WAL: readers never wait for the writer, and a killed writer leaves the file intact. NORMAL sync is
    durable against a crash of the process (only a power cut may lose the last transactions)."""
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _epoch(row) -> EpochEvent:
    return EpochEvent(epoch=row.epoch, epochs=row.epochs, **{name: getattr(row, name) for name in EPOCH_COLUMNS})


def _start(blob: bytes | None) -> StartEvent | None:
    return codec.decode(blob) if blob else None


@functools.lru_cache(maxsize=4096)
def _experiment(text: str) -> Experiment:
    """Parsed once per text: a listing of hundreds of runs parses the same few experiments again and again."""
    return Experiment.from_json(text)


class StoredRun:
    """A run read back from the store, with the surface of a `JobHandle` that pages use for an ended run (its
    view, its snapshots, its data): a past run after a restart, or one opened from the Runs page."""

    def __init__(self, store: RunStore, view: JobView, summary: RunSummary):
        self.store, self._view, self.summary = store, view, summary
        self.id, self.experiment = view.id, view.experiment
        self._upload: tuple[np.ndarray | None, str | None] | None = None

    @property
    def uploaded(self) -> np.ndarray | None:
        return self._upload_pair()[0]

    @property
    def upload_digest(self) -> str | None:
        return self._upload_pair()[1]

    def _upload_pair(self):
        if self._upload is None:
            self._upload = self.store.uploaded(self.id) if self.experiment.data.upload_kind else (None, None)
        return self._upload

    def view(self) -> JobView:
        return self._view

    def snapshot(self, epoch: int) -> SnapshotEvent | None:
        return self.store.snapshot(self.id, epoch)

    @property
    def done(self) -> bool:
        return self._view.done

    def wait(self, timeout: float | None = None) -> bool:
        return self.done

    def stop(self) -> None:  # an unfinished stored run belongs to a server that is gone or to another replica
        pass

    pause = resume = stop

    @property
    def ended_at(self) -> float | None:
        return self.summary.ended_at

    @property
    def nbytes(self) -> int:
        return 0
