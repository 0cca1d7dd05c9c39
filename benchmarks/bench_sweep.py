"""Sweep scaling: the same sweep on one Dask worker and on two, against the issue's target (two
workers on 2 cores at least 1.7x one worker on a 16-variant sweep).

    python benchmarks/bench_sweep.py [--variants 16]

The variants are the small test mission (tests/data/small-trade.toml) with the spacecraft's dish
diameter varied, each a full study; every run starts from an empty output folder (nothing
resumed) on a fresh LocalCluster (one single-threaded process per worker).
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
    diameters = [round(float(d), 3) for d in np.linspace(0.8, 1.6, n)]
    plan = sweep.parse({"base": str(SMALL), "vary": {"spacecraft.rf.antenna_diameter_m": diameters}}, "bench")
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


if __name__ == "__main__":
    main()
