"""What a user of the job manager notices: a submit answers at once, events stream in, the buttons (stop,
pause, resume) act quickly, limits and crashes end only the job concerned, and extra jobs wait their turn.

All tests share one JobManager(slots=2, warm=1) from conftest.py.
"""

import os
import signal
import time

import numpy as np
import pytest

from seqcore.config import Experiment, preset

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

TINY = ["model.units=8", "data.n_sequences=40"]
SHORT = preset("seed").apply_overrides([*TINY, "train.epochs=3", "train.snapshot_every=2"])
LONG = preset("seed").apply_overrides([*TINY, "train.epochs=10000", "train.snapshot_every=1000"])
START_S = 180  # generous: a worker may still be importing Keras (and warming up) on a busy machine


def test_submit_answers_at_once_and_the_events_arrive(job_manager):
    started = time.monotonic()
    job = job_manager.submit(SHORT)
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
    stored = job_manager.store.view(job.id)  # and the store holds the same run, from its own file
    assert (stored.status, stored.history, stored.snapshot_epochs) == ("finished", view.history, (1, 2, 3))
    assert stored.end.artifacts == view.end.artifacts and stored.end.test_metrics == view.end.test_metrics
    assert np.array_equal(stored.latest_snapshot.hidden[0], view.latest_snapshot.hidden[0])


def test_stop_takes_effect_at_once(job_manager, wait_until):
    job = job_manager.submit(LONG, save_artifacts=False)
    wait_until(lambda: job.view().epoch >= 3, START_S, "three epochs")
    epochs_at_stop = job.view().epoch
    job.stop()
    assert job.wait(15), "the job did not stop within 15 s"
    view = job.view()
    assert (view.status, view.reason, view.stopping) == ("stopped", "Stopped by the user.", False)
    assert view.epoch <= epochs_at_stop + 2
    assert view.end.epochs_done == len(view.history)


def test_a_worker_too_busy_to_stop_is_replaced_and_the_run_ends_stopped(tmp_path, wait_until):
    """A worker still tracing a big model cannot poll for Stop; the person must not wait it out. Simulated
    with a worker that does not answer at all (SIGSTOP)."""
    from pages.ui.sidebar import status_line
    from seqcore.jobs import JobManager

    manager = JobManager(slots=1, warm=1, stop_grace_s=2.0)
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
        wait_until(lambda: manager.worker_pids() not in ([], [pid]), 30, "a new worker in the old one's place")
        after = manager.submit(SHORT, save_artifacts=False)
        assert after.wait(START_S) and after.view().status == "finished"
    finally:
        manager.shutdown()


def test_pause_holds_the_run_and_resume_continues_it(job_manager, wait_until):
    job = job_manager.submit(LONG, save_artifacts=False)
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


def test_a_time_limit_ends_a_long_run(job_manager):
    job = job_manager.submit(LONG.with_values(**{"train.time_limit_s": 2.0}), save_artifacts=False)
    assert job.wait(START_S)
    view = job.view()
    assert view.status == "timed_out"
    assert view.reason == "The run reached its time limit of 2 s."
    assert view.history and view.end.epochs_done == len(view.history)  # the epochs it did train are kept


def test_bad_data_fails_only_that_job_and_the_worker_keeps_serving(job_manager):
    no_file = preset("sine").apply_overrides(["data.generator=csv", "data.csv_column=price"])
    job = job_manager.submit(no_file, save_artifacts=False)  # a CSV experiment without its CSV values
    assert job.wait(START_S)
    view = job.view()
    assert view.status == "failed"
    assert view.reason.startswith("data.csv_column: 'price' needs an uploaded CSV file")
    assert view.history == () and view.end.epochs_done == 0
    # The worker reported the error itself (a dead worker would say so) and takes the next job.
    after = job_manager.submit(SHORT, save_artifacts=False)
    assert after.wait(START_S)
    assert after.view().status == "finished"


