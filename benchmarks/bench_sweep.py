"""Sweeps: the same sweep on one Dask worker and on two (target: two workers on 2 cores at least
1.7x one worker on a 16-variant sweep), and what a variant that changes only link settings costs
beside a full study of the default mission (target: at most 25 %).

    python benchmarks/bench_sweep.py [--variants 16]

The sweep's variants are the small test mission (tests/data/small-trade.toml) with the
spacecraft's power varied, each a full study; every run starts from an empty output folder
(nothing resumed, an empty cache) on a fresh LocalCluster (one single-threaded process per
worker). The link variant is the default mission with a 6 dB required margin, studied with the
cache the full study filled (both in this process, numba warm).
"""
import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from l4station.study import sweep

SMALL = Path(__file__).resolve().parents[1] / "tests" / "data" / "small-trade.toml"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", type=int, default=16)
    n = parser.parse_args().variants
    powers = [round(float(p), 2) for p in np.linspace(20.0, 80.0, n)]
    plan = sweep.parse({"base": str(SMALL), "vary": {"spacecraft.rf.power_w": powers}}, "bench")
    elapsed = {}
    for workers in (1, 2):
        with tempfile.TemporaryDirectory() as out:
            began = time.perf_counter()
            summary = sweep.run(plan, Path(out), workers=workers)
            elapsed[workers] = time.perf_counter() - began
            assert summary["completed"] == n, summary["failed"]
        print(f"{workers} worker{'s' if workers > 1 else ''}: {n} variants in {elapsed[workers]:.1f} s "
              f"({elapsed[workers] / n:.1f} s per variant)")
    print(f"speed-up of two workers: {elapsed[1] / elapsed[2]:.2f}x  (required 1.7x)")
    link_variant()


def link_variant() -> None:
    from l4station import config
    from l4station.study import study
    from l4station.study.cache import Cache
    base = config.load()
    study.run(config.load(SMALL))                                  # compile outside the timing
    with tempfile.TemporaryDirectory() as folder:
        began = time.perf_counter()
        study.run(base, cache=Cache(folder))
        full = time.perf_counter() - began
        path = Path(folder) / "margin.toml"
        path.write_text("[link]\nrequired_margin_db = 6.0\n")
        began = time.perf_counter()
        study.run(config.load(path), cache=Cache(folder))
        link = time.perf_counter() - began
    print(f"default mission: full study {full:.1f} s; a link-only variant from the cache {link:.1f} s = "
          f"{100 * link / full:.0f} % of it  (required at most 25 %)")


if __name__ == "__main__":
    main()
