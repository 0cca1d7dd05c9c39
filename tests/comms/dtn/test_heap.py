"""The DTN kernels' array heap against Python's heapq on the same keys (tuples of four numbers,
compared in order): any sequence of pushes and pops gives the same keys in the same order."""
import heapq

import numpy as np
from hypothesis import given, settings, strategies as st

from l4station.comms.dtn import heap

KEYS = st.tuples(st.sampled_from([0.0, 1.0, 2.5, np.inf, -np.inf]), st.integers(0, 3).map(float),
                 st.sampled_from([-np.inf, 0.0, -1.0]), st.integers(0, 2**40))


@settings(max_examples=200, deadline=None)
@given(steps=st.lists(st.one_of(KEYS, st.none()), max_size=200))
def test_pushes_and_pops_give_what_heapq_gives(steps):
    # None pops; ties in the first three numbers are broken by the fourth, as tuples are
    reference, keys, size = [], np.empty((1, 4)), 0          # starting full: every push may grow it
    for step in steps:
        if step is None:
            if reference:
                assert heap.pop(keys, size) == heapq.heappop(reference)
                size -= 1
        else:
            keys = heap.push(keys, size, *step)
            size += 1
            heapq.heappush(reference, step)
    while reference:
        assert heap.pop(keys, size) == heapq.heappop(reference)
        size -= 1
