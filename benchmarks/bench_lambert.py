"""Batch Lambert solves per second: l4station (numba, all cores and one core) against
lamberthub's izzo2015 and ESA pykep's C++ solver, on mixed problems.

    pip install '.[bench]' && python benchmarks/bench_lambert.py [N]

The bar: beat pykep per core (its C++ implementation of Izzo 2015, about 340,000
single-revolution solves/s per core on this kind of machine) on a batch of 10^6 mixed problems,
and use both cores. pykep 3.0.1's wheel fails in
its package __init__ (a missing data file), so its compiled core module is loaded directly.
"""
import glob
import importlib.util
import os
import sys

import numba
import numpy as np

from timing import best_of

from l4station.orbit.lambert import solve

MU = 1.32712440041e11  # km^3/s^2
AU = 1.495978707e8


def problems(n, seed=0):
    """Heliocentric problems between 0.7 and 1.5 au, 30 days to 6 years, 0-2 revolutions,
    both branches, a tenth retrograde."""
    rng = np.random.default_rng(seed)
    def points():
        d = rng.normal(size=(n, 3))
        d[:, 2] *= 0.1
        return d / np.linalg.norm(d, axis=1, keepdims=True) * rng.uniform(0.7, 1.5, (n, 1)) * AU
    tof = rng.uniform(30, 6 * 365.25, n) * 86400.0
    return points(), points(), tof, rng.integers(0, 3, n), rng.random(n) < 0.5, rng.random(n) < 0.9




def load_pykep_core():
    try:
        spec = importlib.util.find_spec("pykep")
    except ImportError:
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    found = glob.glob(os.path.join(spec.submodule_search_locations[0], "core.*.so"))
    if not found:
        return None
    core_spec = importlib.util.spec_from_file_location("pykep.core", found[0])
    core = importlib.util.module_from_spec(core_spec)
    core_spec.loader.exec_module(core)
    return core


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    r1, r2, tof, revs, low, prograde = problems(n)
    solve(r1[:10], r2[:10], tof[:10], MU, revs=revs[:10], low_path=low[:10], prograde=prograde[:10])  # compile
    cores = numba.config.NUMBA_NUM_THREADS
    all_cores = best_of(lambda: solve(r1, r2, tof, MU, revs=revs, low_path=low, prograde=prograde))
    numba.set_num_threads(1)
    one_core = best_of(lambda: solve(r1, r2, tof, MU, revs=revs, low_path=low, prograde=prograde))
    numba.set_num_threads(cores)
    ours_all, ours_one = n / all_cores, n / one_core
    v1, _ = solve(r1, r2, tof, MU, revs=revs, low_path=low, prograde=prograde)
    print(f"{n:,} mixed problems (0-2 revolutions, both branches); {np.isnan(v1[:, 0]).mean():.1%} have no "
          f"solution for their revolution count")
    print(f"  l4station, {cores} cores      {ours_all:12,.0f} solves/s")
    print(f"  l4station, 1 core        {ours_one:12,.0f} solves/s   ({one_core / all_cores:.2f}x faster on {cores} cores)")

    pykep_quoted = 340_000.0
    print(f"  pykep (C++, quoted figure)    {pykep_quoted:8,.0f} solves/s per core   "
          f"ratio ours/pykep per core {ours_one / pykep_quoted:5.2f}x")
    core = load_pykep_core()
    if core is not None:
        m = 20_000
        zero = revs[:m] == 0  # pykep returns every branch up to max_revs; time single-revolution problems
        idx = np.flatnonzero(zero)
        def run_pykep():
            for i in idx:
                core.lambert_problem(r0=r1[i], r1=r2[i], tof=tof[i], mu=MU, cw=not prograde[i], multi_revs=0)
        t = best_of(run_pykep, repeat=1)
        pk = len(idx) / t
        print(f"  pykep {getattr(core, '__version__', '3')} via Python, 1 core {pk:10,.0f} solves/s   "
              f"ratio ours/pykep per core {ours_one / pk:5.2f}x")
    else:
        print("  pykep: not installed (pip install '.[bench]')")
    try:
        from lamberthub import izzo2015
    except ImportError:
        print("  lamberthub: not installed (pip install '.[bench]')")
        return
    m = 3000
    def run_hub():
        for i in range(m):
            try:
                izzo2015(MU, r1[i], r2[i], tof[i], M=int(revs[i]), prograde=bool(prograde[i]), low_path=bool(low[i]))
            except Exception:
                pass
    run_hub()
    t = best_of(run_hub, repeat=1)
    hub = m / t
    print(f"  lamberthub izzo2015, 1 core {hub:10,.0f} solves/s   ratio ours/lamberthub per core {ours_one / hub:7.1f}x")


if __name__ == "__main__":
    main()
