"""The text task end to end in the engine: data, limits, a short training run, its artifacts and its charts."""

from __future__ import annotations

import io
import json
import math
import zipfile

import numpy as np
import pytest

from seqcore import limits, panels
from seqcore.config import DataConfig, Experiment, preset
from seqcore.data import DataError, build_data
from seqcore.text import builtin_corpus, next_char_probabilities, text_bytes, vocabulary_from_json

PARAGRAPH = ("The quick brown fox jumps over the lazy dog. " * 12 + "\n"
             + "A stitch in time saves nine, and a rolling stone gathers no moss. " * 8)


def _own(text: str, **values) -> tuple[DataConfig, np.ndarray]:
    return DataConfig(generator="text", text_source="own", **values), text_bytes(text)


def test_builtin_windows_never_cross_parts_and_the_vocabulary_comes_from_training():
    config = preset("text").data
    data = build_data(config)
    split = data.text
    for part, name in (("train", "train"), ("validation", "val"), ("test", "test")):
        x, y, _ = data.part(name)
        ids = split.ids[part]
        # Every window is a run of its own part's characters, the target shifted by one.
        starts = np.arange(len(x)) * config.seq_len
        np.testing.assert_array_equal(x, ids[starts[:, None] + np.arange(config.seq_len)])
        np.testing.assert_array_equal(y, ids[starts[:, None] + np.arange(config.seq_len) + 1])
    start, stop = split.bounds["train"]
    assert set(data.vocabulary.chars[:-1]) <= set(builtin_corpus()[start:stop])
    assert data.n_features == data.n_outputs == data.vocabulary.size


def test_a_chinese_text_is_capped_with_the_rest_read_as_unknown():
    chinese = "".join(chr(0x4E00 + (i * 7919) % 3000) for i in range(6000)) + "😀" * 30
    config, raw = _own(chinese, seq_len=20, max_vocab=50)
    data = build_data(config, raw)
    vocabulary = data.vocabulary
    assert vocabulary.size == 50 and data.n_features == 50
    assert vocabulary.distinct_count > 1000 and vocabulary.mapped_count > 0
    assert (data.x_train == vocabulary.unknown_index).any()


def test_a_stride_shorter_than_the_window_gives_a_short_text_more_windows():
    config, raw = _own(PARAGRAPH, seq_len=40)
    strided = build_data(DataConfig(**{**config.__dict__, "stride": 4}), raw)
    plain = build_data(config, raw)
    assert strided.n_train > 8 * plain.n_train


@pytest.mark.parametrize(("raw", "words"), [
    (None, ["data.text_source", "paste or upload"[:5]]),
    (np.frombuffer(b"abc\xffdef" * 100, np.uint8), ["text", "not UTF-8", "0xFF", "offset 3"]),
    (text_bytes("short text"), ["text", "too short", "10 characters"]),
    (text_bytes(" \n\t " * 50), ["text", "only whitespace"]),
])
def test_bad_text_says_what_is_wrong(raw, words):
    config = DataConfig(generator="text", text_source="own", seq_len=50)
    with pytest.raises(DataError) as caught:
        build_data(config, raw)
    for word in words:
        assert word in str(caught.value)


def test_hosted_limits_take_the_builtin_corpus_and_refuse_a_long_own_text():
    experiment, _ = limits.clamp(preset("text"), limits.HOSTED)
    limits.check(experiment, limits.HOSTED)  # the built-in corpus trains on a hosted server
    own = experiment.with_values(**{"data.text_source": "own"})
    with pytest.raises(Exception) as caught:
        limits.check(own, limits.HOSTED, uploaded=text_bytes("word " * 70_000))
    assert "text" in str(caught.value) and "350,000 characters" in str(caught.value)
    limits.check(own, limits.HOSTED, uploaded=text_bytes("word " * 20_000))
    tiny_stride = own.with_values(**{"data.stride": 1})
    with pytest.raises(Exception) as caught:
        limits.check(tiny_stride, limits.HOSTED, uploaded=text_bytes("word " * 50_000))
    assert "data.stride" in str(caught.value)


