"""Shared timing helper for the benchmarks: best of several runs (machines are noisy)."""
import time


def best_of(fn, repeat=3):
    """Shortest wall time (s) of ``repeat`` calls of ``fn``."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)
