"""What a user of the settings notices: sane defaults, errors that say what is wrong, links and files that
reproduce an experiment exactly, and share links that never break the page."""

import json
import math
from dataclasses import fields, replace
from urllib.parse import parse_qsl, urlencode

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from seqcore.config import (
    PRESETS,
    SECTION_KEYS,
    SECTIONS,
    ConfigError,
    DataConfig,
    Experiment,
    TrainConfig,
    adding_lesson,
    differences,
    preset,
)

ALL_FIELDS = [(section, cls, f.name) for section, cls in SECTIONS.items() for f in fields(cls)]
DEFAULT_FALLBACK = "Using the default experiment instead."


# --------------------------------------------------------------------------- defaults and field errors


@pytest.mark.parametrize(("section", "cls", "name"), ALL_FIELDS, ids=[f"{s}.{n}" for s, _, n in ALL_FIELDS])
def test_every_default_is_within_its_own_bounds(section, cls, name):
    spec = cls.spec(name)
    default = spec["default"]
    assert type(default) is spec["type"]
    if spec["choices"] is not None:
        assert default in spec["choices"]
    if spec["low"] is not None:
        assert default >= spec["low"]
    if spec["high"] is not None:
        assert default <= spec["high"]
    assert spec["help"].strip(), f"{section}.{name} has no help text"


@pytest.mark.parametrize(("key", "value", "message"), [
    ("model.units", 0, "model.units: 0 is below the minimum 1"),
    ("model.units", 2000, "model.units: 2000 is above the maximum 1024"),
    ("model.cell", "Transformer", "model.cell: 'Transformer' is not one of SimpleRNN, LSTM, GRU"),
    ("train.optimizer", "ADAM", "train.optimizer: 'ADAM' is not one of adam, rmsprop, sgd"),
    ("train.learning_rate", 0.0, "train.learning_rate: 0.0 is below the minimum 1e-06"),
    ("train.learning_rate", math.nan, "train.learning_rate: nan is not a finite number"),
    ("data.amplitude", math.inf, "data.amplitude: inf is not a finite number"),
    ("model.units", 3.5, "model.units: 3.5 is not a whole number"),
    ("model.units", True, "model.units: True is not a whole number"),
    ("model.units", "8", "model.units: '8' is not a whole number"),
    ("data.noise", "0.1", "data.noise: '0.1' is not a number"),
    ("data.generator", 3, "data.generator: 3 is not text"),
])
def test_a_bad_value_is_named_with_what_is_allowed(key, value, message):
    with pytest.raises(ConfigError) as caught:
        Experiment().with_values(**{key: value})
    assert str(caught.value) == message
    assert [name for name, _, _ in caught.value.problems] == [key]


def test_every_bad_field_is_reported_at_once():
    with pytest.raises(ConfigError) as caught:
        DataConfig(seq_len=1, vocab_size=1000)
    assert [name for name, _, _ in caught.value.problems] == ["data.seq_len", "data.vocab_size"]


def test_out_of_range_values_are_not_also_blamed_on_cross_field_rules():
    with pytest.raises(ConfigError) as caught:
        DataConfig(generator="delay", lag=600)
    assert str(caught.value) == "data.lag: 600 is above the maximum 500"


# --------------------------------------------------------------------------- unknown keys, sections, bad files


@pytest.mark.parametrize(("values", "message"), [
    ({"model": {"colour": "red"}}, "model.colour: 'red' is not a known setting"),
    ({"optimiser": {}}, "optimiser: {} is not a known section (data, model, train)"),
    ({"model": 5}, "model: 5 must be an object of settings"),
    ([1, 2], "experiment: [1, 2] must be an object with data, model and train sections"),
])
def test_unknown_keys_and_sections_are_errors(values, message):
    with pytest.raises(ConfigError) as caught:
        Experiment.from_dict(values)
    assert str(caught.value) == message


def test_a_file_names_every_problem_in_every_section():
    with pytest.raises(ConfigError) as caught:
        Experiment.from_dict({"data": {"seq_len": 0}, "model": {"units": 0}, "train": {"colour": 1}})
    assert {name for name, _, _ in caught.value.problems} == {"data.seq_len", "model.units", "train.colour"}


