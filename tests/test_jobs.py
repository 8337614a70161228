"""What a user of a training backend notices: a submit answers at once, events stream in, the buttons (stop,
pause, resume) act quickly, limits and crashes end only the job concerned, and extra jobs wait their turn.

Each test of the contract runs against both backends (the `backend` fixture): the local pool (one
JobManager(slots=2, warm=1) from conftest.py) and Ray (one RayBackend(slots=2) on a real Ray head on 127.0.0.1,
started here: bench/servers.py's ray_head).
"""

import contextlib
import dataclasses
import itertools
import math
import os
import signal
import statistics
import time

import numpy as np
import pytest

from bench.servers import ray_head
from seqcore.config import Experiment, preset

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

TINY = ["model.units=8", "data.n_sequences=40"]
SHORT = preset("seed").apply_overrides([*TINY, "train.epochs=3", "train.snapshot_every=2"])
LONG = preset("seed").apply_overrides([*TINY, "train.epochs=10000", "train.snapshot_every=1000"])
START_S = 180  # generous: a worker may still be importing Keras (and warming up) on a busy machine
BACKENDS = ["local", "ray"]
_namespaces = itertools.count(1)


@pytest.fixture(scope="session")
def ray_address():
    with ray_head(num_cpus=4) as address:  # the shared backend's two trainers, and one or two of a test's own
        yield address


@pytest.fixture(scope="module", params=BACKENDS)
def backend(request, tmp_path_factory):
    """The backend under test, shared by this module's tests: the local pool, or RayBackend(slots=2)."""
    if request.param == "local":
        yield request.getfixturevalue("job_manager")
        return
    from seqcore.raybackend import RayBackend
    from seqcore.store import RunStore

    ray = RayBackend(slots=2, address=request.getfixturevalue("ray_address"), namespace="seqcore-tests",
                     store=RunStore(tmp_path_factory.mktemp("ray-store")))
    assert ray.wait_ready(180), "the Ray trainers did not import Keras within 3 minutes"
    yield ray
    ray.tear_down()


@pytest.fixture
def make_backend(request):
    """make_backend(kind, slots=..., ...): a backend of its own for one test, of `kind` ('local' or 'ray'), in a
    namespace of its own on Ray; ended after the test."""
    made = []

    def make(kind: str, **options):
        if kind == "local":
            from seqcore.jobs import JobManager

            made.append(JobManager(**options))
        else:
            from seqcore.raybackend import RayBackend

            options.pop("warm", None)  # a Ray backend's trainers are all warm
            options.setdefault("namespace", f"seqcore-test-{os.getpid()}-{next(_namespaces)}")
            made.append(RayBackend(address=request.getfixturevalue("ray_address"), **options))
        return made[-1]

    yield make
    for each in made:
        with contextlib.suppress(Exception):
            (each.tear_down if hasattr(each, "tear_down") else each.shutdown)()


def kind_of(backend) -> str:
    return "ray" if type(backend).__name__ == "RayBackend" else "local"


def test_submit_answers_at_once_and_the_events_arrive(backend):
    started = time.monotonic()
    job = backend.submit(SHORT)
    assert time.monotonic() - started < 1.0
    assert job.view().status in ("queued", "starting")
    assert job.wait(START_S), f"still {job.view().status} after {START_S} s"
    view = job.view()
    assert (view.status, view.reason, view.queue_position) == ("finished", "Trained all 3 epochs.", 0)
    assert view.start is not None and view.start.metric == "accuracy"
    assert [e.epoch for e in view.history] == [1, 2, 3]
    assert view.snapshot_epochs == (1, 2, 3)
    assert [h.shape for h in view.latest_snapshot.hidden] == [(4, 9, 8)]
    assert job.snapshot(2).epoch == 2
    assert view.end.epochs_done == 3 and set(view.end.test_metrics) == {"loss", "accuracy"}
    assert set(view.end.artifacts) == {"model.keras", "history.csv", "experiment.json"}
    assert view.end.artifacts["model.keras"][:2] == b"PK"  # a .keras file is a zip archive
    assert Experiment.from_json(view.end.artifacts["experiment.json"].decode()) == SHORT
    stored = backend.store.view(job.id)  # and the store holds the same run, from its own file
    assert (stored.status, stored.history, stored.snapshot_epochs) == ("finished", view.history, (1, 2, 3))
    assert stored.end.artifacts == view.end.artifacts and stored.end.test_metrics == view.end.test_metrics
    assert np.array_equal(stored.latest_snapshot.hidden[0], view.latest_snapshot.hidden[0])


