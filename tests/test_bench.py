"""Smoke tests of the benchmark's tools: its cheap rows run and print a table; a server that fails says why;
bench/report.py shows the numbers of the JSON it is given; the run store rows' pieces (synthetic runs, the
replay of events, the overlay's thinning, the Runs page in a browser) and the long-memory rows' pieces (the plain
Keras loop, a job followed to a threshold, the snapshot timers) and the text rows' pieces (the plain loop's settings,
the sampler's stand-in weights) do what their rows say. No timed assertions."""

import io
import json
import math
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_quick_bench_prints_the_cheap_rows(tmp_path):
    out_json = tmp_path / "bench.json"
    result = subprocess.run(
        [sys.executable, "bench/run.py", "--quick", "--rows", "5,7,8", "--json", str(out_json)],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=540)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]

    lines = result.stdout.splitlines()
    assert any(line.startswith("- Command: `python bench/run.py --quick --rows 5,7,8") for line in lines)
    assert any(line.startswith("- Machine: ") for line in lines)
    assert "| # | Measurement | Value | Target | n | Notes |" in lines
    table = [line for line in lines if line.startswith("| ")][1:]
    row_ids = {line.split("|")[1].strip() for line in table}
    assert row_ids == {"5", "7", "8"}
    assert not any("failed" in line for line in table)
    # Row 5 states its target, for the live updates and the Runs page's overlay; row 7 times both batch sizes;
    # row 8 times epoch and snapshot events, the epoch's against its 1 ms.
    assert sum("Live update JSON" in line and "≤ 300 kB" in line for line in table) >= 2
    assert any("Runs page overlay JSON: 10 runs × 1,000 epochs" in line and "≤ 300 kB" in line for line in table)
    assert any("batch 1" in line for line in table) and any("batch 32" in line for line in table)
    assert any("per epoch event, store on" in line and "≤ 1 ms" in line and "| 3×100 |" in line for line in table)
    assert any("per snapshot event, store on" in line and "| 3×21 |" in line for line in table)

    payload = json.loads(out_json.read_text())
    assert payload["quick"] is True and payload["rows"] == ["5", "7", "8"]
    assert all(entry["value"] is not None and entry["value"] > 0 for entry in payload["entries"])
    overlay = next(e["details"] for e in payload["entries"] if e["measure"].startswith("Runs page overlay"))
    assert overlay["points"] == 10 * 200 and overlay["unthinned_points"] == 10 * 1000


def test_a_server_that_exits_says_why(tmp_path):
    from bench import servers

    server = servers.StreamlitServer("no_such_app.py", tmp_path / "server.log", dict(os.environ))
    with server, pytest.raises(servers.ServerError, match="exited with code") as failure:
        server.wait_healthy(60)
    assert "File does not exist: no_such_app.py" in str(failure.value)  # the log's tail
    assert server.url.startswith("http://127.0.0.1:") and server.process.poll() is not None


def test_report_shows_the_numbers_of_the_json(tmp_path):
    from bench import load as bench_load
    from bench import report
    from bench import run as bench_run

    entries = [
        bench_run.Entry("4", "First paint: `streamlit run` → Data page rendered", 3.14159, "s", 3, "a | note",
                        ("<=", 3.0)),
        bench_run.Entry("5", "Live update JSON: seed", 123.456, "kB", 1, "sum of sizes", ("<=", 300.0), decimals=1),
        bench_run.failed_entry("7", TimeoutError("no RESULT")),
    ]
    info = bench_run.machine_info("python bench/run.py --rows 4,5,7 --quick")
    bench_json = tmp_path / "bench.json"
    bench_run.write_json(bench_json, info, bench_run.Plan.make(True), ["4", "5", "7"], 61.7, entries)

    sessions = [bench_load.Session(0, outcome="finished", ready_s=3.0, queue_wait_s=1.5, run_s=42.25),
                bench_load.Session(1, outcome="finished", ready_s=3.5, queue_wait_s=7.5, run_s=48.5)]
    row = bench_load.summarize(2, sessions, bench_load.Sampler(os.getpid()), 55.5, (0.4, 1.9), {"server_alive": True})
    meta = {"command": "python bench/load.py --sessions 2", "date": "2026-12-01T10:00:00", "preset": "seed",
            "epochs": 3, "slots": 2, "cores": 2}
    load_json = tmp_path / "load.json"
    load_json.write_text(json.dumps({"meta": meta, "rounds": [row]}, default=str))

    out = tmp_path / "docs" / "performance.md"
    assert report.main(["--bench", str(bench_json), "--load", str(load_json), "--out", str(out)]) == 0
    page = out.read_text()

    printed = io.StringIO()  # the table as bench/run.py prints it at the end of a run
    bench_run.print_table(bench_run.header_lines(info, 61.7), entries, out=printed)
    assert printed.getvalue() in page
    for text in ("| 4 | First paint: `streamlit run` → Data page rendered | 3.14 s | ≤ 3 s ✗ | 3 | a \\| note |",
                 "| 5 | Live update JSON: seed | 123.5 kB | ≤ 300 kB ✓ | 1 | sum of sizes |",
                 "TimeoutError: no RESULT", f"`python bench/run.py --rows 4,5,7 --quick` ({info['date']})",
                 "Total wall time of this run: 62 s", f"`{bench_json}`", f"`{load_json}`", "2026-12-01T10:00:00",
                 "4.5 s / 7.5 s", "45.4 s / 48.5 s", bench_load.table([row]), bench_load.notes([row], meta)):
        assert text in page, text


