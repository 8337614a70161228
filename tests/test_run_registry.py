"""The server's run registry: reloads re-attach, a closed tab's runs stop and are freed, one run per session."""

import time

from pages.ui.runs import RunRegistry


class FakeJob:
    def __init__(self):
        self.stopped = False
        self.done = False

    def stop(self):
        self.stopped = self.done = True


def test_a_reload_within_the_grace_period_keeps_the_run():
    registry = RunRegistry()
    job = FakeJob()
    token = registry.add(job, "tab-1")
    assert registry.attach(token, "tab-2") is job  # the reloaded page, a new session, finds it by its token
    registry.release_session("tab-1", grace_s=0.05)
    time.sleep(0.3)
    assert not job.stopped and registry.attach(token, "tab-2") is job


def test_a_closed_tab_stops_its_run_after_the_grace_period_and_frees_it():
    registry = RunRegistry()
    job = FakeJob()
    token = registry.add(job, "tab-1")
    registry.release_session("tab-1", grace_s=0.05)
    assert not job.stopped  # not at once: the person may be reloading
    time.sleep(0.3)
    assert job.stopped and registry.attach(token, "tab-9") is None


def test_a_new_run_replaces_the_sessions_previous_one_and_tokens_are_private():
    registry = RunRegistry()
    first, second, other = FakeJob(), FakeJob(), FakeJob()
    first_token = registry.add(first, "tab-1")
    other_token = registry.add(other, "tab-2")
    registry.add(second, "tab-1")
    assert registry.attach(first_token, "tab-1") is None
    assert registry.attach(other_token, "tab-2") is other and not other.stopped
    assert len(first_token) >= 16 and first_token != other_token  # unguessable, one per run
