"""Sweeps: the same sweep on one Dask worker and on two (target: two workers on 2 cores at least
1.7x one worker on a 16-variant sweep), and what a variant that changes only link settings costs
beside a full study of the default mission (target: at most 25 %), and how long checking a
10,000-variant sweep takes before any work starts.

    python benchmarks/bench_sweep.py [--variants 16]

The sweep's variants are the small test mission (tests/data/small-trade.toml) with the
spacecraft's solar-radiation-pressure area varied: each changes the transfer, the stay and
what follows from it, so each is a full study (a sweep of link settings would share those
through its cache, and its first variant would hold everything up). Every run starts from an
empty output folder (nothing resumed, an empty cache) on a fresh LocalCluster (one
single-threaded process per worker). The link variant is the default mission with a 6 dB required margin, run as a sweep runs it (on a
one-worker LocalCluster, numba warm, no figures drawn) with the cache the full variant filled.
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
    areas = [round(float(a), 2) for a in np.linspace(4.0, 12.0, n)]
    plan = sweep.parse({"base": str(SMALL), "vary": {"spacecraft.srp_area_m2": areas}}, "bench")
    from l4station import cluster
    elapsed, started = {}, {}
    for workers in (1, 2):
        with tempfile.TemporaryDirectory() as out:
            began = time.perf_counter()
            with cluster.client(workers=workers) as client:          # as `dask scheduler` + workers would be
                started[workers] = time.perf_counter() - began
                began = time.perf_counter()
                summary = sweep.run(plan, Path(out), scheduler=client.scheduler.address)
                elapsed[workers] = time.perf_counter() - began
            assert summary["completed"] == n, summary["failed"]
        print(f"{workers} worker{'s' if workers > 1 else ''}: {n} variants in {elapsed[workers]:.1f} s "
              f"({elapsed[workers] / n:.1f} s per variant; the cluster started in {started[workers]:.1f} s before)")
    total = {w: elapsed[w] + started[w] for w in elapsed}
    print(f"speed-up of two workers: {elapsed[1] / elapsed[2]:.2f}x on a running cluster, {total[1] / total[2]:.2f}x "
          "with its start  (required 1.7x)")
    link_variant()
    checking()


def checking() -> None:
    """Every variant is checked before work starts: 10,000 sampled variants of the default mission."""
    plan = sweep.parse({"sample": {"spacecraft.rf.antenna_diameter_m": [0.5, 2.0], "spacecraft.rf.power_w": [20.0, 200.0],
                                   "n": 10_000, "method": "lhs"}}, "bench")
    began = time.perf_counter()
    checked = sweep.variants(plan)
    took = time.perf_counter() - began
    print(f"checking {len(checked):,} variants before work starts: {took:.1f} s ({1e3 * took / len(checked):.2f} ms "
          "each; it took 27 s when each check built astropy Times)")


def link_variant() -> None:
    from l4station import cluster, config
    from l4station.study import study, sweep
    from l4station.cache import Cache
    base = config.load()
    with tempfile.TemporaryDirectory() as folder, cluster.client(workers=1) as client:
        def timed(mission) -> float:
            began = time.perf_counter()
            client.submit(sweep.figures_of, mission, Cache(folder), pure=False).result()
            return time.perf_counter() - began
        timed(config.load(SMALL))                                  # compile outside the timing
        full = timed(base)                                         # a sweep's first variant: nothing kept yet
        path = Path(folder) / "margin.toml"
        path.write_text("[link]\nrequired_margin_db = 6.0\n")
        link = timed(config.load(path))
    study.run(config.load(SMALL))
    began = time.perf_counter()
    study.run(base)
    drawn = time.perf_counter() - began
    print(f"default mission on a sweep's worker: a full variant {full:.1f} s; a link-only variant from the "
          f"cache {link:.1f} s = {100 * link / full:.0f} % of it  (required at most 25 %); the study with its "
          f"figures, in this process: {drawn:.1f} s")


if __name__ == "__main__":
    main()
