"""`python -m seqcore train --preset text [--text FILE]` and `python -m seqcore sample`: a character-level run from
the command line, its bits per character against the n-gram baselines, and samples from its weights, read from
the run store or from the folder `train --out` wrote. One short real training run, shared by the module."""

import contextlib
import io
import math
import random
import re
import shutil

import numpy as np
import pytest

from seqcore.__main__ import main
from seqcore.config import preset
from seqcore.data import build_data
from seqcore.events import EndEvent
from seqcore.store import RunStore
from seqcore.text import decode_text, sample, text_bytes, vocabulary_from_json
from tests.test_cli import seqcore
from tests.test_store import epoch_event, record, snapshot_event, start_event

WORDS = ["the", "quick", "brown", "fox", "jumps", "over", "a", "lazy", "dog", "while", "seven", "old", "owls", "sing",
         "softly", "under", "bright", "winter", "stars", "and", "every", "river", "finds", "its", "way", "home"]


def small_text() -> str:
    """About 4,000 characters of made-up sentences, the same every time."""
    rng = random.Random(7)
    lines = [" ".join(rng.choice(WORDS) for _ in range(rng.randint(5, 11))).capitalize() + "." for _ in range(90)]
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def text_run(tmp_path_factory):
    """One tiny text run on a file of our own: (store folder, --out folder, the result, the run id, the text)."""
    folder = tmp_path_factory.mktemp("cli-text")
    text = small_text()
    source = folder / "own.txt"
    source.write_text(text, encoding="utf-8")
    store, out = folder / "store", folder / "out"
    result = seqcore("train", "--preset", "text", "--text", str(source), "--set", "data.seq_len=20",
                     "--set", "model.units=8", "--set", "train.epochs=2", "--set", "train.batch_size=32",
                     "--store", str(store), "--out", str(out), timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    match = re.search(r"^recorded as run (cli-[0-9a-f]+) in ", result.stdout, re.M)
    assert match, result.stdout
    return store, out, result, match.group(1), text


def stored_network(store_folder, run_id, epoch=None):
    """What `sample` reads from the store, read here: the experiment, the vocabulary and a snapshot's weights."""
    store = RunStore(store_folder)
    summary = store.run(run_id)
    epochs = store.snapshot_epochs(run_id)
    snapshot = store.snapshot(run_id, epochs[-1] if epoch is None else epoch)
    data = build_data(summary.experiment.data, store.uploaded(run_id)[0])
    return summary.experiment, data, snapshot


def run_main(*args) -> tuple[int, str, str]:
    """main(ARGS) in this process: (exit status, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(list(args))
    return status, out.getvalue(), err.getvalue()


def test_a_text_run_reports_bits_per_character_against_the_baselines_and_ends_with_a_sample(text_run):
    store_folder, out, result, run_id, text = text_run
    store = RunStore(store_folder)
    summary = store.run(run_id)
    assert summary.status == "finished" and summary.epochs_done == 2
    experiment = summary.experiment
    assert experiment.data.generator == "text" and experiment.data.text_source == "own"  # set by --text
    uploaded, _ = store.uploaded(run_id)
    np.testing.assert_array_equal(uploaded, text_bytes(text))
    assert decode_text(uploaded) == text

    # The scores: bits = nats / ln 2, perplexity = exp(nats), validation from the last epoch, test from the test.
    last = store.history(run_id)[-1]
    test_nats = summary.test_metrics["loss"]
    match = re.search(r"^bits/char: validation ([\d.]+) \(perplexity ([\d.]+)\), test ([\d.]+) \(perplexity "
                      r"([\d.]+)\)$", result.stdout, re.M)
    assert match, result.stdout
    assert match.groups() == (f"{last.val_loss / math.log(2):.4f}", f"{math.exp(last.val_loss):.2f}",
                              f"{test_nats / math.log(2):.4f}", f"{math.exp(test_nats):.2f}")
    baselines = summary.baselines
    assert set(baselines) == {"unigram bits/char", "bigram bits/char", "trigram bits/char"}
    shown = ", ".join(f"{name} {baselines[f'{name} bits/char']:.4f}" for name in ("unigram", "bigram", "trigram"))
    assert f"baselines, validation bits/char: {shown}\n" in result.stdout
    bits = last.val_loss / math.log(2)
    beaten = [name for name in ("unigram", "bigram", "trigram") if bits < baselines[f"{name} bits/char"]]
    verdict = re.search(r"^beats .* on validation.*$", result.stdout, re.M).group(0)
    if not beaten:
        assert verdict == "beats none of the baselines on validation"
    elif len(beaten) == 3:
        assert verdict == "beats all 3 baselines on validation"
    else:
        assert verdict.startswith(f"beats the {' and '.join(beaten)} baseline")

    # The sample: 300 characters of the last snapshot at temperature 0.8, seed 0, after a validation prompt.
    _, data, snapshot = stored_network(store_folder, run_id)
    assert snapshot.epoch == 2
    prompt = data.text.prompt()
    drawn = sample(snapshot.weights, data.vocabulary, prompt, 300, cell=experiment.model.cell, temperature=0.8,
                   seed=0)
    header = (f"sample of epoch 2, temperature 0.8, seed 0: 300 characters after the prompt {prompt!r} (from the "
              f"validation text):\n")
    assert header + prompt + drawn.text + "\n" in result.stdout
    assert len(drawn.text) == 300

    # The progress bar shows bits per character beside Keras' nats; vocabulary.json lies with the other files.
    assert re.search(r"^2/2 - .* - loss: [\d.]+ - val_loss: [\d.]+ - bits/char: [\d.]+ - val_bits/char: [\d.]+ - "
                     r"accuracy", result.stderr, re.M), result.stderr
    assert f"vocabulary.json: {out / 'vocabulary.json'}" in result.stdout.splitlines()
    assert vocabulary_from_json((out / "vocabulary.json").read_text(encoding="utf-8")) == data.vocabulary
    assert store.artifacts(run_id)["vocabulary.json"] == (out / "vocabulary.json").read_bytes()


def test_sample_from_the_store_prints_the_numpy_samplers_text_alone_and_the_same_twice(text_run):
    store_folder, _, _, run_id, _ = text_run
    experiment, data, snapshot = stored_network(store_folder, run_id)
    args = ("sample", "--run", run_id, "--prompt", "The quick", "--temperature", "0", "--length", "50",
            "--store", str(store_folder))
    first, second = seqcore(*args), seqcore(*args)
    assert first.returncode == 0, first.stderr
    expected = sample(snapshot.weights, data.vocabulary, "The quick", 50, cell=experiment.model.cell,
                      temperature=0).text
    assert first.stdout == second.stdout == expected  # nothing but the continuation: it can be piped
    assert first.stderr.startswith(f"run {run_id}, snapshot of epoch 2: prompt 'The quick', temperature 0, ")
    assert "Traceback" not in first.stderr

    # --epoch picks an earlier snapshot; --seed, --top-k and --temperature reach the sampler.
    early = stored_network(store_folder, run_id, epoch=1)[2]
    assert early.epoch == 1
    status, out, err = run_main("sample", "--run", run_id, "--prompt", "Every river", "--epoch", "1",
                                "--temperature", "1.3", "--top-k", "5", "--seed", "9", "--length", "80",
                                "--store", str(store_folder))
    assert status == 0, err
    assert out == sample(early.weights, data.vocabulary, "Every river", 80, cell=experiment.model.cell,
                         temperature=1.3, top_k=5, seed=9).text
    assert "snapshot of epoch 1" in err and "top-k 5" in err and "seed 9" in err


def test_sample_from_a_folder_reads_model_keras_and_gives_the_stores_text_at_the_last_epoch(text_run, tmp_path):
    store_folder, out, _, run_id, _ = text_run
    options = ("--prompt", "Seven owls", "--temperature", "0.9", "--top-k", "8", "--seed", "3", "--length", "120")
    from_files = seqcore("sample", "--run", str(out), *options, timeout=120)
    assert from_files.returncode == 0, from_files.stderr[-3000:]
    status, from_store, _ = run_main("sample", "--run", run_id, *options, "--store", str(store_folder))
    assert status == 0
    assert from_files.stdout == from_store and len(from_store) == 120
    assert f"the model in {out}" in from_files.stderr and "Traceback" not in from_files.stderr

    # `runs export` writes the vocabulary too, so an exported folder can be sampled as train's own.
    exported = tmp_path / "exported"
    status, printed, _ = run_main("runs", "export", run_id, "--out", str(exported), "--store", str(store_folder))
    assert status == 0
    assert f"vocabulary.json: {exported / 'vocabulary.json'}" in printed.splitlines()
    for name in ("model.keras", "experiment.json", "vocabulary.json"):
        assert (exported / name).read_bytes() == (out / name).read_bytes(), name


def test_a_prompt_outside_the_vocabulary_is_read_as_unknown_and_said_so(text_run):
    store_folder, _, _, run_id, _ = text_run
    status, out, err = run_main("sample", "--run", run_id, "--prompt", "Zürich 東京", "--length", "20",
                                "--store", str(store_folder))
    assert status == 0, err
    assert len(out) == 20
    unknown = sum(1 for c in "Zürich 東京" if c not in stored_network(store_folder, run_id)[1].vocabulary.chars)
    assert unknown >= 3
    assert f"note: {unknown} characters of the prompt are outside the vocabulary and read as unknown" in err


def test_bad_sample_arguments_exit_2_naming_the_argument(text_run, tmp_path):
    store_folder, out, _, run_id, _ = text_run
    store = ("--store", str(store_folder))
    no_vocabulary = tmp_path / "no-vocabulary"
    shutil.copytree(out, no_vocabulary)
    (no_vocabulary / "vocabulary.json").unlink()
    cases = [
        (["--run", run_id, "--prompt", "a", "--epoch", "7"],
         f"--epoch 7: run {run_id} has no snapshot of epoch 7; it has snapshots of epochs 1, 2"),
        (["--run", run_id, "--prompt", "a", "--temperature", "-1"], "--temperature -1.0: must be a finite number"),
        (["--run", run_id, "--prompt", "a", "--temperature", "nan"], "--temperature nan: must be a finite number"),
        (["--run", run_id, "--prompt", "a", "--length", "-5"], "--length -5: must be 0 or more"),
        (["--run", run_id, "--prompt", "a", "--top-k", "0"], "--top-k 0: top_k must be a whole number from 1 to the "
                                                             "vocabulary size"),
        (["--run", run_id, "--prompt", "a", "--top-k", "1000"], "--top-k 1000: top_k must be a whole number"),
        (["--run", run_id, "--prompt", ""], "--prompt: is empty"),
        (["--run", "nope", "--prompt", "a"], f"--run nope: no such run in {store_folder}, and no such folder"),
        (["--run", str(tmp_path), "--prompt", "a"], f"--run {tmp_path}: the folder has no experiment.json"),
        (["--run", str(no_vocabulary), "--prompt", "a"], f"--run {no_vocabulary}: the folder has no vocabulary.json"),
        (["--run", str(out), "--prompt", "a", "--epoch", "1"], "--epoch 1: a folder holds only the model at the end"),
    ]
    for args, message in cases:
        status, printed, err = run_main("sample", *args, *store)
        assert (status, printed) == (2, ""), (args, err)
        assert err.startswith(f"error: {message}"), (args, err)


def test_sample_refuses_a_run_that_is_not_text_and_one_without_snapshots(tmp_path):
    store = RunStore(tmp_path)
    digits = record(store, "digits", experiment=preset("seed"))
    digits.mark_started()
    digits.apply(start_event())
    digits.apply(epoch_event(1, epochs=1))
    digits.apply(snapshot_event(1))
    digits.finish(EndEvent("finished", "Trained all 1 epochs.", 1))
    empty = record(store, "empty", experiment=preset("text"))
    empty.mark_started()
    empty.finish(EndEvent("stopped", "Stopped by the user.", 0))
    status, _, err = run_main("sample", "--run", "digits", "--prompt", "a", "--store", str(tmp_path))
    assert status == 2
    assert err.startswith("error: --run digits: is not a text run (its data.generator is random_digits)"), err
    status, _, err = run_main("sample", "--run", "empty", "--prompt", "a", "--store", str(tmp_path))
    assert status == 2 and err.startswith("error: --run empty: has no snapshot of its weights"), err


def test_sampling_a_stored_run_imports_no_tensorflow_or_keras(text_run, packages_imported_by):
    store_folder, _, _, run_id, _ = text_run
    call = ["sample", "--run", run_id, "--prompt", "a", "--store", str(store_folder)]
    code = ("import contextlib, io\nfrom seqcore.__main__ import main\n"
            f"with contextlib.redirect_stdout(io.StringIO()):\n    assert main({call!r}) == 0\n")
    assert packages_imported_by(code, {"tensorflow", "keras", "jax"}) == []


@pytest.mark.parametrize(("make", "args", "words"), [
    (lambda path: path.write_bytes(b"The cat sat.\n" * 50 + b"caf\xe9 au lait\n" * 20), ["--preset", "text"],
     ["--text", "cannot be learnt: the text is not UTF-8: byte 0xE9 at offset 653"]),
    (lambda path: path.write_bytes(b""), ["--preset", "text"], ["--text", "the text is empty"]),
    (lambda path: None, ["--preset", "text"], ["--text", "cannot be read"]),
    (lambda path: path.write_text("words " * 1000), ["--preset", "seed"],
     ["--text", "applies only when data.generator is text", "data.generator is random_digits"]),
    (None, ["--preset", "text", "--set", "data.text_source=own"],
     ["--text: None is required when data.text_source is own: pass --text FILE"]),
])
def test_bad_text_input_exits_2_naming_text_and_records_nothing(tmp_path, make, args, words):
    source = tmp_path / "own.txt"
    if make is not None:
        make(source)
    text_args = ["--text", str(source)] if make is not None else []
    store, out = tmp_path / "store", tmp_path / "out"
    result = seqcore("train", *args, *text_args, "--store", str(store), "--out", str(out))
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("error: --text"), result.stderr
    for word in words:
        assert word in result.stderr, (word, result.stderr)
    if make is not None:
        assert str(source) in result.stderr
    assert "Traceback" not in result.stderr
    assert not out.exists() and not store.exists(), "nothing may be recorded or written for invalid input"
