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
