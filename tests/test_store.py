"""The run store: runs recorded as they go, kept across restarts and crashes, pruned, migrated, shared safely."""

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import numpy as np
import pytest

from seqcore import codec
from seqcore.backend import JobRecord
from seqcore.config import ConfigError, preset
from seqcore.events import EndEvent, EpochEvent, SnapshotEvent, StartEvent
from seqcore.store import MAX_STORED_SNAPSHOT_BYTES, SCHEMA_VERSION, RunStore, StoreError

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


def test_each_epoch_is_on_disk_when_it_arrives_and_the_end_brings_metrics_and_artifacts(tmp_path):
    store, reader = RunStore(tmp_path), RunStore(tmp_path)  # the reader: another connection, as another page
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


def test_runs_are_listed_per_browser_newest_first(tmp_path):
    store = RunStore(tmp_path)
    for i, owner in enumerate(["a", "b", "a"]):
        record(store, f"run-{i}", owner=owner)
    assert [r.id for r in store.runs("a")] == ["run-2", "run-0"]
    assert [r.id for r in store.runs("b")] == ["run-1"]
    assert store.runs("c") == []
    assert len(store.runs(any_owner=True)) == 3
    assert store.owner("run-1") == "b"


def test_a_server_killed_mid_run_leaves_the_run_failed_with_every_epoch_it_reported(tmp_path):
    script = textwrap.dedent(f"""
        import sys, time
        sys.path.insert(0, {str(ROOT)!r})
        from tests.test_store import epoch_event, record, start_event
        from seqcore.store import RunStore
        run = record(RunStore({str(tmp_path)!r}))
        run.mark_started()
        run.apply(start_event())
        for epoch in (1, 2, 3, 4):
            run.apply(epoch_event(epoch))
        print("reported", flush=True)
        time.sleep(60)
    """)
    server = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout.readline().strip() == "reported"
        assert RunStore(tmp_path).run("run-1").status == "running"  # its server still runs: not touched
    finally:
        server.send_signal(signal.SIGKILL)
        server.wait(10)
    summary = RunStore(tmp_path).run("run-1")  # the next server start
    assert summary.status == "failed"
    assert "server stopped" in summary.reason and "4 epoch(s)" in summary.reason
    assert [e.epoch for e in RunStore(tmp_path).history("run-1")] == [1, 2, 3, 4]


def test_a_writer_killed_in_the_middle_of_transactions_leaves_an_intact_file(tmp_path):
    # Big snapshot transactions in a loop: the kill lands inside one of them, most likely mid-write.
    script = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(ROOT)!r})
        from tests.test_store import epoch_event, record, snapshot_event
        from seqcore.store import RunStore
        store = RunStore({str(tmp_path)!r})
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
    store = RunStore(tmp_path)
    assert store.integrity() == "ok"
    runs = store.runs(owner="browser-a")
    assert len(runs) >= 5
    complete = [r for r in runs if r.epochs_done == 1]
    assert len(complete) >= 5 and all(store.snapshot(r.id, 1).weights[0].size == 500_000 for r in complete)
    with sqlite3.connect(tmp_path / "store.sqlite") as conn:  # and a plain SQLite client agrees
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_writers_and_readers_at_once(tmp_path):
    store = RunStore(tmp_path)
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


def test_snapshots_are_thinned_to_the_byte_budget_keeping_the_first_and_the_newest(tmp_path):
    store = RunStore(tmp_path)
    run = record(store)
    size = MAX_STORED_SNAPSHOT_BYTES // 10
    for epoch in range(1, 31):
        run.apply(snapshot_event(epoch, size=size))
    epochs = store.snapshot_epochs("run-1")
    assert epochs[0] == 1 and epochs[-1] == 30 and len(epochs) <= 10
    assert store.run("run-1").nbytes <= MAX_STORED_SNAPSHOT_BYTES + 64 * 1024
    dropped = next(e for e in range(1, 31) if e not in epochs)
    assert store.snapshot("run-1", dropped).epoch == min(epochs, key=lambda e: abs(e - dropped))  # the nearest kept


def test_retention_by_age_and_by_size_deletes_the_oldest_ended_runs_first(tmp_path):
    store = RunStore(tmp_path, max_age_s=3600, max_bytes=None)
    for i in range(3):
        run = record(store, f"run-{i}")
        run.apply(snapshot_event(1, size=400_000))
        run.finish(EndEvent("finished", "done", 1))
    record(store, "running")  # never ended: never pruned
    with sqlite3.connect(tmp_path / "store.sqlite") as conn:  # ended half an hour apart
        conn.executemany("UPDATE runs SET ended_at = ? WHERE id = ?", [(i * 1800.0, f"run-{i}") for i in range(3)])
    assert store.prune(now=3590.0) == []
    assert store.prune(now=3610.0) == ["run-0"]
    assert store.history("run-0") == () and store.snapshot("run-0", 1) is None
    store.max_age_s, store.max_bytes = None, int(store.run("run-2").nbytes * 1.5)
    assert store.prune() == ["run-1"]
    assert [r.id for r in store.runs("browser-a")] == ["running", "run-2"]


def test_a_store_written_by_schema_1_opens_migrated_with_its_runs(tmp_path):
    with sqlite3.connect(tmp_path / "store.sqlite") as conn:
        conn.executescript((ROOT / "tests" / "data" / "store_v1.sql").read_text())
    store = RunStore(tmp_path)
    assert store.schema_version() == SCHEMA_VERSION == 3
    old = store.run("job-v1-1")
    # a run of schema 1 trained without differencing or early stopping, and reads so
    as_it_ran = preset("delay").with_values(**{"data.difference": "none", "train.early_stopping": "off"})
    assert old.status == "finished" and old.experiment == as_it_ran and old.test_metric() == 0.61
    assert [e.val_metric for e in store.history("job-v1-1")] == [0.27, 0.45, 0.61]
    assert store.artifacts("job-v1-1") == {"history.csv": b"epoch\n"}
    record(store, "new", pair="cmp-1")  # what schema 2 added works on the migrated file
    assert store.run("new").pair == "cmp-1"
    assert store.board_name("browser-a", "Quiet Heron") == "Quiet Heron"
    assert store.integrity() == "ok"


def test_a_store_from_a_newer_version_is_refused_with_a_message(tmp_path):
    RunStore(tmp_path)
    with sqlite3.connect(tmp_path / "store.sqlite") as conn:
        conn.execute("UPDATE store_version SET version = 99")
    with pytest.raises(StoreError, match="newer version.*schema 99"):
        RunStore(tmp_path)


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


def test_the_board_ranks_runs_on_the_same_data_by_test_metric_with_unique_names(tmp_path):
    store = RunStore(tmp_path)
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


def test_a_run_deleted_while_it_trains_takes_no_more_rows(tmp_path):
    store = RunStore(tmp_path)
    run = record(store)
    run.apply(epoch_event(1))
    assert store.delete("run-1")
    run.apply(epoch_event(2))
    run.apply(snapshot_event(2))
    run.finish(EndEvent("finished", "done", 2, {}, {"model.keras": b"zip"}))
    assert store.run("run-1") is None and run.record_error is None
    with sqlite3.connect(tmp_path / "store.sqlite") as conn:
        assert [conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
                for t in ("epochs", "snapshots", "artifacts")] == [0, 0, 0]


def test_messages_about_a_database_url_hide_its_password():
    from seqcore.store import redacted

    assert redacted("postgresql://teacher:s3cret@db.example/runs") == "postgresql://teacher:***@db.example/runs"
