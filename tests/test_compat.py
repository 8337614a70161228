"""Private names of Streamlit, Keras and TensorFlow that the code relies on: a new version that drops one must
fail here, by name, rather than slow the app down in silence."""

import importlib

import pytest

from pages.ui import compat as ui_compat
from seqcore import compat as engine_compat


def resolve(dotted: str):
    """The object a dotted name points to, importing the longest module prefix."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            target = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for attribute in parts[cut:]:
            target = getattr(target, attribute)
        return target
    raise ImportError(dotted)


@pytest.mark.parametrize(("name", "why"), [*ui_compat.PRIVATE_NAMES.items(), *engine_compat.PRIVATE_NAMES.items()])
def test_every_private_name_still_exists(name, why):
    try:
        resolve(name)
    except (ImportError, AttributeError) as err:
        pytest.fail(f"{name} is gone from the installed version ({err}). It was used because it {why}. Update "
                    "pages/ui/compat.py or seqcore/compat.py, and the call site's fallback.")


def test_the_engine_reads_the_seed_tensorflow_was_given():
    import keras

    keras.utils.set_random_seed(1234)
    assert engine_compat.tensorflow_global_seed() == 1234
