"""Speed of the foundation: the study command as a user runs it, first on a fresh install
(numba compiling every kernel, nothing in the user's cache: target under 20 s; the best of two,
with the CPU time its processes used) and then warm
(the same mission again, numba's and the user's caches kept: target under 10 s, the median of
three), and vectorised DE421 positions against astropy's
built-in ephemeris (ERFA epv00) on the same times.

    python benchmarks/bench_foundation.py

Prints our figure, the comparator's and the ratio. Best of several runs (machines are noisy).
"""
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

import astropy.units as u
import numpy as np
from astropy.coordinates import get_body_barycentric
from astropy.time import Time

from timing import best_of

from l4station import config, ephemeris
from l4station.study import study

FRESH_BUDGET_S = 20.0  # required: the first study on a fresh install (numba compiling) under 20 s
WARM_BUDGET_S = 10.0   # and every later one under 10 s


def _command(env: dict) -> tuple[float, float]:
    """The study command's wall time (s) and the CPU time (s, user and system) of it and its
    processes."""
    began, used = time.perf_counter(), _children_cpu()
    subprocess.run([sys.executable, "-m", "l4station", "study", "--json", "--out", "/tmp/l4station-bench-report"],
                   check=True, capture_output=True, env={**os.environ, **env})
    return time.perf_counter() - began, _children_cpu() - used


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _fresh() -> tuple[float, float]:
    """The study command on a fresh install: nothing in numba's cache or the user's."""
    with tempfile.TemporaryDirectory() as numba, tempfile.TemporaryDirectory() as kept:
        return _command({"NUMBA_CACHE_DIR": numba, "L4STATION_CACHE": kept})


def main():
    # 1. The study, in process (imports warm) and as a user runs it (fresh interpreter).
    mission = config.load()
    in_process = best_of(lambda: study.run(mission), repeat=3)
    fresh, fresh_cpu = min(_fresh() for _ in range(2))
    with tempfile.TemporaryDirectory() as numba, tempfile.TemporaryDirectory() as kept:
        fresh_install = {"NUMBA_CACHE_DIR": numba, "L4STATION_CACHE": kept}
        _command(fresh_install)
        warm = statistics.median(_command(fresh_install)[0] for _ in range(3))
    print(f"study (default mission, {len(study.StudyContext(mission).times)} samples)")
    print(f"  in process                 {in_process:8.3f} s")
    print(f"  command, fresh install     {fresh:8.3f} s   target {FRESH_BUDGET_S:.0f} s   ratio {fresh / FRESH_BUDGET_S:5.2f}"
          f"   (best of 2; {fresh_cpu:.1f} s of CPU over {os.cpu_count()} cores)")
    print(f"  command, warm (median)     {warm:8.3f} s   target {WARM_BUDGET_S:.0f} s   ratio {warm / WARM_BUDGET_S:5.2f}")

    # 2. Heliocentric Earth at N times: ours (DE421, jplephem, vectorised) vs astropy builtin.
    for n in (1_000, 100_000):
        t = Time("2031-01-01") + np.linspace(0, 5, n) * u.yr
        t.tdb  # convert once outside the timing, for both
        ours = best_of(lambda: ephemeris.position("earth", t))
        theirs = best_of(lambda: (get_body_barycentric("earth", t, ephemeris="builtin")
                                  - get_body_barycentric("sun", t, ephemeris="builtin")))
        print(f"heliocentric Earth, {n:>7,} times")
        print(f"  l4station (DE421)   {n / ours:12,.0f} positions/s")
        print(f"  astropy builtin     {n / theirs:12,.0f} positions/s   ratio {theirs / ours:5.2f}x")


if __name__ == "__main__":
    main()
