"""bench/queue_sim.py: the FIFO multi-slot queue on cases with known answers, the measured inputs it reads, and the
check against the measured 30-session round as docs/scaling.md states it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from bench import queue_sim

DOCS = Path(__file__).resolve().parent.parent / "docs"


def test_one_slot_back_to_back_arrivals_wait_for_everyone_before_them():
    waits = queue_sim.simulate([0, 0, 0, 0], [2, 3, 4, 1], slots=1)
    assert waits.tolist() == [0, 2, 5, 9]


def test_one_slot_with_gaps_waits_only_while_busy():
    waits = queue_sim.simulate([0, 1, 10, 10.5], [5, 5, 1, 1], slots=1)
    assert waits.tolist() == [0, 4, 0, 0.5]


def test_as_many_slots_as_sessions_never_wait():
    rng = np.random.default_rng(3)
    arrivals, durations = rng.uniform(0, 60, 25), rng.uniform(0, 30, 25)
    for slots in (25, 26, 100):
        assert not queue_sim.simulate(arrivals, durations, slots).any()


def test_two_slots_by_hand():
    # t=0: jobs 0 and 1 start (slots free until 4 and 2); job 2 gets the slot free at 2 (ends 5); job 3 (t=1) the
    # one free at 4 (ends 5); job 4 (t=2) waits for 5.
    waits = queue_sim.simulate([0, 0, 0, 1, 2], [4, 2, 3, 1, 5], slots=2)
    assert waits.tolist() == [0, 0, 2, 3, 3]


def test_waits_come_back_in_the_order_given():
    # First come, first served by arrival time, whatever the order of the lists: jobs at 0, 0.1 and 0.2 on two
    # slots (free at 4 and 2.1), then at 1 and 2.
    arrivals, durations = np.array([0, 0.1, 0.2, 1, 2]), np.array([4, 2, 3, 1, 5.0])
    expected = [0, 0, 1.9, 3, 3]
    assert queue_sim.simulate(arrivals, durations, 2).tolist() == pytest.approx(expected)
    order = [4, 2, 0, 3, 1]
    shuffled = queue_sim.simulate(arrivals[order], durations[order], 2)
    assert shuffled.tolist() == pytest.approx([expected[i] for i in order])


def test_ties_start_in_the_order_given():
    assert queue_sim.simulate([0, 0], [5, 1], 1).tolist() == [0, 5]
    assert queue_sim.simulate([0, 0], [1, 5], 1).tolist() == [0, 1]


def test_a_restarted_trainer_keeps_its_slot_away():
    waits = queue_sim.simulate([0, 0, 0], [1, 1, 1], slots=1, recycle_every=2, recycle_s=10)
    assert waits.tolist() == [0, 1, 12]


def test_more_slots_never_delay_a_job():
    rng = np.random.default_rng(7)
    arrivals, durations = rng.uniform(0, 60, 200), rng.exponential(2.0, 200)
    previous = None
    for slots in range(1, 12):
        waits = queue_sim.simulate(arrivals, durations, slots)
        if previous is not None:
            assert np.all(waits <= previous + 1e-9)
        previous = waits


@pytest.mark.parametrize("arrivals, durations, slots", [([0, 1], [1], 1), ([0], [1], 0), ([0], [-1], 1)])
def test_bad_input_is_refused(arrivals, durations, slots):
    with pytest.raises(ValueError):
        queue_sim.simulate(arrivals, durations, slots)


def test_smallest_slots_on_a_class_that_arrives_together():
    # 10 runs of 10 s at t=0: K slots give waits floor(i / K) * 10, medians 45 (K=1), 20 (2), 10 (3 and 4), 5 (5).
    found = queue_sim.smallest_slots(10, [10.0], seed=1, count=3, target_s=30, arrivals="together")
    assert (found["slots"], found["median_wait_s"]) == (2, 20)
    found = queue_sim.smallest_slots(10, [10.0], seed=1, count=3, target_s=10, arrivals="together")
    assert (found["slots"], found["median_wait_s"]) == (5, 5)


def test_round_slot_seconds_from_places_in_line():
    timeline = [[0.0, "sidebar", "No run yet"], [10.0, "panel", "queued 12 60"],
                [20.0, "sidebar", "Queued: position 7, waiting 20 s (about 9 s to go)"], [30.0, "panel", "queued 2 5"],
                [35.0, "sidebar", "Running"]]
    session = {"clicked_at": 100.0, "timeline": timeline}
    short = {"clicked_at": 100.5, "timeline": [[1.0, "panel", "queued 3 9"], [3.0, "panel", "queued 2 5"]]}
    load = {"meta": {"slots": 2}, "rounds": [{"per_session": [session, short]}]}
    # 10 places in 20 s on 2 slots: a run held a slot 4 s; the other page's readings span under 5 s.
    assert queue_sim.round_slot_seconds(load).tolist() == [4.0]
    assert queue_sim.click_offsets(load).tolist() == [0.0, 0.5]


def test_verdict_states_the_factor_both_ways():
    assert queue_sim.verdict(10, 19)["within_factor"] and queue_sim.verdict(10, 5)["within_factor"]
    assert not queue_sim.verdict(10, 21)["within_factor"] and not queue_sim.verdict(10, 4.9)["within_factor"]


def test_web_replicas_cover_the_larger_load():
    server = {"seed_run_visit_cpu_s": 1.2, "paused_session_cores": 0.01, "page_load_cpu_s": 0.5}
    plan = queue_sim.web_plan(100, server, drain_s=120)  # 1 core for the runs followed and 1 for the waiting pages
    assert plan["cores"] == {"drain": 2.0, "open_minute": 0.83}
    assert plan["replicas"] == 2
    assert queue_sim.web_plan(1000, {**server, "page_load_cpu_s": 3.0}, drain_s=120)["replicas"] == 50


# ------------------------------------------------------------------ the measured round and the page


def _committed() -> tuple[dict, dict, dict]:
    paths = [DOCS / name for name in ("scaling.json", "capacity.json", "load-30.json")]
    if not all(path.exists() for path in paths):
        pytest.skip("docs/scaling.json, docs/capacity.json or docs/load-30.json not there")
    return tuple(json.loads(path.read_text()) for path in paths)


def test_the_round_check_in_the_doc_is_what_the_inputs_give():
    """The predicted medians beside the measured one (docs/scaling.json) recomputed from the committed inputs, and
    each verdict the one its ratio gives for the stated factor (the model's misses are stated, not tuned away)."""
    plan, capacity, load = _committed()
    again = queue_sim.round_check(capacity, load, seed=plan["model"]["seed"], count=plan["model"]["trials"],
                                  recycle={"every": plan["model"]["recycle_every"]})
    assert again["measured_median_s"] == load["rounds"][0]["queue_wait_median_s"]
    assert again["factor"] == queue_sim.AGREEMENT_FACTOR
    for row, saved in zip(again["rows"], plan["check"]["rows"], strict=True):
        assert row["predicted"] == saved["predicted"]
        assert row["within_factor"] == saved["within_factor"] == queue_sim.verdict(
            row["predicted"]["median_wait_s"], row["measured_median_s"])["within_factor"]


def test_a_page_never_sees_its_run_sooner_than_the_queue_starts_it():
    """With the round's own slot-seconds a run, the simulated wait (press → start on a slot) is a lower bound of the
    measured one (press → the page shows the run): the page's drawing only adds to it."""
    plan, _, _ = _committed()
    for row in plan["check"]["rows"]:
        assert row["predicted"]["median_wait_s"] <= row["measured_median_s"]


def test_the_page_shows_the_plan():
    plan, _, _ = _committed()
    page = (DOCS / "scaling.md").read_text(encoding="utf-8")
    for name, text in queue_sim.render(plan).items():
        begin, end = queue_sim.BEGIN.format(name), queue_sim.END.format(name)
        assert page[page.index(begin) + len(begin):page.index(end)].strip() == text.strip(), name
    assert "<!-- ray-load:start -->" in page and "<!-- ray-load:end -->" in page
