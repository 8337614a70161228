"""The run store: runs recorded as they go, kept across restarts and crashes, pruned, migrated, shared safely.

The tests that concern the database run on both: an SQLite file (the default) and PostgreSQL (a throwaway
server on 127.0.0.1, see `postgres_url` in conftest.py), where several replicas share one store."""

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
import types
from pathlib import Path

import numpy as np
import pytest
import sqlalchemy as sa

from seqcore import codec
from seqcore.backend import JobRecord
from seqcore.config import ConfigError, preset
from seqcore.events import EndEvent, EpochEvent, SnapshotEvent, StartEvent
from seqcore.store import (
    MAX_STORED_SNAPSHOT_BYTES,
    SCHEMA_VERSION,
    SERVER_ROWS_KEPT_S,
    STALE_S,
    SWEEP_S,
    RunStore,
    StoreError,
)

ROOT = Path(__file__).resolve().parents[1]


def start_event(metric="accuracy", baselines=None):
    return StartEvent(n_train=80, n_val=10, n_test=10, steps_per_epoch=8, steps_per_execution=8, metric=metric,
                      baselines=baselines or {"chance": 0.1}, probe_x=np.eye(10, dtype=np.float32)[None],
                      probe_y=np.arange(10)[None], probe_w=None, seconds_to_build=0.5)


def epoch_event(epoch, epochs=10, loss=None):
    loss = 2.0 / epoch if loss is None else loss
    return EpochEvent(epoch=epoch, epochs=epochs, loss=loss, metric=0.1 * epoch, val_loss=loss + 0.1,
                      val_metric=0.09 * epoch, seconds=0.05, samples_per_s=1600.0, elapsed=0.05 * epoch)