def test_stop_takes_effect_at_once(backend, wait_until):
    from seqcore.raybackend import GATHER_S

    job = backend.submit(LONG, save_artifacts=False)
    wait_until(lambda: job.view().epoch >= 3, START_S, "three epochs")
    epochs_at_stop = job.view().epoch
    job.stop()
    assert job.wait(15), "the job did not stop within 15 s"
    view = job.view()
    assert (view.status, view.reason, view.stopping) == ("stopped", "Stopped by the user.", False)
    # Within two epochs of the last one seen: on Ray, also those trained while its events were gathered into one
    # message (raybackend.GATHER_S; this tiny network trains an epoch in milliseconds).
    gathering = GATHER_S / statistics.median(e.seconds for e in view.history[1:]) if kind_of(backend) == "ray" else 0
    assert view.epoch <= epochs_at_stop + 2 + math.ceil(gathering)
    assert view.end.epochs_done == len(view.history)


def test_a_ray_trainer_sends_events_close_together_as_one_message_and_the_end_at_once():
    import queue
    import threading

    from seqcore.raybackend import gathered

    events, done = queue.SimpleQueue(), object()
    for event in ("start", "epoch 1", "epoch 2"):
        events.put(event)
    assert gathered(events, done, window_s=0.2) == ["start", "epoch 1", "epoch 2"]  # the window ran out
    threading.Timer(0.3, events.put, ("epoch 3",)).start()
    assert gathered(events, done, window_s=0.05) == ["epoch 3"]  # waits for the next event, however late
    events.put("end")
    events.put(done)
    started = time.monotonic()
    assert gathered(events, done, window_s=5.0) == ["end", done]
    assert time.monotonic() - started < 1.0  # the end marker closes the window


def test_an_idle_worker_compiles_the_next_network_ahead_and_its_run_starts_compiled(make_backend, wait_until):
    """The local pool's idle time: the Train page asks for the settings on screen, and the run of them that
    follows takes the compiled network; a run of another network compiles its own."""
    pool = make_backend("local", slots=1, warm=1)
    assert pool.wait_ready(START_S)
    network = SHORT.with_values(**{"model.units": 11})
    assert pool.compile_ahead(network)
    wait_until(lambda: len(pool.compiled_ahead) == 1, START_S, "the worker's report of the compile")
    assert pool.compiled_ahead[0].compiled
    assert pool.running() == 0 and pool.queued() == 0  # it never counted as a run
    job = pool.submit(network)
    assert job.wait(START_S)
    view = job.view()
    assert (view.status, len(view.history)) == ("finished", 3) and view.start.compiled_before
    other = pool.submit(network.with_values(**{"model.units": 12}))
    assert other.wait(START_S) and not other.view().start.compiled_before
    assert other.view().status == "finished"


def test_compiling_ahead_waits_for_an_idle_worker_and_a_run_sent_meanwhile_trains(make_backend, wait_until):
    pool = make_backend("local", slots=1, warm=1)
    assert pool.wait_ready(START_S)
    from seqcore.limits import HOSTED

    assert not pool.compile_ahead(SHORT.with_values(**{"model.units": 200}), limits=HOSTED)  # over: nothing sent
    busy = pool.submit(LONG, save_artifacts=False)
    wait_until(lambda: busy.view().epoch >= 1, START_S, "the first run training")
    assert not pool.compile_ahead(SHORT)  # its worker trains a run
    waiting = pool.submit(SHORT.with_values(**{"model.units": 13}), save_artifacts=False)
    assert not pool.compile_ahead(SHORT)  # and a run waits for it
    busy.stop()
    assert waiting.wait(START_S) and waiting.view().status == "finished"
    wait_until(lambda: pool.running() == 0, 10, "the worker idle")
    # A run submitted right behind a compile of another network: the worker skips that compile, or ends it if it
    # had begun, then trains the run.
    assert pool.compile_ahead(SHORT.with_values(**{"model.units": 14}))
    right_after = pool.submit(SHORT.with_values(**{"model.units": 15}), save_artifacts=False)
    assert right_after.wait(START_S) and right_after.view().status == "finished"
    assert len(right_after.view().history) == 3 and not right_after.view().start.compiled_before
    assert len(pool.compiled_ahead) == 1  # skipped, or (begun before the run came) ended first: the run came after


