"""What a user of the data module notices: shapes, determinism, honest splits, clear CSV errors."""

import contextlib
import dataclasses
import io
import pickle

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from seqcore.config import ConfigError, DataConfig, Experiment
from seqcore.data import (
    DataError,
    Scaler,
    build_data,
    csv_column_values,
    load_csv,
    numeric_columns,
    one_hot,
)
from seqcore.tasks import TASK_NAMES

GENERATED = [g for g in TASK_NAMES if g != "csv"]
DRAWN = [g for g in GENERATED if g != "text"]  # a text is read, not drawn: its seed changes nothing
SERIES = ["sine", "sum_of_sines", "ar", "random_walk", "mackey_glass"]


def all_rows(data, name):
    return np.concatenate([getattr(data, f"{name}_{part}") for part in ("train", "val", "test")])


def csv_bytes(header: str, rows: list[str], sep: str = ",") -> bytes:
    return (header + "\n" + "\n".join(rows) + "\n").replace(",", sep).encode()


# --------------------------------------------------------------------------- generators


def test_seed_tutorial_shapes():
    data = build_data(DataConfig())
    assert all_rows(data, "x").shape == (100, 9, 10)
    assert all_rows(data, "y").shape == (100, 9, 10)
    assert (data.n_train, data.n_val, data.n_test) == (70, 20, 10)
    assert data.n_steps == 9 and data.n_features == 10 and data.n_outputs == 10
    assert data.tokens.shape == (100, 10)


@pytest.mark.parametrize("generator", GENERATED)
def test_shapes_and_dtypes(generator):
    config = DataConfig(generator=generator, seq_len=12, n_points=400, horizon=3, lag=4, vocab_size=5)
    data = build_data(config)
    for part in ("train", "val", "test"):
        x, y, w = data.part(part)
        if generator == "text":  # character ids in and out; the reference's one-hot view of the same rows
            assert x.dtype == np.int32 and y.dtype == np.int32 and x.shape == y.shape == (len(x), 12)
            x, y, w = data.one_hot_rows(part, len(x))
            assert (x.argmax(-1)[:, 1:] == y.argmax(-1)[:, :-1]).all()  # the target is the next character
        assert x.dtype == np.float32 and y.dtype == np.float32
        assert x.ndim == 3 and x.shape[2] == data.n_features
        assert len(y) == len(x)
        if data.many_to_many:
            assert y.shape == (len(x), x.shape[1], data.n_outputs)
        else:
            assert y.shape == (len(x), data.n_outputs)
        if w is not None:
            assert w.dtype == np.float32 and w.shape == x.shape[:2]
    assert data.n_train > 0 and data.n_val > 0 and data.n_test > 0
    if generator in SERIES:
        assert data.x_train.shape[1:] == (12, 1) and data.n_outputs == 3 and data.series.shape == (400,)
    elif generator == "adding":
        assert data.x_train.shape[1:] == (12, 2) and data.n_outputs == 1 and data.series is None
    elif generator == "text":
        assert data.n_features == data.vocabulary.size == 100 and data.text.vocabulary is data.vocabulary
    else:
        assert data.head == "tokens" and data.n_train + data.n_val + data.n_test == config.n_sequences


@pytest.mark.parametrize("generator", DRAWN)
def test_same_seed_same_data_other_seed_other_data(generator):
    config = DataConfig(generator=generator, noise=0.1)
    first, again = build_data(config), build_data(config)
    other = build_data(DataConfig(generator=generator, noise=0.1, seed=config.seed + 1))
    for name in ("x_train", "y_train", "x_val", "y_test"):
        np.testing.assert_array_equal(getattr(first, name), getattr(again, name))
    assert not np.array_equal(first.x_train, other.x_train)


def test_random_digits_targets_are_the_next_tokens():
    data = build_data(DataConfig(n_sequences=50))
    tokens = data.tokens[:data.n_train]
    np.testing.assert_array_equal(data.x_train.argmax(-1), tokens[:, :-1])
    np.testing.assert_array_equal(data.y_train.argmax(-1), tokens[:, 1:])
    assert data.w_train is None