def snapshot_event(epoch, size=1000):
    weights = [np.full(size // 4, epoch, dtype=np.float32)]
    return SnapshotEvent(epoch=epoch, weights=weights, hidden=[np.zeros((1, 10, 4), np.float32)],
                         probe_output=np.zeros((1, 10, 10), np.float32))


def record(store, run_id="run-1", owner="browser-a", experiment=None, **kwargs):
    return JobRecord(run_id, experiment or preset("seed"), owner=owner, recorder=store, **kwargs)


@pytest.fixture(params=["sqlite", "postgresql"])
def location(request, tmp_path):
    """Where a test's store lives: a folder (an SQLite file, the default), or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return str(tmp_path)
    return request.getfixturevalue("postgres_database")


def is_sqlite(location) -> bool:
    return "://" not in str(location)


def sql(store, statement, params=None):
    """SQL on the store's database, as another program would run it: the rows of a query, else None."""
    with store.engine.begin() as conn:
        result = conn.execute(sa.text(statement), params or {})
        return result.all() if result.returns_rows else None


def counts(store, run_id):
    """How many rows of `run_id` each table holds (runs, epochs, snapshots, artifacts)."""
    return [sql(store, f"SELECT COUNT(*) FROM {table} WHERE {column} = :id", {"id": run_id})[0][0]
            for table, column in (("runs", "id"), ("epochs", "run_id"), ("snapshots", "run_id"),
                                  ("artifacts", "run_id"))]


def load_script(location, script: str) -> None:
    """Write an SQL script (SQLite's dialect, as tests/data/store_v1.sql) into an empty store location."""
    if is_sqlite(location):
        Path(location).mkdir(parents=True, exist_ok=True)
        with sqlite3.connect(Path(location) / "store.sqlite") as conn:
            conn.executescript(script)
        return
    script = script.replace(" BLOB", " BYTEA")
    script = re.sub(r"X'([0-9a-fA-F]*)'", r"'\\x\1'::bytea", script)
    engine = sa.create_engine(location, poolclass=sa.pool.NullPool)
    try:
        connection = engine.raw_connection()
        with connection.cursor() as cursor:
            cursor.execute(script)
        connection.commit()
        connection.close()
    finally:
        engine.dispose()


def processes(location, body: str, n: int = 2, timeout: float = 120) -> list:
    """Run `body` in `n` fresh Python processes at once (each a replica: its own interpreter and connections),
    with `location`, `me` (0 to n-1) and the helpers of this module at hand; all start together once every one
    has imported. Each process's last line of output, parsed as JSON."""
    script = textwrap.dedent("""
        import json, sys
        sys.path.insert(0, {root!r})
        from seqcore.events import EndEvent
        from seqcore.store import RunStore
        from tests.test_store import epoch_event, record, snapshot_event, start_event
        location, me = {location!r}, int(sys.argv[1])
        print("ready", flush=True)
        sys.stdin.readline()
    """).format(root=str(ROOT), location=str(location)) + textwrap.dedent(body)
    started = [subprocess.Popen([sys.executable, "-c", script, str(me)], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for me in range(n)]
    try:
        for process in started:
            assert process.stdout.readline().strip() == "ready", process.communicate(timeout=30)
        for process in started:  # all at once: each is waiting on its stdin
            process.stdin.write("go\n")
            process.stdin.flush()
        results = [process.communicate(timeout=timeout) for process in started]
    finally:
        for process in started:
            if process.poll() is None:
                process.kill()
                process.wait(10)
    for process, (_, stderr) in zip(started, results, strict=True):
        assert process.returncode == 0, stderr[-3000:]
    return [json.loads(stdout.strip().splitlines()[-1]) for stdout, _ in results]


def test_each_epoch_is_on_disk_when_it_arrives_and_the_end_brings_metrics_and_artifacts(location):
    store, reader = RunStore(location), RunStore(location)  # the reader: another connection, as another page
    run = record(store)
    assert reader.run("run-1").status == "queued"
    run.mark_started()
    run.apply(start_event())
    for epoch in (1, 2, 3):
        run.apply(epoch_event(epoch))
        assert [e.epoch for e in reader.history("run-1")] == list(range(1, epoch + 1))
    run.apply(snapshot_event(3))
    summary = reader.run("run-1")
    assert (summary.status, summary.epochs_done, summary.metric, summary.baselines) == (
        "running", 3, "accuracy", {"chance": 0.1})
    run.apply(EndEvent("finished", "Finished all 3 epochs.", 3, {"loss": 0.7, "accuracy": 0.5},
                       {"model.keras": b"zip", "history.csv": b"epoch\n"}))
    view = reader.view("run-1")
    assert view.status == "finished" and view.done and view.end.test_metrics["accuracy"] == 0.5
    assert view.end.artifacts == {"model.keras": b"zip", "history.csv": b"epoch\n"}
    assert view.history == run.view().history
    assert view.snapshot_epochs == (3,) and view.latest_snapshot.weights[0][0] == 3
    assert reader.run("run-1").test_metric() == 0.5
    assert run.record_error is None


def test_runs_are_listed_per_browser_newest_first(location):
    store = RunStore(location)
    for i, owner in enumerate(["a", "b", "a"]):
        record(store, f"run-{i}", owner=owner)
    assert [r.id for r in store.runs("a")] == ["run-2", "run-0"]
    assert [r.id for r in store.runs("b")] == ["run-1"]
    assert store.runs("c") == []
    assert len(store.runs(any_owner=True)) == 3
    assert store.owner("run-1") == "b"


def reporting_server(location, setup: str = "") -> subprocess.Popen:
    """A server process that has recorded run-1 with four epochs in `location` and stays up until killed;
    `setup`: Python it runs first (to pose as another machine, say)."""
    script = (f"import sys, time\nsys.path.insert(0, {str(ROOT)!r})\n" + textwrap.dedent(setup)
              + textwrap.dedent(f"""
        from tests.test_store import epoch_event, record, start_event
        from seqcore.store import RunStore
        run = record(RunStore({location!r}))
        run.mark_started()
        run.apply(start_event())
        for epoch in (1, 2, 3, 4):
            run.apply(epoch_event(epoch))
        print("reported", flush=True)
        time.sleep(60)
    """))
    server = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    if server.stdout.readline().strip() != "reported":
        server.kill()
        raise AssertionError(f"the server process did not report (exit {server.wait(10)})")
    return server


def test_a_server_killed_mid_run_leaves_the_run_failed_with_every_epoch_it_reported(location):
    server = reporting_server(location)
    try:
        assert RunStore(location).run("run-1").status == "running"  # its server still runs: not touched
    finally:
        server.send_signal(signal.SIGKILL)
        server.wait(10)
    summary = RunStore(location).run("run-1")  # the next server start
    assert summary.status == "failed"
    assert "server stopped" in summary.reason and "4 epoch(s)" in summary.reason
    assert [e.epoch for e in RunStore(location).history("run-1")] == [1, 2, 3, 4]


def test_a_replica_on_another_machine_that_stops_has_its_runs_failed_once_its_heartbeat_is_stale(location,
                                                                                                 monkeypatch):
    """Its process cannot be looked up from here: its heartbeat tells, and any replica's next listing acts."""
    import seqcore.store as store_module

    replica = reporting_server(location, """
        import socket
        socket.gethostname = lambda: "replica-b"  # the server of another machine
        import seqcore.store
        seqcore.store.HEARTBEAT_S = 0.2
    """)
    try:
        store = RunStore(location)
        beats = [sql(store, "SELECT seen_at FROM servers WHERE server LIKE 'replica-b:%'")[0][0]]
        time.sleep(1.0)
        beats.append(sql(store, "SELECT seen_at FROM servers WHERE server LIKE 'replica-b:%'")[0][0])
        assert beats[1] > beats[0]  # it beats while it runs
        assert store.recover(now=time.time() + STALE_S / 2) == []  # a replica alive is not touched
        assert store.run("run-1").status == "running"
    finally:
        replica.send_signal(signal.SIGKILL)
        replica.wait(10)
    assert store.recover() == [] and store.run("run-1").status == "running"  # silent for less than STALE_S

    later = types.SimpleNamespace(time=lambda: time.time() + STALE_S + 1,  # a minute on, on every clock
                                  monotonic=lambda: time.monotonic() + SWEEP_S + 1, strftime=time.strftime,
                                  gmtime=time.gmtime)
    monkeypatch.setattr(store_module, "time", later)
    (listed,) = store.runs("browser-a")  # a page lists the runs: the sweep is due, and finds it
    assert listed.status == "failed" and listed.ended_at is not None
    assert re.fullmatch(r"The server that trained this run \(replica-b\) stopped: no sign of it since "
                        r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC; the 4 epoch\(s\) it had reported are kept\.",
                        listed.reason), listed.reason
    assert [e.epoch for e in store.history("run-1")] == [1, 2, 3, 4]


def test_a_replica_that_was_only_cut_off_from_the_database_corrects_its_run_when_it_ends(location):
    """Marked failed while its heartbeat could not reach the database, its run gets the epochs and end it records
    once the database is back."""
    cut_off = RunStore(location)
    cut_off.server = "replica-c:41:1.00"  # a replica on another machine
    run = record(cut_off)
    run.mark_started()
    run.apply(start_event())
    run.apply(epoch_event(1))
    cut_off.beat(now=time.time() - STALE_S - 5)  # its last beat that got through
    marked = RunStore(location).run("run-1")  # any replica that opens the store now
    assert marked.status == "failed" and "(replica-c) stopped" in marked.reason
    run.apply(epoch_event(2))
    run.apply(EndEvent(status="finished", reason="Finished 2 epochs.", epochs_done=2, test_metrics={"loss": 1.0}))
    summary = RunStore(location).run("run-1")
    assert (summary.status, summary.reason, summary.epochs_done) == ("finished", "Finished 2 epochs.", 2)
    assert [e.epoch for e in RunStore(location).history("run-1")] == [1, 2]


def test_heartbeat_rows_silent_for_a_day_are_deleted_and_a_server_without_one_is_left_alone(location):
    store = RunStore(location)
    record(store)  # this server beats from its first run on
    sql(store, "INSERT INTO servers (server, seen_at) VALUES ('old-host:7:1.00', :t), ('new-host:8:1.00', :n)",
        {"t": time.time() - SERVER_ROWS_KEPT_S - 60, "n": time.time()})
    # A run of a server of schema 3 (no heartbeat) on another machine: nothing tells whether it still trains.
    sql(store, "UPDATE runs SET server = 'older-host:9:1.00' WHERE id = 'run-1'")
    assert store.recover(now=time.time() + 10 * STALE_S) == []
    assert store.run("run-1").status == "queued"
    servers = {row[0] for row in sql(store, "SELECT server FROM servers")}
    assert servers == {store.server, "new-host:8:1.00"}


def test_a_writer_killed_in_the_middle_of_transactions_leaves_an_intact_file(location):
    # Big snapshot transactions in a loop: the kill lands inside one of them, most likely mid-write (on
    # PostgreSQL the server sees its client go, and rolls the open transaction back).
    script = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(ROOT)!r})
        from tests.test_store import epoch_event, record, snapshot_event
        from seqcore.store import RunStore
        store = RunStore({location!r})
        for i in range(10_000):
            run = record(store, f"run-{{i}}")
            run.apply(snapshot_event(1, size=2_000_000))
            run.apply(epoch_event(1))
            print(i, flush=True)
    """)
    writer = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        for _ in range(5):
            writer.stdout.readline()
    finally:
        writer.send_signal(signal.SIGKILL)
        writer.wait(10)
    store = RunStore(location)
    assert store.integrity() == "ok"
    runs = store.runs(owner="browser-a")
    assert len(runs) >= 5
    complete = [r for r in runs if r.epochs_done == 1]
    assert len(complete) >= 5 and all(store.snapshot(r.id, 1).weights[0].size == 500_000 for r in complete)
    assert all(store.history(r.id) == () and store.snapshot_epochs(r.id) == () for r in runs if r.epochs_done == 0)
    if is_sqlite(location):
        with sqlite3.connect(Path(location) / "store.sqlite") as conn:  # and a plain SQLite client agrees
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_writers_and_readers_at_once(location):
    store = RunStore(location)
    errors, stop = [], threading.Event()

    def write(n):
        try:
            run = record(store, f"run-{n}", owner=f"browser-{n % 2}")
            for epoch in range(1, 41):
                run.apply(epoch_event(epoch, epochs=40))
                if epoch % 10 == 0:
                    run.apply(snapshot_event(epoch))
            run.apply(EndEvent("finished", "done", 40))
        except Exception as err:  # noqa: BLE001 - collected for the assertion below
            errors.append(err)

    def read():
        try:
            while not stop.is_set():
                for summary in store.runs(any_owner=True):
                    history = store.history(summary.id)
                    assert [e.epoch for e in history] == list(range(1, len(history) + 1))
        except Exception as err:  # noqa: BLE001
            errors.append(err)

    readers = [threading.Thread(target=read) for _ in range(2)]
    writers = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for thread in readers + writers:
        thread.start()
    for thread in writers:
        thread.join(120)
    stop.set()
    for thread in readers:
        thread.join(30)
    assert errors == []
    runs = store.runs(any_owner=True)
    assert len(runs) == 4 and all(r.status == "finished" and r.epochs_done == 40 for r in runs)
    assert all(len(store.history(r.id)) == 40 and store.snapshot_epochs(r.id) == (10, 20, 30, 40) for r in runs)


def test_snapshots_are_thinned_to_the_byte_budget_keeping_the_first_and_the_newest(location):
    store = RunStore(location)
    run = record(store)
    size = MAX_STORED_SNAPSHOT_BYTES // 10
    for epoch in range(1, 31):
        run.apply(snapshot_event(epoch, size=size))
    epochs = store.snapshot_epochs("run-1")
    assert epochs[0] == 1 and epochs[-1] == 30 and len(epochs) <= 10
    assert store.run("run-1").nbytes <= MAX_STORED_SNAPSHOT_BYTES + 64 * 1024
    dropped = next(e for e in range(1, 31) if e not in epochs)
    assert store.snapshot("run-1", dropped).epoch == min(epochs, key=lambda e: abs(e - dropped))  # the nearest kept


def test_retention_by_age_and_by_size_deletes_the_oldest_ended_runs_first(location):
    store = RunStore(location, max_age_s=3600, max_bytes=None)
    for i in range(3):
        run = record(store, f"run-{i}")
        run.apply(snapshot_event(1, size=400_000))
        run.finish(EndEvent("finished", "done", 1))
    record(store, "running")  # never ended: never pruned
    sql(store, "UPDATE runs SET ended_at = :at WHERE id = :id",  # ended half an hour apart
        [{"at": i * 1800.0, "id": f"run-{i}"} for i in range(3)])
    total = store.total_bytes()
    assert type(total) is int and total > 3 * 400_000  # a plain int (PostgreSQL's SUM gives a numeric)
    assert store.prune(now=3590.0) == []
    assert store.prune(now=3610.0) == ["run-0"]
    assert store.history("run-0") == () and store.snapshot("run-0", 1) is None
    store.max_age_s, store.max_bytes = None, int(store.run("run-2").nbytes * 1.5)
    assert store.prune() == ["run-1"]
    assert [r.id for r in store.runs("browser-a")] == ["running", "run-2"]


def test_a_store_written_by_schema_1_opens_migrated_with_its_runs(location):
    load_script(location, (ROOT / "tests" / "data" / "store_v1.sql").read_text())
    store = RunStore(location)
    assert store.schema_version() == SCHEMA_VERSION == 4
    old = store.run("job-v1-1")
    # a run of schema 1 trained without differencing or early stopping, and reads so
    as_it_ran = preset("delay").with_values(**{"data.difference": "none", "train.early_stopping": "off"})
    assert old.status == "finished" and old.experiment == as_it_ran and old.test_metric() == 0.61
    assert [e.val_metric for e in store.history("job-v1-1")] == [0.27, 0.45, 0.61]
    assert store.artifacts("job-v1-1") == {"history.csv": b"epoch\n"}
    record(store, "new", pair="cmp-1")  # what schema 2 added works on the migrated file
    assert store.run("new").pair == "cmp-1"
    assert sql(store, "SELECT server FROM servers") == [(store.server,)]  # schema 4: its recorder beats
    assert store.board_name("browser-a", "Quiet Heron") == "Quiet Heron"
    assert store.integrity() == "ok"


def test_a_store_from_a_newer_version_is_refused_with_a_message(location):
    sql(RunStore(location), "UPDATE store_version SET version = 99")
    with pytest.raises(StoreError, match="newer version.*schema 99"):
        RunStore(location)


def test_a_failing_store_is_reported_and_the_run_goes_on(tmp_path):
    class Broken:
        def __getattr__(self, name):
            def fail(*args):
                raise OSError("disk full")
            return fail

    run = JobRecord("run-1", preset("seed"), recorder=Broken())
    run.apply(epoch_event(1))
    run.finish(EndEvent("finished", "done", 1))
    assert run.done and run.view().epoch == 1 and "disk full" in run.record_error


def test_the_board_ranks_runs_on_the_same_data_by_test_metric_with_unique_names(location):
    store = RunStore(location)
    delay, other = preset("delay"), preset("seed")
    for run_id, owner, experiment, accuracy in [("r1", "a", delay, 0.4), ("r2", "b", delay, 0.9),
                                                ("r3", "c", other, 1.0), ("r4", "a", delay, 0.7)]:
        run = record(store, run_id, owner=owner, experiment=experiment)
        run.apply(start_event())
        run.finish(EndEvent("finished", "done", 1, {"loss": 1.0, "accuracy": accuracy}))
    record(store, "r5", owner="d", experiment=delay)  # still running: not on the board
    assert store.board_name("a", "Quiet Heron") == "Quiet Heron"
    assert store.board_name("b", "Quiet Heron") == "Quiet Heron 2"  # names are unique on a board
    assert store.board_name("a", "Other") == "Quiet Heron"  # a browser keeps its name
    board = store.board(store.run("r1").data_key)
    assert [(name, r.id) for name, r in board] == [("Quiet Heron 2", "r2"), ("Quiet Heron", "r4"),
                                                  ("Quiet Heron", "r1")]
    with pytest.raises(ConfigError, match="taken"):
        store.rename("a", "Quiet Heron 2")
    store.rename("a", "  Bold   Fox ")
    assert store.board_names({"a"}) == {"a": "Bold Fox"}
    with pytest.raises(ConfigError, match="1 to 40"):
        store.rename("a", "x" * 41)


def test_events_round_trip_through_the_codec_and_a_pickle_is_refused():
    event = snapshot_event(3)
    back = codec.decode(codec.encode(event))
    assert back.epoch == 3 and np.array_equal(back.weights[0], event.weights[0]) and back.forecast is None
    start = codec.decode(codec.encode(start_event(baselines={"markov": float("nan")})))
    assert np.isnan(start.baselines["markov"]) and start.probe_w is None
    import io
    import pickle

    buffer = io.BytesIO()
    np.savez(buffer, __header__=np.array([pickle.dumps(event)], dtype=object))
    with pytest.raises(codec.CodecError):
        codec.decode(buffer.getvalue())


def test_the_store_folder_comes_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("SEQCORE_STORE", str(tmp_path / "elsewhere"))
    monkeypatch.delenv("SEQCORE_STORE_URL", raising=False)
    store = RunStore()
    assert store.url == f"sqlite:///{tmp_path / 'elsewhere' / 'store.sqlite'}"
    assert os.path.exists(tmp_path / "elsewhere" / "store.sqlite")


def test_a_run_deleted_while_it_trains_takes_no_more_rows(location):
    store = RunStore(location)
    run = record(store)
    run.apply(epoch_event(1))
    assert store.delete("run-1")
    run.apply(epoch_event(2))
    run.apply(snapshot_event(2))
    run.finish(EndEvent("finished", "done", 2, {}, {"model.keras": b"zip"}))
    assert store.run("run-1") is None and run.record_error is None
    assert counts(store, "run-1") == [0, 0, 0, 0]


def test_messages_about_a_database_url_hide_its_password():
    from seqcore.store import redacted

    assert redacted("postgresql://teacher:s3cret@db.example/runs") == "postgresql://teacher:***@db.example/runs"


def test_a_postgresql_store_never_shows_its_password(postgres_database):
    from seqcore.store import redacted

    password = sa.engine.make_url(postgres_database).password
    store = RunStore(postgres_database)
    assert password and password not in repr(store) and "***" in repr(store)
    assert redacted("postgresql+psycopg://teacher@db.example/runs?password=s3cret&sslmode=require") == (
        "postgresql+psycopg://teacher@db.example/runs?password=***&sslmode=require")
    assert RunStore(postgres_database.replace("postgresql+psycopg://", "postgresql://")).runs() == []  # psycopg 3


def test_a_diverged_run_reads_back_the_same_nan_infinite_values_and_text_on_both(location):
    store = RunStore(location)
    run = record(store)
    run.apply(start_event(baselines={"markov": float("nan"), "chance": 0.1}))
    run.apply(epoch_event(1, loss=float("nan")))
    run.apply(epoch_event(2, loss=float("inf")))
    run.finish(EndEvent("failed", "The loss diverged in «epoch 3» \x00 ✗", 2, {"loss": float("nan")}))
    assert run.record_error is None
    (first, second) = store.history("run-1")
    assert first.loss is None and first.metric == 0.1  # NaN is NULL (SQLite's own way, and now PostgreSQL's)
    assert second.loss == float("inf") and second.val_loss == float("inf")
    summary = store.run("run-1")
    assert np.isnan(summary.baselines["markov"]) and np.isnan(summary.test_metrics["loss"])
    assert summary.reason == "The loss diverged in «epoch 3» \ufffd ✗"  # PostgreSQL's text holds no NUL
    assert store.board_name("a", "Zoë 🦊") == "Zoë 🦊"


def test_replicas_in_two_processes_record_runs_at_once_and_each_lists_every_run(location):
    RunStore(location)  # the schema first: its creation racing is the next test's
    ids = processes(location, """
        store, ids = RunStore(location), []
        for i in range(15):
            run = record(store, f"p{me}-{i}", owner=f"browser-{i % 3}")
            run.mark_started()
            run.apply(start_event())
            for epoch in range(1, 6):
                run.apply(epoch_event(epoch, epochs=5))
            run.apply(snapshot_event(5))
            run.finish(EndEvent("finished", "done", 5, {"loss": 1.0, "accuracy": 0.5}, {"model.keras": b"k" * 99}))
            assert run.record_error is None, run.record_error
            ids.append(run.id)
        print(json.dumps(ids))
    """)
    assert sorted(ids[0] + ids[1]) == sorted({*ids[0], *ids[1]}) and len(ids[0]) == len(ids[1]) == 15
    first, second = RunStore(location), RunStore(location)
    for owner in ("browser-0", "browser-1", "browser-2"):
        listed = [r.id for r in first.runs(owner)]
        assert listed == [r.id for r in second.runs(owner)] and len(listed) == 10
    runs = first.runs(any_owner=True)
    assert sorted(r.id for r in runs) == sorted(ids[0] + ids[1])
    assert all(r.status == "finished" and r.epochs_done == 5 and r.test_metric() == 0.5 for r in runs)
    assert all(counts(first, r.id) == [1, 5, 1, 1] for r in runs)
    assert first.total_bytes() == sum(r.nbytes for r in runs)


def test_a_run_id_two_processes_both_submit_is_recorded_once_and_not_overwritten(location):
    RunStore(location)
    results = processes(location, """
        store = RunStore(location)
        run = record(store, "same-id", owner=f"browser-{me}")
        run.mark_started()
        for epoch in range(1, 4 + me):
            run.apply(epoch_event(epoch))
        run.finish(EndEvent("finished", f"by {me}", 3 + me))
        print(json.dumps(run.record_error))
    """)
    assert sorted(error is None for error in results) == [False, True]  # the second one's insert is refused
    refused = next(error for error in results if error is not None)
    assert "same-id" in refused and "taken" in refused
    winner = results.index(None)
    summary = RunStore(location).run("same-id")
    assert (summary.owner, summary.reason, summary.epochs_done) == (f"browser-{winner}", f"by {winner}", 3 + winner)
    assert [e.epoch for e in RunStore(location).history("same-id")] == list(range(1, 4 + winner))


def reset(location, name: str):
    """An empty store location again: a new folder for SQLite, PostgreSQL's database emptied."""
    if is_sqlite(location):
        return str(Path(location) / name)
    engine = sa.create_engine(location, poolclass=sa.pool.NullPool)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP SCHEMA public CASCADE")
        conn.exec_driver_sql("CREATE SCHEMA public")
    engine.dispose()
    return location


def test_replicas_that_start_together_on_an_empty_or_old_database_all_get_one_store(location):
    body = """
        store = RunStore(location)
        run = record(store, f"run-{me}", owner="browser-a")
        run.finish(EndEvent("finished", "done", 0))
        print(json.dumps([store.schema_version(), run.record_error]))
    """
    for attempt in range(3):  # creation: each replica finds no tables, and makes them
        where = reset(location, f"empty-{attempt}")
        assert processes(where, body, n=3) == [[SCHEMA_VERSION, None]] * 3
        store = RunStore(where)
        assert sorted(r.id for r in store.runs("browser-a")) == ["run-0", "run-1", "run-2"]
        assert sql(store, "SELECT version FROM store_version") == [(SCHEMA_VERSION,)]  # one row, not three
    for attempt in range(2):  # migration: each replica finds schema 1, and migrates it
        where = reset(location, f"old-{attempt}")
        load_script(where, (ROOT / "tests" / "data" / "store_v1.sql").read_text())
        assert processes(where, body, n=3) == [[SCHEMA_VERSION, None]] * 3
        store = RunStore(where)
        assert sql(store, "SELECT version FROM store_version") == [(SCHEMA_VERSION,)]
        assert store.run("job-v1-1").test_metric() == 0.61 and len(store.runs("browser-a")) == 4


def test_two_servers_pruning_at_once_delete_each_doomed_run_once_and_keep_the_rest(location):
    store = RunStore(location)
    for i in range(24):
        run = record(store, f"run-{i:02d}")
        for epoch in (1, 2):
            run.apply(epoch_event(epoch, epochs=2))
        run.apply(snapshot_event(2, size=40_000))
        run.finish(EndEvent("finished", "done", 2, {}, {"model.keras": b"k" * 1000}))
    for i in range(3):
        record(store, f"open-{i}").apply(snapshot_event(1, size=40_000))  # never ended: never pruned
    sql(store, "UPDATE runs SET ended_at = :at WHERE id = :id", [{"at": 1000.0 + 100 * i, "id": f"run-{i:02d}"}
                                                                 for i in range(24)])
    # By age: the 6 runs ended before 1550 (now 3550, max age 2000 s); then by size down to 12 runs' worth.
    run_bytes = store.run("run-00").nbytes
    max_bytes = store.total_bytes() - 18 * run_bytes + run_bytes // 2
    expected = [f"run-{i:02d}" for i in range(18)]
    pruned = processes(location, f"""
        store = RunStore(location, max_age_s=2000, max_bytes={max_bytes})
        print(json.dumps(store.prune(now=3550.0)))
    """)
    assert sorted(pruned[0] + pruned[1]) == expected  # each doomed run deleted once, by one of them
    left = RunStore(location)
    assert sorted(r.id for r in left.runs("browser-a")) == [f"open-{i}" for i in range(3)] + [
        f"run-{i:02d}" for i in range(18, 24)]
    assert all(counts(left, f"run-{i:02d}") == [0, 0, 0, 0] for i in range(18))
    assert all(counts(left, f"run-{i:02d}") == [1, 2, 1, 1] for i in range(18, 24))
    assert all(counts(left, f"open-{i}") == [1, 0, 1, 0] for i in range(3))


def test_a_run_another_server_deletes_while_it_trains_leaves_no_rows_and_no_error(location):
    writer_store, deleter = RunStore(location), RunStore(location)
    errors, ids = [], [f"run-{i}" for i in range(8)]

    def train():
        for run_id in ids:
            run = record(writer_store, run_id)
            for epoch in range(1, 41):
                run.apply(epoch_event(epoch, epochs=40))
                run.apply(snapshot_event(epoch, size=4_000))
            run.finish(EndEvent("finished", "done", 40, {}, {"model.keras": b"k"}))
            if run.record_error:
                errors.append(run.record_error)

    writer = threading.Thread(target=train)
    writer.start()
    deleted = []
    deadline = time.monotonic() + 120
    while len(deleted) < len(ids) and time.monotonic() < deadline:
        for run_id in ids:
            if run_id not in deleted and deleter.exists(run_id) and len(deleter.history(run_id)) >= 3 * len(deleted):
                assert deleter.delete(run_id)
                deleted.append(run_id)
        time.sleep(0.005)
    writer.join(120)
    assert errors == [] and deleted == ids
    assert all(counts(deleter, run_id) == [0, 0, 0, 0] for run_id in ids)
