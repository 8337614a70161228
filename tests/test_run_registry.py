"""The server's run registry: a run belongs to the browser that started it; reloads and second tabs find it,
other browsers never do; a closed browser's queued run is dropped quickly and its running one after a grace."""

import binascii
import os
import time

from pages.ui.runs import RunRegistry, browser_key


class FakeJob:
    def __init__(self, job_id: str, status: str = "running", ended_at: float | None = None, nbytes: int = 0):
        self.id, self.status, self.ended_at, self.nbytes = job_id, status, ended_at, nbytes
        self.stopped = False
        self.done = ended_at is not None

    def stop(self):
        self.stopped = self.done = True

    def view(self):
        return self


def xsrf_cookie(token: bytes) -> str:
    """The cookie as Streamlit's server writes it: the same token under a fresh random mask each time."""
    mask = os.urandom(4)
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(token))
    return f"2|{binascii.b2a_hex(mask).decode()}|{binascii.b2a_hex(masked).decode()}|{int(time.time())}"


def test_a_browser_keeps_its_key_under_every_fresh_mask_and_another_browser_has_another():
    token, other = os.urandom(16), os.urandom(16)
    keys = {browser_key(xsrf_cookie(token)) for _ in range(5)}
    assert len(keys) == 1 and None not in keys
    assert browser_key(xsrf_cookie(other)) not in keys
    assert browser_key(None) is None and browser_key("garbage|x") is None and browser_key("2|zz|zz|1") is None


def test_a_second_tab_and_a_reload_find_the_run_and_another_browser_does_not():
    registry = RunRegistry()
    job = FakeJob("job-1")
    registry.open_session("teacher", "tab-1")
    registry.add("teacher", job)
    registry.open_session("teacher", "tab-2")  # a second tab, or the reloaded page
    assert registry.latest("teacher") is job
    assert registry.latest("student") is None  # the student opened the teacher's full address
    assert registry.owner("job-1") == "teacher"


def test_a_new_run_stops_only_the_same_browsers_earlier_run():
    registry = RunRegistry()
    teacher, student_first, student_second = FakeJob("t"), FakeJob("s1"), FakeJob("s2")
    registry.add("teacher", teacher)
    registry.add("student", student_first)
    registry.add("student", student_second)
    assert student_first.stopped and not teacher.stopped
    assert registry.latest("teacher") is teacher and registry.latest("student") is student_second


def test_a_reload_within_the_grace_period_keeps_the_run():
    registry = RunRegistry()
    job = FakeJob("job-1")
    registry.open_session("b", "tab-1")
    registry.add("b", job)
    registry.release_session("b", "tab-1", grace_s=0.1, queued_grace_s=0.05)
    registry.open_session("b", "tab-2")  # the reloaded page comes back within the grace
    time.sleep(0.3)
    assert not job.stopped and registry.latest("b") is job


def test_a_closed_browser_drops_its_queued_run_quickly_and_stops_a_running_one_after_the_grace():
    registry = RunRegistry()
    queued, running = FakeJob("q", status="queued"), FakeJob("r")
    registry.open_session("a", "tab-a")
    registry.add("a", queued)
    registry.open_session("b", "tab-b")
    registry.add("b", running)
    registry.release_session("a", "tab-a", grace_s=0.5, queued_grace_s=0.05)
    registry.release_session("b", "tab-b", grace_s=0.5, queued_grace_s=0.05)
    time.sleep(0.2)
    assert queued.stopped and not running.stopped  # the place in line is freed for the others
    time.sleep(0.6)
    assert running.stopped and registry.latest("b") is None


def test_a_closed_tab_leaves_the_run_alone_while_another_tab_of_the_browser_is_open():
    registry = RunRegistry()
    job = FakeJob("job-1", status="queued")
    registry.open_session("b", "tab-1")
    registry.open_session("b", "tab-2")
    registry.add("b", job)
    registry.release_session("b", "tab-1", grace_s=0.1, queued_grace_s=0.05)
    time.sleep(0.3)
    assert not job.stopped


def test_the_shared_data_cache_is_bounded_by_bytes_and_keeps_what_was_used_last():
    from pages.ui.runs import DataCache
    from seqcore.config import DataConfig

    small = [DataConfig(seed=seed) for seed in range(3)]
    one = DataCache.size(DataCache(2**30).get(small[0], None))
    cache = DataCache(max_bytes=int(2.5 * one))
    first = cache.get(small[0], None)
    cache.get(small[1], None)
    assert cache.get(small[0], None) is first  # a hit: the same arrays, not a second build
    cache.get(small[2], None)  # three do not fit: the least recently used one (seed 1) goes
    assert cache.bytes <= 2.5 * one
    assert cache.get(small[0], None) is first


def test_ended_runs_are_kept_for_the_day_and_within_a_memory_budget():
    registry = RunRegistry(max_age_s=3600, max_bytes=250)
    now = time.time()
    registry.add("old", FakeJob("a", ended_at=now - 7200, nbytes=10))  # two hours old
    registry.add("big", FakeJob("b", ended_at=now - 60, nbytes=200))
    registry.add("new", FakeJob("c", ended_at=now - 30, nbytes=100))  # together over 250 bytes: the oldest goes
    running = FakeJob("d")
    registry.add("busy", running)
    assert registry.latest("old") is None and registry.latest("big") is None
    assert registry.latest("new").id == "c" and registry.latest("busy") is running  # a running one stays
    assert registry.owner("a") == "old"  # its page can still say it is gone, not someone else's