@pytest.fixture(scope="module")
def text_run():
    from seqcore.training import train

    experiment = Experiment().with_values(**{
        "data.generator": "text", "data.text_source": "own", "data.seq_len": 20, "data.stride": 5,
        "model.units": 16, "train.epochs": 2, "train.batch_size": 16, "train.snapshot_every": 1,
        "train.learning_rate": 0.01})
    raw = text_bytes(PARAGRAPH)
    events = []
    end = train(experiment, events.append, uploaded=raw)
    return experiment, raw, events, end


def test_a_text_run_reports_bits_per_character_baselines_and_saves_its_vocabulary(text_run):
    experiment, raw, events, end = text_run
    start = next(e for e in events if type(e).__name__ == "StartEvent")
    assert set(start.baselines) == {"unigram bits/char", "bigram bits/char", "trigram bits/char"}
    assert start.probe_x.shape[-1] == start.probe_y.shape[-1] == build_data(experiment.data, raw).n_features
    assert end.status == "finished" and set(end.test_metrics) == {"loss", "accuracy"}
    vocabulary = vocabulary_from_json(end.artifacts["vocabulary.json"].decode())
    assert vocabulary == build_data(experiment.data, raw).vocabulary
    assert start.vocabulary == "".join(vocabulary.chars)  # recorded where the run starts, for reading it back
    assert "vocabulary.json" in json.dumps(sorted(end.artifacts))


def test_the_numpy_sampler_reads_the_trained_weights_as_keras_does(text_run):
    import keras

    experiment, raw, events, end = text_run
    data = build_data(experiment.data, raw)
    snapshot = [e for e in events if type(e).__name__ == "SnapshotEvent"][-1]
    with zipfile.ZipFile(io.BytesIO(end.artifacts["model.keras"])):
        pass  # a real .keras archive
    path = "/tmp/seqcore-text-model.keras"
    with open(path, "wb") as handle:
        handle.write(end.artifacts["model.keras"])
    model = keras.saving.load_model(path)
    window = data.x_val[:1]
    keras_p = np.asarray(model.predict(window, verbose=0))[0]
    text = data.vocabulary.decode(window[0])
    numpy_p = next_char_probabilities(snapshot.weights, data.vocabulary, text, cell=experiment.model.cell)
    np.testing.assert_allclose(numpy_p, keras_p, atol=1e-4)


def test_the_loss_chart_of_a_text_run_is_in_bits_per_character(text_run):
    _, _, events, _ = text_run
    start = next(e for e in events if type(e).__name__ == "StartEvent")
    history = tuple(e for e in events if type(e).__name__ == "EpochEvent")
    figure = panels.loss_panel(history, start)
    assert "Bits per character" in figure.layout.title.text
    drawn = [t for t in figure.data if t.name and t.name.startswith("val")][0]
    np.testing.assert_allclose(np.asarray(drawn.y, dtype=np.float64)[-1], history[-1].val_loss / math.log(2),
                               rtol=1e-5)
    assert "bits/char" in panels.text_scores(history[-1].val_loss)


def test_the_keras_script_of_an_own_text_run_trains_the_same_network_on_the_text_beside_it(monkeypatch, tmp_path):
    import runpy
    import sys

    from seqcore.models import build_model, keras_script

    experiment = Experiment().with_values(**{
        "data.generator": "text", "data.text_source": "own", "data.seq_len": 20, "model.units": 8,
        "train.epochs": 1, "train.batch_size": 16})
    (tmp_path / "text.txt").write_bytes(PARAGRAPH.encode("utf-8"))
    script = tmp_path / "train_model.py"
    script.write_text(keras_script(experiment))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", [str(script), "1"])
    result = runpy.run_path(str(script), run_name="__main__")
    data = build_data(experiment.data, text_bytes(PARAGRAPH))
    app_model = build_model(experiment, sizes=(data.n_features, data.n_outputs))
    assert result["model"].count_params() == app_model.count_params()
    assert len(result["history"].history["loss"]) == 1