@pytest.mark.parametrize(("text", "message"), [
    ("{not json", "is not valid JSON"),
    ('{"data": {"amplitude": 1' + "0" * 400 + "}}", "data.amplitude: 1000"),  # beyond any float
    ('{"data": {"n_points": ' + "1" * 5000 + "}}", "is not valid JSON"),  # beyond Python's int parsing
])
def test_broken_json_is_a_config_error(text, message):
    with pytest.raises(ConfigError) as caught:
        Experiment.from_json(text)
    assert message in str(caught.value)
    assert len(str(caught.value)) < 400


def test_hand_written_json_may_write_a_float_setting_as_an_int():
    experiment = Experiment.from_json('{"train": {"learning_rate": 1}, "model": {"units": 8}}')
    assert experiment.train.learning_rate == 1.0 and type(experiment.train.learning_rate) is float
    assert experiment.model.units == 8


@pytest.mark.parametrize(("query", "message"), [
    ("m.colour=red", "m.colour: 'red' is not a known setting"),
    ("x.units=5", "x.units: '5' is not a known setting"),
    ("units=5", "units: '5' is not a known setting"),
    ("m.units=5&m.units=6", "m.units: '6' is given more than once"),
    ("m.units=abc", "m.units: 'abc' is not a number"),
    ("m.units=2.5", "m.units: '2.5' is not a whole number"),
    ("m.units=0", "model.units: 0 is below the minimum 1"),
])
def test_a_strict_link_with_a_bad_parameter_is_an_error(query, message):
    with pytest.raises(ConfigError) as caught:
        Experiment.from_query(query)
    assert str(caught.value) == message


# --------------------------------------------------------------------------- cross-field rules


@pytest.mark.parametrize(("values", "field", "words"), [
    ({"generator": "delay", "seq_len": 10, "lag": 10}, "data.lag", "must be shorter than data.seq_len (10)"),
    ({"generator": "patterned_digits", "seq_len": 8, "motif_len": 9}, "data.motif_len", "shorter than data.seq_len"),
    ({"val_fraction": 0.5, "test_fraction": 0.3}, "data.test_fraction", "validation + test must be at most 0.7"),
    ({"generator": "sine", "n_points": 100, "seq_len": 20, "test_fraction": 0.0}, "data.seq_len",
     "the validation part has only 20 (points 80-100 of 100)"),
    ({"generator": "sine", "n_points": 100, "seq_len": 19, "horizon": 2, "test_fraction": 0.0}, "data.seq_len",
     "data.horizon (2)"),
    ({"generator": "sine", "n_points": 200, "seq_len": 10, "test_fraction": 0.05}, "data.seq_len",
     "the test part has only 10 (points 190-200 of 200)"),
    ({"generator": "csv"}, "data.csv_column", "must name a column"),
])
def test_settings_that_do_not_fit_together_are_rejected(values, field, words):
    with pytest.raises(ConfigError) as caught:
        DataConfig(**values)
    assert [name for name, _, _ in caught.value.problems] == [field]
    assert words in str(caught.value)


@pytest.mark.parametrize("values", [
    {"generator": "delay", "seq_len": 10, "lag": 9},
    {"generator": "random_digits", "seq_len": 10, "lag": 50},  # the lag only matters for the delay task
    {"val_fraction": 0.5, "test_fraction": 0.2},  # exactly the 0.7 allowed
    {"generator": "sine", "n_points": 100, "seq_len": 19, "test_fraction": 0.0},  # 19 + 1 fills validation
    {"generator": "sine", "n_points": 200, "seq_len": 9, "test_fraction": 0.05},  # 9 + 1 fills the test part
    {"generator": "csv", "csv_column": "price"},
])
def test_settings_at_the_edge_of_a_cross_field_rule_are_accepted(values):
    DataConfig(**values)


# --------------------------------------------------------------------------- round trips


def field_values(cls, f):
    spec = cls.spec(f.name)
    if spec["choices"] is not None:
        return st.sampled_from(spec["choices"])
    if spec["type"] is bool:
        return st.booleans()
    if spec["type"] is int:
        return st.integers(spec["low"], spec["high"])
    if spec["type"] is float:
        return st.floats(spec["low"], spec["high"], allow_nan=False)
    return st.text(max_size=20)


