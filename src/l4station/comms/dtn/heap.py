"""A binary min-heap of keys of four numbers, ordered as tuples are, for the event loop and the
route search (Cormen et al., Introduction to Algorithms, 3rd ed., sec. 6.5). It lives in one
float64 array of rows, so that numba compiles it once for both (callers pass a float, a
float, a float and an int, never a constant: each constant would compile another copy), in a
fraction of the time ``heapq`` on tuples takes; integers in a key must stay below 2**53.

>>> heap, size = np.empty((1, 4)), 0
>>> for key in [(2.0, 1.0, 0.0, 7), (1.0, 5.0, 0.0, 8), (2.0, 0.0, 0.0, 9)]:
...     heap = push(heap, size, *key)
...     size += 1
>>> [tuple(int(x) for x in pop(heap, n)) for n in (3, 2, 1)]
[(1, 5, 0, 8), (2, 0, 0, 9), (2, 1, 0, 7)]
"""
from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def _before(heap, i, j):
    """Row i's key is less than row j's (compared as tuples)."""
    for k in range(4):
        if heap[i, k] != heap[j, k]:
            return heap[i, k] < heap[j, k]
    return False


@njit(cache=True)
def _swap(heap, i, j):
    for k in range(4):
        heap[i, k], heap[j, k] = heap[j, k], heap[i, k]


@njit(cache=True)
def push(heap, size, a, b, c, d):
    """Add the key (a, b, c, d) to the heap holding ``size`` keys; returns the heap (a copy twice
    as large when it was full)."""
    if size == heap.shape[0]:
        bigger = np.empty((2 * size + 1, 4))
        for i in range(size):
            for k in range(4):
                bigger[i, k] = heap[i, k]
        heap = bigger
    heap[size, 0], heap[size, 1], heap[size, 2], heap[size, 3] = a, b, c, d
    i = size
    while i > 0:
        parent = (i - 1) // 2
        if not _before(heap, i, parent):
            break
        _swap(heap, i, parent)
        i = parent
    return heap


@njit(cache=True)
def pop(heap, size):
    """Remove the least key from the heap holding ``size`` (> 0) keys and return it; the heap
    then holds ``size - 1``."""
    a, b, c, d = heap[0, 0], heap[0, 1], heap[0, 2], heap[0, 3]
    last = size - 1
    for k in range(4):
        heap[0, k] = heap[last, k]
    i = np.int64(0)                 # not a constant: _before and _swap compile once
    while True:
        child = 2 * i + 1
        if child >= last:
            break
        if child + 1 < last and _before(heap, child + 1, child):
            child += 1
        if not _before(heap, child, i):
            break
        _swap(heap, i, child)
        i = child
    return a, b, c, d