@pytest.mark.parametrize("pattern", ["motif", "count"])
def test_patterned_digits_without_noise_are_periodic(pattern):
    config = DataConfig(generator="patterned_digits", pattern=pattern, seq_len=20, motif_len=5, noise=0.0)
    tokens = build_data(config).tokens
    period = 5 if pattern == "motif" else config.vocab_size
    if pattern == "motif":
        np.testing.assert_array_equal(tokens[:, period:], tokens[:, :-period])
    else:
        np.testing.assert_array_equal(tokens[:, 1:], (tokens[:, :-1] + 1) % config.vocab_size)
    noisy = build_data(DataConfig(generator="patterned_digits", pattern=pattern, seq_len=20, motif_len=5,
                                  noise=0.3)).tokens
    assert not np.array_equal(noisy[:, 1:], (noisy[:, :-1] + 1) % 10) and not np.array_equal(noisy, tokens)


def test_delay_targets_are_the_lagged_inputs_where_weighted():
    config = DataConfig(generator="delay", seq_len=15, lag=6, vocab_size=4, n_sequences=40)
    data = build_data(config)
    for part in ("train", "val", "test"):
        x, y, w = data.part(part)
        inputs, targets = x.argmax(-1), y.argmax(-1)
        np.testing.assert_array_equal(targets[:, 6:], inputs[:, :-6])
        np.testing.assert_array_equal(w, np.broadcast_to(np.arange(15) >= 6, w.shape).astype(np.float32))
    np.testing.assert_array_equal(data.x_train.argmax(-1), data.tokens[:data.n_train])


def test_adding_targets_are_the_sum_of_the_two_marked_values():
    data = build_data(DataConfig(generator="adding", seq_len=21, n_sequences=200))
    x, y = all_rows(data, "x"), all_rows(data, "y")
    values, markers = x[..., 0], x[..., 1]
    assert np.all(markers.sum(axis=1) == 2)
    assert np.all(markers[:, :10].sum(axis=1) == 1) and np.all(markers[:, 10:].sum(axis=1) == 1)
    assert np.all((values >= 0) & (values < 1))
    np.testing.assert_allclose(y[:, 0], (values * markers).sum(axis=1), rtol=1e-6)
    assert data.scaler is None and data.series is None and not data.many_to_many


def test_too_much_data_for_memory_is_refused_with_the_numbers():
    with pytest.raises(DataError) as caught:
        build_data(DataConfig(n_sequences=100_000, seq_len=1000, vocab_size=64))
    assert caught.value.field == "data.n_sequences" and caught.value.value == 100_000
    assert "6.4e9" in str(caught.value) and "5e7" in str(caught.value)


def test_no_test_fraction_gives_empty_test_arrays_of_the_right_shape():
    tokens = build_data(DataConfig(test_fraction=0.0))
    assert tokens.x_test.shape == (0, 9, 10) and tokens.y_test.shape == (0, 9, 10)
    series = build_data(DataConfig(generator="sine", test_fraction=0.0, horizon=2))
    assert series.x_test.shape == (0, 10, 1) and series.y_test.shape == (0, 2)
    assert series.split_points[1] == 1000


# --------------------------------------------------------------------------- series splits and scaling


def index_series(n=300, **settings):
    """A CSV series whose raw value is its own index, so every window says where it came from."""
    config = DataConfig(generator="csv", csv_column="t", **{"difference": "none", **settings})
    return build_data(config, uploaded=np.arange(n, dtype=np.float64))