SECTION_VALUES = {name: st.fixed_dictionaries({f.name: field_values(cls, f) for f in fields(cls)})
                  for name, cls in SECTIONS.items()}


@st.composite
def experiments(draw):
    values = {name: draw(strategy) for name, strategy in SECTION_VALUES.items()}
    try:
        return Experiment.from_dict(values)
    except ConfigError as err:
        # Every value lies within its field's bounds, so only a cross-field rule may object.
        field_errors = [p for p in err.problems if p[2].startswith("is ")]
        assert not field_errors, f"a value inside the documented bounds was rejected: {field_errors}"
        assume(False)


@given(experiments())
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
def test_links_and_files_reproduce_any_valid_experiment(experiment):
    assert Experiment.from_query(experiment.to_query()) == experiment
    assert Experiment.from_query(experiment.to_query_params()) == experiment
    assert Experiment.from_json(experiment.to_json()) == experiment
    assert Experiment.from_query_lenient(experiment.to_query()) == (experiment, [])


def test_the_default_experiment_has_an_empty_link():
    assert Experiment().to_query() == ""
    assert Experiment.from_query("") == Experiment()


def test_a_link_holds_only_what_differs_from_the_defaults():
    experiment = Experiment().with_values(**{"model.units": 8, "train.learning_rate": 0.01})
    assert experiment.to_query_params() == {"m.units": "8", "t.learning_rate": "0.01"}


@pytest.mark.parametrize("name", list(PRESETS))
def test_every_preset_round_trips_and_is_described(name):
    description, experiment = PRESETS[name]
    assert len(description) > 40
    assert preset(name) == experiment
    assert Experiment.from_query(experiment.to_query()) == experiment
    assert Experiment.from_json(experiment.to_json()) == experiment


def test_an_unknown_preset_is_named():
    with pytest.raises(ConfigError, match="preset: 'nope' is not one of seed, patterned"):
        preset("nope")


# --------------------------------------------------------------------------- lenient share links


@pytest.mark.parametrize(("query", "kept", "warned"), [
    ("m.cell=GRU&m.colour=red", {"cell": "GRU"}, "m.colour"),
    ("m.cell=GRU&m.units=0", {"cell": "GRU", "units": 50}, "model.units: 0 is below the minimum 1"),
    ("m.cell=GRU&m.units=1e400", {"cell": "GRU", "units": 50}, "is not a whole number"),
    ("m.cell=GRU&m.dropout=1e400", {"cell": "GRU", "dropout": 0.0}, "model.dropout: inf is not a finite number"),
    ("m.cell=GRU&m.units=abc", {"cell": "GRU", "units": 50}, "m.units: 'abc' is not a number"),
    ("m.cell=GRU&m.units=8&m.units=9", {"cell": "GRU", "units": 50}, "is given more than once"),
    ("m.cell=GRU&m.activation=" + "x" * 5000, {"cell": "GRU", "activation": "tanh"}, "model.activation"),
    ("m.cell=GRU&" + "k" * 5000 + "=1", {"cell": "GRU"}, "is not a known setting"),
])
def test_a_share_link_keeps_the_good_settings_and_says_what_it_dropped(query, kept, warned):
    experiment, warnings = Experiment.from_query_lenient(query)
    for name, value in kept.items():
        assert getattr(experiment.model, name) == value
    assert any(warned in w for w in warnings), warnings
    assert all(len(w) < 300 for w in warnings), "a pasted long value must not flood the page"


def test_a_share_link_drops_the_setting_a_cross_field_rule_blames():
    experiment, warnings = Experiment.from_query_lenient("d.generator=delay&d.lag=50&m.cell=GRU")
    assert (experiment.data.generator, experiment.data.lag, experiment.model.cell) == ("delay", 5, "GRU")
    assert warnings == ["data.lag: 50 must be shorter than data.seq_len (10)"]


def test_a_share_link_that_cannot_be_mended_falls_back_to_the_defaults():
    experiment, warnings = Experiment.from_query_lenient("d.generator=delay&d.seq_len=3")  # default lag 5 >= 3
    assert experiment == Experiment()
    assert warnings[-1] == DEFAULT_FALLBACK