@pytest.mark.parametrize("kind", BACKENDS)
def test_a_worker_too_busy_to_stop_is_replaced_and_the_run_ends_stopped(kind, make_backend, wait_until):
    """A worker still tracing a big model cannot poll for Stop; the person must not wait it out. Simulated
    with a worker that does not answer at all (SIGSTOP)."""
    from pages.ui.sidebar import status_line

    manager = make_backend(kind, slots=1, warm=1, stop_grace_s=2.0)
    try:
        job = manager.submit(LONG, save_artifacts=False)
        wait_until(lambda: job.view().epoch >= 1, START_S, "the first epoch")
        (pid,) = manager.worker_pids()
        os.kill(pid, signal.SIGSTOP)
        job.stop()
        view = job.view()
        assert view.stopping and not view.done
        assert status_line(view).startswith("⏹️ Stopping at epoch")
        assert job.wait(15), f"still {job.view().status} 15 s after Stop"
        view = job.view()
        assert view.status == "stopped" and not view.stopping
        assert view.reason.startswith("Stopped by the user.") and "restarted" in view.reason
        assert view.end.epochs_done == len(view.history) >= 1
        wait_until(lambda: manager.worker_pids() not in ([], [pid]), 60, "a new worker in the old one's place")
        after = manager.submit(SHORT, save_artifacts=False)
        assert after.wait(START_S) and after.view().status == "finished"
    finally:
        manager.shutdown()


def test_pause_holds_the_run_and_resume_continues_it(backend, wait_until):
    job = backend.submit(LONG, save_artifacts=False)
    try:
        # Paused while it still builds its data and model (or just after): it must say so, and hold.
        wait_until(lambda: job.view().status != "queued", START_S, "a worker to take the job")
        job.pause()
        assert job.view().status == "paused"
        time.sleep(2.0)
        held = job.view().epoch
        assert job.view().status == "paused", "the page must not claim a paused job is running"
        time.sleep(0.5)
        assert job.view().epoch == held
        job.resume()
        assert job.view().status == "running"
        wait_until(lambda: job.view().epoch >= held + 2, 60, "epochs after resuming")
        # Paused in full flight.
        job.pause()
        assert job.view().status == "paused"
        time.sleep(0.5)  # the epoch in flight may still arrive
        held = job.view().epoch
        time.sleep(1.0)
        assert job.view().epoch == held, "epochs went on while paused"
        assert job.view().status == "paused"
        job.resume()
        assert job.view().status == "running"
        wait_until(lambda: job.view().epoch > held + 2, 30, "epochs after resuming again")
    finally:
        job.stop()
        assert job.wait(15)


def test_a_time_limit_ends_a_long_run(backend):
    job = backend.submit(LONG.with_values(**{"train.time_limit_s": 2.0}), save_artifacts=False)
    assert job.wait(START_S)
    view = job.view()
    assert view.status == "timed_out"
    assert view.reason == "The run reached its time limit of 2 s."
    assert view.history and view.end.epochs_done == len(view.history)  # the epochs it did train are kept


def test_bad_data_fails_only_that_job_and_the_worker_keeps_serving(backend):
    no_file = preset("sine").apply_overrides(["data.generator=csv", "data.csv_column=price"])
    job = backend.submit(no_file, save_artifacts=False)  # a CSV experiment without its CSV values
    assert job.wait(START_S)
    view = job.view()
    assert view.status == "failed"
    assert view.reason.startswith("data.csv_column: 'price' needs an uploaded CSV file")
    assert view.history == () and view.end.epochs_done == 0
    # The worker reported the error itself (a dead worker would say so) and takes the next job.
    after = backend.submit(SHORT, save_artifacts=False)
    assert after.wait(START_S)
    assert after.view().status == "finished"


def test_jobs_beyond_the_slots_wait_in_the_queue(backend, wait_until):
    first, second = (backend.submit(LONG, save_artifacts=False) for _ in range(2))
    third = backend.submit(SHORT, save_artifacts=False)
    fourth = backend.submit(SHORT, save_artifacts=False)
    try:
        assert third.view().status == "queued" and third.view().queue_position >= 1
        assert fourth.view().queue_position == third.view().queue_position + 1
        wait_until(lambda: first.view().epoch and second.view().epoch, START_S, "both slots running")
        assert (third.view().status, third.view().queue_position) == ("queued", 1)
        assert (fourth.view().status, fourth.view().queue_position) == ("queued", 2)
        assert backend.queued() == 2
        # Stopping a queued job takes it out of the queue; it never runs.
        fourth.stop()
        assert fourth.wait(1)
        assert (fourth.view().status, fourth.view().reason) == ("stopped", "Stopped while waiting in the queue.")
        assert third.view().queue_position == 1
        # A freed slot goes to the next in the queue.
        first.stop()
        assert third.wait(START_S)
        view = third.view()
        assert view.status == "finished" and view.queue_position == 0
        assert view.waited_s > 0
        assert fourth.view().start is None and fourth.view().history == ()
    finally:
        for job in (first, second, third, fourth):
            job.stop()
        assert all(job.wait(15) for job in (first, second))


