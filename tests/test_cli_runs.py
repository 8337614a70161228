"""`python -m seqcore train` records into the run store, and `runs` lists, shows, compares, exports and deletes
what it holds. Real stores in tmp folders: a short real training run where it matters, runs written through
`JobRecord` (as the server writes them) elsewhere."""

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from seqcore.config import Experiment, differences, preset
from seqcore.events import EndEvent
from seqcore.store import RunStore
from tests.test_cli import PROJECT_ROOT, seqcore
from tests.test_store import epoch_event, record, start_event

TOKEN_BASELINES = {"chance accuracy": 0.1, "majority accuracy": 0.15, "bigram accuracy": 0.3,
                   "bigram cross-entropy": 2.0}
SERIES_BASELINES = {"mean MSE": 0.5, "persistence MSE": 0.02, "linear AR MSE": 0.04}


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """One real `train` of 3 epochs into a fresh store: (store folder, --out folder, its result, its run id)."""
    folder = tmp_path_factory.mktemp("cli-store")
    store, out = folder / "store", folder / "out"
    result = seqcore("train", "--preset", "seed", "--set", "train.epochs=3", "--store", str(store), "--out", str(out),
                     "--quiet", timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    match = re.search(r"^recorded as run (cli-[0-9a-f]+) in (.+)$", result.stdout, re.M)
    assert match, result.stdout
    assert match.group(2) == str(store)
    return store, out, result, match.group(1)


def fill(folder):
    """Three runs as the server records them: a finished seed run with 8 units, a failed one with 16 units and
    25 epochs (no test, no artifacts), and a sine run that ended before training (no epochs)."""
    store = RunStore(folder)
    small = record(store, "small", owner="browser-a", experiment=preset("seed").with_values(**{"model.units": 8}))
    small.mark_started()
    small.apply(start_event(baselines=TOKEN_BASELINES))
    for epoch in (1, 2, 3):
        small.apply(epoch_event(epoch, epochs=3))
    small.finish(EndEvent("finished", "Trained all 3 epochs.", 3, {"loss": 1.5, "accuracy": 0.4},
                          {"model.keras": b"k" * 1234, "history.csv": b"epoch\n"}))
    big = record(store, "big", owner="browser-b", experiment=preset("seed").with_values(**{"model.units": 16}))
    big.mark_started()
    big.apply(start_event(baselines=TOKEN_BASELINES))
    for epoch in range(1, 26):
        big.apply(epoch_event(epoch, epochs=100))
    big.finish(EndEvent("failed", "The loss diverged (became nan) in epoch 26.", 25))
    sine = record(store, "sine", owner=None, experiment=preset("sine"))
    sine.mark_started()
    sine.apply(start_event(metric="mae", baselines=SERIES_BASELINES))
    sine.finish(EndEvent("stopped", "Stopped by the user.", 0))
    store.close()
    return folder


def test_train_records_every_epoch_and_the_run_is_listed_finished_with_its_test_metric(trained):
    folder, out, result, run_id = trained
    store = RunStore(folder)
    summary = store.run(run_id)
    assert (summary.status, summary.owner, summary.epochs_done, summary.reason) == (
        "finished", "cli", 3, "Trained all 3 epochs.")
    assert [e.epoch for e in store.history(run_id)] == [1, 2, 3]
    assert store.artifacts(run_id) == {name: (out / name).read_bytes()
                                       for name in ("model.keras", "history.csv", "experiment.json")}
    test_accuracy = re.search(r"^test accuracy: ([\d.]+)$", result.stdout, re.M).group(1)
    assert f"{summary.test_metric():.4f}" == test_accuracy

    listing = seqcore("runs", "list", "--store", str(folder))
    assert listing.returncode == 0, listing.stderr
    header, rule, *rows = listing.stdout.splitlines()
    assert header.split()[:3] == ["id", "when", "preset"] and set(rule) <= {"-", " "}
    assert len(rows) == 1 and rows[0].startswith(run_id)
    row = rows[0]
    for text in ("custom (seed + 1 change)", "LSTM", "1×50", "random_digits", "3/3", "accuracy", test_accuracy,
                 "bigram accuracy", "finished"):
        assert text in row, (text, row)


def test_train_and_list_against_a_postgresql_store_by_its_url_without_showing_its_password(tmp_path,
                                                                                          postgres_database):
    url = postgres_database
    password = url.split("://", 1)[1].split("@", 1)[0].split(":", 1)[1]
    result = seqcore("train", "--preset", "seed", "--set", "train.epochs=2", "--store", url, "--out",
                     str(tmp_path / "out"), "--quiet", timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    match = re.search(r"^recorded as run (cli-[0-9a-f]+) in (.+)$", result.stdout, re.M)
    assert match and match.group(2) == url.replace(password, "***"), result.stdout
    run_id = match.group(1)
    listing = seqcore("runs", "list", "--store", url)
    assert listing.returncode == 0, listing.stderr
    rows = listing.stdout.splitlines()[2:]
    assert len(rows) == 1 and rows[0].startswith(run_id) and "2/2" in rows[0] and "finished" in rows[0]
    (listed,) = json.loads(seqcore("runs", "list", "--json", "--store", url).stdout)
    assert (listed["id"], listed["status"], listed["epochs_done"], listed["owner"]) == (run_id, "finished", 2, "cli")
    store = RunStore(url)
    assert [e.epoch for e in store.history(run_id)] == [1, 2]
    assert store.artifacts(run_id) == {name: (tmp_path / "out" / name).read_bytes()
                                       for name in ("model.keras", "history.csv", "experiment.json")}
    assert password not in result.stdout + result.stderr + listing.stdout + listing.stderr
    store.close()


def test_list_json_holds_every_run_of_every_owner_newest_first_with_numbers_and_nulls(tmp_path):
    fill(tmp_path)
    result = seqcore("runs", "list", "--json", "--store", str(tmp_path))
    assert result.returncode == 0, result.stderr
    runs = json.loads(result.stdout)
    assert [r["id"] for r in runs] == ["sine", "big", "small"]
    assert [r["owner"] for r in runs] == [None, "browser-b", "browser-a"]
    sine, big, small = runs
    assert small["preset"] == "custom (seed + 1 change)" and small["nearest_preset"] == "seed"
    assert small["changes"] == ["model.units"]
    assert (small["cell"], small["layers"], small["units"], small["generator"]) == ("LSTM", 1, 8, "random_digits")
    assert (small["epochs_done"], small["epochs"], small["metric"], small["status"]) == (3, 100, "accuracy",
                                                                                        "finished")
    last = epoch_event(3, epochs=3)
    assert (small["train_metric"], small["val_metric"]) == (last.metric, last.val_metric)
    assert small["test_metric"] == 0.4 and small["test_metrics"] == {"loss": 1.5, "accuracy": 0.4}
    assert (small["best_baseline"], small["best_baseline_value"]) == ("bigram accuracy", 0.3)  # the highest
    assert isinstance(small["seconds"], float) and isinstance(small["submitted_at"], float)
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d", small["when"])
    assert Experiment.from_dict(small["experiment"]) == preset("seed").with_values(**{"model.units": 8})
    assert big["test_metric"] is None and big["test_metrics"] == {} and big["status"] == "failed"
    assert big["epochs_done"] == 25 and big["reason"].startswith("The loss diverged")
    assert sine["preset"] == "sine" and sine["changes"] == [] and sine["metric"] == "mae"
    assert sine["train_metric"] is None and sine["val_metric"] is None and sine["test_metric"] is None
    assert (sine["best_baseline"], sine["best_baseline_value"]) == ("persistence MSE", 0.02)  # the lowest

    table = seqcore("runs", "list", "--store", str(tmp_path))
    assert table.returncode == 0, table.stderr
    rows = table.stdout.splitlines()[2:]
    assert [row.split()[0] for row in rows] == ["sine", "big", "small"]
    header, rule = table.stdout.splitlines()[:2]
    columns = [m.span() for m in re.finditer(r"-+", rule)]
    assert len(columns) == 14
    for line in [header, *rows]:  # aligned: each cell lies within its column's rule
        cells = [m.span() for m in re.finditer(r"\S+(?: \S+)*", line)]
        assert len(cells) == len(columns), line
        assert all(a >= start and b <= end for (a, b), (start, end) in zip(cells, columns, strict=True)), line
    assert "custom (seed + 1 change)" in rows[2] and "1×8" in rows[2] and "0.4000" in rows[2]


def test_list_of_a_folder_without_a_store_says_so_and_creates_nothing(tmp_path):
    missing = tmp_path / "typo"
    result = seqcore("runs", "list", "--store", str(missing))
    assert result.returncode == 0 and result.stdout == "" and f"no runs in {missing}" in result.stderr
    as_json = seqcore("runs", "list", "--json", "--store", str(missing))
    assert as_json.returncode == 0 and json.loads(as_json.stdout) == []
    assert not missing.exists()


def test_show_gives_the_summary_reason_settings_history_metrics_baselines_and_artifacts(tmp_path):
    fill(tmp_path)
    result = seqcore("runs", "show", "small", "--store", str(tmp_path))
    assert result.returncode == 0, result.stderr
    text = result.stdout
    assert text.startswith("run small\n")
    assert re.search(r"^  status +finished: Trained all 3 epochs\.$", text, re.M)
    assert re.search(r"^  preset +custom \(seed \+ 1 change\): model\.units$", text, re.M)
    assert re.search(r"^  test +loss 1\.5000, accuracy 0\.4000$", text, re.M)
    settings = text.split("settings (experiment.json):\n", 1)[1].split("\n\n", 1)[0]
    assert Experiment.from_json(settings) == preset("seed").with_values(**{"model.units": 8})
    history = text.split("history (3 epochs):\n", 1)[1].split("\n\n", 1)[0].splitlines()
    assert history[0].split() == ["epoch", "loss", "accuracy", "val_loss", "val_accuracy", "seconds", "elapsed"]
    assert [line.split()[0] for line in history[2:]] == ["1", "2", "3"]
    assert re.search(r"^bigram accuracy +0\.3000$", text, re.M)
    assert re.search(r"^model\.keras +1,234$", text, re.M)

    failed = seqcore("runs", "show", "big", "--store", str(tmp_path))
    assert failed.returncode == 0, failed.stderr
    assert "failed: The loss diverged (became nan) in epoch 26." in failed.stdout
    assert "the last 20" in failed.stdout and "artifacts: none" in failed.stdout
    history = failed.stdout.split("history (25 epochs):\n", 1)[1].split("\n\n", 1)[0].splitlines()
    assert [line.split()[0] for line in history if line[:1] == " " or line[:1].isdigit()] == [
        str(epoch) for epoch in range(6, 26)]


def test_compare_lists_exactly_the_settings_that_differ_then_the_final_metrics(tmp_path):
    fill(tmp_path)
    result = seqcore("runs", "compare", "small", "big", "--store", str(tmp_path))
    assert result.returncode == 0, result.stderr
    settings, final = result.stdout.split("\n\n")
    header, _, *rows = settings.splitlines()
    assert header.split() == ["setting", "small", "big"]
    assert [row.split() for row in rows] == [["model.units", "8", "16"]]  # and not model.cell, equal in both
    cells = [re.split(r" {2,}", line.strip()) for line in final.splitlines()]
    assert cells[0] == ["final", "small", "big"]
    final = {label: values for label, *values in cells[2:]}
    assert final["epochs"] == ["3/100", "25/100"]
    assert final["test metric"] == ["0.4000", "-"]
    assert final["val metric"] == [f"{epoch_event(3).val_metric:.4f}", f"{epoch_event(25).val_metric:.4f}"]
    assert final["status"] == ["finished", "failed"]
    assert "time" in final

    three = seqcore("runs", "compare", "small", "big", "sine", "--store", str(tmp_path))
    assert three.returncode == 0, three.stderr
    names = [line.split()[0] for line in three.stdout.split("\n\n")[0].splitlines()[2:]]
    differing = {"model.units", *differences(preset("seed"), preset("sine"))}
    assert set(names) == differing and "model.cell" in names and "data.n_sequences" not in names

    one = seqcore("runs", "compare", "small", "--store", str(tmp_path))
    assert one.returncode == 2 and "at least two run ids" in one.stderr and "Traceback" not in one.stderr


def test_export_writes_model_history_and_settings_and_a_failed_run_still_gets_its_curve(tmp_path, trained):
    folder, out, _, run_id = trained
    exported = tmp_path / "exported"
    result = seqcore("runs", "export", run_id, "--out", str(exported), "--store", str(folder))
    assert result.returncode == 0, result.stderr
    for name in ("model.keras", "history.csv", "experiment.json"):
        assert f"{name}: {exported / name}" in result.stdout.splitlines()
        assert (exported / name).read_bytes() == (out / name).read_bytes(), name  # the same files train wrote

    fill(tmp_path / "store")
    failed = tmp_path / "failed"
    result = seqcore("runs", "export", "big", "--out", str(failed), "--store", str(tmp_path / "store"))
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in failed.iterdir()) == ["experiment.json", "history.csv"]
    lines = (failed / "history.csv").read_text().splitlines()
    assert lines[0] == "epoch,loss,accuracy,val_loss,val_accuracy,seconds,samples_per_s,elapsed"
    assert [line.split(",")[0] for line in lines[1:]] == [str(epoch) for epoch in range(1, 26)]
    assert Experiment.from_json((failed / "experiment.json").read_text()) == preset("seed").with_values(
        **{"model.units": 16})
    # The stored history.csv artifact ("epoch\n") is replaced by the one rebuilt from the recorded epochs.
    small = tmp_path / "small"
    assert seqcore("runs", "export", "small", "--out", str(small), "--store", str(tmp_path / "store")).returncode == 0
    assert len((small / "history.csv").read_text().splitlines()) == 1 + 3
    assert (small / "model.keras").read_bytes() == b"k" * 1234


def test_delete_removes_the_run_and_refuses_one_that_has_not_ended(tmp_path):
    fill(tmp_path)
    result = seqcore("runs", "delete", "big", "--store", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("deleted run big (failed, 25 epochs")
    listed = json.loads(seqcore("runs", "list", "--json", "--store", str(tmp_path)).stdout)
    assert [r["id"] for r in listed] == ["sine", "small"]
    assert RunStore(tmp_path).history("big") == ()
    again = seqcore("runs", "delete", "big", "--store", str(tmp_path))
    assert again.returncode == 2 and again.stderr == f"error: run big: no such run in {tmp_path}\n"

    live = record(RunStore(tmp_path), "live")  # its server (this process) still runs
    live.mark_started()
    refused = seqcore("runs", "delete", "live", "--store", str(tmp_path))
    assert refused.returncode == 2 and "has not ended" in refused.stderr and "--force" in refused.stderr
    assert RunStore(tmp_path).exists("live")
    forced = seqcore("runs", "delete", "live", "--force", "--store", str(tmp_path))
    assert forced.returncode == 0 and not RunStore(tmp_path).exists("live")


@pytest.mark.parametrize("command", [["show", "nope"], ["compare", "small", "nope"], ["export", "nope", "--out", "X"],
                                     ["delete", "nope"]])
def test_an_unknown_run_id_exits_2_naming_it(tmp_path, command):
    fill(tmp_path / "store")
    command = [str(tmp_path / "x") if part == "X" else part for part in command]
    result = seqcore("runs", *command, "--store", str(tmp_path / "store"))
    assert result.returncode == 2
    assert result.stderr == f"error: run nope: no such run in {tmp_path / 'store'}\n"
    assert result.stdout == "" and not (tmp_path / "x").exists()


def test_a_store_that_cannot_be_opened_exits_2_with_its_message_before_training(tmp_path):
    RunStore(tmp_path)
    with sqlite3.connect(tmp_path / "store.sqlite") as conn:
        conn.execute("UPDATE store_version SET version = 99")
    for args in (["runs", "list"], ["train", "--out", str(tmp_path / "out")]):
        result = seqcore(*args, "--store", str(tmp_path))
        assert result.returncode == 2, result.stderr
        assert result.stderr.startswith("error: The run store sqlite:///") and "schema 99" in result.stderr
        assert "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()
    a_file = tmp_path / "store.sqlite"
    result = seqcore("runs", "list", "--store", str(a_file))
    assert result.returncode == 2 and result.stderr.startswith(f"error: --store {a_file}: is a file")
    result = seqcore("runs", "list", "--store", "nosuchdialect://host/db")
    assert result.returncode == 2
    assert result.stderr.startswith("error: --store nosuchdialect://host/db: cannot be opened")


def test_the_runs_commands_import_no_tensorflow_or_keras(tmp_path, packages_imported_by):
    fill(tmp_path / "store")
    calls = [["list"], ["list", "--json"], ["show", "small"], ["compare", "small", "big"],
             ["export", "big", "--out", str(tmp_path / "out")], ["delete", "sine"]]
    code = "import contextlib, io\nfrom seqcore.__main__ import main\nwith contextlib.redirect_stdout(io.StringIO()):\n"
    store = str(tmp_path / "store")
    code += "".join(f"    assert main({['runs', *args, '--store', store]!r}) == 0\n" for args in calls)
    assert packages_imported_by(code, {"tensorflow", "keras", "jax"}) == []
    assert (tmp_path / "out" / "history.csv").is_file()


@pytest.mark.slow
def test_ctrl_c_leaves_the_run_recorded_as_stopped_with_its_epochs(tmp_path):
    store = RunStore(tmp_path)
    command = [sys.executable, "-m", "seqcore", "train", "--preset", "seed", "--set", "train.epochs=5000",
               "--store", str(tmp_path), "--out", str(tmp_path / "out"), "--quiet"]
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    process = subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    try:
        deadline = time.monotonic() + 240
        while not any(r.epochs_done >= 2 for r in store.runs(any_owner=True)):
            assert process.poll() is None and time.monotonic() < deadline, process.communicate()
            time.sleep(0.2)
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)
    assert process.returncode == 130, stderr[-3000:]
    assert "Traceback" not in stderr
    (summary,) = store.runs(any_owner=True)
    history = store.history(summary.id)
    assert (summary.status, summary.owner, summary.done) == ("stopped", "cli", True)
    assert summary.epochs_done == len(history) >= 2 and [e.epoch for e in history] == list(range(1, len(history) + 1))
    assert summary.reason == f"Interrupted (Ctrl-C) after {len(history)} of 5000 epochs."
    assert f"stopped: {summary.reason}" in stdout and f"recorded as run {summary.id} in {tmp_path}" in stdout
    # Stopped at the next step, as the app's Stop button does: what it trained is kept, in the store and on disk.
    assert (tmp_path / "out" / "model.keras").exists()
    assert "model.keras" in store.artifact_sizes(summary.id)


def test_the_cli_names_a_store_url_without_a_password_in_its_user_part_or_its_query():
    from seqcore.__main__ import _store_name

    for url in ("postgresql+psycopg://seqcore:hunter2@127.0.0.1:5432/runs",
                "postgresql+psycopg://seqcore@127.0.0.1:5432/runs?password=hunter2"):
        shown = _store_name(url)
        assert "hunter2" not in shown and "127.0.0.1:5432/runs" in shown