KNOWN_KEYS = [f"{SECTION_KEYS[s]}.{n}" for s, _, n in ALL_FIELDS]
GARBAGE = ["", "0", "-1", "1", "2.5", "1e400", "-1e400", "nan", "inf", "1e-400", "9" * 400, "x" * 3000, "GRU",
           "sine", "delay", "true", "None", "[]", "%zz", "\x00", "é"]
pairs = st.lists(st.tuples(st.one_of(st.sampled_from(KNOWN_KEYS), st.text(max_size=12)),
                           st.one_of(st.sampled_from(GARBAGE), st.text(max_size=12),
                                     st.integers(-10**6, 10**6).map(str), st.floats().map(repr))),
                 max_size=8)


def _check_lenient(query: str):
    experiment, warnings = Experiment.from_query_lenient(query)
    assert isinstance(experiment, Experiment)
    assert all(isinstance(w, str) and len(w) < 1000 for w in warnings)
    try:
        strict = Experiment.from_query(query)
    except ConfigError:
        assert warnings, "a bad link must say what it dropped"
    else:
        assert (experiment, warnings) == (strict, [])
    return experiment, warnings


@given(st.text(max_size=200))
@settings(max_examples=150, deadline=None)
def test_any_text_as_a_share_link_gives_a_valid_experiment(query):
    _check_lenient(query)


@given(pairs)
@settings(max_examples=200, deadline=None)
def test_garbage_share_links_never_drop_a_setting_silently(items):
    query = urlencode(items)
    experiment, warnings = _check_lenient(query)
    if DEFAULT_FALLBACK in warnings:
        return
    counts = {}
    for key, _ in parse_qsl(query, keep_blank_values=True):
        counts[key] = counts.get(key, 0) + 1
    prefixes = {v: k for k, v in SECTION_KEYS.items()}
    for key, text in parse_qsl(query, keep_blank_values=True):
        if key not in KNOWN_KEYS or counts[key] > 1:
            continue  # unknown and repeated keys are warned about by the cases above
        section, _, name = key.partition(".")
        full = f"{prefixes[section]}.{name}"
        try:
            wanted = SECTIONS[prefixes[section]].parse(name, text)
        except ConfigError:
            wanted = None
        if wanted is None or getattr(getattr(experiment, prefixes[section]), name) != wanted:
            assert any(key in w or full in w for w in warnings), (key, text, warnings)


# --------------------------------------------------------------------------- command-line assignments


def test_command_line_assignments_are_parsed_to_each_fields_type():
    experiment = preset("sine").apply_overrides(
        ["model.units=32", "model.cell=LSTM", "train.learning_rate=1e-3", "data.noise=0", "data.csv_column=a=b",
         "train.epochs=1e2"])
    assert experiment.model.units == 32 and type(experiment.model.units) is int
    assert experiment.model.cell == "LSTM"
    assert experiment.train.learning_rate == 0.001
    assert experiment.data.noise == 0.0 and type(experiment.data.noise) is float
    assert experiment.data.csv_column == "a=b"  # only the first '=' separates the key
    assert experiment.train.epochs == 100
    # Everything not assigned stays as the preset has it.
    assert experiment.data == replace(preset("sine").data, noise=0.0, csv_column="a=b")
    assert experiment.train == replace(preset("sine").train, learning_rate=0.001, epochs=100)


def test_the_last_assignment_of_a_setting_wins():
    assert Experiment().apply_overrides(["model.units=8", "model.units=9"]).model.units == 9


def test_no_assignments_change_nothing():
    assert preset("delay").apply_overrides([]) == preset("delay")


@pytest.mark.parametrize(("assignment", "message"), [
    ("model.units", "model.units: '' is not a known setting (use section.field=value"),
    ("model.colour=red", "model.colour: 'red' is not a known setting"),
    ("units=5", "units: '5' is not a known setting"),
    ("model.units=abc", "model.units: 'abc' is not a number"),
    ("model.units=0", "model.units: 0 is below the minimum 1"),
    ("train.optimizer=Adam", "train.optimizer: 'Adam' is not one of adam, rmsprop, sgd"),
])
def test_a_bad_assignment_names_the_setting(assignment, message):
    with pytest.raises(ConfigError) as caught:
        Experiment().apply_overrides([assignment])
    assert str(caught.value).startswith(message)