def test_series_splits_are_in_time_order_and_no_window_crosses_a_split():
    data = index_series(n=300, seq_len=8, horizon=3, val_fraction=0.2, test_fraction=0.1)
    val_start, test_start = data.split_points
    assert (val_start, test_start) == (210, 270)
    bounds = {"train": (0, val_start), "val": (val_start, test_start), "test": (test_start, 300)}
    for part, (start, stop) in bounds.items():
        x, y, _ = data.part(part)
        x_index = np.rint(data.scaler.inverse(x[..., 0]))
        y_index = np.rint(data.scaler.inverse(y))
        assert x_index.min() == start and y_index.max() == stop - 1  # uses the whole part, nothing outside it
        assert len(x) == stop - start - 11 + 1
        # each window is 11 consecutive points: 8 inputs, then the 3 values to predict
        np.testing.assert_array_equal(np.diff(np.hstack([x_index, y_index]), axis=1), 1)


def test_scaler_is_fitted_on_the_training_part_only():
    raw = np.linspace(0, 10, 2000) ** 2  # a trend: the held-out part has a larger mean
    data = build_data(DataConfig(generator="csv", csv_column="v", difference="none"), uploaded=raw)
    train_raw = raw[:data.split_points[0]]
    assert data.scaler.mean == pytest.approx(train_raw.mean())
    assert data.scaler.std == pytest.approx(train_raw.std())
    assert data.scaler.mean < raw.mean()


def test_scaled_training_inputs_are_standardised_and_inverse_restores_raw_values():
    data = build_data(DataConfig(generator="sine", n_points=3000, noise=0.1, amplitude=5.0))
    assert abs(data.x_train.mean()) < 0.05 and abs(data.x_train.std() - 1) < 0.05
    restored = data.scaler.inverse(data.x_train[:, :, 0])
    np.testing.assert_allclose(restored[0], data.series[:10], atol=1e-4)
    np.testing.assert_allclose(data.scaler.inverse(data.scaler.transform(data.series)), data.series)
    assert data.series.dtype == np.float64


def test_scaler_survives_a_constant_series():
    scaler = Scaler(mean=3.0, std=0.0)
    np.testing.assert_array_equal(scaler.transform(np.array([3.0, 4.0])), [0.0, 1.0])
    np.testing.assert_array_equal(scaler.inverse(np.array([0.0, 1.0])), [3.0, 4.0])


@pytest.mark.parametrize("generator", SERIES)
def test_every_series_is_finite_and_not_flat(generator):
    data = build_data(DataConfig(generator=generator, noise=0.05))
    assert np.all(np.isfinite(data.series)) and data.series.std() > 0.01
    assert np.all(np.isfinite(data.x_train)) and np.all(np.isfinite(data.y_val))


def test_mackey_glass_stays_on_its_attractor():
    series = build_data(DataConfig(generator="mackey_glass", n_points=1500)).series
    assert series.min() > 0.2 and series.max() < 1.5 and series.std() > 0.15


def test_a_test_part_too_short_for_one_window_names_seq_len():
    # The config cannot know a CSV's length, so the data module is where a short CSV is caught.
    values = np.sin(np.arange(200) / 5.0)
    config = DataConfig(generator="csv", csv_column="y", test_fraction=0.02, seq_len=10)
    with pytest.raises(DataError) as caught:
        build_data(config, values)
    assert caught.value.field == "data.seq_len" and "test part has only 4" in str(caught.value)


def test_the_config_refuses_a_window_longer_than_a_generated_part():
    with pytest.raises(ConfigError, match="data.seq_len: 10 plus data.horizon"):
        DataConfig(generator="sine", n_points=200, test_fraction=0.02, seq_len=10)


def test_csv_generator_needs_values():
    with pytest.raises(DataError) as caught:
        build_data(DataConfig(generator="csv", csv_column="price"))
    assert caught.value.field == "data.csv_column"


def test_one_hot():
    encoded = one_hot(np.array([[0, 2], [1, 1]]), 3)
    assert encoded.dtype == np.float32 and encoded.shape == (2, 2, 3)
    np.testing.assert_array_equal(encoded.argmax(-1), [[0, 2], [1, 1]])
    assert np.all(encoded.sum(-1) == 1)
    with pytest.raises(ValueError):
        one_hot(np.array([3]), 3)


