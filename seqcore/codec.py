"""Events as bytes for the run store: NumPy's .npz format, without pickle, so a stored file cannot run code.

A frozen event dataclass becomes one .npz archive: each array field an array, each list of arrays one array per
item, and every other field (numbers, words, dictionaries of numbers) in a JSON header.
"""

from __future__ import annotations

import io
import json
from dataclasses import fields

import numpy as np

from seqcore.events import EndEvent, EpochEvent, SnapshotEvent, StartEvent

EVENT_TYPES = {cls.__name__: cls for cls in (StartEvent, EpochEvent, SnapshotEvent, EndEvent)}
_HEADER = "__header__"


class CodecError(ValueError):
    """Bytes that are not an event this version can read."""


def encode(event) -> bytes:
    arrays: dict[str, np.ndarray] = {}
    header: dict = {"type": type(event).__name__, "fields": {}, "lists": {}}
    for f in fields(event):
        value = getattr(event, f.name)
        if isinstance(value, np.ndarray):
            arrays[f.name] = value
        elif str(f.type).startswith("list[np.ndarray"):
            header["lists"][f.name] = len(value)
            arrays.update({f"{f.name}.{i}": a for i, a in enumerate(value)})
        elif isinstance(value, dict) and any(isinstance(v, bytes) for v in value.values()):
            raise CodecError(f"{f.name}: bytes are stored beside the event, not inside it")
        else:
            header["fields"][f.name] = value
    arrays[_HEADER] = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def decode(blob: bytes):
    try:
        with np.load(io.BytesIO(blob), allow_pickle=False) as archive:
            header = json.loads(archive[_HEADER].tobytes())
            cls = EVENT_TYPES[header["type"]]
            values = dict(header["fields"])
            for name, count in header["lists"].items():
                values[name] = [archive[f"{name}.{i}"] for i in range(count)]
            names = {f.name for f in fields(cls)}
            values.update({key: archive[key] for key in archive.files if key in names and key not in values})
    except (OSError, KeyError, ValueError, json.JSONDecodeError) as err:
        raise CodecError(f"not a stored event ({err})") from None
    return cls(**values)
