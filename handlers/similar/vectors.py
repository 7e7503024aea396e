"""Sentence vectors as stored with an idea: int8 with one float32 scale (a quarter of float32's
bytes; measured on the labelled set, the scores move by under 0.003 and no decision changes).

Packing is pure Python (the `array` module). Ranking is not: a neighbourhood-only lookup in a
city compares thousands of candidates (bench/similar_scale.py: 2,400 took 160-260 ms one by
one, ~2 ms as one matrix product), so `cosines` uses numpy, imported when first needed (it
comes with the model's package, which has loaded it by the time a lookup ranks)."""

import math
import struct
from array import array
from collections.abc import Sequence

_SCALE = struct.Struct("<f")


def pack(vector: Sequence[float]) -> bytes:
    """A vector as bytes: its largest magnitude (float32), then each value as int8 of it."""
    largest = max((abs(float(x)) for x in vector), default=0.0) or 1.0
    values = array("b", (round(float(x) / largest * 127) for x in vector))
    return _SCALE.pack(largest / 127) + values.tobytes()


def unpack(data: bytes) -> list[float]:
    """The vector `pack` stored (up to its rounding)."""
    (scale,) = _SCALE.unpack_from(data)
    values = array("b")
    values.frombytes(data[_SCALE.size :])
    return [v * scale for v in values]


def cosine(a: Sequence[float], b: Sequence[float]) -> float:
    """Cosine similarity (0 when either vector is all zeros)."""
    dot = math.fsum(x * y for x, y in zip(a, b, strict=True))
    norms = math.sqrt(math.fsum(x * x for x in a)) * math.sqrt(math.fsum(y * y for y in b))
    return dot / norms if norms else 0.0


def cosines(vector: Sequence[float], packed: Sequence[bytes]) -> list[float]:
    """The cosine of `vector` with each packed vector, in one matrix product (0 where either is
    all zeros). The scale `pack` stores cancels out of a cosine, so only the int8 values are
    read."""
    if not packed:
        return []
    import numpy as np

    width = len(packed[0])
    rows = np.frombuffer(b"".join(packed), dtype=np.int8).reshape(len(packed), width)
    matrix = rows[:, _SCALE.size :].astype(np.float64)
    query = np.asarray(vector, dtype=np.float64)
    norms = np.linalg.norm(matrix, axis=1) * float(np.linalg.norm(query))
    dots = matrix @ query
    safe = np.where(norms > 0, norms, 1.0)
    return [float(x) for x in np.where(norms > 0, dots / safe, 0.0)]