def test_data_error_carries_its_parts_and_pickles():
    error = DataError("data.csv_column", "price", "holds text")
    assert (error.field, error.value, error.allowed) == ("data.csv_column", "price", "holds text")
    assert isinstance(error, ValueError) and str(error) == "data.csv_column: 'price' holds text"
    assert str(pickle.loads(pickle.dumps(error))) == str(error)


# --------------------------------------------------------------------------- CSV ingest

NUMBERS = [f"{i},{i * 0.5}" for i in range(30)]


def test_csv_is_read_and_a_column_extracted():
    frame = load_csv(csv_bytes("day,price", NUMBERS))
    assert numeric_columns(frame) == ["day", "price"]
    values = csv_column_values(frame, "price")
    assert values.dtype == np.float64 and values.shape == (30,) and values[4] == 2.0


@pytest.mark.parametrize("sep", [";", "\t", "|"])
def test_other_delimiters_are_detected(sep):
    frame = load_csv(csv_bytes("day,price", NUMBERS, sep=sep))
    assert list(frame.columns) == ["day", "price"]
    assert csv_column_values(frame, "price")[4] == 2.0


def test_latin1_and_utf8_bom_and_text_and_file_objects_are_accepted():
    latin = load_csv("année,prix\n" .encode("latin-1") + "\n".join(NUMBERS).encode())
    assert list(latin.columns) == ["année", "prix"]
    bom = load_csv(b"\xef\xbb\xbf" + csv_bytes("day,price", NUMBERS))
    assert list(bom.columns) == ["day", "price"]
    assert len(load_csv("day,price\n" + "\n".join(NUMBERS))) == 30
    assert len(load_csv(io.BytesIO(csv_bytes("day,price", NUMBERS)))) == 30


def test_single_column_and_headerless_files():
    assert numeric_columns(load_csv(b"value\n1\n2\n3\n")) == ["value"]
    headerless = load_csv(b"1,2\n3,4\n5,6\n")
    assert list(headerless.columns) == ["column 1", "column 2"] and len(headerless) == 3


@pytest.mark.parametrize(("content", "words"), [
    (b"", "empty"),
    (b"   \n\n", "empty"),
    (b"day,price\n", "no data rows"),
    (b"day,price\n1,2\n", "single data row"),
    (b"name,city\nann,paris\nbob,rome\n", "no numeric column"),
    (bytes(range(256)) * 4, "not a CSV"),
    (b"PK\x03\x04\x14\x00\x06\x00" + b"\x00" * 40, "not a CSV"),
    (b"a,b\n1,2\n3,4,5,6\n", "could not be read"),
])
def test_unusable_files_raise_a_clear_data_error(content, words):
    with pytest.raises(DataError) as caught:
        load_csv(content)
    assert caught.value.field == "csv" and words in str(caught.value)


def test_too_big_and_too_long_files_are_refused():
    content = csv_bytes("day,price", NUMBERS)
    with pytest.raises(DataError, match=r"too big; the limit is 100 bytes") as caught:
        load_csv(content, max_bytes=100)
    assert caught.value.field == "csv" and caught.value.value == f"{len(content)} bytes"
    with pytest.raises(DataError, match="too big"):
        load_csv(io.BytesIO(content), max_bytes=100)
    with pytest.raises(DataError, match="the limit is 10 rows"):
        load_csv(content, max_rows=10)


def column_error(rows: list[str], column="price") -> DataError:
    frame = load_csv(csv_bytes("day,price", rows))
    with pytest.raises(DataError) as caught:
        csv_column_values(frame, column)
    assert caught.value.field == "data.csv_column" and caught.value.value == column
    return caught.value