def test_jobs_beyond_the_slots_wait_in_the_queue(job_manager, wait_until):
    first, second = (job_manager.submit(LONG, save_artifacts=False) for _ in range(2))
    third = job_manager.submit(SHORT, save_artifacts=False)
    fourth = job_manager.submit(SHORT, save_artifacts=False)
    try:
        assert third.view().status == "queued" and third.view().queue_position >= 1
        assert fourth.view().queue_position == third.view().queue_position + 1
        wait_until(lambda: first.view().epoch and second.view().epoch, START_S, "both slots running")
        assert (third.view().status, third.view().queue_position) == ("queued", 1)
        assert (fourth.view().status, fourth.view().queue_position) == ("queued", 2)
        assert job_manager.queued() == 2
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


def test_a_killed_worker_fails_only_its_own_job(job_manager, wait_until):
    jobs = [job_manager.submit(LONG, save_artifacts=False) for _ in range(2)]
    try:
        wait_until(lambda: all(job.view().epoch >= 1 for job in jobs), START_S, "both jobs running")
        pids = job_manager.worker_pids()
        assert len(pids) == 2  # both slots are busy, so this worker runs one of the two jobs
        os.kill(pids[0], signal.SIGKILL)
        wait_until(lambda: any(job.done for job in jobs), 20, "the killed worker's job to end")
        dead = [job for job in jobs if job.done]
        alive = [job for job in jobs if not job.done]
        assert len(dead) == 1 and len(alive) == 1
        view = dead[0].view()
        assert view.status == "failed"
        assert view.reason == "The worker process died (killed by SIGKILL)."
        assert view.end.epochs_done == len(view.history)
        stored = job_manager.store.view(dead[0].id)  # the store shows it failed, with its curve
        assert (stored.status, stored.reason) == ("failed", view.reason)
        assert stored.history == view.history and len(stored.history) >= 1
        # The other job trains on.
        epochs = alive[0].view().epoch
        wait_until(lambda: alive[0].view().epoch > epochs, 30, "the other job to go on")
        assert alive[0].view().status == "running"
        assert pids[0] not in job_manager.worker_pids()
    finally:
        for job in jobs:
            job.stop()
        assert all(job.wait(15) for job in jobs)
    after = job_manager.submit(SHORT, save_artifacts=False)
    assert after.wait(START_S)
    assert after.view().status == "finished"


def test_queue_wait_estimate_grows_with_position_and_uses_recent_run_lengths(tmp_path):
    from seqcore.jobs import JobManager

    manager = JobManager(slots=2, warm=0)  # no worker: nothing runs, only arithmetic
    try:
        assert manager.estimated_wait_s(0) == 0.0
        assert manager.estimated_wait_s(1) == manager.estimated_wait_s(2) == 30.0  # before any run ended
        assert manager.estimated_wait_s(3) == 60.0
        manager._durations.extend([4.0, 10.0, 6.0])
        assert manager.estimated_wait_s(5) == 3 * 6.0  # three slots' worth of the median run
    finally:
        manager.shutdown()


def test_a_worker_over_its_memory_ceiling_fails_its_job_with_the_reason_and_the_pool_goes_on(job_manager):
    # Any TensorFlow worker uses several hundred MB, so a 100 MB ceiling is crossed at once.
    ceiling = job_manager.worker_memory_limit_mb
    job_manager.worker_memory_limit_mb = 100.0
    try:
        job = job_manager.submit(LONG)
        assert job.wait(START_S), f"still {job.view().status} after {START_S} s"
        view = job.view()
        assert view.status == "failed"
        assert "ran out of memory" in view.reason and "above the limit of 100 MB" in view.reason
    finally:
        job_manager.worker_memory_limit_mb = ceiling
    after = job_manager.submit(SHORT)
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


def test_a_full_queue_refuses_politely_and_says_when_to_try_again():
    import dataclasses

    from seqcore import limits
    from seqcore.backend import QueueFull
    from seqcore.jobs import JobManager

    tight = dataclasses.replace(limits.LOCAL, max_queued=2)
    manager = JobManager(slots=1, warm=0, limits=tight, warm_delay_s=600)
    try:
        waiting = [manager.submit(SHORT, save_artifacts=False) for _ in range(2)]  # the worker is still starting
        assert all(job.view().status == "queued" for job in waiting)
        with pytest.raises(QueueFull, match=r"The queue is full: 2 runs are waiting .* Try again in about \d+ s"):
            manager.submit(SHORT, save_artifacts=False)
        assert manager.queued() == 2
    finally:
        manager.shutdown()
