"""Small array helpers used across the packages, each written once.

>>> runs(np.array([0, 1, 1, 0, 1, 1, 1], bool), at_least=3)
[(4, 7)]
"""
from __future__ import annotations

import functools

import numpy as np


def runs(flag, at_least: int = 1) -> list[tuple[int, int]]:
    """(start, stop) index pairs of the runs of True at least ``at_least`` long, ``stop``
    exclusive as in a Python slice."""
    edges = np.diff(np.concatenate([[0], np.asarray(flag, dtype=np.int8), [0]]))
    starts, stops = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    keep = stops - starts >= at_least
    return list(zip(starts[keep].tolist(), stops[keep].tolist()))


def group_starts(key) -> np.ndarray:
    """Indices where each run of equal values in ``key`` (grouped, e.g. sorted) begins.

    >>> group_starts(np.array([3, 3, 5, 5, 5, 8])).tolist()
    [0, 2, 5]
    """
    key = np.asarray(key)
    return np.flatnonzero(np.concatenate([[True], key[1:] != key[:-1]])) if len(key) else np.zeros(0, dtype=np.int64)


def ar1(innovations, a: float, *, stationary_start: bool = True) -> np.ndarray:
    """First-order autoregressive series along axis 0, x_i = a x_(i-1) + sqrt(1 - a^2) e_i, from
    independent unit-normal innovations e (Box, Jenkins & Reinsel 2008, sec. 3.2.4): unit variance
    when it starts stationary (x_0 = e_0), else it starts from rest (x_-1 = 0). ``a`` = exp(-dt/tau)
    for correlation time tau.

    >>> ar1(np.array([1.0, 0.0, 0.0]), 0.5).round(3).tolist()
    [1.0, 0.5, 0.25]
    """
    e = np.asarray(innovations, dtype=float)
    gain = np.sqrt(1.0 - a * a)
    flat = e.reshape(len(e), -1)
    out = np.empty_like(flat)
    if stationary_start:
        out[0] = flat[0]
        _compiled_filter()(flat[1:], float(a), float(gain), a * flat[0], out[1:])
    else:
        _compiled_filter()(flat, float(a), float(gain), np.zeros(flat.shape[1]), out)
    return out.reshape(e.shape)


@functools.cache
def _compiled_filter():
    """:func:`_filter` compiled by numba when first needed (so that :func:`runs` loads no numba)."""
    from numba import njit
    return njit(cache=True)(_filter)


def _filter(e, a, gain, start, out):
    """out[i] = gain e[i] + a out[i - 1] down each column, from a out[-1] = ``start``: the
    recurrence as scipy.signal.lfilter([gain], [1, -a]) runs it (transposed direct form II), so
    that results match it bit for bit."""
    for c in range(e.shape[1]):
        state = start[c]
        for i in range(e.shape[0]):
            y = state + gain * e[i, c]
            out[i, c] = y
            state = e[i, c] * 0.0 - y * -a