def test_a_killed_worker_fails_only_its_own_job(backend, wait_until):
    jobs = [backend.submit(LONG, save_artifacts=False) for _ in range(2)]
    try:
        wait_until(lambda: all(job.view().epoch >= 1 for job in jobs), START_S, "both jobs running")
        pids = backend.worker_pids()
        assert len(pids) == 2  # both slots are busy, so this worker runs one of the two jobs
        os.kill(pids[0], signal.SIGKILL)
        wait_until(lambda: any(job.done for job in jobs), 20, "the killed worker's job to end")
        dead = [job for job in jobs if job.done]
        alive = [job for job in jobs if not job.done]
        assert len(dead) == 1 and len(alive) == 1
        view = dead[0].view()
        assert view.status == "failed"
        if kind_of(backend) == "local":
            assert view.reason == "The worker process died (killed by SIGKILL)."
        else:  # Ray's own words on its worker's end follow
            assert view.reason.startswith("The worker process died (") and len(view.reason) < 400
        assert view.end.epochs_done == len(view.history)
        stored = backend.store.view(dead[0].id)  # the store shows it failed, with its curve
        assert (stored.status, stored.reason) == ("failed", view.reason)
        assert stored.history == view.history and len(stored.history) >= 1
        # The other job trains on.
        epochs = alive[0].view().epoch
        wait_until(lambda: alive[0].view().epoch > epochs, 30, "the other job to go on")
        assert alive[0].view().status == "running"
        assert pids[0] not in backend.worker_pids()
    finally:
        for job in jobs:
            job.stop()
        assert all(job.wait(15) for job in jobs)
    after = backend.submit(SHORT, save_artifacts=False)
    assert after.wait(START_S)
    assert after.view().status == "finished", after.view().reason


def test_queue_wait_estimate_grows_with_position_and_uses_recent_run_lengths(tmp_path):
    from seqcore.backend import wait_estimate_s
    from seqcore.jobs import JobManager

    assert wait_estimate_s(0, 2, []) == 0.0
    assert wait_estimate_s(1, 2, []) == wait_estimate_s(2, 2, []) == 30.0  # before any run ended
    assert wait_estimate_s(3, 2, []) == 60.0
    assert wait_estimate_s(5, 2, [4.0, 10.0, 6.0]) == 3 * 6.0  # three slots' worth of the median run
    manager = JobManager(slots=2, warm=0)  # no worker: nothing runs, only arithmetic
    try:
        manager._durations.extend([4.0, 10.0, 6.0])
        assert manager.estimated_wait_s(5) == 3 * 6.0
    finally:
        manager.shutdown()


def test_a_worker_over_its_memory_ceiling_fails_its_job_with_the_reason_and_the_pool_goes_on(backend):
    # Any TensorFlow worker uses several hundred MB, so a 100 MB ceiling is crossed at once.
    ceiling = backend.worker_memory_limit_mb
    backend.worker_memory_limit_mb = 100.0
    try:
        job = backend.submit(LONG)
        assert job.wait(START_S), f"still {job.view().status} after {START_S} s"
        view = job.view()
        assert view.status == "failed"
        assert "ran out of memory" in view.reason and "above the limit of 100 MB" in view.reason
    finally:
        backend.worker_memory_limit_mb = ceiling
    after = backend.submit(SHORT)
    assert after.wait(START_S) and after.view().status == "finished"


def test_a_delayed_warm_worker_starts_later_and_a_job_before_it_does_not_wait(tmp_path, wait_until):
    """The app delays its warm worker so that the first page paints first: nothing starts before the delay,
    the worker starts after it, and a job submitted in the meantime starts its own worker at once."""
    from seqcore.jobs import JobManager

    delayed = JobManager(slots=1, warm=1, warm_delay_s=1.5)
    try:
        assert delayed.worker_pids() == []
        wait_until(lambda: len(delayed.worker_pids()) == 1, 10, "the delayed warm worker")
    finally:
        delayed.shutdown()

    eager = JobManager(slots=1, warm=1, warm_delay_s=600)
    try:
        job = eager.submit(SHORT, save_artifacts=False)
        assert job.wait(START_S) and job.view().status == "finished"
    finally:
        eager.shutdown()


