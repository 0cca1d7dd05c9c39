"""Small array helpers used across the packages, each written once.

>>> runs(np.array([0, 1, 1, 0, 1, 1, 1], bool), at_least=3)
[(4, 7)]
"""
from __future__ import annotations

import numpy as np


def runs(flag, at_least: int = 1) -> list[tuple[int, int]]:
    """(start, stop) index pairs of the runs of True at least ``at_least`` long, ``stop``
    exclusive as in a Python slice."""
    edges = np.diff(np.concatenate([[0], np.asarray(flag, dtype=np.int8), [0]]))
    starts, stops = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    keep = stops - starts >= at_least
    return list(zip(starts[keep].tolist(), stops[keep].tolist()))


def ar1(innovations, a: float, *, stationary_start: bool = True) -> np.ndarray:
    """First-order autoregressive series along axis 0, x_i = a x_(i-1) + sqrt(1 - a^2) e_i, from
    independent unit-normal innovations e (Box, Jenkins & Reinsel 2008, sec. 3.2.4): unit variance
    when it starts stationary (x_0 = e_0), else it starts from rest (x_-1 = 0). ``a`` = exp(-dt/tau)
    for correlation time tau.

    >>> ar1(np.array([1.0, 0.0, 0.0]), 0.5).round(3).tolist()
    [1.0, 0.5, 0.25]
    """
    from scipy.signal import lfilter

    e = np.asarray(innovations, dtype=float)
    gain = np.sqrt(1.0 - a * a)
    if not stationary_start:
        return lfilter([gain], [1.0, -a], e, axis=0)
    rest, _ = lfilter([gain], [1.0, -a], e[1:], axis=0, zi=np.asarray(a * e[0])[None, ...])
    return np.concatenate([e[:1], rest])
