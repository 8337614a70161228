"""Keras model builders, parameter counts with their formulas, and generated Keras code.

Keras is imported inside `build_model` only: the dashboard shows parameter
counts and code without paying TensorFlow's start-up cost.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from seqcore import compat
from seqcore.cells import CELLS
from seqcore.config import BACKENDS, DataConfig, Experiment

# Short sequences are unrolled: a graph with a copy of the cell per step instead of a loop. For the seed preset
# (9 steps) a steady epoch took 13-18 ms instead of 19-26, at the price of 0.3-0.7 s more tracing on a
# network's first run (measured with TensorFlow on this 2-core machine); past ~10 steps the extra tracing
# outgrows the gain (19 steps: +1.1 s to save 14 ms an epoch; 50 steps: +6 s).
UNROLL_MAX_STEPS = 10


@dataclass(frozen=True)
class LayerCount:
    name: str
    formula: str  # in symbols, e.g. 4·(n·m + n² + n)
    substituted: str  # with the numbers, e.g. 4·(50·10 + 50² + 50)
    params: int


def input_output_sizes(data: DataConfig) -> tuple[int, int]:
    """(features per step, outputs) that the data of this config hands the model."""
    return data.task.sizes(data)


def installed_backends() -> list[str]:
    """The Keras backends this machine can train with (TensorFlow always; JAX when installed)."""
    import importlib.util

    return [b for b in BACKENDS if b == "tensorflow" or importlib.util.find_spec(b) is not None]


def input_steps(data: DataConfig) -> int:
    """Time steps the model reads (next-token tasks read all but the last token)."""
    return data.task.steps(data)


def parameter_counts(experiment: Experiment, sizes: tuple[int, int] | None = None) -> list[LayerCount]:
    """`sizes`: (features, outputs) of the data when it is built (a text's vocabulary is known only then)."""
    model = experiment.model
    m, k = sizes or input_output_sizes(experiment.data)
    spec = CELLS[model.cell]
    formula = spec.formula
    rows = []
    n = model.units
    for i in range(model.layers):
        numbers = formula.replace("n·m", f"{n}·{m}").replace("n²", f"{n}²").replace("2n", f"2·{n}")
        numbers = re.sub(r" \+ n(?=\)|$)", f" + {n}", numbers)  # the bias term: ' + n)' or a final ' + n'
        rows.append(LayerCount(f"{model.cell} {i + 1}", formula, numbers, spec.parameters(n, m)))
        m = n  # the next layer reads this layer's h_t
    rows.append(LayerCount("Dense head", "n·k + k", f"{n}·{k} + {k}", n * k + k))
    return rows


def lstm_bias(units: int, *, forget_bias: float = 1.0, chrono_t_max: int = 0, seed: int = 0) -> list[float]:
    """An LSTM layer's starting bias in Keras' block order (input, forget, candidate, output).

    The forget gate's block is `forget_bias`, or with chrono initialisation (Tallec & Ollivier 2018, eq. 16)
    log(u) for u uniform in [1, chrono_t_max − 1], with the input gate's block at −log(u): a unit whose forget
    gate starts at σ(log u) keeps its state over about u steps, so the layer starts with memories of every
    length up to chrono_t_max."""
    import numpy as np

    zeros = np.zeros(units)
    if chrono_t_max:
        forget = np.log(np.random.default_rng(seed).uniform(1.0, chrono_t_max - 1.0, size=units))
        blocks = (-forget, forget, zeros, zeros)
    else:
        blocks = (zeros, np.full(units, forget_bias), zeros, zeros)
    return [float(v) for v in np.concatenate(blocks)]


def _reads(model, lever: str) -> bool:
    """Whether this model's cell reads the initialisation lever (the cell registry says which do)."""
    return lever in CELLS[model.cell].init_settings


def _custom_bias(model) -> bool:
    return (_reads(model, "chrono_t_max") and model.chrono_t_max > 0) or (
        _reads(model, "forget_bias") and model.forget_bias != 1.0)


def without_levers(model):
    """The model settings with the initialisation levers at Keras' defaults: they set starting values only, so
    two models that differ in them have the same compiled graph."""
    from dataclasses import replace

    return replace(model, forget_bias=1.0, chrono_t_max=0, recurrent_init="orthogonal")


def _initialisers(experiment: Experiment, layer: int) -> dict[str, tuple[object, str]]:
    """The initialisation levers that apply to this cell, as (Keras argument, the same in code) per keyword.
    Keras' defaults (orthogonal U, forget bias 1) add nothing, so a default model is built as before."""
    import keras

    model = experiment.model
    chosen = {}
    if _custom_bias(model):
        bias = dict(forget_bias=model.forget_bias, chrono_t_max=model.chrono_t_max,
                    seed=experiment.train.seed + layer)
        shown = ", ".join(f"{k}={v!r}" for k, v in bias.items())
        chosen["unit_forget_bias"] = (False, "False")
        chosen["bias_initializer"] = (keras.initializers.Constant(lstm_bias(model.units, **bias)),
                                      f"keras.initializers.Constant(lstm_bias({model.units}, {shown}))")
    if _reads(model, "recurrent_init") and model.recurrent_init != "orthogonal":
        chosen["recurrent_initializer"] = (model.recurrent_init, repr(model.recurrent_init))
    return chosen


def _layer_kwargs(experiment: Experiment, return_sequences: bool) -> dict:
    model = experiment.model
    kwargs = {"return_sequences": return_sequences}
    if input_steps(experiment.data) <= UNROLL_MAX_STEPS:
        kwargs["unroll"] = True
    if model.cell == "SimpleRNN":
        kwargs["activation"] = model.activation
    if model.dropout:
        kwargs["dropout"] = model.dropout
    if model.recurrent_dropout:
        kwargs["recurrent_dropout"] = model.recurrent_dropout
    return kwargs


def seed_randomness(seed: int) -> None:
    """`keras.utils.set_random_seed(seed)`, less TensorFlow's part when its global seed already is `seed`.

    Setting TensorFlow's global seed clears its kernel caches: a model compiled earlier in the process (a
    worker keeps them) then took 0.5 s instead of 0.02 for its next first step, measured. Python's and NumPy's
    generators, which Keras draws initial weights and dropout seeds from, are seeded every time; the batch
    order (tf.data's shuffle) follows TensorFlow's global seed, which is `seed` either way."""
    import random

    import keras
    import numpy as np

    if compat.tensorflow_global_seed() == seed:
        random.seed(seed)
        np.random.seed(seed)
    else:
        keras.utils.set_random_seed(seed)


def build_model(experiment: Experiment, *, steps_per_execution: int = 1, jit_compile: bool | str = "auto",
                sizes: tuple[int, int] | None = None):
    """A compiled keras.Model for this experiment: Input -> recurrent layers -> Dense head.

    `jit_compile`: Keras' compile argument (XLA); "auto" is Keras' own choice, which is off on a machine without
    an accelerator. Training decides it per run (`seqcore.training.use_xla`) and passes True or False.
    `sizes`: (features, outputs) of the built data; by default what the config says (a text's is its vocabulary).
    A text model reads character ids and one-hots them in its first layer (no weights), so its weights are
    those of a one-hot model, and it is trained on ids with a sparse loss: no one-hot copy of the text."""
    import keras
    from keras import layers

    seed_randomness(experiment.train.seed)
    model_cfg, data_cfg = experiment.model, experiment.data
    n_features, n_outputs = sizes or input_output_sizes(data_cfg)
    per_step = data_cfg.task.kind.head == "tokens"
    reads_ids = data_cfg.task.kind.name == "text"
    steps = input_steps(data_cfg)

    regularizer = None
    if model_cfg.l1 or model_cfg.l2:
        regularizer = keras.regularizers.L1L2(l1=model_cfg.l1, l2=model_cfg.l2)
    cell = getattr(layers, model_cfg.cell)

    if reads_ids:
        inputs = keras.Input(shape=(steps,), dtype="int32", name="characters")
        x = layers.CategoryEncoding(num_tokens=n_features, output_mode="one_hot", name="one_hot")(inputs)
    else:
        inputs = keras.Input(shape=(steps, n_features), name="sequence")
        x = inputs
    for i in range(model_cfg.layers):
        last = i == model_cfg.layers - 1
        initialisers = {name: value for name, (value, _) in _initialisers(experiment, i).items()}
        x = cell(model_cfg.units, kernel_regularizer=regularizer, name=f"{model_cfg.cell.lower()}_{i + 1}",
                 **_layer_kwargs(experiment, return_sequences=per_step or not last), **initialisers)(x)
    activation = "softmax" if per_step else None
    outputs = layers.Dense(n_outputs, activation=activation, name="head")(x)
    model = keras.Model(inputs, outputs, name=f"{model_cfg.cell.lower()}_playground")

    train = experiment.train
    clip = {"clipnorm": train.clipnorm} if train.clipnorm else {}
    optimizer = {"adam": keras.optimizers.Adam, "rmsprop": keras.optimizers.RMSprop,
                 "sgd": keras.optimizers.SGD}[train.optimizer](learning_rate=train.learning_rate, **clip)
    if per_step:
        # Average over the scored steps only, so a masked task (delay) reports the same units as its baselines.
        losses = keras.losses.SparseCategoricalCrossentropy if reads_ids else keras.losses.CategoricalCrossentropy
        loss = losses(reduction="mean_with_sample_weight")
        model.compile(optimizer=optimizer, loss=loss, weighted_metrics=["accuracy"],
                      steps_per_execution=steps_per_execution, jit_compile=jit_compile)
    else:
        model.compile(optimizer=optimizer, loss="mse", weighted_metrics=["mae"],
                      steps_per_execution=steps_per_execution, jit_compile=jit_compile)
    return model


def metric_name(experiment: Experiment) -> str:
    """The Keras metric this experiment reports besides the loss."""
    return experiment.data.task.kind.metric


def keras_script(experiment: Experiment) -> str:
    """A standalone Python script that makes this experiment's data and trains its network with plain Keras: no
    seqcore needed, its first epoch the app's (`seqcore.script.keras_script`, which writes it)."""
    from seqcore.script import keras_script as script

    return script(experiment)