@pytest.mark.parametrize("kind", BACKENDS)
def test_a_full_queue_refuses_politely_and_says_when_to_try_again(kind, make_backend, wait_until):
    from seqcore import limits
    from seqcore.backend import QueueFull

    tight = dataclasses.replace(limits.LOCAL, max_queued=2)
    if kind == "local":  # its one worker still starting: every job waits
        manager, busy = make_backend(kind, slots=1, warm=0, limits=tight, warm_delay_s=600), []
    else:  # its one trainer busy with a long run
        manager = make_backend(kind, slots=1, limits=tight)
        busy = [manager.submit(LONG, save_artifacts=False)]
        wait_until(lambda: busy[0].view().status != "queued", START_S, "the long run to take the slot")
    waiting = [manager.submit(SHORT, save_artifacts=False) for _ in range(2)]
    assert all(job.view().status == "queued" for job in waiting)
    with pytest.raises(QueueFull, match=r"The queue is full: 2 runs are waiting .* Try again in about \d+ s"):
        manager.submit(SHORT, save_artifacts=False)
    assert manager.queued() == 2


@pytest.mark.parametrize("kind", BACKENDS)
def test_a_worker_is_recycled_after_its_share_of_jobs_and_the_next_job_runs_on_a_fresh_one(kind, make_backend,
                                                                                        wait_until):
    """TensorFlow keeps memory per model, so a worker is replaced after `max_jobs_per_worker` jobs."""
    manager = make_backend(kind, slots=1, warm=1, max_jobs_per_worker=2)
    assert manager.wait_ready(START_S)
    (first,) = manager.worker_pids()
    for _ in range(2):
        job = manager.submit(SHORT, save_artifacts=False)
        assert job.wait(START_S) and job.view().status == "finished"
    wait_until(lambda: manager.worker_pids() not in ([], [first]), 60, "a fresh worker after two jobs")
    after = manager.submit(SHORT, save_artifacts=False)
    assert after.wait(START_S) and after.view().status == "finished"
    assert first not in manager.worker_pids()


def test_two_servers_on_one_ray_cluster_share_its_queue_and_a_browser_runs_one_job_across_them(make_backend,
                                                                                            wait_until):
    """Two web replicas of one deployment (one namespace): one FIFO and one estimate whichever replica asks, and a
    browser's new run on one replica stops its run on the other."""
    first = make_backend("ray", slots=1)
    second = make_backend("ray", namespace=first.namespace)
    assert second.slots == 1  # it joined the first one's scheduler
    running = first.submit(LONG, save_artifacts=False, owner="alice")
    wait_until(lambda: running.view().epoch >= 1, START_S, "alice's run to train")
    bob = second.submit(SHORT, save_artifacts=False, owner="bob")
    carol = first.submit(SHORT, save_artifacts=False, owner="carol")
    assert (bob.view().queue_position, carol.view().queue_position) == (1, 2)
    assert first.queued() == second.queued() == 2
    assert first.estimated_wait_s(2) == second.estimated_wait_s(2) > 0
    # Alice, her browser now served by the second replica, presses Train again.
    again = second.submit(SHORT, save_artifacts=False, owner="alice")
    assert running.wait(30), "alice's first run went on after her new one was queued"
    assert running.view().status == "stopped"
    assert again.view().queue_position == 3 or again.view().status != "queued"
    for job in (bob, carol, again):
        assert job.wait(START_S) and job.view().status == "finished"
    assert bob.view().end is not None and carol.view().waited_s >= bob.view().waited_s


def test_a_run_whose_web_server_dies_frees_its_ray_slot_for_the_next_job(make_backend, ray_address):
    """A replica restarted mid-run (a deploy, a crash) must not keep a training slot of the cluster's forever."""
    import subprocess
    import sys
    import textwrap

    survivor = make_backend("ray", slots=1)
    script = textwrap.dedent(f"""
        import os, time
        from bench.servers import ray_environment
        ray_environment()
        from seqcore.config import preset
        from seqcore.raybackend import RayBackend
        backend = RayBackend(address={ray_address!r}, namespace={survivor.namespace!r})
        job = backend.submit(preset("seed").apply_overrides({[*TINY, "train.epochs=10000"]!r}), save_artifacts=False)
        deadline = time.monotonic() + {START_S}
        while job.view().epoch < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        print("epochs", job.view().epoch, flush=True)
        os._exit(0)  # gone, as a killed server is: no shutdown, no stop
    """)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    result = subprocess.run([sys.executable, "-c", script], cwd=root, capture_output=True, text=True,
                            timeout=START_S + 60, env={**os.environ, "PYTHONPATH": root})
    assert result.returncode == 0 and "epochs" in result.stdout, result.stderr[-2000:]
    assert int(result.stdout.split()[-1]) >= 2, result.stdout
    after = survivor.submit(SHORT, save_artifacts=False)
    assert after.wait(120), f"the dead server's run still holds the slot: {after.view().status}"
    assert after.view().status == "finished"
