"""The engine's uses of private names in Keras and TensorFlow, each with its reason, in one place.

Each has a public fallback that only costs speed, so a new version that drops a name changes no result;
tests/test_compat.py fails, naming the name, when an installed version no longer has one.
"""

from __future__ import annotations

# name -> why the engine uses it (tests/test_compat.py checks that each still exists)
PRIVATE_NAMES = {
    "keras.Model._symbolic_build": "builds the optimizer's and the metrics' variables before the first traced step; "
                                   "without it TensorFlow traces a new network's training step twice (+1 s)",
    "tensorflow.python.eager.context.global_seed": "reads TensorFlow's global seed, which has no public getter, so "
                                                   "that a cached model's kernels are not cleared by seeding again",
}


def build_training_state(model, batch: tuple) -> bool:
    """Keras' own symbolic build of the optimizer and metrics from one (x, y, w) batch; False if Keras lacks it."""
    symbolic_build = getattr(model, "_symbolic_build", None)
    if symbolic_build is None:
        return False
    symbolic_build(data_batch=batch)
    return True


def tensorflow_global_seed() -> int | None:
    """TensorFlow's global seed as it is now, whoever set it; None if it cannot be read."""
    try:
        from tensorflow.python.eager import context

        return context.global_seed()
    except Exception:  # any failure only costs the fast path: the caller then seeds again
        return None