def test_text_in_a_numeric_column_names_the_row_and_value():
    rows = NUMBERS[:2] + ["2,abc"] + NUMBERS[3:]
    assert numeric_columns(load_csv(csv_bytes("day,price", rows))) == ["day", "price"]
    assert "holds text ('abc' in row 3)" in str(column_error(rows))


def test_missing_and_infinite_values_are_counted_and_located():
    missing = column_error(NUMBERS[:4] + ["4,", "5,"] + NUMBERS[6:])
    assert "2 missing values" in str(missing) and "row 5" in str(missing)
    infinite = column_error(NUMBERS[:7] + ["7,inf"] + NUMBERS[8:])
    assert "1 infinite values" in str(infinite) and "row 8" in str(infinite)


def test_too_short_and_unknown_columns():
    assert "only 10 values; at least 20" in str(column_error(NUMBERS[:10]))
    unknown = column_error(NUMBERS, column="cost")
    assert "numeric columns: day, price" in str(unknown)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=400))
def test_any_bytes_give_a_frame_or_a_data_error(content):
    try:
        frame = load_csv(content)
    except DataError:
        return
    assert len(frame) >= 2 and numeric_columns(frame)
    for column in numeric_columns(frame):
        try:
            values = csv_column_values(frame, column)
        except DataError:
            continue
        assert values.dtype == np.float64 and np.all(np.isfinite(values))


CSV_ALPHABET = st.sampled_from(list("0123456789.-+eE,;\t|\n\r \"'abcxé") + ["nan", "inf", "NA", "1.5"])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(CSV_ALPHABET, max_size=200).map("".join))
def test_csv_like_text_gives_a_frame_or_a_data_error(text):
    try:
        frame = load_csv(text.encode())
    except DataError:
        return
    for column in numeric_columns(frame):
        with contextlib.suppress(DataError):
            csv_column_values(frame, column)


def test_a_csv_far_too_wide_is_refused_from_its_header_before_parsing():
    import time

    columns = 200_001  # 2.7 MB: parsing and typing every column took 33 s of server CPU
    wide = (",".join(f"c{i}" for i in range(columns)) + "\n" + ",".join("1" for _ in range(columns)) + "\n").encode()
    started = time.process_time()
    with pytest.raises(DataError, match="is too wide; the limit is 1000 columns") as caught:
        load_csv(wide)
    assert time.process_time() - started < 1.0  # generous: it reads one line (about 0.03 s here)
    assert caught.value.field == "csv" and "more than" in str(caught.value)
    frame = load_csv(("a,b\n" + "1,2\n" * 30).encode())
    assert frame.attrs["numeric_columns"] == ["a", "b"] == numeric_columns(frame)


@pytest.mark.parametrize("name", ["random_digits", "delay", "copy_memory", "adding"])
def test_fresh_training_data_is_a_new_draw_each_epoch_from_the_seed_with_validation_and_test_fixed(name):
    from seqcore.data import fresh_training_split

    config = Experiment().with_values(**{"data.generator": name, "data.n_sequences": 60,
                                         "data.fresh_data": True}).data
    data = build_data(config)
    first, again, second = (fresh_training_split(config, e) for e in (1, 1, 2))
    assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True) if a is not None)  # from the seed
    assert not np.array_equal(first[0], second[0]) and not np.array_equal(first[0], data.x_train)
    assert first[0].shape == data.x_train.shape and first[1].shape == data.y_train.shape
    assert (first[2] is None) == (data.w_train is None)
    assert np.array_equal(build_data(config).x_val, data.x_val)  # validation and test are never redrawn
    assert np.array_equal(build_data(dataclasses.replace(config, fresh_data=False)).x_test, data.x_test)


def test_fresh_training_data_is_refused_where_a_new_draw_would_change_the_task():
    for name in ("patterned_digits", "sine", "mackey_glass"):
        with pytest.raises(ConfigError, match="data.fresh_data: True applies only to tasks whose sequences are"):
            Experiment().with_values(**{"data.generator": name, "data.fresh_data": True})
