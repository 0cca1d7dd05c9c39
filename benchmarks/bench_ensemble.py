"""A large solar-wind ensemble (one synodic rotation, 128 longitudes, 10,000 members by default)
on a local Dask cluster of two single-threaded workers beside the same ensemble in one process
(numba's threads on every core), and whether the two agree bit for bit.

    python benchmarks/bench_ensemble.py [--members 10000] [--workers 2]

The boundary map is the one `l4station ensemble` assimilates from OMNI and STEREO-A at
2011-01-01 (the packaged records), its spread the assimilation's error, growing through the run
as the error model says (as `l4station ensemble`).
"""
import argparse

import numpy as np

from l4station import cluster
from l4station.heliosphere import corotation, ensemble, insitu, osse


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    records = insitu.packaged()
    samples = [corotation.backmap(records[o]) for o in ("L1", "L4")]
    central, sigma, _ = corotation.boundary_map(samples, osse.mjd_of("2011-01-01"), min_coverage=0.0)
    grow = corotation.ErrorModel()
    ensemble.solar_wind(central, sigma, count=2, duration_s=86400.0, growth=grow)    # compile outside the timing
    here = ensemble.solar_wind(central, sigma, count=args.members, seed=1, growth=grow)
    print(f"one process:        {here.members:,} members in {here.elapsed_s:.1f} s = {here.members_per_s:.1f} members/s")
    with cluster.client(workers=args.workers) as client:
        ensemble.solar_wind(central, sigma, count=2, duration_s=86400.0, client=client, growth=grow)
        there = ensemble.solar_wind(central, sigma, count=args.members, seed=1, client=client, growth=grow)
    print(f"Dask, {args.workers} workers:    {there.members:,} members in {there.elapsed_s:.1f} s = "
          f"{there.members_per_s:.1f} members/s")
    print(f"ratio Dask / one process: {here.elapsed_s / there.elapsed_s:.2f}x; identical: "
          f"{np.array_equal(here.values, there.values)}")


if __name__ == "__main__":
    main()