def test_the_rows_are_listed_everywhere_and_quick_does_less_of_each():
    from bench import run as bench_run

    assert tuple(bench_run.ROWS) == bench_run.ROW_IDS
    assert bench_run.parse_rows("9,8,5") == ["5", "8", "9"]
    assert set(bench_run.EARLY_ROWS) == {"4", "9"}  # the browser rows, before the training rows load the machine
    for row in bench_run.ROW_IDS:
        assert f" {row} " in bench_run.__doc__.split("How:")[0].replace(";", " ").replace("\n", " "), row
    quick, full = bench_run.Plan.make(True), bench_run.Plan.make(False)
    for name in ("repeats_store", "repeats_runs_page", "memory_runs", "text_epochs", "repeats_sample"):
        assert 1 <= getattr(quick, name) < getattr(full, name), name
    assert quick.runs_page_runs == full.runs_page_runs == 200


def test_synthetic_runs_are_recorded_like_trained_ones(tmp_path):
    from bench import synthetic
    from seqcore import reference
    from seqcore.config import preset
    from seqcore.store import RunStore

    store = RunStore(tmp_path)
    ids = synthetic.fill_store(store, "browser-a", 9, min_epochs=4, max_epochs=12)
    runs = {r.id: r for r in store.runs("browser-a")}
    assert set(runs) == set(ids) and store.runs("someone-else") == []
    tasks = {preset(name).data.generator for name in synthetic.PRESETS}
    assert {r.experiment.data.generator for r in runs.values()} == tasks  # 9 runs: every preset's
    assert len({(r.experiment.model.cell, r.experiment.model.units) for r in runs.values()}) > 3
    for i, run_id in enumerate(ids):
        summary, epochs = runs[run_id], runs[run_id].experiment.train.epochs
        stopped = i % synthetic.STOPPED_EVERY == synthetic.STOPPED_EVERY - 1
        assert summary.status == ("stopped" if stopped else "finished")
        assert summary.epochs_done == (max(1, epochs // 3) if stopped else epochs)
        history = store.history(run_id)
        assert [e.epoch for e in history] == list(range(1, summary.epochs_done + 1))
        assert all(np.isfinite([e.loss, e.metric, e.val_loss, e.val_metric]).all() for e in history)
        every = summary.experiment.train.snapshot_every
        expected = sorted({1, summary.epochs_done} | set(range(every, summary.epochs_done + 1, every)))
        assert list(store.snapshot_epochs(run_id)) == expected
        snapshot = store.snapshot(run_id, summary.epochs_done)
        layers, _ = reference.split_weights(snapshot.weights, summary.experiment.model.cell)  # Keras' layout
        assert len(layers) == summary.experiment.model.layers
        assert snapshot.hidden[0].shape[-1] == summary.experiment.model.units
        assert set(store.artifact_sizes(run_id)) == {"model.keras", "history.csv", "experiment.json"}
        assert summary.test_metric() is not None and summary.baselines


def test_the_store_replay_times_every_event_both_ways_and_records_only_with_the_store(tmp_path):
    from bench import run as bench_run
    from bench import synthetic
    from seqcore.config import preset
    from seqcore.store import RunStore

    experiment = preset("seed").with_values(**{"train.epochs": 10})
    events = synthetic.run_events(experiment, np.random.default_rng(0))
    store = RunStore(tmp_path)
    times = bench_run.replay_timings(experiment, events, store, repeats=3, tag="t")
    for mode in ("store", "none"):
        assert len(times[mode]["epoch"]) == 3 * 10 and len(times[mode]["snapshot"]) == 3 * 3  # epochs 1, 5, 10
        assert len(times[mode]["totals"]) == 3 and all(t > 0 for t in times[mode]["epoch"])
    stored = {r.id: r for r in store.runs("bench")}
    assert set(stored) == {"t-0-store", "t-1-store", "t-2-store"}
    assert all(r.status == "finished" and r.epochs_done == 10 for r in stored.values())
    assert bench_run.percentile([1.0, 2.0, 3.0, 4.0, 5.0], 50) == 3.0


def test_the_overlay_is_thinned_as_the_runs_page_thins_it(tmp_path, monkeypatch):
    from bench import tasks

    constants = tasks.runs_page_constants()  # read from pages/runs.py's source
    source = (REPO_ROOT / "pages" / "runs.py").read_text()
    assert f"POINTS_PER_OVERLAY = {constants['POINTS_PER_OVERLAY']:_}" in source
    assert f"MAX_OVERLAID = {constants['MAX_OVERLAID']}" in source
    assert "points = max(100, POINTS_PER_OVERLAY // max(1, len(same_metric)))" in source  # overlay_points' rule
    assert tasks.overlay_points(10, 2000) == 200 and tasks.overlay_points(40, 2000) == 100
    monkeypatch.setattr(tasks, "runs_page_constants", lambda: {"POINTS_PER_OVERLAY": 200, "MAX_OVERLAID": 10})
    result = tasks.prepare_overlay_bytes({"folder": str(tmp_path), "runs": 2, "epochs": 150})()
    assert result["points_per_run"] == 100 and result["points"] == 200 and result["unthinned_points"] == 300
    assert set(result["figures"]) == {"loss", "metric"}
    assert 0 < result["total_bytes"] < result["unthinned_bytes"]


@pytest.mark.slow
def test_the_runs_page_row_finds_the_browsers_runs_in_a_real_browser():
    # In a process of its own: Playwright's sync API refuses to start a second time in a process whose first
    # one (the e2e tests' browser, earlier in the same session) still runs.
    script = textwrap.dedent("""
        import dataclasses, json, sys
        sys.path.insert(0, %r)
        from bench import run as bench_run
        plan = dataclasses.replace(bench_run.Plan.make(True), runs_page_runs=12, repeats_runs_page=1)
        res = bench_run.Resources()
        try:
            entries = bench_run.row_runs_page(res, plan)
        finally:
            res.close()
        print(json.dumps({"entries": [e.to_dict() for e in entries], "tmp_gone": not res.tmp.exists(),
                          "servers_stopped": all(s._stopped for s in res.servers)}))
    """) % str(REPO_ROOT)
    child = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=600, cwd=REPO_ROOT)
    assert child.returncode == 0, child.stderr[-3000:]
    result = json.loads(child.stdout.strip().splitlines()[-1])
    from bench import run as bench_run

    entries = [bench_run.Entry.from_dict(e) for e in result["entries"]]
    assert [e.row for e in entries] == ["9"] * 3
    assert entries[0].measure.startswith("Runs page, 12 runs, warm server") and tuple(entries[0].target) == ("<=", 1.0)
    assert all(e.value is not None and e.value > 0 for e in entries)
    assert "the table lists all 12" in entries[0].note
    assert result["tmp_gone"] and result["servers_stopped"]


def test_report_shows_every_bench_file_in_its_own_section(tmp_path):
    from bench import report
    from bench import run as bench_run

    paths, tables = [], []
    for name, rows, value in (("bench.json", ["5"], 18.7), ("bench-store.json", ["8"], 0.512)):
        entries = [bench_run.Entry(rows[0], f"measure of {name}", value, "ms", 7, "", ("<=", 1.0), decimals=3)]
        info = bench_run.machine_info(f"python bench/run.py --rows {rows[0]} --json {name}")
        path = tmp_path / name
        bench_run.write_json(path, info, bench_run.Plan.make(False), rows, 10.0, entries)
        printed = io.StringIO()
        bench_run.print_table(bench_run.header_lines(info, 10.0), entries, out=printed)
        paths.append(path)
        tables.append(printed.getvalue())
    out = tmp_path / "performance.md"
    argv = ["--bench", str(paths[0]), "--bench", str(paths[1]), "--out", str(out)]
    assert report.main(argv) == 0
    page = out.read_text()
    assert all(table in page for table in tables)
    assert page.index(tables[0]) < page.index(tables[1])
    assert "## Benchmark (`bench/run.py`, `bench.json`)" in page and "Rows 8, in one run." in page
    assert f"`{paths[0]}` (written by `python bench/run.py --rows 5 --json bench.json`" in page
    assert f"and `{paths[1]}` (written by" in page
    assert "| 8 | measure of bench-store.json | 0.512 ms | ≤ 1 ms ✓ | 7 |  |" in page


def test_the_long_memory_rows_pieces_on_a_tiny_lesson(job_manager):
    """Rows 10-12 on a few steps: the plain loop reaches a (loose) MSE and times steady steps, a job is followed
    to its first epoch under a threshold and stopped there, row 11's jobs train on exactly the plain loop's
    batches, and row 12's child times every snapshot and its gradient pass."""
    from bench import run as bench_run
    from bench import tasks
    from seqcore import splits
    from seqcore.config import preset

    for cell in bench_run.STEADY_CELLS:
        for seq_len in bench_run.STEADY_SEQ_LENS:
            data = bench_run.steady_experiment(cell, seq_len, 3).data
            rows = splits.sequence_rows(data.n_sequences, data.val_fraction, data.test_fraction)[0]
            assert rows == bench_run.steady_steps(seq_len) * bench_run.PLAIN_ADDING["batch"]
    tiny = {"units": 4, "seq_len": 6, "batch": 8}
    plain = tasks.prepare_plain_adding({**tiny, "until_mse": 10.0, "eval_every": 3, "n_val": 16})()
    assert plain["reached"] and plain["steps"] == 3 and plain["time_s"] > plain["first_step_s"] > 0
    steady = tasks.prepare_plain_adding({**tiny, "cases": [{"cell": "GRU", "seq_len": 6, "warm_steps": 2,
                                                             "steps": 4}]})()["cases"]
    assert steady[0]["steps"] == 4 and steady[0]["ms_per_step"] > 0

    lesson = preset("adding_lstm").with_values(**{"data.seq_len": 8, "data.n_sequences": 200, "model.units": 4,
                                                  "train.epochs": 50})
    job = bench_run.lesson_job(job_manager, lesson, until_mse=10.0)  # any first epoch is under 10
    assert job["reached"] and job["epoch"] == 1 and job["steps"] == math.ceil(140 / 32)
    assert job["epochs_done"] < 50 and job["xla"] is False  # stopped early; a short run keeps XLA off

    from seqcore import training

    kept = training.make_snapshot, training.input_gradient_norms
    args = {"warm": False, "changes": {"data.seq_len": 8, "data.n_sequences": 100, "model.units": 4,
                                       "train.epochs": 3}}
    result = tasks.prepare_snapshot_cost(args)()
    assert (training.make_snapshot, training.input_gradient_norms) == kept  # the timers are taken off again
    assert result["snapshots"] == len(result["gradient_s"]) == 3  # epochs 1, 2 (every 2) and 3 (the last)
    assert 0 < sum(result["gradient_s"]) < sum(result["snapshot_s"]) < result["total_s"]



def test_the_text_rows_pieces_without_training():
    """Rows 13-15's pieces, nothing trained: the plain loop takes the text preset's settings and the jit_compile it
    is given; row 15's stand-in weights (when row 14 left no snapshot) have the shapes of the preset's network, in
    Keras' order, and sample the asked length with NumPy."""
    from bench import run as bench_run
    from seqcore.config import preset
    from seqcore.data import build_data
    from seqcore.models import build_model

    experiment = preset("text")
    args = bench_run.plain_text_args(bench_run.Plan.make(True), False)
    assert (args["units"], args["batch"], args["learning_rate"]) == (
        experiment.model.units, experiment.train.batch_size, experiment.train.learning_rate)
    assert args["jit_compile"] is False and args["epochs"] == bench_run.Plan.make(True).text_epochs >= 2
    data = build_data(experiment.data)
    model = build_model(experiment, sizes=(data.n_features, data.n_outputs))
    weights = bench_run.random_text_weights(data.vocabulary.size, experiment.model.units)
    assert [w.shape for w in weights] == [tuple(w.shape) for w in model.get_weights()]
    times = bench_run.time_samples(weights, data.vocabulary, data.text.prompt(), 2, 20, 0.8)
    assert len(times) == 2 and all(t > 0 for t in times)
