"""Deterministic golden inputs, bit-exact and trivial to reimplement in C++.

Generator (see tools/models/README.md, "Golden inputs"):
    state = seed (uint64)
    next(): state += 0x9E3779B97F4A7C15            (mod 2^64)
            z = state
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9  (mod 2^64)
            z = (z ^ (z >> 27)) * 0x94D049BB133111EB  (mod 2^64)
            return z ^ (z >> 31)
    value = float((next() >> 40) * 2^-24 * 2 - 1)   in [-1, 1), a multiple of 2^-23,
                                                      exactly representable in float32
The tensor [B, T, F] is filled in row-major (C) order: element i takes the i-th draw (i from 0).
"""
from __future__ import annotations

import numpy as np

GAMMA = np.uint64(0x9E3779B97F4A7C15)
M1 = np.uint64(0xBF58476D1CE4E5B9)
M2 = np.uint64(0x94D049BB133111EB)

# seed per (model, batch): 1000 * model index + batch. Written into golden.json too.
MODEL_INDEX = {"lstm_attn_s": 1, "lstm_attn_l": 2, "convlstm": 3, "transformer_s": 4}


def seed_for(model: str, batch: int) -> int:
    return 1000 * MODEL_INDEX[model] + batch


def splitmix64(seed: int, n: int) -> np.ndarray:
    """The first n outputs of splitmix64 started at `seed` (uint64 array)."""
    with np.errstate(over="ignore"):
        i = np.arange(1, n + 1, dtype=np.uint64)
        z = np.uint64(seed) + i * GAMMA           # state after the i-th increment (wraps)
        z = (z ^ (z >> np.uint64(30))) * M1
        z = (z ^ (z >> np.uint64(27))) * M2
        return z ^ (z >> np.uint64(31))


def golden_input(seed: int, shape) -> np.ndarray:
    n = int(np.prod(shape))
    top24 = (splitmix64(seed, n) >> np.uint64(40)).astype(np.float64)
    v = top24 * (2.0 ** -24) * 2.0 - 1.0          # exact in double and in float32
    out = v.astype(np.float32).reshape(shape)
    assert np.array_equal(out.astype(np.float64), v.reshape(shape)), "not exactly representable"
    return out


def _self_test() -> None:
    # Reference values of splitmix64 (seed 0) from the original C code by S. Vigna.
    ref = [0xE220A8397B1DCDAF, 0x6E789E6AA1B965F4, 0x06C45D188009454F]
    got = [int(v) for v in splitmix64(0, 3)]
    assert got == ref, [hex(v) for v in got]


_self_test()