def test_an_assignment_that_breaks_a_cross_field_rule_is_named():
    with pytest.raises(ConfigError, match=r"data\.lag: 20 must be shorter than data\.seq_len \(10\)"):
        preset("delay").apply_overrides(["data.seq_len=10"])


def test_spec_describes_a_field_for_widgets():
    spec = TrainConfig.spec("learning_rate")
    assert (spec["default"], spec["type"], spec["low"], spec["high"]) == (0.001, float, 1e-6, 1.0)


# --- types resolved from the annotations, and the file's schema version ---

def test_a_bool_or_optional_field_validates_and_parses_without_a_table_of_type_names():
    from dataclasses import dataclass

    from seqcore.config import _Section, setting

    @dataclass(frozen=True)
    class Extra(_Section):
        SECTION = "extra"
        flag: bool = setting(False, "A switch.")
        cap: int | None = setting(None, "An optional whole number.", low=1, high=10)

    assert Extra(flag=True, cap=None).flag is True
    assert Extra.parse("flag", "true") is True and Extra.parse("cap", "none") is None and Extra.parse("cap", "3") == 3
    with pytest.raises(ConfigError, match="extra.flag: 1 is not true or false"):
        Extra(flag=1)
    with pytest.raises(ConfigError, match="extra.cap: 11 is above the maximum 10"):
        Extra(cap=11)
    with pytest.raises(ConfigError, match="extra.flag: 'maybe' is not true or false"):
        Extra.parse("flag", "maybe")


def test_experiment_json_carries_its_schema_version_and_reads_older_files():
    from seqcore.config import SCHEMA_VERSION

    text = Experiment().to_json()
    assert json.loads(text)["schema"] == SCHEMA_VERSION
    assert Experiment.from_json(text) == Experiment()
    older = json.dumps(Experiment().to_dict())  # schema 1 files have no "schema" key
    assert Experiment.from_json(older) == Experiment()


@pytest.mark.parametrize(("schema", "words"), [(99, "is newer than this version"), (0, "is not a schema version"),
                                               ("2", "is not a schema version")])
def test_a_file_from_a_newer_or_unknown_schema_is_refused_by_name(schema, words):
    values = {"schema": schema, **Experiment().to_dict()}
    with pytest.raises(ConfigError) as caught:
        Experiment.from_json(json.dumps(values))
    assert caught.value.problems[0][0] == "schema" and words in str(caught.value)


def test_deeply_nested_json_is_a_config_error_not_a_crash():
    with pytest.raises(ConfigError, match="nested too deeply"):
        Experiment.from_json("[" * 100_000 + "]" * 100_000)


def test_the_long_memory_lesson_is_the_adding_preset_with_the_chosen_cell_and_length():
    name, gru = adding_lesson("GRU", 200)
    assert name == "adding_lstm"
    assert differences(preset("adding_lstm"), gru) == ["data.seq_len", "model.cell"]
    assert (gru.model.cell, gru.data.seq_len, gru.model.units) == ("GRU", 200, 64)
    name, rnn = adding_lesson("SimpleRNN", 200)
    assert name == "adding_simplernn" and differences(gru, rnn) == ["model.cell"]  # a fair A/B: only the cell
    with pytest.raises(ConfigError, match="data.seq_len: 75 is not one of the lesson's 50, 100, 200"):
        adding_lesson("LSTM", 75)


def test_a_file_from_before_schema_6_reads_without_differencing_or_early_stopping():
    """Those runs learnt levels and trained every epoch: rebuilt with auto, a trending CSV would be differenced
    and its network's outputs read as changes."""
    older = {"schema": 5, **Experiment().with_values(**{"data.generator": "sine"}).to_dict()}
    del older["data"]["difference"], older["train"]["early_stopping"]
    read = Experiment.from_json(json.dumps(older))
    assert read.data.difference == "none" and read.train.early_stopping == "off"
    assert Experiment.from_json(Experiment().to_json()).data.difference == "auto"  # a current file as written
