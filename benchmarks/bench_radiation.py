"""Radiation: organ doses from an event spectrum behind 100 shield thicknesses x 3 organs
(target: under 50 ms), beside the first call, which also builds the organ kernels (the
direction-averaged dose per proton reaching the body, 1,200 energies x 2,048 directions each).

    python benchmarks/bench_radiation.py
"""
import time

import numpy as np

from timing import best_of

from l4station.radiation import dose, spectra

TARGET_S = 0.050


def main():
    event = spectra.event("sapphire-1in100")
    shields = np.linspace(0.1, 50.0, 100)
    began = time.perf_counter()
    dose.doses(event, shields)
    first = time.perf_counter() - began
    ours = best_of(lambda: dose.doses(event, shields), repeat=20)
    print(f"100 thicknesses x 3 organs: {ours * 1e3:.1f} ms; target {TARGET_S * 1e3:.0f} ms (ratio {ours / TARGET_S:.2f}); "
          f"first call with the kernels built {first * 1e3:.0f} ms ({first / ours:.0f}x)")


if __name__ == "__main__":
    main()