def test_the_runs_table_holds_a_text_run_against_its_best_baseline_in_nats():
    baselines = {"unigram bits/char": 4.6, "bigram bits/char": 3.7, "trigram bits/char": 2.8}
    # The loss column is Keras' nats: the trigram's 2.8 bits are 1.94 nats.
    assert panels.best_loss_baseline(baselines) == pytest.approx(2.8 * math.log(2))
    assert panels.best_loss_baseline({"mean MSE": 0.16, "linear MSE": 0.15}) == pytest.approx(0.15)


def test_a_warm_worker_trains_a_second_text_with_another_vocabulary():
    """The compiled-model cache once keyed text models by their (T,) windows alone: the second run, same network
    and window but another vocabulary, failed copying the first one's weights."""
    from seqcore.training import ModelCache, train

    experiment = preset("text").with_values(**{"data.text_source": "own", "data.seq_len": 10, "model.units": 8,
                                               "train.epochs": 1, "train.batch_size": 16})
    cache = ModelCache()
    first = train(experiment, lambda event: None, uploaded=text_bytes("abcdefgh " * 300), save_artifacts=False,
                  models=cache)
    second = train(experiment, lambda event: None, uploaded=text_bytes(PARAGRAPH), save_artifacts=False,
                   models=cache)
    assert (first.status, second.status) == ("finished", "finished"), second.reason


def test_hosted_limits_count_characters_not_bytes_and_cap_the_vocabulary():
    experiment, _ = limits.clamp(preset("text"), limits.HOSTED)
    own = experiment.with_values(**{"data.text_source": "own", "data.stride": 8})
    chinese = "".join(chr(0x4E00 + i % 3000) for i in range(250_000))  # 750,000 bytes of UTF-8
    limits.check(own, limits.HOSTED, uploaded=text_bytes(chinese))  # 250,000 characters: within every limit
    with pytest.raises(Exception, match="data.max_vocab: 1000 is above this server's hosted limit of 300"):
        limits.check(own.with_values(**{"data.max_vocab": 1000}), limits.HOSTED)


def test_the_memory_estimate_of_a_text_run_counts_the_chunks_it_evaluates():
    from seqcore.training import EVAL_CHUNK

    experiment = preset("text").with_values(**{"data.text_source": "own", "data.max_vocab": 1000})
    small = experiment.with_values(**{"data.max_vocab": 100})
    grown = limits.estimated_worker_mb(experiment, 300_000) - limits.estimated_worker_mb(small, 300_000)
    # 900 more symbols, one-hot input, softmax and its gradient, for a batch and an evaluated chunk of windows.
    assert grown >= 3 * (32 + EVAL_CHUNK) * 100 * 900 * 4 / limits.MB


def test_a_diverged_snapshot_says_so_instead_of_crashing_the_sampler(text_run):
    from seqcore.text import TextError, sample

    experiment, raw, events, _ = text_run
    data = build_data(experiment.data, raw)
    weights = [w.copy() for w in [e for e in events if type(e).__name__ == "SnapshotEvent"][-1].weights]
    weights[-2][0, 0] = np.nan  # the head's kernel
    with pytest.raises(TextError, match="not finite"):
        sample(weights, data.vocabulary, "The quick", 20, cell=experiment.model.cell, temperature=0.8)
    with pytest.raises(TextError, match="not finite"):
        next_char_probabilities(weights, data.vocabulary, "The quick", cell=experiment.model.cell)


def test_quotes_in_the_prediction_chart_are_drawn_as_quotes():
    from seqcore.text import build_vocabulary

    vocabulary = build_vocabulary('say "hi" <b>')
    shown = panels._characters(vocabulary.encode('"<'), vocabulary)
    assert list(shown) == ['"', "&lt;"]  # Plotly decodes &lt; but would print &quot; as typed


def test_a_run_reads_its_ids_with_the_vocabulary_it_trained_with_even_if_its_text_now_gives_another():
    from seqcore.text import build_vocabulary, trained_vocabulary

    built = build_vocabulary("abc")
    assert trained_vocabulary(None, built) is built and trained_vocabulary("abc\ufffd", built) is built
    other = trained_vocabulary("abd\ufffd", built)  # another Python's corpus gave d where the run had c
    assert other.decode([0, 1, 2, 3]) == "abd\ufffd" and other.unknown_index == 3
